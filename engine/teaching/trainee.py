"""Trainee mode: score a committed answer, explain it from the rule trace, sum up progress.

A trainee works an unknown case and commits a ranked differential (one to three diagnoses)
and a confidence: the probability that the first choice is right. Each attempt is scored
with

* **top-1 hit**: the first choice is the truth (or one of the case's ``acceptable`` answers);
* **top-3 hit**: one of the choices is;
* **Brier score** of the stated confidence ``p``: ``(p - y)^2`` where ``y`` is 1 for a
  top-1 hit and 0 otherwise (0 is perfect, 1 the worst; always answering 50% gives 0.25);
* **log score**: ``ln p`` for a top-1 hit, ``ln (1 - p)`` for a miss (0 is perfect; lower
  is worse; 50% gives ln 0.5 = -0.693).

Both scores are *proper*: a trainee gets the best expected score by stating the
probability they really believe, so they reward calibration, not bravado. Confidence is
bounded to [0.01, 0.99] so that one confident mistake costs a lot (ln 0.01 = -4.6) but not
an infinite amount.

Feedback is built from the rule trace of the system's differential, never written per
case: for each wrong choice, the fired rules against it and the fired rules for the truth,
each with the entered findings that fired it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ossdx.advice.contrast import is_mimic_pair
from ossdx.core.errors import InputError, Location, Problem, allowed, did_you_mean
from ossdx.core.records import Answer, Attempt, Score
from ossdx.kb.model import KnowledgeBase
from ossdx.reasoning.diagnosis import Differential, Reason
from ossdx.reasoning.explain import Used

MAX_CHOICES = 3
MIN_CONFIDENCE = 0.01
MAX_CONFIDENCE = 0.99
DIFFICULTIES = ("typical", "hard")
DEFAULT_DIFFICULTY = "typical"  # seed cases and files without a tag
_DIFFICULTY = re.compile(r"difficulty:\s*([a-z]+)", re.IGNORECASE)


# ------------------------------------------------------------------ the answer
def check_answer(kb: KnowledgeBase, choices: Sequence[str | None], confidence: float,
                 where: str = "answer") -> Answer:
    """The answer, checked: 1-3 distinct known diagnoses (blanks skipped), 0.01 <= p <= 0.99."""
    problems = []
    picked = [c for c in choices if c]
    if not picked:
        problems.append("choose at least a first diagnosis")
    if len(picked) > MAX_CHOICES:
        problems.append(f"at most {MAX_CHOICES} diagnoses, got {len(picked)}")
    for choice in picked:
        if choice not in kb.diagnoses:
            problems.append(f"unknown diagnosis '{choice}'{did_you_mean(choice, kb.diagnoses)};"
                            f" {allowed(kb.diagnoses)}")
    repeated = sorted(d for d, n in Counter(picked).items() if n > 1)
    if repeated:
        problems.append(f"each diagnosis may be chosen once; repeated: {', '.join(repeated)}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
            or not MIN_CONFIDENCE <= confidence <= MAX_CONFIDENCE:
        problems.append(f"confidence must be a probability from {MIN_CONFIDENCE} to "
                        f"{MAX_CONFIDENCE}, got {confidence!r}")
    if problems:
        raise InputError([Problem(Location(where), p) for p in problems])
    return Answer(tuple(picked), float(confidence))


# ------------------------------------------------------------------ scoring
def score_answer(answer: Answer, truth: str, acceptable: Iterable[str] = ()) -> Score:
    """Top-1 and top-3 hits, Brier and log score of ``answer`` against the truth."""
    good = {truth, *acceptable}
    rank = next((i for i, c in enumerate(answer.choices, 1) if c in good), None)
    hit = rank == 1
    p = answer.confidence
    outcome = 1.0 if hit else 0.0
    return Score(top1=hit, top3=rank is not None and rank <= MAX_CHOICES,
                 brier=(p - outcome) ** 2, log_score=math.log(p if hit else 1.0 - p),
                 rank=rank)


def make_attempt(case_id: str, truth: str, acceptable: Iterable[str], answer: Answer,
                 differential: Differential, at: datetime) -> Attempt:
    """The attempt record of ``answer`` to a case whose system differential is given."""
    return Attempt(case_id=case_id, kb_version=differential.kb_version,
                   choices=answer.choices, confidence=answer.confidence, truth=truth,
                   system_leader=differential.leader.id,
                   score=score_answer(answer, truth, acceptable), at=at)


@dataclass(frozen=True)
class Totals:
    """Scores summed up over attempts (means; rates as fractions)."""

    attempts: int
    top1: float
    top3: float
    brier: float
    log_score: float
    confidence: float

    @property
    def calibration_gap(self) -> float:
        """Mean confidence minus top-1 accuracy: > 0 over-confident, < 0 under-confident."""
        return self.confidence - self.top1


def totals(attempts: Iterable[Attempt]) -> Totals | None:
    """Means over ``attempts`` (None when there are none)."""
    items = list(attempts)
    if not items:
        return None
    n = len(items)
    return Totals(
        attempts=n,
        top1=sum(a.score.top1 for a in items) / n,
        top3=sum(a.score.top3 for a in items) / n,
        brier=sum(a.score.brier for a in items) / n,
        log_score=sum(a.score.log_score for a in items) / n,
        confidence=sum(a.confidence for a in items) / n,
    )


def running_totals(attempts: Sequence[Attempt]) -> list[Totals]:
    """The totals after each attempt, in order (for a chart of progress over time)."""
    result = []
    for i in range(1, len(attempts) + 1):
        current = totals(attempts[:i])
        assert current is not None
        result.append(current)
    return result


# ------------------------------------------------------------------ feedback
@dataclass(frozen=True)
class ChoiceFeedback:
    """Why one wrong choice was wrong: what spoke against it and what pointed to the truth."""

    diagnosis: str
    name: str
    system_rank: int
    probability: float
    against: tuple[Reason, ...]
    truth_for: tuple[Reason, ...]

    @property
    def findings(self) -> tuple[Used, ...]:
        """The entered findings that pointed elsewhere (fired those rules), each once."""
        seen = dict.fromkeys(u for r in (*self.against, *self.truth_for) for u in r.findings)
        return tuple(seen)


@dataclass(frozen=True)
class Feedback:
    """Feedback on a committed answer, from the system's rule trace."""

    truth: str
    truth_name: str
    truth_rank: int
    truth_probability: float
    truth_for: tuple[Reason, ...]
    missed: bool  # the truth (or an acceptable answer) is nowhere in the trainee's list
    wrong: tuple[ChoiceFeedback, ...]


def give_feedback(differential: Differential, answer: Answer, truth: str,
                  acceptable: Iterable[str] = ()) -> Feedback:
    """For each wrong choice, the fired rules against it and for the truth, with findings."""
    good = {truth, *acceptable}
    truth_entry = differential.entry(truth)
    truth_for = tuple(r for r in truth_entry.evidence_for if r.counted)
    wrong = []
    for choice in answer.choices:
        if choice in good:
            continue
        entry = differential.entry(choice)
        wrong.append(ChoiceFeedback(
            diagnosis=choice, name=entry.name, system_rank=differential.rank_of(choice),
            probability=entry.probability,
            against=tuple(r for r in entry.evidence_against if r.counted),
            truth_for=truth_for))
    return Feedback(truth=truth, truth_name=truth_entry.name,
                    truth_rank=differential.rank_of(truth),
                    truth_probability=truth_entry.probability, truth_for=truth_for,
                    missed=not good & set(answer.choices), wrong=tuple(wrong))


# ------------------------------------------------------------------ progress
@dataclass(frozen=True)
class DiagnosisAccuracy:
    """How often the trainee got cases of one true diagnosis right."""

    diagnosis: str
    attempts: int
    top1: float
    top3: float


def accuracy_by_diagnosis(attempts: Iterable[Attempt]) -> list[DiagnosisAccuracy]:
    """Top-1 and top-3 rates per true diagnosis, weakest first (then by id)."""
    groups: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        groups[attempt.truth].append(attempt)
    rows = [DiagnosisAccuracy(d, len(items), sum(a.score.top1 for a in items) / len(items),
                              sum(a.score.top3 for a in items) / len(items))
            for d, items in groups.items()]
    return sorted(rows, key=lambda r: (r.top1, r.top3, r.diagnosis))


@dataclass(frozen=True)
class Confusion:
    """A truth the trainee answered as another diagnosis (first choice), and how often."""

    truth: str
    answer: str
    count: int
    declared_mimic: bool


def confusions(kb: KnowledgeBase, attempts: Iterable[Attempt]) -> list[Confusion]:
    """Missed attempts grouped by (truth, first choice), commonest first.

    ``declared_mimic`` says whether the knowledge base lists the two as a mimic pair.
    """
    counts = Counter((a.truth, a.choices[0]) for a in attempts if not a.score.top1)

    rows = [Confusion(truth, answer, n, is_mimic_pair(kb, truth, answer))
            for (truth, answer), n in counts.items()]
    return sorted(rows, key=lambda c: (-c.count, not c.declared_mimic, c.truth, c.answer))


def cases_to_retry(attempts: Sequence[Attempt]) -> list[str]:
    """Case ids whose latest attempt missed the first choice, most recent first."""
    latest: dict[str, Attempt] = {}
    for attempt in sorted(attempts, key=lambda a: (a.at, a.id or 0)):
        latest[attempt.case_id] = attempt
    missed = [a for a in latest.values() if not a.score.top1]
    return [a.case_id for a in sorted(missed, key=lambda a: (a.at, a.id or 0), reverse=True)]


# ------------------------------------------------------------------ unknown cases
def difficulty_of(path: str | Path, default: str = DEFAULT_DIFFICULTY) -> str:
    """A case file's difficulty from a ``Difficulty: hard``-style comment on its first line.

    Files without such a tag (the seed cases among them) count as ``default`` (typical).
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline(1000)
    except OSError:
        return default
    if not first.lstrip().startswith("#"):
        return default
    match = _DIFFICULTY.search(first)
    return match.group(1).lower() if match else default


def case_code(case_id: str) -> str:
    """A short neutral label for a case ("Case 3f9a2c"): stable, and gives nothing away."""
    return hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:6]


def mask_names(text: str, names: Iterable[str], mask: str = "[…]") -> str:
    """``text`` with every occurrence of ``names`` (case-insensitive) replaced by ``mask``."""
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = re.sub(re.escape(name), mask, text, flags=re.IGNORECASE)
    return text
