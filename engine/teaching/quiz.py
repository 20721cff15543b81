"""Quizzes: the knowledge base's own quiz questions, and questions generated from its rules.

Nothing here holds medical knowledge: every generated question, its options, its answer and
its explanation are assembled from the knowledge base (rule descriptions and likelihood
ratios, pitfall titles and texts, finding and diagnosis names, references), in the spirit of
the Radiology Gamuts Ontology's generated quizzes. Four kinds:

* ``kb``: the quizzes written in ``knowledge_base/quizzes/`` (options kept in their order,
  since an option may read "all of the above");
* ``separates``: for each declared mimic pair (a diagnosis's ``mimics:``), "which sign best
  separates A from B?". Every value of every finding is entered alone (with the modality it
  needs and the finding's prerequisites) and the rules are run: the factor a sign brings to
  a diagnosis is ``exp(score after - score before)`` with the scoring model of
  :mod:`engine.scoring`, counting evidence rules only (not the prior factors of a site).
  The answer is the sign with the largest ratio between the two factors; the wrong options
  tip the balance between the two less than twofold (only if there are too few such signs,
  at most by the square root of the answer's ratio);
* ``favours``: "which diagnosis does <finding: value> favour most?", asked when one
  diagnosis gains at least twice as much from the sign as any other; the wrong options are
  diagnoses the sign does not favour (the answer's declared mimics first);
* ``modality``: for each pitfall whose rule needs one modality performed, "which imaging
  study is this pitfall about?", with the modality's names blanked out of the pitfall's
  title; a modality whose own pitfall shares a word with the title is never a wrong option.

Generation is deterministic for a given seed (``random.Random`` seeded with the seed and
the question id), so a quiz can be repeated exactly.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ossdx.advice.contrast import mimic_pairs
from ossdx.advice.questions import answer_values
from ossdx.core.records import QuizAnswer
from ossdx.kb.model import MODALITIES, Kind, KnowledgeBase, Op
from ossdx.reasoning.inference import PythonEngine, Trace
from ossdx.reasoning.scoring import ScoreTable

KEYS = "ABCDEFGH"
MAX_OPTIONS = 4
BLANK = "[ ? ]"
MIN_FACTOR = 2.0  # a sign "favours" or "separates" when it moves the odds at least twofold
KINDS = ("kb", "separates", "favours", "modality")


@dataclass(frozen=True)
class QuizQuestion:
    """One multiple-choice question with its answer, explanation and sources."""

    id: str
    kind: str
    question: str
    options: tuple[tuple[str, str], ...]  # (key, text), in the order shown
    answer: str  # the key of the right option
    explanation: str
    references: tuple[str, ...] = ()
    topic: str | None = None
    reasons: tuple[str, ...] = ()  # the rules behind a generated answer, in words

    @property
    def answer_text(self) -> str:
        return dict(self.options)[self.answer]

    def is_right(self, key: str) -> bool:
        return key == self.answer


def answer_question(question: QuizQuestion, chosen: str, kb_version: str,
                    at: datetime) -> QuizAnswer:
    """The record of choosing option ``chosen`` (a key) for ``question``."""
    return QuizAnswer(question.id, question.kind, chosen, question.answer,
                      question.is_right(chosen), kb_version, at)


# ------------------------------------------------------------------ the KB's own quizzes
def kb_questions(kb: KnowledgeBase) -> list[QuizQuestion]:
    """The quizzes written in the knowledge base, as they are."""
    return [QuizQuestion(id=f"kb:{q.id}", kind="kb", question=q.question,
                         options=tuple(q.options.items()), answer=q.answer,
                         explanation=q.explanation, references=tuple(q.references),
                         topic=q.topic)
            for q in kb.quizzes.values()]


# ------------------------------------------------------------------ what one sign does
@dataclass(frozen=True)
class SignEffect:
    """One finding value entered alone: the factor it brings to each diagnosis, and why."""

    finding: str
    value: Any
    label: str
    factors: Mapping[str, float]
    rules: tuple[str, ...]  # evidence rules the sign made fire, in KB order
    stopped: tuple[str, ...] = ()  # ... and those it stopped (e.g. "X not assessed" rules)

    def ratio(self, first: str, second: str) -> float:
        """How many times more the sign favours ``first`` than ``second``."""
        return self.factors[first] / self.factors[second]


def sign_effects(kb: KnowledgeBase) -> list[SignEffect]:
    """The effect of every value of every finding, entered alone, on every diagnosis.

    Only evidence rules count: a sign's effect is what it says about the lesion, not the
    epidemiology of the site (prior factors), which the scoring applies apart.
    """
    engine = PythonEngine(kb)
    table = ScoreTable(kb)
    scored = {r.id for r in kb.rules_of(Kind.EVIDENCE)}

    def evidence_scores(trace: Trace) -> dict[str, float]:
        return table.log_scores(Trace(tuple(r for r in trace.fired if r in scored),
                                      trace.concepts))

    bases: dict[tuple[Any, ...], tuple[Trace, dict[str, float]]] = {}
    effects = []
    for finding, spec in kb.findings.items():
        base_facts: dict[str, Any] = {MODALITIES: kb.vocabulary.expand_modalities(
            frozenset(spec.needs[:1]))}
        for var, wanted in spec.requires.items():
            base_facts[var] = wanted[0] if isinstance(wanted, list) else wanted
        key = tuple(sorted((k, str(v)) for k, v in base_facts.items()))
        if key not in bases:
            trace = engine.run(base_facts)
            bases[key] = (trace, evidence_scores(trace))
        base_trace, base_scores = bases[key]
        for value, value_label in answer_values(spec):
            trace = engine.run({**base_facts, finding: value})
            scores = evidence_scores(trace)
            factors = {d: math.exp(scores[d] - base_scores[d]) for d in kb.diagnoses}
            before, after = set(base_trace.fired), set(trace.fired)
            effects.append(SignEffect(
                finding, value, f"{spec.name}: {value_label}", factors,
                tuple(r for r in trace.fired if r in scored and r not in before),
                tuple(r for r in base_trace.fired if r in scored and r not in after)))
    return effects


def _rule_lines(kb: KnowledgeBase, effect: SignEffect, diagnoses: Sequence[str]
                ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The rules behind a sign's effect on ``diagnoses`` in words, and their references."""
    lines: list[str] = []
    refs: list[str] = []
    for rule_id, stopped in [*((r, False) for r in effect.rules),
                             *((r, True) for r in effect.stopped)]:
        rule = kb.rule(rule_id)
        if rule.target not in diagnoses:
            continue
        note = " (no longer applies once the sign is entered)" if stopped else ""
        lines.append(f"{kb.name_of(rule.target)} ×{rule.lr:.3g}: {rule.description}{note} "
                     f"[rule {rule.id}]")
        refs.extend(rule.references)
    return tuple(lines), tuple(dict.fromkeys(refs))


def _shuffled(rng: random.Random, right: str, wrong: Sequence[str]
              ) -> tuple[tuple[tuple[str, str], ...], str]:
    texts = [right, *wrong]
    rng.shuffle(texts)
    options = tuple(zip(KEYS, texts, strict=False))
    return options, KEYS[texts.index(right)]


def _spread(effect: SignEffect, first: str, second: str) -> float:
    """How far the sign tips the balance between two diagnoses: |log ratio| of its factors."""
    return abs(math.log(effect.ratio(first, second)))


# ------------------------------------------------------------------ generated: separates
def separation_questions(kb: KnowledgeBase, effects: Sequence[SignEffect],
                         seed: int = 0) -> list[QuizQuestion]:
    """"Which sign best separates A from B?" for every declared mimic pair.

    Wrong options are signs that tip the balance between the two less than twofold (signs
    that move other diagnoses first, as they are the plausible ones); only if there are too
    few, signs that tip it at most the square root of the answer's ratio. One value per
    finding, never the answer's own finding.
    """
    questions = []
    order = {f: i for i, f in enumerate(kb.findings)}
    for pair in sorted(tuple(sorted(p)) for p in mimic_pairs(kb)):
        first, second = pair
        ranked = sorted(effects, key=lambda e: (-_spread(e, first, second), order[e.finding]))
        if not ranked or _spread(ranked[0], first, second) < math.log(MIN_FACTOR):
            continue
        best = ranked[0]
        qid = f"separates:{first}|{second}"
        rng = random.Random(f"{seed}:{qid}")
        tiers: list[list[SignEffect]] = [[], [], []]
        for effect in ranked:
            spread = _spread(effect, first, second)
            if spread < math.log(MIN_FACTOR):
                tiers[0 if effect.rules or effect.stopped else 1].append(effect)
            elif spread <= _spread(best, first, second) / 2:
                tiers[2].append(effect)
        wrong: list[SignEffect] = []
        seen = {best.finding}
        for tier in tiers:
            rng.shuffle(tier)
            for effect in tier:
                if len(wrong) < MAX_OPTIONS - 1 and effect.finding not in seen:
                    seen.add(effect.finding)
                    wrong.append(effect)
        if not wrong:
            continue
        options, answer = _shuffled(rng, best.label, [e.label for e in wrong])
        names = (kb.name_of(first), kb.name_of(second))
        ratio = best.ratio(first, second)
        favoured, times = (names[0], ratio) if ratio > 1 else (names[1], 1 / ratio)
        widest = math.exp(max(_spread(e, first, second) for e in wrong))
        lines, refs = _rule_lines(kb, best, pair)
        explanation = (
            f"{best.label} multiplies the odds of {names[0]} by ×{best.factors[first]:.3g} "
            f"and of {names[1]} by ×{best.factors[second]:.3g}: {times:.3g} times more in "
            f"favour of {favoured}. Each other option tips the balance between the two by "
            f"at most ×{widest:.3g}.")
        questions.append(QuizQuestion(
            id=qid, kind="separates",
            question=f"Which sign best separates {names[0]} from {names[1]}?",
            options=options, answer=answer, explanation=explanation, reasons=lines,
            references=refs))
    return questions


# ------------------------------------------------------------------ generated: favours
def favour_questions(kb: KnowledgeBase, effects: Sequence[SignEffect],
                     seed: int = 0) -> list[QuizQuestion]:
    """"Which diagnosis does <finding: value> favour most?" where one diagnosis clearly wins."""
    questions = []
    candidates = [d for d in kb.diagnoses if d != kb.other]
    pairs = mimic_pairs(kb)
    for effect in effects:
        ranked = sorted(candidates, key=lambda d: (-effect.factors[d], d))
        best = ranked[0]
        second = max((d for d in kb.diagnoses if d != best),
                     key=lambda d: (effect.factors[d], d))
        factor = effect.factors[best]
        if factor < MIN_FACTOR or factor < MIN_FACTOR * effect.factors[second]:
            continue
        unfavoured = [d for d in ranked[1:] if effect.factors[d] <= 1.0]
        if not unfavoured:
            continue
        qid = f"favours:{effect.finding}={effect.value}"
        rng = random.Random(f"{seed}:{qid}")
        mimics = [d for d in unfavoured if frozenset((best, d)) in pairs]
        others = [d for d in unfavoured if d not in mimics]
        rng.shuffle(mimics)
        rng.shuffle(others)
        wrong = (mimics + others)[:MAX_OPTIONS - 1]
        options, answer = _shuffled(rng, kb.name_of(best), [kb.name_of(d) for d in wrong])
        lines, refs = _rule_lines(kb, effect, [best])
        runner_up = (f"the next most favoured, {kb.name_of(second)}, by "
                     f"×{effect.factors[second]:.3g}" if effect.factors[second] > 1.0
                     else "it favours no other diagnosis")
        explanation = (f"Entered alone, {effect.label} multiplies the odds of "
                       f"{kb.name_of(best)} by ×{factor:.3g}; {runner_up}.")
        questions.append(QuizQuestion(
            id=qid, kind="favours",
            question=f"Which diagnosis does the sign “{effect.label}” favour most?",
            options=options, answer=answer, explanation=explanation, reasons=lines,
            references=refs))
    return questions


# ------------------------------------------------------------------ generated: modality
def _modality_patterns(kb: KnowledgeBase, modality: str) -> list[re.Pattern[str]]:
    """Ways the knowledge base may write a modality's name (name, its parts, its id)."""
    spec = kb.vocabulary.modalities[modality]
    forms = {spec.name, re.sub(r"\s*\(.*?\)", "", spec.name), modality,
             *re.findall(r"\((.*?)\)", spec.name)}
    patterns = []
    for form in sorted({f.strip() for f in forms if f.strip()}, key=len, reverse=True):
        words = [re.escape(w) for w in re.split(r"[\s_/-]+", form) if w]
        patterns.append(re.compile(r"\b" + r"[\s_/-]+".join(words) + r"\w*", re.IGNORECASE))
    return patterns


def _blank(text: str, patterns: Sequence[re.Pattern[str]]) -> str:
    for pattern in patterns:
        text = pattern.sub(BLANK, text)
    return text


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 5}


def _pitfall_modality(kb: KnowledgeBase, pitfall: str) -> str | None:
    """The one modality every alternative of the pitfall's rule needs performed, if any."""
    conjunctions = [c for r in kb.rules_of(Kind.PITFALL) if r.target == pitfall for c in r.when]
    common: set[str] | None = None
    for conjunction in conjunctions:
        needed = {v for a in conjunction if a.var == MODALITIES and a.op is Op.CONTAINS
                  and len(a.values) == 1 for v in a.values}
        common = needed if common is None else common & needed
    return next(iter(common)) if common and len(common) == 1 else None


def modality_questions(kb: KnowledgeBase, seed: int = 0) -> list[QuizQuestion]:
    """"Which imaging study is this pitfall about?" for pitfalls tied to one modality."""
    imaging = [m for m, spec in kb.vocabulary.modalities.items() if spec.bone_imaging == "yes"]
    subjects = {p: _pitfall_modality(kb, p) for p in kb.pitfalls}
    questions = []
    for pitfall_id, modality in subjects.items():
        if modality is None or modality not in imaging:
            continue
        pitfall = kb.pitfalls[pitfall_id]
        patterns = _modality_patterns(kb, modality)
        title = _blank(pitfall.title, patterns)
        if any(p.search(title) for p in patterns):
            continue
        words = _words(title)
        related = {modality, *kb.vocabulary.modalities[modality].includes,
                   *(m for m in imaging if modality in kb.vocabulary.modalities[m].includes)}
        # a modality that is the subject of a similar pitfall would be a second right answer
        similar = {m for p, m in subjects.items() if m and p != pitfall_id
                   and words & _words(_blank(kb.pitfalls[p].title, _modality_patterns(kb, m)))}
        wrong = [m for m in imaging if m not in related and m not in similar]
        if not wrong:
            continue
        qid = f"modality:{pitfall_id}"
        rng = random.Random(f"{seed}:{qid}")
        rng.shuffle(wrong)
        names = kb.vocabulary.modalities
        options, answer = _shuffled(rng, names[modality].name,
                                    [names[m].name for m in wrong[:MAX_OPTIONS - 1]])
        questions.append(QuizQuestion(
            id=qid, kind="modality",
            question=f"Which imaging study is this pitfall about? “{title}”",
            options=options, answer=answer,
            explanation=f"{pitfall.title}: {pitfall.text}",
            references=tuple(pitfall.references)))
    return questions


# ------------------------------------------------------------------ a quiz
def generate_questions(kb: KnowledgeBase, seed: int = 0,
                       effects: Sequence[SignEffect] | None = None) -> list[QuizQuestion]:
    """Every generated question (separates, favours, modality) for ``seed``."""
    effects = sign_effects(kb) if effects is None else effects
    return [*separation_questions(kb, effects, seed), *favour_questions(kb, effects, seed),
            *modality_questions(kb, seed)]


def make_quiz(kb: KnowledgeBase, seed: int = 0, size: int = 8,
              effects: Sequence[SignEffect] | None = None) -> list[QuizQuestion]:
    """A quiz: the knowledge base's own questions first, then generated ones, kinds mixed.

    The generated questions are drawn in turn from each kind, in an order fixed by ``seed``.
    """
    own = kb_questions(kb)
    generated = generate_questions(kb, seed, effects)
    rng = random.Random(seed)
    by_kind: dict[str, list[QuizQuestion]] = {}
    for question in generated:
        by_kind.setdefault(question.kind, []).append(question)
    for items in by_kind.values():
        rng.shuffle(items)
    mixed: list[QuizQuestion] = []
    while any(by_kind.values()):
        for kind in KINDS:
            if by_kind.get(kind):
                mixed.append(by_kind[kind].pop(0))
    return [*own, *mixed][:max(size, len(own))]
