"""Export a work-up: Markdown for people, JSON in the CLI's format, FHIR R4 for systems.

Every text comes from the knowledge base or the case; the Markdown carries the knowledge
base's disclaimer at the top and at the bottom. Text from the knowledge base or a user is
escaped so that a Markdown viewer shows it literally (no HTML, no links, no formatting).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ossdx.advice.questions import Advice
from ossdx.advice.report import served_text, shown_entries, tie_note
from ossdx.advice.track_record import leader_note, short_list_data, short_list_note
from ossdx.kb.model import KnowledgeBase
from ossdx.reasoning.diagnosis import Differential, Entry, Reason

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")
_BLOCK_START = re.compile(r"^(\d+)([.)])|^([#>+=-])")


def escape_markdown(text: object, *, line_start: bool = True) -> str:
    """``text`` on one line, shown literally by a Markdown viewer.

    Backslash-escapes what could make HTML, a link, emphasis, code, a table cell or maths
    (``\\ ` * _ [ ] < > | ~ $``), and a block marker at the start (``#``, ``>``, ``-``,
    ``1.``) unless ``line_start`` is False (the text follows other text on its line); line
    breaks become spaces.
    """
    flat = _INLINE_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    if not line_start:
        return flat
    return _BLOCK_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1)
                            else f"\\{m.group(3)}", flat)


def diagnosis_json(kb: KnowledgeBase, differential: Differential,
                   advice: Advice | None = None) -> dict[str, Any]:
    """The JSON object of ``ossdx diagnose --json`` for this differential."""
    data = differential.as_dict()
    question = advice.question if advice is not None else None
    data["next_question"] = question.as_dict(kb) if question is not None else None
    data["stop_reason"] = advice.stop_reason if advice is not None else None
    test = advice.test if advice is not None else None
    data["next_test"] = test.as_dict() if test is not None else None
    data["track_record"] = leader_note(kb, differential)
    data["short_list"] = short_list_data(kb, differential)
    data["disclaimer"] = kb.manifest.disclaimer
    return data


def patient_lines(kb: KnowledgeBase, patient: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field name, value text) for the patient context, in knowledge-base order."""
    rows = []
    for var, spec in kb.vocabulary.patient.items():
        if var in patient:
            rows.append((spec.name, kb.value_text("patient." + var, patient[var])))
    return rows


def finding_lines(kb: KnowledgeBase, findings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(finding name, value text) for the entered findings, in the order given."""
    return [(kb.findings[f].name, kb.value_text(f, v)) for f, v in findings.items()
            if f in kb.findings]


def _cited(differential: Differential, entries: Iterable[Entry]) -> list[str]:
    seen: dict[str, None] = {}
    for entry in entries:
        for reason in (*entry.prior_factors, *entry.evidence_for, *entry.evidence_against):
            seen.update(dict.fromkeys(reason.references))
    for notice in (*differential.pitfalls, *differential.recommendations):
        seen.update(dict.fromkeys(notice.references))
    return list(seen)


def _reason_md(kb: KnowledgeBase, reason: Reason) -> str:
    used = "; ".join(escape_markdown(u.label) for u in reason.findings) or "patient context"
    refs = ", ".join(f"`{r}`" for r in reason.references)
    note = "" if reason.counted else \
        f" (not counted: same sign as `{reason.superseded_by}`)"
    return (f"{escape_markdown(reason.text)} *({escape_markdown(reason.strength)})*{note}  \n"
            f"  from: {used} · rule `{reason.rule}` {refs}")


def to_markdown(kb: KnowledgeBase, differential: Differential, advice: Advice | None = None,
                *, not_assessed: Iterable[str] = ()) -> str:
    """The work-up as a Markdown document."""
    case = differential.case
    disclaimer = escape_markdown(kb.manifest.disclaimer)
    title = escape_markdown(case.title or case.name)
    lines = [f"# ossdx work-up: {title}", "", f"> **{disclaimer}**", "",
             f"Knowledge base: {escape_markdown(kb.manifest.name)}, version "
             f"`{kb.version}`", ""]
    lines += ["## Patient", ""]
    rows = patient_lines(kb, case.patient)
    lines += [f"- {escape_markdown(n)}: {escape_markdown(v)}" for n, v in rows] or ["- none given"]
    mods = [kb.vocabulary.modalities[m].name for m in sorted(case.modalities)
            if m in kb.vocabulary.modalities]
    lines += ["", "## Modalities performed", "",
              escape_markdown(", ".join(mods)) if mods else "none", ""]
    lines += ["## Findings entered", ""]
    rows = finding_lines(kb, case.findings)
    lines += [f"- {escape_markdown(n)}: {escape_markdown(v)}" for n, v in rows] \
        or ["- none entered"]
    skipped = [kb.findings[f].name for f in not_assessed if f in kb.findings]
    if skipped:
        lines += ["", "Not assessed: " + escape_markdown(", ".join(skipped))]
    shown = shown_entries(kb, differential)
    lines += ["", "## Ranked differential", "", "| # | Diagnosis | Probability |",
              "|---:|---|---:|"]
    lines += [f"| {i} | {escape_markdown(e.name)} | {e.probability:.1%} |"
              for i, e in enumerate(shown, 1)]
    hidden = len(differential.entries) - len(shown)
    if hidden:
        lines += ["", f"{hidden} more below {kb.settings.show_above:.0%}."]
    note = tie_note(differential)
    if note:
        lines += ["", f"**{note}**"]
    for said in (leader_note(kb, differential), short_list_note(kb, differential)):
        if said:
            lines += ["", escape_markdown(said)]
    lines += ["", "## Evidence", ""]
    for i, entry in enumerate(shown, 1):
        lines += [f"### {i}. {escape_markdown(entry.name)} ({entry.probability:.1%})", ""]
        lines.append(f"Base prior {entry.base_prior:g}.")
        for reason in entry.prior_factors:
            lines.append(f"- prior × {reason.lr:g}: {_reason_md(kb, reason)}")
        for label, reasons in (("For", entry.evidence_for), ("Against", entry.evidence_against)):
            if reasons:
                lines += ["", f"{label}:", ""]
                lines += [f"- {_reason_md(kb, r)}" for r in reasons]
        if entry.expected:
            lines += ["", "Expected, not yet entered: "
                      + "; ".join(escape_markdown(e.label) for e in entry.expected)]
        lines.append("")
    if differential.pitfalls:
        lines += ["## Pitfalls", ""]
        lines += [f"- **{escape_markdown(n.title)}**: {escape_markdown(n.text)}"
                  + (f" *({escape_markdown(served_text(kb, n))})*" if n.serves else "")
                  for n in differential.pitfalls]
        lines.append("")
    if differential.recommendations:
        lines += ["## Recommendations", ""]
        lines += [f"- **{escape_markdown(n.title)}** ({escape_markdown(n.category)}): "
                  f"{escape_markdown(n.text)}"
                  + (f" *({escape_markdown(served_text(kb, n))})*" if n.serves else "")
                  for n in differential.recommendations]
        lines.append("")
    if advice is not None:
        lines += ["## Next step", ""]
        if advice.question is not None:
            lines.append(f"- Next question: {escape_markdown(advice.question.text)}")
        elif advice.stop_reason:
            lines.append(f"- No further question: {escape_markdown(advice.stop_reason)}")
        if advice.test is not None:
            lines.append(f"- Next best test: {escape_markdown(advice.test.name)} "
                         f"(radiation {escape_markdown(advice.test.radiation)})")
        lines.append("")
    cited = [r for r in _cited(differential, shown) if r in kb.references]
    if cited:
        lines += ["## References", ""]
        for ref_id in cited:
            ref = kb.references[ref_id]
            where = f" doi:{escape_markdown(ref.doi, line_start=False)}" if ref.doi else (
                f" {escape_markdown(ref.url, line_start=False)}" if ref.url else "")
            lines.append(f"- `{ref_id}` {escape_markdown(ref.citation)}{where}")
        lines.append("")
    lines += ["---", "", f"*{disclaimer}*", ""]
    return "\n".join(lines)


def to_fhir(kb: KnowledgeBase, differential: Differential, *, markdown: str | None = None,
            issued: datetime | None = None) -> dict[str, Any]:
    """A FHIR R4 DiagnosticReport (status ``preliminary``) carrying the ranked differential.

    ``conclusionCode`` holds the leading diagnosis with its SNOMED CT code when the knowledge
    base gives one; ``presentedForm`` holds the Markdown export.
    """
    issued = issued or datetime.now(UTC)
    shown = shown_entries(kb, differential)
    ranking = "; ".join(f"{i}. {e.name} {e.probability:.1%}" for i, e in enumerate(shown, 1))
    leader = differential.leader
    concept: dict[str, Any] = {"text": leader.name}
    codes = kb.diagnoses[leader.id].codes if leader.id in kb.diagnoses else None
    if codes is not None and codes.snomed_ct:
        concept["coding"] = [{"system": "http://snomed.info/sct", "code": codes.snomed_ct,
                              "display": leader.name}]
    text = markdown if markdown is not None else to_markdown(kb, differential)
    case = differential.case
    note = tie_note(differential)
    return {
        "resourceType": "DiagnosticReport",
        "status": "preliminary",
        "code": {"text": f"Differential diagnosis ({kb.manifest.name})"},
        "issued": issued.isoformat(timespec="seconds"),
        "identifier": [{"system": "urn:ossdx:case", "value": case.name}],
        "conclusion": f"{kb.manifest.disclaimer} {note + ' ' if note else ''}Ranked "
                      f"differential: {ranking}. Knowledge base {kb.version}.",
        **({} if note else {"conclusionCode": [concept]}),  # a tie has no leader to code
        "presentedForm": [{"contentType": "text/markdown; charset=utf-8",
                           "language": "en",
                           "title": f"ossdx work-up: {case.title or case.name}",
                           "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}],
    }
