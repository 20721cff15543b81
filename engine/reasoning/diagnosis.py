"""The public entry point: a case in, a ranked and explained differential out.

``Reasoner`` is built once per knowledge base (it compiles the experta network) and then
diagnoses any number of cases. Results are frozen objects with an ``as_dict()`` that is the
JSON contract of ``ossdx diagnose --json``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ossdx.kb.case import Case, case_facts
from ossdx.kb.model import Kind, KnowledgeBase, Rule
from ossdx.reasoning.explain import Expected, Used, expected_findings, support
from ossdx.reasoning.inference import ExpertaEngine, PythonEngine, Trace
from ossdx.reasoning.scoring import Contribution, Score, score


@dataclass(frozen=True)
class Reason:
    """One fired rule, as shown to the user: what it says and which findings fired it."""

    rule: str
    text: str
    lr: float
    strength: str
    findings: tuple[Used, ...]
    references: tuple[str, ...]
    counted: bool = True
    superseded_by: str | None = None
    teaching_point: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "text": self.text,
            "lr": round(self.lr, 4),
            "strength": self.strength,
            "findings": [u.as_dict() for u in self.findings],
            "references": list(self.references),
            "counted": self.counted,
        }
        if self.superseded_by:
            data["superseded_by"] = self.superseded_by
        if self.teaching_point:
            data["teaching_point"] = self.teaching_point
        return data


@dataclass(frozen=True)
class Entry:
    """One diagnosis of the differential."""

    id: str
    name: str
    probability: float
    base_prior: float
    prior_factors: tuple[Reason, ...]
    evidence_for: tuple[Reason, ...]
    evidence_against: tuple[Reason, ...]
    expected: tuple[Expected, ...]
    log_score: float
    prior: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "probability": round(self.probability, 6),
            "prior": {"base": self.base_prior, "after_context": round(self.prior, 6),
                      "factors": [r.as_dict() for r in self.prior_factors]},
            "evidence_for": [r.as_dict() for r in self.evidence_for],
            "evidence_against": [r.as_dict() for r in self.evidence_against],
            "expected_findings": [e.as_dict() for e in self.expected],
        }


@dataclass(frozen=True)
class Notice:
    """A pitfall or recommendation that fired on the case."""

    id: str
    kind: str
    title: str
    text: str
    category: str
    findings: tuple[Used, ...]
    references: tuple[str, ...]
    modality: str | None = None
    serves: tuple[str, ...] = ()  # the diagnoses it is for ('for' in the knowledge base)
    probability: float | None = None  # what they hold together in this differential
    band: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "title": self.title, "text": self.text, "category": self.category,
            "findings": [u.as_dict() for u in self.findings],
            "references": list(self.references)}
        if self.modality:
            data["modality"] = self.modality
        if self.serves:
            data["for"] = list(self.serves)
            data["probability"] = round(self.probability or 0.0, 6)
            if self.band is not None:
                data["band"] = list(self.band)
        return data


@dataclass(frozen=True)
class Differential:
    """A ranked differential with its explanation, for one case."""

    case: Case
    kb_version: str
    entries: tuple[Entry, ...]
    pitfalls: tuple[Notice, ...]
    recommendations: tuple[Notice, ...]
    trace: Trace
    facts: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def leader(self) -> Entry:
        return self.entries[0]

    @property
    def tied_leaders(self) -> tuple[Entry, ...]:
        """The entries that share the top probability (one, unless nothing separates them:
        every entry, before any context or finding has moved one)."""
        top = self.entries[0].probability
        return tuple(e for e in self.entries
                     if math.isclose(e.probability, top, rel_tol=1e-9, abs_tol=1e-12))

    def entry(self, diagnosis: str) -> Entry:
        return next(e for e in self.entries if e.id == diagnosis)

    def rank_of(self, diagnosis: str) -> int:
        """1-based rank of a diagnosis."""
        return next(i for i, e in enumerate(self.entries, 1) if e.id == diagnosis)

    @property
    def probabilities(self) -> dict[str, float]:
        return {e.id: e.probability for e in self.entries}

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case.name,
            "kb_version": self.kb_version,
            "differential": [e.as_dict() for e in self.entries],
            "pitfalls": [n.as_dict() for n in self.pitfalls],
            "recommendations": [n.as_dict() for n in self.recommendations],
            "fired_rules": sorted(self.trace.fired),
            "concepts": sorted(self.trace.concepts),
        }


class Reasoner:
    """Diagnoses cases against one knowledge base (compile once, run many)."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.python = PythonEngine(kb)

    @functools.cached_property
    def experta(self) -> ExpertaEngine:
        """The experta network, compiled on first use (what-if work needs only the twin)."""
        return ExpertaEngine(self.kb)

    def facts(self, case: Case) -> dict[str, Any]:
        return case_facts(case, self.kb.vocabulary)

    def trace(self, case: Case, *, fast: bool = False) -> Trace:
        """The rules that fire: experta (the engine of record) unless ``fast``."""
        engine = self.python if fast else self.experta
        return engine.run(self.facts(case))

    def scores(self, facts: Mapping[str, Any]) -> list[Score]:
        """Posterior scores via the plain-Python twin (for what-if questions)."""
        return score(self.kb, self.python.run(facts))

    def diagnose(self, case: Case, *, fast: bool = False) -> Differential:
        facts = self.facts(case)
        trace = (self.python if fast else self.experta).run(facts)
        return self.explain(case, facts, trace)

    def explain(self, case: Case, facts: Mapping[str, Any], trace: Trace) -> Differential:
        kb = self.kb
        entries = []
        for s in score(kb, trace):
            reasons = [self._reason(c, facts, trace) for c in s.evidence]
            entries.append(Entry(
                id=s.diagnosis,
                name=kb.diagnoses[s.diagnosis].name,
                probability=s.probability,
                base_prior=s.base_prior,
                prior_factors=tuple(self._reason(c, facts, trace) for c in s.prior_factors),
                evidence_for=tuple(r for r in reasons if r.lr > 1),
                evidence_against=tuple(r for r in reasons if r.lr < 1),
                expected=expected_findings(kb, s.diagnosis, facts, trace),
                log_score=s.log_score,
                prior=s.prior,
            ))
        probabilities = {e.id: e.probability for e in entries}
        leader = entries[0].id if entries else None
        pitfalls: list[Notice] = []
        recommendations: list[Notice] = []
        for rule_id in sorted(trace.fired):
            rule = kb.rule(rule_id)
            if rule.kind not in (Kind.PITFALL, Kind.RECOMMENDATION):
                continue
            notice = self._notice(rule, facts, trace, probabilities)
            if not applies(notice, kb, leader):
                continue
            (pitfalls if rule.kind is Kind.PITFALL else recommendations).append(notice)
        return Differential(case, kb.version, tuple(entries), tuple(pitfalls),
                            tuple(recommendations), trace, dict(facts))

    def _reason(self, contribution: Contribution, facts: Mapping[str, Any],
                trace: Trace) -> Reason:
        rule = contribution.rule
        return Reason(
            rule=rule.id,
            text=rule.description,
            lr=rule.lr,
            strength=rule.strength or "",
            findings=support(self.kb, rule, facts, trace),
            references=rule.references,
            counted=contribution.counted,
            superseded_by=contribution.superseded_by,
            teaching_point=rule.teaching_point,
        )

    def _notice(self, rule: Rule, facts: Mapping[str, Any], trace: Trace,
                probabilities: Mapping[str, float]) -> Notice:
        kb = self.kb
        item: Any = (kb.pitfalls if rule.kind is Kind.PITFALL else kb.recommendations)[rule.target]
        serves = tuple(item.for_)
        mass = sum(probabilities.get(d, 0.0) for d in serves) if serves else None
        if rule.kind is Kind.PITFALL:
            return Notice(item.id, "pitfall", item.title, item.text, item.severity,
                          support(kb, rule, facts, trace), rule.references, None, serves, mass,
                          item.band)
        return Notice(item.id, "recommendation", item.title, item.text, item.category,
                      support(kb, rule, facts, trace), rule.references, item.modality, serves,
                      mass, item.band)


def applies(notice: Notice, kb: KnowledgeBase, leader: str | None) -> bool:
    """Whether a fired pitfall or recommendation applies to this differential: its served
    diagnoses hold a probability within its band, and none of ``unless_leader`` leads."""
    item: Any = (kb.pitfalls if notice.kind == "pitfall" else kb.recommendations)[notice.id]
    if item.unless_leader and leader in item.unless_leader:
        return False
    if notice.band is None or notice.probability is None:
        return True
    low, high = notice.band
    return low - 1e-12 <= notice.probability <= high + 1e-12
