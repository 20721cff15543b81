"""An educator's view of a cohort: accuracy by case and by mimic pair, the commonest wrong
calls, who has not started, and CSV exports.

Everything is computed from the stored attempts (``ProgressStore.cohort()``: every trainee
with their attempts), so the figures are the same on every app server.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ossdx.advice.contrast import is_mimic_pair, mimic_pairs
from ossdx.core.records import Attempt, Trainee
from ossdx.kb.model import KnowledgeBase

Cohort = Sequence[tuple[Trainee, Sequence[Attempt]]]


def _all(cohort: Cohort) -> list[tuple[Trainee, Attempt]]:
    return [(trainee, attempt) for trainee, attempts in cohort for attempt in attempts]


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


@dataclass(frozen=True)
class CaseAccuracy:
    """How the cohort did on one case (every attempt counts, retries included)."""

    case_id: str
    truth: str
    attempts: int
    trainees: int
    top1: float
    top3: float
    brier: float


def accuracy_by_case(cohort: Cohort) -> list[CaseAccuracy]:
    """Per case: attempts, distinct trainees, top-1 and top-3 rates, mean Brier; hardest first."""
    groups: dict[str, list[tuple[Trainee, Attempt]]] = defaultdict(list)
    for trainee, attempt in _all(cohort):
        groups[attempt.case_id].append((trainee, attempt))
    rows = [CaseAccuracy(case_id, items[-1][1].truth, len(items), len({t.id for t, _ in items}),
                         _mean(a.score.top1 for _, a in items),
                         _mean(a.score.top3 for _, a in items),
                         _mean(a.score.brier for _, a in items))
            for case_id, items in groups.items()]
    return sorted(rows, key=lambda r: (r.top1, r.top3, -r.attempts, r.case_id))


@dataclass(frozen=True)
class PairAccuracy:
    """How the cohort did on cases whose truth is one side of a declared mimic pair."""

    first: str
    second: str
    attempts: int
    trainees: int
    top1: float
    confused: int  # first choice was the other side of the pair


def accuracy_by_mimic_pair(kb: KnowledgeBase, cohort: Cohort) -> list[PairAccuracy]:
    """Per declared mimic pair with attempts: top-1 rate and how often one was called the
    other; worst first."""
    everything = _all(cohort)
    rows = []
    for pair in mimic_pairs(kb):
        first, second = sorted(pair)
        items = [(t, a) for t, a in everything if a.truth in pair]
        if not items:
            continue
        confused = sum(1 for _, a in items
                       if a.choices and a.choices[0] in pair and a.choices[0] != a.truth)
        rows.append(PairAccuracy(first, second, len(items), len({t.id for t, _ in items}),
                                 _mean(a.score.top1 for _, a in items), confused))
    return sorted(rows, key=lambda r: (r.top1, -r.confused, r.first, r.second))


@dataclass(frozen=True)
class WrongCall:
    """A truth called as another diagnosis (first choice), across the cohort."""

    truth: str
    answer: str
    count: int
    trainees: int
    declared_mimic: bool


def wrong_calls(kb: KnowledgeBase, cohort: Cohort) -> list[WrongCall]:
    """Missed first choices grouped by (truth, answer), commonest first."""
    counts: Counter[tuple[str, str]] = Counter()
    who: dict[tuple[str, str], set[int]] = defaultdict(set)
    for trainee, attempt in _all(cohort):
        if attempt.score.top1 or not attempt.choices:
            continue
        key = (attempt.truth, attempt.choices[0])
        counts[key] += 1
        who[key].add(trainee.id)
    rows = [WrongCall(truth, answer, n, len(who[(truth, answer)]),
                      is_mimic_pair(kb, truth, answer))
            for (truth, answer), n in counts.items()]
    return sorted(rows, key=lambda c: (-c.count, -c.trainees, c.truth, c.answer))


@dataclass(frozen=True)
class TraineeSummary:
    """One trainee's totals, for the educator's table."""

    trainee: Trainee
    attempts: int
    cases: int
    top1: float
    top3: float
    brier: float
    last: datetime | None


def trainee_summaries(cohort: Cohort) -> list[TraineeSummary]:
    """Each trainee's totals, in the cohort's order (by name)."""
    return [TraineeSummary(trainee, len(attempts), len({a.case_id for a in attempts}),
                           _mean(a.score.top1 for a in attempts),
                           _mean(a.score.top3 for a in attempts),
                           _mean(a.score.brier for a in attempts),
                           max((a.at for a in attempts), default=None))
            for trainee, attempts in cohort]


@dataclass(frozen=True)
class NotStarted:
    """Someone with no attempt yet."""

    name: str
    email: str | None
    known: bool  # False: on the roster, but never signed in

    def label(self) -> str:
        if not self.known:
            return f"{self.name} (never signed in)"
        return f"{self.name} <{self.email}>" if self.email and self.email != self.name \
            else self.name


def not_started(cohort: Cohort, roster: Iterable[str] = ()) -> list[NotStarted]:
    """Who has no attempt yet: trainees known to the database without one, then e-mails of
    the roster (case-insensitive) that no trainee has signed in with."""
    waiting = [NotStarted(t.name, t.email, True) for t, attempts in cohort if not attempts]
    seen = {t.email.casefold() for t, _ in cohort if t.email}
    emails = dict.fromkeys(e.strip() for e in roster if e and e.strip())
    waiting += [NotStarted(e, e, False) for e in emails if e.casefold() not in seen]
    return waiting


# ------------------------------------------------------------------ CSV
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A value safe to open in a spreadsheet: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def kind_of(trainee: Trainee) -> str:
    return "signed in" if trainee.signed_in else "free-text name"


def attempts_csv(cohort: Cohort) -> str:
    """Every attempt, one row each (times in UTC, ISO 8601)."""
    header = ["trainee", "email", "identity", "case_id", "at_utc", "truth", "choice_1",
              "choice_2", "choice_3", "confidence", "top1", "top3", "brier", "log_score",
              "kb_version"]
    rows = []
    for trainee, attempt in _all(cohort):
        choices = [*attempt.choices, "", "", ""][:3]
        rows.append([trainee.name, trainee.email or "", kind_of(trainee), attempt.case_id,
                     attempt.at.isoformat(), attempt.truth, *choices,
                     f"{attempt.confidence:.2f}", int(attempt.score.top1),
                     int(attempt.score.top3), f"{attempt.score.brier:.4f}",
                     f"{attempt.score.log_score:.4f}", attempt.kb_version])
    return _csv(header, rows)


def summary_csv(cohort: Cohort, roster: Iterable[str] = ()) -> str:
    """One row per trainee (and per roster e-mail never signed in) with their totals."""
    header = ["trainee", "email", "identity", "attempts", "cases", "top1", "top3",
              "mean_brier", "last_attempt_utc"]
    rows: list[list[object]] = []
    for s in trainee_summaries(cohort):
        started = s.attempts > 0
        rows.append([s.trainee.name, s.trainee.email or "", kind_of(s.trainee), s.attempts,
                     s.cases, f"{s.top1:.3f}" if started else "",
                     f"{s.top3:.3f}" if started else "", f"{s.brier:.4f}" if started else "",
                     s.last.isoformat() if s.last else ""])
    rows += [[w.name, w.email or "", "never signed in", 0, 0, "", "", "", ""]
             for w in not_started(cohort, roster) if not w.known]
    return _csv(header, rows)
