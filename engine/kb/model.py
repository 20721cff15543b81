"""Typed, frozen objects of a loaded knowledge base, and the rule form that engines run.

A rule's condition is kept in disjunctive normal form: a tuple of conjunctions of atoms.
An atom tests one variable of the case (a finding, a patient field, the modalities
performed) or the presence of a derived concept. Both inference back ends (the experta
network of record in :mod:`engine.compiler` and the plain-Python matcher in
:mod:`engine.matcher`) run exactly these objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ossdx.core.errors import Location
from ossdx.kb import schema

MODALITIES = "modalities"  # the variable holding the set of modalities performed
PATIENT = "patient."  # prefix of patient variables in a case's facts


class Op(StrEnum):
    IN = "in"  # known and one of values
    NOT_IN = "not_in"  # known and none of values
    BETWEEN = "between"  # known number, low <= x < high
    UNKNOWN = "unknown"  # not assessed
    CONTAINS = "contains"  # set-valued: shares a member with values
    EXCLUDES = "excludes"  # set-valued: known and shares none
    CONCEPT = "concept"  # derived concept present
    NO_CONCEPT = "no_concept"  # derived concept absent


class Kind(StrEnum):
    CONCEPT = "concept"
    PRIOR = "prior"
    EVIDENCE = "evidence"
    PITFALL = "pitfall"
    RECOMMENDATION = "recommendation"


@dataclass(frozen=True)
class Atom:
    var: str
    op: Op
    values: frozenset[str] = frozenset()
    low: float | None = None
    high: float | None = None
    location: Location = field(default=Location("?"), compare=False, hash=False)
    # Only keeps a ratio from being counted twice (a value 'implies' this one): not a
    # reason the rule fired, so explanations leave it out.
    guard: bool = False

    @property
    def is_concept(self) -> bool:
        return self.op in (Op.CONCEPT, Op.NO_CONCEPT)

    def holds(self, facts: Mapping[str, Any], concepts: frozenset[str] | set[str]) -> bool:
        """Whether this atom is true of a case's facts and derived concepts."""
        op = self.op
        if op is Op.CONCEPT:
            return self.var in concepts
        if op is Op.NO_CONCEPT:
            return self.var not in concepts
        if op is Op.UNKNOWN:
            return self.var not in facts
        if self.var not in facts:
            return False
        value = facts[self.var]
        if op is Op.IN:
            return value in self.values
        if op is Op.NOT_IN:
            return value not in self.values
        if op is Op.CONTAINS:
            return bool(value & self.values)
        if op is Op.EXCLUDES:
            return not (value & self.values)
        # BETWEEN
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)


Conjunction = tuple[Atom, ...]


@dataclass(frozen=True)
class RuleExample:
    facts: Mapping[str, Any]
    fires: bool
    note: str | None
    location: Location


@dataclass(frozen=True)
class Rule:
    """One production: if any conjunction of ``when`` holds, conclude about ``target``."""

    id: str
    kind: Kind
    target: str
    description: str
    when: tuple[Conjunction, ...]
    lr: float = 1.0
    effect: str | None = None
    strength: str | None = None
    group: str | None = None
    references: tuple[str, ...] = ()
    teaching_point: str | None = None
    examples: tuple[RuleExample, ...] = ()
    takes_examples: bool = field(default=False, compare=False)  # written by hand, may carry them
    stratum: int = 0
    location: Location = field(default=Location("?"), compare=False)

    @property
    def variables(self) -> frozenset[str]:
        """Case variables (not concepts) the condition reads."""
        return frozenset(a.var for conj in self.when for a in conj if not a.is_concept)

    @property
    def concepts(self) -> frozenset[str]:
        return frozenset(a.var for conj in self.when for a in conj if a.is_concept)

    def holds(self, facts: Mapping[str, Any], concepts: frozenset[str] | set[str]) -> bool:
        return any(all(a.holds(facts, concepts) for a in conj) for conj in self.when)


class Vocabulary:
    """Every variable a case can carry, with its values: findings, patient, modalities."""

    def __init__(self, findings: Mapping[str, schema.Variable],
                 patient: Mapping[str, schema.Variable],
                 modalities: Mapping[str, schema.Modality]):
        self.findings = MappingProxyType(dict(findings))
        self.patient = MappingProxyType(dict(patient))
        self.modalities = MappingProxyType(dict(modalities))

    def variable(self, var: str) -> schema.Variable | None:
        if var.startswith(PATIENT):
            return self.patient.get(var[len(PATIENT):])
        return self.findings.get(var)

    def expand_modalities(self, performed: frozenset[str] | set[str]) -> frozenset[str]:
        """Performed modalities plus those they include (PET_CT includes CT)."""
        result = set(performed)
        for m in performed:
            if m in self.modalities:
                result.update(self.modalities[m].includes)
        return frozenset(result)


@dataclass(frozen=True)
class KnowledgeBase:
    """A loaded, checked knowledge base. Build with :func:`engine.kb.load_knowledge_base`."""

    root: Path
    manifest: schema.Manifest
    fingerprint: str
    references: Mapping[str, schema.Reference]
    vocabulary: Vocabulary
    finding_topics: Mapping[str, str]
    topics: Mapping[str, str]
    concepts: Mapping[str, schema.Concept]
    diagnoses: Mapping[str, schema.DiagnosisFile]
    pitfalls: Mapping[str, schema.Pitfall]
    recommendations: Mapping[str, schema.Recommendation]
    teaching_points: Mapping[str, schema.TeachingPoint]
    quizzes: Mapping[str, schema.Quiz]
    seed_coverage: tuple[schema.SeedSection, ...]
    rules: tuple[Rule, ...]
    base_priors: Mapping[str, float]
    relevance: Mapping[str, tuple[Conjunction, ...]] = field(default_factory=dict)
    report_rates: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    named_diagnoses: Mapping[str, schema.DiagnosisFile] = field(default_factory=dict)
    illustrations: Mapping[str, schema.Illustration] = field(default_factory=dict)
    # likelihood profiles after shrinkage (diagnosis -> finding -> value -> P) and the
    # reference mixture of each finding (finding -> value -> P); see ossdx.kb.profiles
    seed_facts: tuple[schema.SeedFact, ...] = ()
    profiles: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    reference: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)
    _index: dict[str, Rule] = field(init=False, repr=False, compare=False)
    _by_target: dict[tuple[Kind, str], tuple[Rule, ...]] = field(init=False, repr=False,
                                                                 compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {r.id: r for r in self.rules})
        by_target: dict[tuple[Kind, str], list[Rule]] = {}
        for rule in self.rules:
            by_target.setdefault((rule.kind, rule.target), []).append(rule)
        object.__setattr__(self, "_by_target", {k: tuple(v) for k, v in by_target.items()})

    @property
    def version(self) -> str:
        return f"{self.manifest.version}+{self.fingerprint[:10]}"

    def is_held_out(self, path: Path) -> bool:
        """Whether a case file (or folder) lies in a held-out folder of kb.yaml: cases whose
        per-case results are not for the knowledge editor, which tools leave out."""
        path = Path(path).resolve()
        return any(path == h or h in path.parents
                   for h in ((self.root / f).resolve() for f in self.manifest.held_out_cases))

    @property
    def findings(self) -> Mapping[str, schema.Variable]:
        return self.vocabulary.findings

    @property
    def other(self) -> str:
        return self.manifest.other_diagnosis

    @property
    def settings(self) -> schema.Settings:
        return self.manifest.settings

    def scored_as(self, diagnosis: str) -> str:
        """The differential entry that stands for ``diagnosis``: itself, or the catch-all
        for a diagnosis that is only named (``status: named``)."""
        return self.other if diagnosis in self.named_diagnoses else diagnosis

    def rule(self, rule_id: str) -> Rule:
        return self._index[rule_id]

    def is_relevant(self, finding: str, facts: Mapping[str, Any]) -> bool:
        """Whether asking ``finding`` makes sense: its ``ask_when`` is not contradicted.

        A condition on a variable not yet known does not rule the finding out.
        """
        dnf = self.relevance.get(finding, ())
        if not dnf:
            return True
        return any(all(a.var not in facts or a.holds(facts, frozenset()) for a in conj)
                   for conj in dnf)

    def report_rate(self, finding: str, diagnosis: str | None = None) -> float:
        """How often ``finding`` is reported when it can be (given ``diagnosis`` if known)."""
        rates = self.report_rates.get(finding)
        if not rates:
            return 1.0
        return rates.get(diagnosis, rates["*"]) if diagnosis else rates["*"]

    def rules_of(self, kind: Kind) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind is kind)

    def rules_for(self, kind: Kind, target: str) -> tuple[Rule, ...]:
        """The rules of one kind concluding about ``target``, in knowledge-base order."""
        return self._by_target.get((kind, target), ())

    def name_of(self, item_id: str) -> str:
        """Human name of a diagnosis, concept, finding, pitfall or recommendation id."""
        for table in (self.diagnoses, self.named_diagnoses, self.concepts, self.findings):
            if item_id in table:
                return table[item_id].name
        if item_id in self.pitfalls:
            return self.pitfalls[item_id].title
        if item_id in self.recommendations:
            return self.recommendations[item_id].title
        return item_id

    def value_text(self, var: str, value: Any) -> str:
        """A value as shown to a user: labels (of each member of a set), numbers with
        their unit."""
        if isinstance(value, (frozenset, set, list, tuple)):
            return ", ".join(self.label_of(var, v) for v in sorted(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            spec = self.vocabulary.variable(var)
            unit = f" {spec.unit}" if spec is not None and spec.unit else ""
            return f"{value:g}{unit}"
        return self.label_of(var, value)

    def label_of(self, var: str, value: Any) -> str:
        """Human label of a variable's value (falls back to the value itself)."""
        spec = self.vocabulary.variable(var)
        if spec is not None and isinstance(value, str) and value in spec.values:
            return spec.values[value].label
        return str(value)
