"""Run a case through the rules: the experta engine of record, and a plain-Python twin.

Both take the same facts and return the same :class:`Trace` (the set of rules that fired and
the concepts derived). The experta network is the engine of record for every differential
shown; the matcher exists for speed where thousands of what-if evaluations are needed
(question selection, "why not X?"). A property test holds them to identical traces.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ossdx.kb.model import Atom, Kind, KnowledgeBase, Rule
from ossdx.reasoning.compiler import Case, Concept, compile_rules


@dataclass(frozen=True)
class Trace:
    """What fired for one case: rule ids in knowledge-base order, and derived concepts."""

    fired: tuple[str, ...]
    concepts: frozenset[str]


def _canonical(kb_order: Mapping[str, int], fired: list[str]) -> tuple[str, ...]:
    return tuple(sorted(set(fired), key=kb_order.__getitem__))


class ExpertaEngine:
    """The experta network compiled from a rule set (built once, run many times).

    ``rules`` are :class:`~engine.kb.model.Rule` objects in stratified order (a knowledge
    base's ``rules``, or another rule set such as the response criteria).
    """

    name = "experta"

    def __init__(self, rules: Sequence[Rule] | KnowledgeBase, label: str = "ossdx"):
        rules = rules.rules if isinstance(rules, KnowledgeBase) else tuple(rules)
        self.rules = {r.id: r for r in rules}
        self.engine_class = compile_rules(rules, label)
        self._engine = self.engine_class()
        self._primed = False  # reset once; later runs retract the last case instead
        self._lock = threading.Lock()
        self._order = {r.id: i for i, r in enumerate(rules)}

    def run(self, facts: Mapping[str, Any]) -> Trace:
        with self._lock:
            engine = self._engine
            engine.fired = []
            if self._primed:
                _retract_case(engine)
            else:
                engine.reset()
                self._primed = True
            engine.declare(Case(**facts))
            engine.run()
            fired = list(engine.fired)
        concepts = frozenset(self.rules[r].target for r in fired
                             if self.rules[r].kind is Kind.CONCEPT)
        return Trace(_canonical(self._order, fired), concepts)


def _retract_case(engine: Any) -> None:
    """Take the last case, and the concepts derived from it, out of the network.

    Every rule has a pattern on the ``Case`` fact, so once it is retracted no activation
    is left; retracting the concepts then leaves the network as a reset does (with its
    initial fact), at a cost that follows what matched, where a reset walks every node of
    the network (twice as slow at 2,000 rules; a property test holds both to the
    plain-Python twin).
    """
    ids = [idx for idx, fact in engine.facts.items() if isinstance(fact, Case)]
    ids += [idx for idx, fact in engine.facts.items() if isinstance(fact, Concept)]
    for idx in ids:
        engine.retract(idx)
    engine.agenda.activations.clear()


class PythonEngine:
    """The same rules evaluated stratum by stratum in plain Python."""

    name = "python"

    def __init__(self, rules: Sequence[Rule] | KnowledgeBase):
        rules = rules.rules if isinstance(rules, KnowledgeBase) else tuple(rules)
        strata: dict[int, list[Rule]] = {}
        for rule in rules:
            strata.setdefault(rule.stratum, []).append(rule)
        self.strata = [strata[s] for s in sorted(strata)]
        self._order = {r.id: i for i, r in enumerate(rules)}

    def run(self, facts: Mapping[str, Any]) -> Trace:
        concepts: set[str] = set()
        fired: list[str] = []
        for rules in self.strata:
            derived = []
            for rule in rules:
                if rule.holds(facts, concepts):
                    fired.append(rule.id)
                    if rule.kind is Kind.CONCEPT:
                        derived.append(rule.target)
            concepts.update(derived)
        return Trace(_canonical(self._order, fired), frozenset(concepts))


_ABSENT = ("<absent>",)  # a variable the facts do not have, in a cache key
_NONE: frozenset[str] = frozenset()


class _Overlay:
    """A set of concepts read as the base's, with some added or removed (no copy)."""

    __slots__ = ("added", "base", "removed")

    def __init__(self, base: frozenset[str]):
        self.base = base
        self.added: set[str] = set()
        self.removed: set[str] = set()

    def __contains__(self, concept: object) -> bool:
        return concept in self.added or (concept in self.base and concept not in self.removed)

    def set(self, concept: str, present: bool) -> None:
        (self.added if present else self.removed).add(concept)
        (self.removed if present else self.added).discard(concept)

    def result(self) -> frozenset[str]:
        if not self.added and not self.removed:
            return self.base
        return (self.base - self.removed) | self.added


class WhatIf:
    """Incremental re-evaluation for what-if questions ("what if finding f were v?").

    Changing some variables can only change the rules that read them, directly or through
    derived concepts: their *cone*. Re-running just the cone, in stratum order, on top of the
    base trace gives exactly the trace of a full run (rules outside the cone read nothing
    that changed). A property test holds this equal to :class:`PythonEngine` and experta.
    """

    def __init__(self, rules: Sequence[Rule] | KnowledgeBase):
        rules = rules.rules if isinstance(rules, KnowledgeBase) else tuple(rules)
        self.rules = rules
        self._order = {r.id: i for i, r in enumerate(rules)}
        self._readers_var: dict[str, list[Rule]] = {}
        self._readers_concept: dict[str, list[Rule]] = {}
        self._derivers: dict[str, list[str]] = {}
        # var -> each distinct test of it -> the rules that make that test
        self._tests: dict[str, dict[Atom, list[Rule]]] = {}
        for rule in rules:
            for var in rule.variables:
                self._readers_var.setdefault(var, []).append(rule)
            for conjunction in rule.when:
                for atom in conjunction:
                    if not atom.is_concept:
                        readers = self._tests.setdefault(atom.var, {}).setdefault(atom, [])
                        if rule not in readers:
                            readers.append(rule)
            for concept in rule.concepts:
                self._readers_concept.setdefault(concept, []).append(rule)
            if rule.kind is Kind.CONCEPT:
                self._derivers.setdefault(rule.target, []).append(rule.id)
        self._cones: dict[frozenset[str], tuple[Rule, ...]] = {}
        self._rank = {r.id: (r.stratum, i) for i, r in enumerate(rules)}
        self._start_cache: dict[tuple[str, Any, Any], tuple[Rule, ...]] = {}

    def cone(self, variables: frozenset[str]) -> tuple[Rule, ...]:
        """Every rule whose outcome can depend on ``variables``, in evaluation order."""
        cached = self._cones.get(variables)
        if cached is not None:
            return cached
        found: dict[str, Rule] = {}
        stack = [r for v in variables for r in self._readers_var.get(v, ())]
        while stack:
            rule = stack.pop()
            if rule.id in found:
                continue
            found[rule.id] = rule
            if rule.kind is Kind.CONCEPT:
                stack.extend(self._readers_concept.get(rule.target, ()))
        cone = tuple(sorted(found.values(), key=lambda r: (r.stratum, self._order[r.id])))
        self._cones[variables] = cone
        return cone

    def update(self, base: Trace, facts: Mapping[str, Any],
               changed: frozenset[str]) -> Trace:
        """The trace for ``facts``, given the ``base`` trace of facts differing only in
        ``changed``."""
        flipped, concepts = self._flips(base, facts, changed)
        if not flipped:
            return base
        fired = set(base.fired) ^ flipped
        return Trace(_canonical(self._order, list(fired)), frozenset(concepts))

    def flips(self, base: Trace, facts: Mapping[str, Any], changed: frozenset[str],
              before: Mapping[str, Any] | None = None,
              base_fired: set[str] | frozenset[str] | None = None) -> frozenset[str]:
        """The rules whose firing differs from ``base`` for ``facts`` (which differ from
        the base trace's facts only in ``changed``; ``before``, if given, are those facts;
        ``base_fired``, if given, the base's rules as a set)."""
        return frozenset(self._flips(base, facts, changed, before, base_fired)[0])

    def _starts(self, var: str, facts: Mapping[str, Any],
                before: Mapping[str, Any]) -> tuple[Rule, ...]:
        """The rules with a test of ``var`` whose truth differs between the two facts."""
        key: tuple[str, Any, Any] | None = (var, facts.get(var, _ABSENT),
                                            before.get(var, _ABSENT))
        try:
            found = self._start_cache.get(key)  # type: ignore[arg-type]
        except TypeError:  # an unhashable value
            key, found = None, None
        if found is None:
            rules: dict[str, Rule] = {}
            for atom, readers in self._tests.get(var, {}).items():
                if atom.holds(facts, _NONE) != atom.holds(before, _NONE):
                    rules.update((r.id, r) for r in readers)
            found = tuple(rules.values())
            if key is not None:
                self._start_cache[key] = found
        return found

    def _flips(self, base: Trace, facts: Mapping[str, Any], changed: frozenset[str],
               before: Mapping[str, Any] | None = None,
               base_fired: set[str] | frozenset[str] | None = None,
               ) -> tuple[set[str], set[str] | frozenset[str]]:
        """Re-run, in stratum order, only the rules that read a changed variable (with
        ``before``: only those with a test of it whose truth changed) or a concept whose
        presence changed; the rest of the cone keeps its base state. The base's rules and
        concepts are read, never copied: changes are kept apart."""
        if base_fired is None:
            base_fired = set(base.fired)
        state: dict[str, bool] = {}  # rule id -> fires now (only the rules re-run)
        concepts = _Overlay(base.concepts)
        rank = self._rank
        if before is None:
            starts = [r for v in changed for r in self._readers_var.get(v, ())]
        else:
            starts = [r for v in changed for r in self._starts(v, facts, before)]
        queue = [(rank[r.id], r.id, r) for r in starts]
        heapq.heapify(queue)
        seen: set[str] = set()
        while queue:
            _, rule_id, rule = heapq.heappop(queue)
            if rule_id in seen:
                continue
            seen.add(rule_id)
            now = rule.holds(facts, concepts)  # type: ignore[arg-type]
            if now == state.get(rule_id, rule_id in base_fired):
                continue
            state[rule_id] = now
            if rule.kind is Kind.CONCEPT:
                concept = rule.target
                present = now or any(state.get(d, d in base_fired)
                                     for d in self._derivers[concept])
                if present != (concept in concepts):
                    concepts.set(concept, present)
                    for reader in self._readers_concept.get(concept, ()):
                        if reader.id not in seen:
                            heapq.heappush(queue, (rank[reader.id], reader.id, reader))
        flipped = {r for r, now in state.items() if now != (r in base_fired)}
        return flipped, concepts.result()
