"""Plain-text rendering of a differential (for the command line and Markdown export)."""

from __future__ import annotations

from ossdx.advice.questions import Advice
from ossdx.advice.track_record import leader_note, short_list_note
from ossdx.kb.model import KnowledgeBase
from ossdx.reasoning.diagnosis import Differential, Entry, Notice, Reason


def shown_entries(kb: KnowledgeBase, differential: Differential) -> list[Entry]:
    """The entries worth showing: at least ``show_at_least``, and all above ``show_above``."""
    settings = kb.settings
    return [e for i, e in enumerate(differential.entries)
            if i < settings.show_at_least or e.probability >= settings.show_above]


def served_text(kb: KnowledgeBase, notice: Notice) -> str:
    """For which diagnoses a pitfall or recommendation applies, and what they hold now:
    'for Osseous metastasis or Treated metastasis, together 64%' (empty when it serves none)."""
    if not notice.serves:
        return ""
    names = " or ".join(kb.name_of(d) for d in notice.serves)
    together = "together " if len(notice.serves) > 1 else ""
    return f"for {names}, {together}{notice.probability or 0.0:.0%} now"


def tie_note(differential: Differential) -> str | None:
    """What to say when the top of the differential is a tie (the order within a tie says
    nothing), or None when there is one leader."""
    tied = differential.tied_leaders
    if len(tied) == 1:
        return None
    if len(tied) == len(differential.entries):
        return "No leading diagnosis yet: nothing separates the diagnoses."
    return f"No single leading diagnosis: {len(tied)} share the top probability."


def _bar(probability: float, width: int = 20) -> str:
    filled = round(probability * width)
    return "#" * filled + "." * (width - filled)


def _reason_line(reason: Reason) -> str:
    used = "; ".join(u.label for u in reason.findings) or "context"
    note = "" if reason.counted else f" (not counted: same sign as {reason.superseded_by})"
    return f"{reason.text} [{reason.strength}]{note}\n        <- {used}   ({reason.rule})"


def format_differential(kb: KnowledgeBase, differential: Differential,
                        advice: Advice | None = None) -> str:
    case = differential.case
    lines = [f"ossdx differential: {case.title or case.name}   (knowledge base {kb.version})",
             kb.manifest.disclaimer, ""]
    entered = [f"{kb.findings[f].name}: {kb.label_of(f, v)}" for f, v in case.findings.items()]
    lines.append("Findings: " + ("; ".join(entered) if entered else "none entered"))
    lines.append("Modalities: " + (", ".join(sorted(case.modalities)) or "none"))
    note = tie_note(differential) or leader_note(kb, differential)
    if note:
        lines.append(note)
    short = short_list_note(kb, differential)
    if short:
        lines.append(short)
    lines.append("")
    for rank, entry in enumerate(shown_entries(kb, differential), 1):
        lines.append(f"{rank:2d}. {entry.name:45s} {entry.probability:6.1%}  "
                     f"{_bar(entry.probability)}")
        for reason in entry.prior_factors:
            lines.append(f"      prior x{reason.lr:g}: {_reason_line(reason)}")
        for reason in entry.evidence_for:
            lines.append(f"      + {_reason_line(reason)}")
        for reason in entry.evidence_against:
            lines.append(f"      - {_reason_line(reason)}")
        if entry.expected:
            lines.append("      expected, not yet entered: "
                         + "; ".join(e.label for e in entry.expected))
    hidden = len(differential.entries) - len(shown_entries(kb, differential))
    if hidden:
        lines.append(f"    ({hidden} more below {kb.settings.show_above:.0%})")
    if differential.pitfalls:
        lines += ["", "Pitfalls:"]
        lines += [f"  ! {n.title}: {n.text}" + (f" ({served_text(kb, n)})" if n.serves else "")
                  for n in differential.pitfalls]
    if differential.recommendations:
        lines += ["", "Recommendations:"]
        lines += [f"  - [{n.category}] {n.title}: {n.text}"
                  + (f" ({served_text(kb, n)})" if n.serves else "")
                  for n in differential.recommendations]
    if advice is not None:
        lines.append("")
        if advice.question is not None:
            q = advice.question
            lines.append(f"Next question: {q.text}")
            lines.append(f"  why: {q.why(kb)}")
        else:
            lines.append(f"No further question: {advice.stop_reason}")
        if advice.test is not None:
            t = advice.test
            dose = f", about {t.effective_dose_msv:g} mSv" if t.effective_dose_msv else ""
            lines.append(f"Next best test: {t.name} (radiation {t.radiation}{dose}); it would "
                         f"show {', '.join(kb.findings[f].name for f in t.findings)}.")
    return "\n".join(lines)
