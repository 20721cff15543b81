"""A work-up in progress: context, modalities and answers given one at a time.

Every state is immutable: answering, changing or withdrawing returns a new ``Workup``. The
differential of any state is computed afresh by the engine of record from that state's
answers, so it is exactly what a new run with the same answers gives, however the answers
were reached (a property test checks this over random answer sequences).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ossdx.advice.questions import Advice, QuestionAdvisor
from ossdx.kb.case import Case
from ossdx.reasoning.cases import make_case
from ossdx.reasoning.diagnosis import Differential, Reasoner


@dataclass(frozen=True)
class Workup:
    """One state of a work-up: patient context, modalities performed, answers so far, and
    the findings marked 'not assessed' (not asked again)."""

    patient: Mapping[str, Any] = field(default_factory=dict)
    modalities: frozenset[str] = frozenset()
    answers: Mapping[str, Any] = field(default_factory=dict)
    last_topic: str | None = None
    not_assessed: frozenset[str] = frozenset()

    def answer(self, finding: str, value: Any, topic: str | None = None) -> Workup:
        """This work-up with ``finding`` answered (or re-answered) as ``value``."""
        answers = {**self.answers, finding: value}
        return Workup(self.patient, self.modalities, MappingProxyType(answers),
                      topic or self.last_topic, self.not_assessed - {finding})

    def skip(self, finding: str, topic: str | None = None) -> Workup:
        """This work-up with ``finding`` marked 'not assessed' (its answer, if any, gone)."""
        answers = {k: v for k, v in self.answers.items() if k != finding}
        return Workup(self.patient, self.modalities, MappingProxyType(answers),
                      topic or self.last_topic, self.not_assessed | {finding})

    def withdraw(self, finding: str) -> Workup:
        """This work-up without the answer to ``finding`` (back to unanswered)."""
        answers = {k: v for k, v in self.answers.items() if k != finding}
        return Workup(self.patient, self.modalities, MappingProxyType(answers),
                      self.last_topic, self.not_assessed - {finding})

    def with_modalities(self, modalities: Iterable[str]) -> Workup:
        return Workup(self.patient, frozenset(modalities), self.answers, self.last_topic,
                      self.not_assessed)

    def case(self, reasoner: Reasoner) -> Case:
        """The checked case of this state (raises InputError if an answer is not allowed)."""
        return make_case(reasoner.kb, self.answers, self.patient, self.modalities)


@dataclass(frozen=True)
class Step:
    """What the user sees after an answer: the differential and the next question."""

    differential: Differential
    advice: Advice


def step(reasoner: Reasoner, advisor: QuestionAdvisor, workup: Workup) -> Step:
    """Differential (engine of record) and next question for a work-up state."""
    case = workup.case(reasoner)
    return Step(reasoner.diagnose(case), advisor.advise(case, workup.last_topic,
                                                             workup.not_assessed))
