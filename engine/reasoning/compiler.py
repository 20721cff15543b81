"""Compile the knowledge base's rules into an experta ``KnowledgeEngine`` class.

experta finds rules only as class attributes of the engine class, so we build that class at
load time with ``type()``, one ``Rule`` per knowledge-base rule. The whole case is declared
as one ``Case`` fact (findings, ``patient.<field>`` and ``modalities`` as its fields: one
wide fact was 5x faster than one fact per finding); derived concepts are ``Concept`` facts.

Salience implements stratification: a rule deriving a concept of stratum *s* has salience
``1000 - s``, so every concept is complete before any rule that reads it (or its absence)
fires; evidence, prior, pitfall and recommendation rules run last (salience 0).
"""

from __future__ import annotations

import bisect
import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

from ossdx.kb.model import Atom, Conjunction, Kind, Op, Rule
from ossdx.reasoning._experta import (
    AND,
    NOT,
    OR,
    Fact,
    KnowledgeEngine,
    L,
    P,
    ReteMatcher,
    Strategy,
    W,
)
from ossdx.reasoning._experta import Rule as ExpertaRule


class SalienceStrategy(Strategy):
    """Agenda by salience (then rule name and facts), with removal that always works.

    experta's default ``DepthStrategy`` removes a retracted activation by bisecting to its
    key and checking only the three neighbouring places; when many activations share a key
    (many rules of equal salience matching the one Case fact) it can miss, and a rule whose
    ``NOT`` condition became false still fires. This strategy removes by identity of rule,
    facts and bindings, so a concept derived at a higher salience reliably cancels the
    pending activations that required its absence.
    """

    @staticmethod
    def _identity(act: Any) -> tuple[Any, ...]:
        return (act.rule, frozenset(act.facts), frozenset(act.context.items()))

    def _update_agenda(self, agenda: Any, added: Any, removed: Any) -> None:
        if removed:
            gone = {self._identity(act) for act in removed}
            agenda.activations = [a for a in agenda.activations
                                  if self._identity(a) not in gone]
        for act in added:
            facts = sorted(f["__factid__"] for f in act.facts)
            act.key = (act.rule.salience, getattr(act.rule, "__name__", ""), facts)
            bisect.insort(agenda.activations, act)


class DirtyTrackingMatcher(ReteMatcher):
    """experta's RETE matcher, polling only the rules whose activations changed.

    After every fact change and every rule firing, experta asks each rule's terminal
    (conflict-set) node for new and removed activations, so one run costs (rules fired) x
    (rules in the network) even when almost nothing changed. Here each terminal node marks
    itself when it receives a token, and ``changes`` drains only the marked nodes: the same
    activations, without the full poll. The network, its tests and its tokens are experta's.
    """

    def build_network(self) -> None:
        super().build_network()
        self._dirty: dict[Any, None] = {}
        for node in self._get_conflict_set_nodes():
            node._activate = self._tracking(node, node._activate)

    def _tracking(self, node: Any, activate: Callable[[Any], Any]) -> Callable[[Any], Any]:
        dirty = self._dirty

        def tracked(token: Any) -> Any:
            dirty[node] = None
            return activate(token)

        return tracked

    def changes(self, adding: Any = None, deleting: Any = None) -> tuple[list[Any], list[Any]]:
        if deleting is not None:
            for fact in deleting:
                self.root_node.remove(fact)
        if adding is not None:
            for fact in adding:
                self.root_node.add(fact)
        added: list[Any] = []
        removed: list[Any] = []
        nodes = list(self._dirty)
        self._dirty.clear()
        for node in nodes:
            node_added, node_removed = node.get_activations()
            added.extend(node_added)
            removed.extend(node_removed)
        return added, removed


class Case(Fact):
    """The case: one fact whose fields are the case's facts."""


class Concept(Fact):
    """A derived concept that holds for the case."""


def _between(low: float | None, high: float | None, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (low is None or value >= low) and (high is None or value < high)


def _intersects(values: frozenset[str], value: Any) -> bool:
    return isinstance(value, frozenset) and bool(value & values)


def _disjoint(values: frozenset[str], value: Any) -> bool:
    return isinstance(value, frozenset) and not (value & values)


def _field_pattern(atom: Atom) -> Any:
    if atom.op is Op.IN:
        return functools.reduce(operator.or_, (L(v) for v in sorted(atom.values)))
    if atom.op is Op.NOT_IN:
        return functools.reduce(operator.and_, (~L(v) for v in sorted(atom.values)), W())
    if atom.op is Op.BETWEEN:
        return P(functools.partial(_between, atom.low, atom.high))
    if atom.op is Op.CONTAINS:
        return P(functools.partial(_intersects, atom.values))
    if atom.op is Op.EXCLUDES:
        return P(functools.partial(_disjoint, atom.values))
    raise ValueError(f"not a field test: {atom.op}")


def _conditional_elements(conjunction: Conjunction) -> list[Any]:
    fields: dict[str, Any] = {}
    others: list[Any] = []
    for atom in conjunction:
        if atom.op is Op.CONCEPT:
            others.append(Concept(id=L(atom.var)))
        elif atom.op is Op.NO_CONCEPT:
            others.append(NOT(Concept(id=L(atom.var))))
        elif atom.op is Op.UNKNOWN:
            others.append(NOT(Case(**{atom.var: W()})))
        else:
            pattern = _field_pattern(atom)
            fields[atom.var] = fields[atom.var] & pattern if atom.var in fields else pattern
    return [Case(**fields), *others]


def _action(rules: Sequence[Rule]) -> Callable[[Any], None]:
    """Fire every rule of ``rules`` (which share one condition)."""
    ids = [rule.id for rule in rules]
    concepts = [rule.target for rule in rules if rule.kind is Kind.CONCEPT]

    def fire(engine: Any) -> None:
        engine.fired.extend(ids)
        for concept in concepts:
            engine.declare(Concept(id=concept))

    fire.__name__ = ids[0]
    fire.__qualname__ = ids[0]
    return fire


def salience(rule: Rule) -> int:
    return 1000 - rule.stratum if rule.kind is Kind.CONCEPT else 0


def compile_rule(rules: Rule | Sequence[Rule]) -> ExpertaRule:
    """One experta ``Rule`` (with its action) for knowledge-base rules that share one
    condition and one salience."""
    rules = [rules] if isinstance(rules, Rule) else list(rules)
    first = rules[0]
    branches = [_conditional_elements(conj) for conj in first.when]
    if len(branches) == 1:
        production = ExpertaRule(*branches[0], salience=salience(first))
    else:
        production = ExpertaRule(OR(*(AND(*ces) for ces in branches)), salience=salience(first))
    return production(_action(rules))


def shared_conditions(rules: Sequence[Rule]) -> list[list[Rule]]:
    """The rules grouped by identical condition and salience, in first-appearance order.

    Likelihood profiles compile many rules with one condition (``density: lytic`` for
    every diagnosis that states density); one production fires them all, so the network's
    size follows the distinct conditions, not the number of diagnoses.
    """
    groups: dict[tuple[Any, int], list[Rule]] = {}
    for rule in rules:
        if rule.when:
            groups.setdefault((rule.when, salience(rule)), []).append(rule)
    return list(groups.values())


def compile_rules(rules: Sequence[Rule], label: str = "ossdx") -> type[KnowledgeEngine]:
    """An experta engine class with one experta rule per distinct rule condition."""
    attributes: dict[str, Any] = {
        f"rule_{i:05d}": compile_rule(group)
        for i, group in enumerate(shared_conditions(rules))
    }
    attributes["__doc__"] = f"{label}: {len(rules)} rules compiled from YAML"
    attributes["__strategy__"] = SalienceStrategy
    attributes["__matcher__"] = DirtyTrackingMatcher
    return type("OssdxRules", (KnowledgeEngine,), attributes)
