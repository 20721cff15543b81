"""Metastasis against a mimic: the signs that best tell the two apart, side by side.

The pairs come from the knowledge base: a diagnosis's ``mimics:`` list declares that it is
mistaken for each listed diagnosis (and so the reverse). For a declared pair (A, B) and a
case, every value of every relevant finding is weighed by running the rules: the factor it
brings to A and to B is the product of the likelihood ratios (and prior factors) that the
value adds to each one's score, i.e. ``exp(score_d(case + value) - score_d(case without the
finding))`` from :meth:`engine.diagnosis.Reasoner.scores`. The best discriminating signs are
those with the largest ratio between the two factors. No text is written per pair.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ossdx.advice.effects import AnswerEffects
from ossdx.advice.questions import answer_values
from ossdx.advice.whynot import missing_modality
from ossdx.kb.case import Case, unmet_requirement
from ossdx.kb.model import KnowledgeBase
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.inference import Trace, WhatIf
from ossdx.reasoning.scoring import ScoreTable


def mimic_pairs(kb: KnowledgeBase) -> frozenset[frozenset[str]]:
    """Every declared (diagnosis, mimic) pair, unordered."""
    return frozenset(frozenset((d.id, m)) for d in kb.diagnoses.values() for m in d.mimics
                     if m in kb.diagnoses and m != d.id)


def is_mimic_pair(kb: KnowledgeBase, first: str, second: str) -> bool:
    """Whether the knowledge base declares ``first`` and ``second`` as mimics."""
    return frozenset((first, second)) in mimic_pairs(kb)


@dataclass(frozen=True)
class Sign:
    """One finding value and the factor it brings to each diagnosis of the pair."""

    finding: str
    value: Any
    label: str
    first_factor: float
    second_factor: float
    entered: bool = False
    modality: str | None = None

    @property
    def ratio(self) -> float:
        """How many times more the sign favours the first diagnosis than the second."""
        return self.first_factor / self.second_factor

    def as_dict(self) -> dict[str, Any]:
        return {"finding": self.finding, "value": self.value, "label": self.label,
                "first_factor": round(self.first_factor, 4),
                "second_factor": round(self.second_factor, 4),
                "ratio": round(self.ratio, 4), "entered": self.entered,
                "modality": self.modality}


@dataclass(frozen=True)
class Contrast:
    """The signs favouring each side of a mimic pair, strongest first."""

    first: str
    second: str
    first_name: str
    second_name: str
    favour_first: tuple[Sign, ...]
    favour_second: tuple[Sign, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second,
                "favour_first": [s.as_dict() for s in self.favour_first],
                "favour_second": [s.as_dict() for s in self.favour_second]}


_TOOLS: weakref.WeakKeyDictionary[Reasoner, tuple[WhatIf, AnswerEffects]] = \
    weakref.WeakKeyDictionary()


def _tools(reasoner: Reasoner) -> tuple[WhatIf, AnswerEffects]:
    """The incremental evaluator of a reasoner and the remembered effects of answers on
    its scores (built once, and kept from one contrast to the next: after an answer most
    signs' effects are looked up, not re-run)."""
    tools = _TOOLS.get(reasoner)
    if tools is None:
        kb = reasoner.kb
        whatif = WhatIf(kb)
        tools = _TOOLS[reasoner] = (whatif, AnswerEffects(kb, whatif, ScoreTable(kb),
                                                          tuple(kb.diagnoses)))
    return tools


class _Scorer:
    """The case without one finding (and with a modality not yet performed), for weighing
    that finding's values: facts and trace, each from the case's trace by a what-if."""

    def __init__(self, reasoner: Reasoner, case: Case):
        self.reasoner = reasoner
        self.whatif, self.effects = _tools(reasoner)
        self.facts = reasoner.facts(case)
        self.trace = reasoner.python.run(self.facts)
        self._bases: dict[tuple[str, str | None], tuple[dict[str, Any], Trace]] = {}

    def base(self, finding: str, modality: str | None, case: Case) -> tuple[dict[str, Any],
                                                                              Trace]:
        """Facts and trace of the case without ``finding``, with ``modality`` added."""
        key = (finding if finding in case.findings else "", modality)
        found = self._bases.get(key)
        if found is None:
            facts, trace = dict(self.facts), self.trace
            if modality is not None:
                facts["modalities"] = self.reasoner.kb.vocabulary.expand_modalities(
                    case.modalities | {modality})
                trace = self.whatif.update(trace, facts, frozenset({"modalities"}))
            if finding in case.findings:
                del facts[finding]
                trace = self.whatif.update(trace, facts, frozenset({finding}))
            found = self._bases[key] = (facts, trace)
        return found


def _conflicts(kb: KnowledgeBase, findings: Mapping[str, Any], finding: str, value: Any) -> bool:
    """Whether ``finding = value`` contradicts a requirement of itself or another finding."""
    trial = {**findings, finding: value}
    return any(unmet_requirement(kb.vocabulary, key, trial) is not None
               for key in trial if key == finding or finding in kb.findings[key].requires)


def contrast(reasoner: Reasoner, first: str, second: str, case: Case | None = None,
             limit: int = 5, threshold: float = 1.5) -> Contrast:
    """The signs that best separate ``first`` from ``second`` in the context of ``case``.

    A sign is listed when one diagnosis gains at least ``threshold`` times more from it than
    the other; at most ``limit`` per side, strongest first.
    """
    kb = reasoner.kb
    case = case or Case(findings={})
    facts = reasoner.facts(case)
    scorer = _Scorer(reasoner, case)
    columns = [scorer.effects.diagnoses.index(d) for d in (first, second)]
    signs: list[Sign] = []
    for finding, spec in kb.findings.items():
        if not kb.is_relevant(finding, facts):
            continue
        modality = missing_modality(kb, case, finding)
        without = {k: v for k, v in case.findings.items() if k != finding}
        values = [(value, label) for value, label in answer_values(spec)
                  if not _conflicts(kb, without, finding, value)]
        if not values:
            continue
        base_facts, base_trace = scorer.base(finding, modality, case)
        # the change of each diagnosis's log-score when the finding takes each value
        deltas = scorer.effects.deltas(base_facts, base_trace, (finding,),
                                       [(value,) for value, _ in values])
        for (value, label), row in zip(values, deltas, strict=True):
            factors = [math.exp(row[c]) for c in columns]
            entered = finding in case.findings and _same(spec, case.findings[finding], value)
            signs.append(Sign(finding, value, label, factors[0], factors[1], entered, modality))
    log_threshold = math.log(threshold)
    order = {f: i for i, f in enumerate(kb.findings)}

    def strongest(items: list[Sign]) -> tuple[Sign, ...]:
        ranked = sorted(items, key=lambda s: (-abs(math.log(s.ratio)), order[s.finding]))
        chosen, seen = [], set()
        for sign in ranked:  # one value per finding: its strongest
            if sign.finding not in seen:
                seen.add(sign.finding)
                chosen.append(sign)
        return tuple(chosen[:limit])

    return Contrast(
        first, second, kb.name_of(first), kb.name_of(second),
        strongest([s for s in signs if math.log(s.ratio) >= log_threshold]),
        strongest([s for s in signs if -math.log(s.ratio) >= log_threshold]),
    )


def _same(spec: Any, entered: Any, value: Any) -> bool:
    if spec.type not in ("number", "integer"):
        return entered == value
    low, high = spec.range or (0.0, 1.0)
    edges = [b for b in spec.bins if low < b < high]
    return sum(entered >= e for e in edges) == sum(value >= e for e in edges)
