"""The ranked differential and everything that explains it (shared by work-up and quick entry).

Shows the chart, the contrast card for a declared metastasis-vs-mimic pair, the pitfalls,
each entry's evidence for and against with the findings that fired each rule (HOW), the
expected findings, teaching points and references, "why not X?", the recommendations, the
next best test and the export buttons. All text comes from the knowledge base or the case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import streamlit as st

from ossdx.advice.contrast import contrast, is_mimic_pair
from ossdx.advice.export import diagnosis_json, to_fhir, to_markdown
from ossdx.advice.questions import Advice
from ossdx.advice.report import served_text, shown_entries
from ossdx.advice.track_record import leader_note, short_list_note
from ossdx.advice.whynot import WhyNot, explain_why_not
from ossdx.kb.case import Case
from ossdx.kb.model import KnowledgeBase
from ossdx.reasoning.diagnosis import Differential, Entry, Notice, Reason

from .boundary import fragment
from .resources import Context
from .text import percent, reference_lines, safe

FOR = ":green[**+**]"
AGAINST = ":red[**−**]"


# ------------------------------------------------------------------ chart
BAR_WIDTH = 12  # characters of a full (100 %) bar: the table fits a 1,024 px screen
TABLE_HEADER = "| # | Diagnosis | Probability |"


def probability_table(differential: Differential, entries: Sequence[Entry]) -> str:
    """The shown entries as a Markdown table with a text bar each, the leader in bold: one
    light element (a chart library redraws its whole chart on every answer) that a screen
    reader reads row by row."""
    lines = [TABLE_HEADER, "|---:|:---|:---|"]
    for rank, entry in enumerate(entries, 1):
        filled = round(entry.probability * BAR_WIDTH)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        name = safe(entry.name, line_start=False)
        if entry.id == differential.leader.id:
            name = f"**{name}**"
        lines.append(f"| {rank} | {name} | `{bar}` {percent(entry.probability)} |")
    return "\n".join(lines)


# ------------------------------------------------------------------ pieces
def _reason_line(reason: Reason, sign: str) -> str:
    used = "; ".join(safe(u.label, line_start=False) for u in reason.findings) \
        or "patient context"
    note = "" if reason.counted else \
        f" · *not counted: same sign as* `{reason.superseded_by}`"
    return (f"{sign} {safe(reason.text, line_start=False)} "
            f"*({safe(reason.strength, line_start=False)})*{note}  \n"
            f"↳ {used} · `{reason.rule}`")


def _entry_details(ctx: Context, differential: Differential, entry: Entry) -> None:
    kb = ctx.kb
    diagnosis = kb.diagnoses.get(entry.id)
    if diagnosis is not None:
        st.caption(safe(diagnosis.description))
    evidence, teaching, refs = st.tabs(["Evidence (HOW)", "Teaching points", "References"])
    with evidence:
        left, right = st.columns(2)
        with left:
            st.markdown("**For**")
            lines = [_reason_line(r, FOR) for r in entry.evidence_for]
            st.markdown("\n\n".join(lines) if lines else "*nothing entered supports it*")
        with right:
            st.markdown("**Against**")
            lines = [_reason_line(r, AGAINST) for r in entry.evidence_against]
            st.markdown("\n\n".join(lines) if lines else "*nothing entered speaks against it*")
        prior = f"Prior: base {entry.base_prior:g}"
        if entry.prior_factors:
            prior += " · " + " · ".join(
                f"×{r.lr:g} {safe(r.text, line_start=False)}" for r in entry.prior_factors)
        st.caption(prior)
        if entry.expected:
            st.markdown("**Expected, not yet entered**  \n" + "  \n".join(
                f"◦ {safe(e.label, line_start=False)}" for e in entry.expected))
    with teaching:
        points = [r.teaching_point for r in (*entry.evidence_for, *entry.evidence_against)
                  if r.teaching_point]
        if diagnosis is not None:
            points += [tp.text for tp in diagnosis.teaching_points]
        st.markdown("\n".join(f"- {safe(p, line_start=False)}" for p in dict.fromkeys(points))
                    or "*none in the knowledge base*")
    with refs:
        ids = [ref for r in (*entry.prior_factors, *entry.evidence_for, *entry.evidence_against)
               for ref in r.references]
        if diagnosis is not None:
            ids += [ref for tp in diagnosis.teaching_points for ref in tp.references]
        lines = reference_lines(ctx.kb, ids)
        st.markdown("\n".join(lines) if lines else "*no references*")


def _contrast_card(ctx: Context, case: Case, differential: Differential) -> None:
    first, second = (e.id for e in differential.entries[:2])
    if not is_mimic_pair(ctx.kb, first, second):
        return
    key = (ctx.kb.fingerprint, case_key(case), first, second)
    memo = st.session_state.get(CONTRAST)
    if memo is not None and memo[0] == key:
        card = memo[1]
    else:  # what-ifs over every finding: once per state of the case
        card = contrast(ctx.reasoner, first, second, case)
        st.session_state[CONTRAST] = (key, card)
    kb = ctx.kb
    with st.container(border=True, key="contrast"):
        st.markdown(f"#### :material/compare_arrows: {safe(card.first_name, line_start=False)}"
                    f" or {safe(card.second_name, line_start=False)}?")
        st.caption("The signs that tell these two apart best, computed from the rules: the "
                   "factor each sign would bring to each diagnosis.")
        cols = st.columns(2)
        for col, name, signs, mine in ((cols[0], card.first_name, card.favour_first, 0),
                                       (cols[1], card.second_name, card.favour_second, 1)):
            with col:
                st.markdown(f"**Favours {safe(name, line_start=False)}**")
                lines = []
                for s in signs:
                    if s.finding in case.findings and not s.entered:
                        continue  # another value was entered: not a sign to look for
                    factor = (s.first_factor, s.second_factor)
                    status = " · :material/check: entered" if s.entered else ""
                    needs = f" · needs {safe(kb.vocabulary.modalities[s.modality].name)}" \
                        if s.modality else ""
                    lines.append(
                        f"- **{safe(kb.findings[s.finding].name, line_start=False)}: "
                        f"{safe(s.label, line_start=False)}** — ×{factor[mine]:.3g} vs "
                        f"×{factor[1 - mine]:.3g}{status}{needs}")
                st.markdown("\n".join(lines) if lines else "*no sign in the rules*")


@fragment
def _why_not(ctx: Context, differential: Differential, key: str) -> None:
    """Every diagnosis below the leader can be asked about (a fragment: choosing one
    redraws only this part)."""
    lower = [e.id for e in differential.entries[1:]]
    if not lower:
        return
    names = {e.id: f"{e.name} ({percent(e.probability)})" for e in differential.entries}
    st.markdown("##### Why not …?")
    choice = st.selectbox("Why not this diagnosis?", lower, index=None, key=f"whynot.{key}",
                          format_func=lambda d: names[d], label_visibility="collapsed",
                          placeholder="Choose a lower diagnosis to see what kept it out")
    if choice is None:
        return
    why = explain_why_not(ctx.reasoner, differential, choice)
    show_why_not(ctx, why)


def show_why_not(ctx: Context, why: WhyNot) -> None:
    """What kept a diagnosis out, and the smallest change that would put it on top."""
    kb = ctx.kb
    name, leader = safe(why.name, line_start=False), safe(why.leader_name, line_start=False)
    with st.container(border=True, key="whynot_card"):
        st.markdown(f"**{name}** is ranked {why.rank} ({percent(why.probability)}); "
                    f"**{leader}** leads with {percent(why.leader_probability)}.  \n"
                    f"Prior after the context: {why.prior:.3g} against {why.leader_prior:.3g}.")
        left, right = st.columns(2)
        with left:
            st.markdown(f"**Against {name}**")
            lines = [_reason_line(r, AGAINST) for r in why.against]
            st.markdown("\n\n".join(lines) if lines else "*no evidence against it*")
        with right:
            st.markdown(f"**For {leader}**")
            lines = [_reason_line(r, FOR) for r in why.leader_for]
            st.markdown("\n\n".join(lines) if lines else "*no evidence for it*")
        if why.fixes:
            st.markdown(f"**Smallest change that puts {name} on top** "
                        f"({why.size} finding{'s' if why.size > 1 else ''}):")
            st.markdown("\n".join(
                "- " + " **and** ".join(safe(c.describe(kb), line_start=False)
                                        for c in fix.changes)
                + f" → {name} {percent(fix.probability)}" for fix in why.fixes))
        else:
            st.info(f"No change of one or two findings puts {name} on top "
                    f"({why.tried} what-ifs tried).")


def band_text(band: tuple[float, float] | None, count: int = 1) -> str:
    """When advice that serves ``count`` diagnoses applies: 'applies while it holds 10% to
    100%' ('while they hold together' for several)."""
    if band is None:
        return ""
    low, high = band
    holds = "they hold together" if count > 1 else "it holds"
    return f"applies while {holds} {low:.0%} to {high:.0%}"


def served_line(kb: KnowledgeBase, notice: Notice) -> str:
    """For which diagnoses a pitfall or recommendation applies, what they hold now and the
    band in which it applies, as escaped Markdown ('' when it serves no diagnosis)."""
    if not notice.serves:
        return ""
    parts = [served_text(kb, notice), band_text(notice.band, len(notice.serves))]
    text = "; ".join(p for p in parts if p)
    return safe(text[:1].upper() + text[1:], line_start=False)


def _pitfalls(kb: KnowledgeBase, differential: Differential) -> None:
    for notice in differential.pitfalls:
        used = "; ".join(safe(u.label, line_start=False) for u in notice.findings)
        served = served_line(kb, notice)
        st.warning(f"**{safe(notice.title, line_start=False)}** — "
                   f"{safe(notice.text, line_start=False)}"
                   + (f"  \n*{served}*" if served else "")
                   + (f"  \n*Triggered by: {used}*" if used else ""), icon=":material/warning:")


def _recommendations(ctx: Context, differential: Differential, advice: Advice | None) -> None:
    kb = ctx.kb
    if differential.recommendations:
        st.markdown("##### Recommendations")
        lines = []
        for rec in differential.recommendations:
            category = rec.category.replace("_", " ")
            modality = f" · {safe(kb.vocabulary.modalities[rec.modality].name)}" \
                if rec.modality is not None and rec.modality in kb.vocabulary.modalities else ""
            served = served_line(kb, rec)
            lines.append(f"- **{safe(rec.title, line_start=False)}** "
                         f"({safe(category, line_start=False)}{modality}): "
                         f"{safe(rec.text, line_start=False)}"
                         + (f"  \n  *{served}*" if served else ""))
        st.markdown("\n".join(lines))
    if advice is not None and advice.test is not None:
        test = advice.test
        dose = f", about {test.effective_dose_msv:g} mSv" if test.effective_dose_msv else ""
        shows = ", ".join(kb.findings[f].name for f in test.findings if f in kb.findings)
        st.info(f"**Next best test: {safe(test.name, line_start=False)}** (radiation "
                f"{safe(test.radiation, line_start=False)}{dose}); it would show "
                f"{safe(shows, line_start=False)}.", icon=":material/radiology:")


def _file_stem(case: Case) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", case.name).strip("-.")[:60] or "work-up"


def export_buttons(ctx: Context, differential: Differential, advice: Advice | None,
                   not_assessed: Sequence[str], key: str) -> None:
    """Download buttons: Markdown report, JSON in the CLI's format, FHIR DiagnosticReport."""
    kb = ctx.kb
    stem = _file_stem(differential.case)
    not_assessed = tuple(not_assessed)

    def markdown() -> str:  # each file is written when its button is clicked
        return to_markdown(kb, differential, advice, not_assessed=not_assessed)

    def data() -> str:
        return json.dumps(diagnosis_json(kb, differential, advice), indent=2,
                          ensure_ascii=False)

    def fhir() -> str:
        return json.dumps(to_fhir(kb, differential, markdown=markdown()), indent=2,
                          ensure_ascii=False)

    st.markdown("##### Export")
    # a row that wraps on a narrow screen (columns would cut the labels short)
    with st.container(horizontal=True, gap="small"):
        st.download_button("Markdown report", markdown, file_name=f"ossdx-{stem}.md",
                           mime="text/markdown", key=f"export.{key}.md", on_click="ignore",
                           icon=":material/description:")
        st.download_button("JSON (CLI format)", data, file_name=f"ossdx-{stem}.json",
                           mime="application/json", key=f"export.{key}.json",
                           on_click="ignore", icon=":material/data_object:")
        st.download_button("FHIR report", fhir, file_name=f"ossdx-{stem}.fhir.json",
                           mime="application/fhir+json", key=f"export.{key}.fhir",
                           on_click="ignore", icon=":material/local_hospital:",
                           help="FHIR R4 DiagnosticReport, status preliminary")


@fragment
def _reasons(ctx: Context, differential: Differential, key: str) -> None:
    """The reasons of one diagnosis at a time, the leader first (a fragment: choosing
    another redraws only this part, and the page does not draw fifteen of them)."""
    st.markdown("##### Differential, with the reasons")
    entries = {e.id: e for e in differential.entries}
    ranks = {e.id: i for i, e in enumerate(differential.entries, 1)}
    widget, pinned = f"reasons.{key}", f"reasons.{key}.pinned"
    leader = differential.leader.id

    def pin() -> None:  # a diagnosis the user picked stays; the leader is followed
        choice = st.session_state.get(widget)
        st.session_state[pinned] = choice if choice != leader else None

    # Set the value on every run: the labels (rank, probability) change with each answer,
    # and a browser left with an old label would show a diagnosis other than the one below.
    shown = st.session_state.get(pinned)
    st.session_state[widget] = shown if shown in entries else leader
    chosen = st.selectbox(
        "Reasons for", list(entries), key=widget, on_change=pin,
        format_func=lambda d: f"{ranks[d]}. {entries[d].name} — "
                              f"{percent(entries[d].probability)}")
    entry = entries[chosen or differential.leader.id]
    with st.container(border=True, key=f"reasons_{key}"):
        _entry_details(ctx, differential, entry)


def analyse(ctx: Context, case: Case, topic: str | None,
            not_assessed: Sequence[str]) -> tuple[Differential, Advice]:
    """The differential (experta) and the advice of a case, computed once per state of
    the case (a rerun that changes nothing, or a page visit, reuses them)."""
    key = (ctx.kb.fingerprint, case_key(case), topic, tuple(not_assessed))
    memo = st.session_state.get(RESULTS)
    if memo is not None and memo[0] == key:
        return memo[1], memo[2]
    differential = ctx.reasoner.diagnose(case)
    advice = ctx.advisor.advise(case, topic, not_assessed, trace=differential.trace)
    st.session_state[RESULTS] = (key, differential, advice)
    return differential, advice


def case_key(case: Case) -> tuple[object, ...]:
    """Everything of a case that the differential and the advice depend on."""
    def frozen(value: object) -> object:
        return tuple(sorted(value)) if isinstance(value, (set, frozenset, list)) else value

    return (tuple((k, frozen(v)) for k, v in case.findings.items()),
            tuple(sorted((k, frozen(v)) for k, v in case.patient.items())),
            tuple(sorted(case.modalities)), case.id, case.title)


def headline(differential: Differential) -> str:
    """The leader and its probability; never a leader where there is none: 'No leading
    diagnosis yet' while every entry is equal, and 'A or B' when two or three share the top."""
    tied = differential.tied_leaders
    share = percent(tied[0].probability)
    if len(tied) == 1:
        return f"{safe(tied[0].name)} · {share}"
    if len(tied) == len(differential.entries):
        return f"No leading diagnosis yet · each {share}"
    if len(tied) <= 3:
        names = (safe(e.name, line_start=i == 0) for i, e in enumerate(tied))
        return f"{' or '.join(names)} · {share} each"
    return f"{len(tied)} diagnoses tied at {share} each"


RESULTS = "results.memo"
CONTRAST = "results.contrast"


# ------------------------------------------------------------------ the whole panel
def render_results(ctx: Context, case: Case, differential: Differential, advice: Advice | None,
                   *, key: str, not_assessed: Sequence[str] = ()) -> None:
    """The differential with its explanation, pitfalls, recommendations and exports."""
    kb = ctx.kb
    entries = shown_entries(kb, differential)
    with st.container(key=f"leader_{key}"):
        st.markdown(f"### {headline(differential)}")
    tied = len(differential.tied_leaders)
    what = ("Leading diagnosis" if tied == 1 else
            "Nothing separates the diagnoses yet: give the studies and the findings"
            if tied == len(differential.entries) else
            "Tied at the top: no single leading diagnosis")
    st.caption(f"{what} · {len(case.findings)} finding"
               f"{'' if len(case.findings) == 1 else 's'} entered · knowledge base "
               f"{safe(kb.version, line_start=False)}")
    record = leader_note(kb, differential)
    if record:
        with st.container(key=f"track_{key}"):
            st.caption(safe(record))
    short = short_list_note(kb, differential)
    if short:
        with st.container(key=f"short_{key}"):
            st.caption(safe(short))
    with st.container(key=f"chart_{key}"):
        st.markdown(probability_table(differential, entries))
    hidden = len(differential.entries) - len(entries)
    if hidden:
        st.caption(f"{hidden} more below {kb.settings.show_above:.0%}.")
    _contrast_card(ctx, case, differential)
    _pitfalls(kb, differential)
    _reasons(ctx, differential, key)
    _why_not(ctx, differential, key)
    _recommendations(ctx, differential, advice)
    export_buttons(ctx, differential, advice, not_assessed, key)
    st.caption(safe(kb.manifest.disclaimer))
