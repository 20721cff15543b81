""""Why not X?": what kept a diagnosis out of first place, and what would put it there.

For a diagnosis *X* below the leader the answer has two parts, both computed, never written:

* **what kept it out**: X's prior against the leader's, X's evidence against, and the
  leader's evidence for (the rules that fired, from the differential);
* **the smallest change of findings that brings X to the top**: first every single change
  (enter an unanswered finding, change an entered one, or withdraw one), then pairs of
  changes, among findings that are relevant to the case and whose modality is performed or
  could be (a change that needs a modality not yet performed says so). Each what-if is scored
  with :meth:`engine.diagnosis.Reasoner.scores` (the fast Python twin of the rule engine).

Pairs are searched among the ``pool`` single changes that narrow the gap between X and the
best other diagnosis the most, plus the pairs that would complete a rule for X whose missing
part is two findings (neither of which helps alone): this keeps the answer fast enough for an
interactive "why not?" without missing the signs that only count together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from ossdx.advice.questions import answer_values
from ossdx.kb.case import Case, unmet_requirement
from ossdx.kb.model import Atom, Kind, KnowledgeBase, Op
from ossdx.reasoning.diagnosis import Differential, Entry, Reason, Reasoner


@dataclass(frozen=True)
class Change:
    """One change of the findings: set ``finding`` to ``value`` (None: withdraw it)."""

    finding: str
    value: Any
    label: str
    previous: Any = None
    modality: str | None = None

    def describe(self, kb: KnowledgeBase) -> str:
        """The change in words, e.g. 'Sclerotic rim: Present (was: Absent; needs MRI)'."""
        name = kb.findings[self.finding].name
        text = f"{name}: not assessed" if self.value is None else f"{name}: {self.label}"
        notes = []
        if self.previous is not None:
            notes.append(f"was: {kb.value_text(self.finding, self.previous)}")
        if self.modality is not None:
            notes.append(f"needs {kb.vocabulary.modalities[self.modality].name}")
        return f"{text} ({'; '.join(notes)})" if notes else text

    def as_dict(self) -> dict[str, Any]:
        return {"finding": self.finding, "value": self.value, "label": self.label,
                "previous": self.previous, "modality": self.modality}


@dataclass(frozen=True)
class Fix:
    """A set of changes after which X leads, and X's probability then."""

    changes: tuple[Change, ...]
    probability: float
    runner_up: str

    def as_dict(self) -> dict[str, Any]:
        return {"changes": [c.as_dict() for c in self.changes],
                "probability": round(self.probability, 6), "runner_up": self.runner_up}


@dataclass(frozen=True)
class WhyNot:
    """Why a diagnosis is not the leader, and the smallest changes that would make it so."""

    diagnosis: str
    name: str
    rank: int
    probability: float
    prior: float
    leader: str
    leader_name: str
    leader_probability: float
    leader_prior: float
    against: tuple[Reason, ...]
    leader_for: tuple[Reason, ...]
    fixes: tuple[Fix, ...]
    tried: int

    @property
    def size(self) -> int:
        """How many findings the smallest fix changes (0 when none was found)."""
        return len(self.fixes[0].changes) if self.fixes else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "diagnosis": self.diagnosis, "rank": self.rank,
            "probability": round(self.probability, 6), "prior": self.prior,
            "leader": self.leader, "leader_probability": round(self.leader_probability, 6),
            "leader_prior": self.leader_prior,
            "against": [r.as_dict() for r in self.against],
            "leader_for": [r.as_dict() for r in self.leader_for],
            "fixes": [f.as_dict() for f in self.fixes], "tried": self.tried,
        }


def _bin_of(edges: Sequence[float], value: float) -> int:
    return sum(1 for edge in edges if value >= edge)


def missing_modality(kb: KnowledgeBase, case: Case, finding: str) -> str | None:
    """A modality to add so that ``finding`` can be seen, or None if one was performed."""
    needs = kb.findings[finding].needs
    if not needs or kb.vocabulary.expand_modalities(case.modalities) & set(needs):
        return None
    return needs[0]


def consistent_findings(kb: KnowledgeBase, findings: Mapping[str, Any]) -> dict[str, Any]:
    """``findings`` without those whose requirement no longer holds (e.g. a vertebral
    position once the region is no longer the spine), repeated until nothing changes."""
    result = dict(findings)
    changed = True
    while changed:
        changed = False
        for key in list(result):
            if unmet_requirement(kb.vocabulary, key, result) is not None:
                del result[key]
                changed = True
    return result


def hypothetical_case(kb: KnowledgeBase, case: Case, changes: Iterable[Change]) -> Case:
    """The case after ``changes`` (adding any modality they need), kept consistent."""
    findings = dict(case.findings)
    modalities = set(case.modalities)
    for change in changes:
        if change.value is None:
            findings.pop(change.finding, None)
        else:
            findings[change.finding] = change.value
        if change.modality is not None:
            modalities.add(change.modality)
    return dataclasses.replace(case, findings=consistent_findings(kb, findings),
                               modalities=frozenset(modalities))


def candidate_changes(reasoner: Reasoner, case: Case) -> list[Change]:
    """Every single change worth trying: relevant findings, values allowed by the case."""
    kb = reasoner.kb
    facts = reasoner.facts(case)
    changes: list[Change] = []
    for finding, spec in kb.findings.items():
        if not kb.is_relevant(finding, facts):
            continue
        current = case.findings.get(finding)
        modality = missing_modality(kb, case, finding)
        numeric = spec.type in ("number", "integer")
        low, high = spec.range or (0.0, 1.0)
        edges = [b for b in spec.bins if low < b < high]
        for value, label in answer_values(spec):
            if current is not None:
                same = (_bin_of(edges, value) == _bin_of(edges, current)) if numeric \
                    else value == current
                if same:
                    continue
            if unmet_requirement(kb.vocabulary, finding, {**case.findings, finding: value}):
                continue
            changes.append(Change(finding, value, label, current, modality))
        if current is not None:
            changes.append(Change(finding, None, "not assessed", current))
    return changes


class _Search:
    """Scores what-ifs for one case and one target diagnosis."""

    def __init__(self, reasoner: Reasoner, case: Case, target: str):
        self.reasoner = reasoner
        self.kb = reasoner.kb
        self.case = case
        self.target = target
        self.tried = 0

    def gap(self, changes: Sequence[Change]) -> tuple[float, float, str]:
        """(best other log score - X's log score, X's probability, best other diagnosis)."""
        self.tried += 1
        what_if = hypothetical_case(self.kb, self.case, changes)
        scores = self.reasoner.scores(self.reasoner.facts(what_if))
        mine = next(s for s in scores if s.diagnosis == self.target)
        best = next(s for s in scores if s.diagnosis != self.target)
        return best.log_score - mine.log_score, mine.probability, best.diagnosis


def _reasons(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    return tuple(r for r in reasons if r.counted)


def _value_for(kb: KnowledgeBase, atom: Atom) -> tuple[Any, str] | None:
    """A value of the atom's finding that makes the atom true (first in KB order)."""
    for value, label in answer_values(kb.findings[atom.var]):
        if atom.holds({atom.var: value}, frozenset()):
            return value, label
    if atom.op is Op.BETWEEN and atom.low is not None:
        return atom.low, f"{atom.low:g}"
    return None


def rule_completions(reasoner: Reasoner, case: Case, target: str,
                     size: int = 2) -> list[tuple[Change, ...]]:
    """Sets of up to ``size`` changes that would each make a not-yet-fired rule for
    ``target`` fire (rules whose missing part is only findings; found from the rules)."""
    kb = reasoner.kb
    facts = reasoner.facts(case)
    concepts = reasoner.trace(case, fast=True).concepts
    found: list[tuple[Change, ...]] = []
    for rule in kb.rules_for(Kind.EVIDENCE, target):
        if rule.lr <= 1:
            continue
        for conjunction in rule.when:
            missing = [a for a in conjunction if not a.holds(facts, concepts)]
            if not 1 <= len(missing) <= size or any(
                    a.is_concept or a.var not in kb.findings or a.op not in (Op.IN, Op.BETWEEN)
                    or not kb.is_relevant(a.var, facts) for a in missing):
                continue
            changes = []
            for atom in missing:
                chosen = _value_for(kb, atom)
                if chosen is None:
                    break
                changes.append(Change(atom.var, chosen[0], chosen[1],
                                      case.findings.get(atom.var),
                                      missing_modality(kb, case, atom.var)))
            if len(changes) == len(missing) and len({c.finding for c in changes}) == len(changes):
                found.append(tuple(changes))
    return found


def _key(changes: Iterable[Change]) -> frozenset[tuple[str, Any]]:
    return frozenset((c.finding, c.value) for c in changes)


def explain_why_not(reasoner: Reasoner, differential: Differential, diagnosis: str, *,
                    limit: int = 3, pool: int = 20) -> WhyNot:
    """Why ``diagnosis`` is not first in ``differential``, and how it could become so."""
    case = differential.case
    entry: Entry = differential.entry(diagnosis)
    leader = differential.leader
    fixes: list[Fix] = []
    search = _Search(reasoner, case, diagnosis)
    if leader.id != diagnosis:
        gap0, _, _ = search.gap(())
        singles = []
        for change in candidate_changes(reasoner, case):
            gap, probability, runner_up = search.gap((change,))
            if gap < 0:
                fixes.append(Fix((change,), probability, runner_up))
            singles.append((gap0 - gap, change))
        if not fixes:
            helpful = [c for gain, c in sorted(singles, key=lambda s: -s[0]) if gain > 0][:pool]
            pairs = [p for p in combinations(helpful, 2) if p[0].finding != p[1].finding]
            pairs += [p for p in rule_completions(reasoner, case, diagnosis) if len(p) == 2]
            seen: set[frozenset[tuple[str, Any]]] = set()
            for pair in pairs:
                if _key(pair) in seen:
                    continue
                seen.add(_key(pair))
                gap, probability, runner_up = search.gap(pair)
                if gap < 0:
                    fixes.append(Fix(pair, probability, runner_up))
    fixes.sort(key=lambda f: (-f.probability, [c.finding for c in f.changes]))
    return WhyNot(
        diagnosis=diagnosis, name=entry.name, rank=differential.rank_of(diagnosis),
        probability=entry.probability, prior=_prior(entry),
        leader=leader.id, leader_name=leader.name, leader_probability=leader.probability,
        leader_prior=_prior(leader),
        against=_reasons(entry.evidence_against), leader_for=_reasons(leader.evidence_for),
        fixes=tuple(fixes[:limit]), tried=search.tried,
    )


def _prior(entry: Entry) -> float:
    """The prior after the context factors (unnormalised), as the scoring model uses it."""
    return entry.prior
