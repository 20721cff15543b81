"""What answering some findings would do to the scores, remembered by the facts that matter.

Answering findings ``C`` changes the score of a diagnosis only through the scoring units
(a rule, or a group of rules counted once) of the rules in ``C``'s cone. How much it changes
it depends only on the values of the variables those units can read, directly or through
the concepts upstream: the *support* of ``C``. So the change of every diagnosis's log-score
for each answer, computed once for one assignment of the support, holds for every case that
agrees on the support. The question advisor asks the same what-ifs after every answer of a
work-up, and most candidates' supports do not contain the finding just answered: their
effects are looked up instead of re-run.

The memo is exact (a property test holds advice with it equal to advice without it); it is
bounded, and forgets everything when full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ossdx.kb.model import Kind, KnowledgeBase, Rule
from ossdx.reasoning.inference import Trace, WhatIf
from ossdx.reasoning.scoring import ScoreTable

_ABSENT = ("<absent>",)  # stands for a variable the facts do not have, in a memo key
Row = tuple[Any, ...]  # one assignment of the changed findings (None: left unanswered)


class AnswerEffects:
    """Log-score changes of answering findings, memoised by their support's values."""

    def __init__(self, kb: KnowledgeBase, whatif: WhatIf, table: ScoreTable,
                 diagnoses: Sequence[str], max_entries: int = 50_000):
        self.kb = kb
        self.whatif = whatif
        self.table = table
        self.diagnoses = tuple(diagnoses)
        self.max_entries = max_entries
        self._members: dict[tuple[str, str], list[Rule]] = {}
        for rule in kb.rules:
            unit = table.unit_of.get(rule.id)
            if unit is not None:
                self._members.setdefault(unit, []).append(rule)
        self._inputs: dict[str, frozenset[str]] = {}
        self._supports: dict[frozenset[str], tuple[str, ...]] = {}
        self._memo: dict[tuple[Any, ...], np.ndarray] = {}
        self.hits = 0
        self.misses = 0

    # ------------------------------------------------------------------ support
    def inputs(self, rule: Rule) -> frozenset[str]:
        """The case variables a rule's outcome depends on (through concepts too)."""
        return self._rule_inputs(rule)

    def _rule_inputs(self, rule: Rule) -> frozenset[str]:
        cached = self._inputs.get(rule.id)
        if cached is None:
            found = set(rule.variables)
            for concept in rule.concepts:
                for source in self.kb.rules_for(Kind.CONCEPT, concept):
                    found |= self._rule_inputs(source)
            cached = self._inputs[rule.id] = frozenset(found)
        return cached

    def support(self, changed: frozenset[str]) -> tuple[str, ...]:
        """The variables whose values decide what answering ``changed`` does to the scores."""
        cached = self._supports.get(changed)
        if cached is None:
            if len(changed) > 1:  # the cone of several findings is the union of theirs
                variables = set().union(*(self.support(frozenset({f})) for f in changed))
            else:
                unit_of = self.table.unit_of
                variables = set(changed)
                units = {unit_of[r.id] for r in self.whatif.cone(changed) if r.id in unit_of}
                for unit in units:
                    for rule in self._members[unit]:
                        variables |= self._rule_inputs(rule)
            cached = tuple(sorted(variables))
            if len(changed) <= 2:
                self._supports[changed] = cached
        return cached

    # ------------------------------------------------------------------ effects
    def deltas(self, facts: Mapping[str, Any], trace: Trace, names: tuple[str, ...],
               rows: Sequence[Row]) -> np.ndarray:
        """``rows x diagnoses``: how each assignment of ``names`` (None leaves a finding
        unanswered) changes each diagnosis's log-score, for the case of ``facts``."""
        key = (names, tuple(rows),
               tuple(facts.get(v, _ABSENT) for v in self.support(frozenset(names))))
        try:
            found = self._memo.get(key)
        except TypeError:  # an unhashable value: compute without remembering
            return self._compute(facts, trace, names, rows)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        result = self._compute(facts, trace, names, rows)
        if len(self._memo) >= self.max_entries:
            self._memo.clear()
        self._memo[key] = result
        return result

    def _compute(self, facts: Mapping[str, Any], trace: Trace, names: tuple[str, ...],
                 rows: Sequence[Row]) -> np.ndarray:
        """Each row's change, from the scoring units whose rules it flips: the scores of
        their members that fire after, less the scores of those that fired before (so the
        number depends on the support alone, whatever else the case holds)."""
        unit_of = self.table.unit_of
        fired = set(trace.fired)
        result = np.zeros((len(rows), len(self.diagnoses)))
        for i, row in enumerate(rows):
            changed = {n: v for n, v in zip(names, row, strict=True) if v is not None}
            if not changed:
                continue
            flipped = self.whatif.flips(trace, {**facts, **changed}, frozenset(changed),
                                        facts, fired)
            units = {unit_of[r] for r in flipped if r in unit_of}
            if not units:
                continue
            members = {m.id for unit in units for m in self._members[unit]}
            before = members & fired
            after = before ^ (flipped & members)
            now = self.table.log_scores(Trace(tuple(sorted(after)), frozenset()))
            then = self.table.log_scores(Trace(tuple(sorted(before)), frozenset()))
            result[i] = [now[d] - then[d] for d in self.diagnoses]
        result.setflags(write=False)
        return result

    def clear(self) -> None:
        """Forget every remembered effect (for a cold measurement)."""
        self._memo.clear()
