"""Which finding to ask about next, and why; and which test not yet done would help most.

The answer model (stated in kb.yaml ``answer_model`` and in the README): for a diagnosis
*d* and a value *v* of the candidate finding, ``P(v | d)`` is proportional to
``P(v | other) * L_d(v)``, where ``L_d(v)`` is the factor by which answering *v* would
multiply *d*'s unnormalised score (the product of the likelihood ratios the answer adds,
computed by running the rules on the case plus the answer) and ``P(v | other)`` is uniform
over the finding's values. The expected entropy of the differential after the question is
``sum_v P(v | case) H(D | case, v)`` with ``P(v | case) = sum_d P(d | case) P(v | d)`` and
``P(d | case, v)`` the Bayesian posterior under that model, so the expected reduction is the
mutual information between the diagnosis and the answer (never negative).

The best question maximises the expected reduction of entropy per question asked: the gain
times the chance that the finding can be answered rather than 'not assessed' (a question
answered 'not assessed' brings nothing). That chance is ``sum_d Q(d) r_d(finding)`` with the
report rates ``r_d`` of ``knowledge_base/reporting.yaml``, where ``Q`` is the differential
updated by what has been reported so far: ``Q(d)`` is proportional to ``P(d | case)`` times
``r_d(g)`` for every finding *g* answered and ``1 - r_d(g)`` for every finding marked 'not
assessed' (which findings a report mentions says something about the lesion; ``Q`` is used
only to predict what can be answered, never shown as the differential).

One step of look-ahead misses rules that need two unanswered findings together (neither
alone changes anything). For every such pair, completing a rule that could still fire, the
joint gain of asking both is computed the same way; the pair is worth its joint gain times
the chance both can be answered, per expected question (the less likely one is asked first,
and the second only if the first was answered), and that value is credited to the first.

Near-ties (within ``settings.near_tie`` of the best) prefer the topic of the previous
question, then knowledge-base order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ossdx.advice.effects import AnswerEffects
from ossdx.kb import schema
from ossdx.kb.case import Case, unmet_requirement
from ossdx.kb.model import MODALITIES, PATIENT, Atom, Conjunction, Kind, KnowledgeBase, Op
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.inference import Trace, WhatIf
from ossdx.reasoning.scoring import ScoreTable, softmax

Context = tuple[dict[str, Any], Trace, dict[str, float]]  # facts, their trace, log-scores


def entropy(probabilities: Mapping[str, float]) -> float:
    """Shannon entropy in bits."""
    return -sum(p * math.log2(p) for p in probabilities.values() if p > 0)


@dataclass(frozen=True)
class Outcome:
    """One possible answer and where it would leave the differential."""

    value: Any
    label: str
    probability: float
    leader: str
    leader_probability: float
    posterior: Mapping[str, float]


@dataclass(frozen=True)
class Question:
    """A finding to ask about, with the expected information it brings."""

    finding: str
    text: str
    help: str
    topic: str
    gain: float
    outcomes: Sequence[Outcome]
    separates: tuple[tuple[str, float], ...]
    changes_leader: bool
    report_rate: float = 1.0
    partner: str | None = None  # completes a rule with this finding (see the module text)
    pair_gain: float = 0.0  # expected bits of asking both
    pair_value: float = 0.0  # ... per expected question, weighed by the chance of answers

    @property
    def value(self) -> float:
        """Expected information per question asked: the gain times the chance of an
        answer, or the pair's value if it completes a rule with another finding."""
        return max(self.gain * self.report_rate, self.pair_value)

    @property
    def for_pair(self) -> bool:
        """Whether this question is worth asking mainly with its partner."""
        return self.partner is not None and self.pair_value > self.gain * self.report_rate

    def why(self, kb: KnowledgeBase) -> str:
        """MYCIN's WHY: which diagnoses this question separates, and by how much."""
        parts = [f"{kb.name_of(d)} (by up to {swing:.0%})" for d, swing in self.separates]
        if self.for_pair and self.partner:
            text = (f"On its own it is expected to reduce uncertainty by {self.gain:.2f} bits; "
                    f"together with '{kb.name_of(self.partner)}' it completes a rule and the "
                    f"two are expected to reduce it by {self.pair_gain:.2f} bits.")
            if parts:
                text += " Alone it separates " + ", ".join(parts) + "."
        else:
            text = f"Expected to reduce uncertainty by {self.gain:.2f} bits; it separates " \
                   + (", ".join(parts) if parts else "nothing by itself") + "."
        leaders = {o.leader for o in self.outcomes if o.probability >= 0.05}
        if len(leaders) > 1:
            text += " Depending on the answer the leader becomes " + " or ".join(
                kb.name_of(d) for d in sorted(leaders)) + "."
        return text

    def as_dict(self, kb: KnowledgeBase) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "question": self.text,
            "gain_bits": round(self.gain, 4),
            "report_rate": round(self.report_rate, 4),
            "partner": self.partner,
            "pair_gain_bits": round(self.pair_gain, 4),
            "why": self.why(kb),
            "separates": [{"id": d, "swing": round(s, 4)} for d, s in self.separates],
            "outcomes": [{"value": o.value, "label": o.label,
                          "probability": round(o.probability, 4), "leader": o.leader,
                          "leader_probability": round(o.leader_probability, 4)}
                         for o in self.outcomes],
        }


@dataclass(frozen=True)
class TestSuggestion:
    """A modality not yet performed that would separate the leading diagnoses best."""

    modality: str
    name: str
    radiation: str
    effective_dose_msv: float | None
    gain: float
    findings: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, "name": self.name, "radiation": self.radiation,
                "effective_dose_msv": self.effective_dose_msv, "gain_bits": round(self.gain, 4),
                "findings": list(self.findings)}


@dataclass(frozen=True)
class Advice:
    """The next question (or why none), and the next best test."""

    question: Question | None
    stop_reason: str | None
    test: TestSuggestion | None
    ranked: tuple[Question, ...] = ()
    # what the work-up still lacks: ('modalities', ...) when no study was chosen, and each
    # patient field not given whose value could change the leader; (variable, its name)
    missing: tuple[tuple[str, str], ...] = ()
    entropy: float = 0.0  # of the differential the advice was given for, in bits

    @property
    def finished(self) -> bool:
        """Whether the work-up may be called done: no question left and nothing missing."""
        return self.question is None and not self.missing


def answer_likelihoods(base: Mapping[str, float], afters: Sequence[Mapping[str, float]],
                       ) -> dict[str, list[float]]:
    """``P(v | d)`` for each possible answer *v* (one log-score table per answer):
    proportional to the factor the answer applies to *d*'s score, ``P(v | other)`` uniform."""
    likelihood = {}
    for d in base:
        factors = [math.exp(after[d] - base[d]) for after in afters]
        total = sum(factors)
        likelihood[d] = [f / total for f in factors]
    return likelihood


def mutual_information(prior: Mapping[str, float],
                       likelihood: Mapping[str, Sequence[float]]) -> float:
    """``I(D; V)`` in bits: the expected entropy reduction of asking (never negative)."""
    answers = len(next(iter(likelihood.values()), ()))
    expected = 0.0
    for i in range(answers):
        p_v = sum(prior[d] * likelihood[d][i] for d in prior)
        if p_v > 0:
            expected += p_v * entropy({d: prior[d] * likelihood[d][i] / p_v for d in prior})
    return max(0.0, entropy(prior) - expected)


def scoring_conjunctions(kb: KnowledgeBase) -> tuple[Conjunction, ...]:
    """The conditions of the rules that change scores, written over case variables only.

    A derived concept is replaced by the conditions of the rules that conclude it (each
    alternative a conjunction of its own); a negated concept is dropped (it may or may not
    hold), so each result is a necessary part of some way the rule can fire.
    """
    expanded: dict[str, list[Conjunction]] = {}

    def concept(name: str, depth: int) -> list[Conjunction]:
        if name not in expanded:
            alternatives: list[Conjunction] = []
            if depth < _MAX_DEPTH:
                for rule in kb.rules_for(Kind.CONCEPT, name):
                    for conjunction in rule.when:
                        alternatives.extend(flatten(conjunction, depth + 1))
            expanded[name] = alternatives[:_MAX_ALTERNATIVES]
        return expanded[name]

    def flatten(conjunction: Conjunction, depth: int) -> list[Conjunction]:
        result: list[Conjunction] = [()]
        for atom in conjunction:
            if atom.op is Op.CONCEPT:
                result = [a + b for a in result for b in concept(atom.var, depth)]
                result = result[:_MAX_ALTERNATIVES]
            elif atom.op is not Op.NO_CONCEPT:
                result = [(*a, atom) for a in result]
        return result

    found: dict[frozenset[Atom], Conjunction] = {}
    for rule in kb.rules:
        if rule.kind in (Kind.PRIOR, Kind.EVIDENCE):
            for conjunction in rule.when:
                for flat in flatten(conjunction, 0):
                    found.setdefault(frozenset(flat), flat)
    return tuple(found.values())


_MAX_DEPTH = 8
_MAX_COMBINATIONS = 200
_MAX_ALTERNATIVES = 256


def answer_values(spec: schema.Variable) -> list[tuple[Any, str]]:
    """The answers considered for a finding: its values, or one number per bin."""
    if spec.type in ("number", "integer"):
        low, high = spec.range or (0.0, 1.0)
        edges = [low, *[b for b in spec.bins if low < b < high], high]
        result = []
        for i in range(len(edges) - 1):
            lo, hi = edges[i], edges[i + 1]
            value = (lo + hi) / 2 if i == 0 else lo
            unit = f" {spec.unit}" if spec.unit else ""
            label = f"{lo:g}-{hi:g}{unit}" if i < len(edges) - 2 else f">= {lo:g}{unit}"
            if i == 0:
                label = f"< {hi:g}{unit}"
            result.append((value, label))
        return result
    return [(v, s.label) for v, s in spec.values.items()]


class QuestionAdvisor:
    """Selects questions and tests for a case, using the fast rule evaluator."""

    def __init__(self, reasoner: Reasoner):
        self.reasoner = reasoner
        self.kb = reasoner.kb
        self.whatif = WhatIf(self.kb)
        self.table = ScoreTable(self.kb)
        self.conjunctions = scoring_conjunctions(self.kb)
        # array columns: diagnoses by id, descending, so that argmax breaks ties as
        # max(..., key=(probability, id)) does
        self.diagnoses = tuple(sorted(self.table.base, reverse=True))
        self._index = {d: i for i, d in enumerate(self.diagnoses)}
        self.effects = AnswerEffects(self.kb, self.whatif, self.table, self.diagnoses)
        self._units: dict[str, frozenset[tuple[str, str]]] = {}
        self._rates: dict[str, np.ndarray] = {}
        self._context_vars: list[str] | None = None
        self._cut_points: dict[str, set[float]] = {}
        self._targets: dict[frozenset[str], frozenset[str]] = {}
        for rule in self.kb.rules:
            for conjunction in rule.when:
                for atom in conjunction:
                    if atom.op is Op.BETWEEN:
                        self._cut_points.setdefault(atom.var, set()).update(
                            b for b in (atom.low, atom.high) if b is not None)

    def relevant(self, finding: str, facts: Mapping[str, Any]) -> bool:
        """Whether asking ``finding`` makes sense given the answers so far."""
        return self.kb.is_relevant(finding, facts)

    def candidates(self, case: Case, performed: frozenset[str] | None = None,
                   not_assessed: Collection[str] = ()) -> list[str]:
        """Findings still to ask: unanswered, not marked 'not assessed', their modality
        performed, and relevant to the answers so far."""
        performed = self.kb.vocabulary.expand_modalities(
            case.modalities if performed is None else performed)
        facts = self.reasoner.facts(case)
        result = []
        for finding, spec in self.kb.findings.items():
            if finding in case.findings or finding in not_assessed:
                continue
            if spec.needs and not performed & set(spec.needs):
                continue
            if not self.relevant(finding, facts):
                continue
            result.append(finding)
        return result

    # ------------------------------------------------------------------ scoring
    def _context(self, facts: Mapping[str, Any], trace: Trace | None = None) -> Context:
        """The facts, their trace (run here unless given) and their log-scores."""
        facts = dict(facts)
        if trace is None:
            trace = self.reasoner.python.run(facts)
        return facts, trace, self.table.log_scores(trace)

    def evaluate(self, case: Case, finding: str,
                 context: Context | None = None,
                 reporting: Mapping[str, float] | None = None) -> Question | None:
        """The expected information of asking ``finding`` (None if no answer can matter);
        its chance of an answer from ``reporting`` (``Q``; by default the differential)."""
        context = context or self._context(self.reasoner.facts(case))
        return self._questions(case, [finding], context, reporting).get(finding)

    def _answers(self, case: Case, finding: str) -> list[tuple[Any, str]]:
        """The answers considered for ``finding`` that its prerequisites allow."""
        vocabulary = self.kb.vocabulary
        return [(v, label) for v, label in answer_values(self.kb.findings[finding])
                if unmet_requirement(vocabulary, finding, {**case.findings, finding: v})
                is None]

    def _effects(self, case: Case, findings: Sequence[str], context: Context,
                 ) -> tuple[list[tuple[str, list[tuple[Any, str]]]], np.ndarray, np.ndarray]:
        """The findings that have two answers or more, each with its answers, and the
        log-score changes of every answer (findings x answers x diagnoses, padded) with the
        mask of the real answers."""
        facts, trace, _ = context
        items, changes = [], []
        for finding in findings:
            values = self._answers(case, finding)
            if len(values) < 2:
                continue
            items.append((finding, values))
            changes.append(self.effects.deltas(facts, trace, (finding,),
                                               [(v,) for v, _ in values]))
        width = max((len(values) for _, values in items), default=0)
        delta = np.zeros((len(items), width, len(self.diagnoses)))
        mask = np.zeros((len(items), width), dtype=bool)
        for i, change in enumerate(changes):
            delta[i, :len(change)] = change
            mask[i, :len(change)] = True
        return items, delta, mask

    def _questions(self, case: Case, findings: Sequence[str], context: Context,
                   reporting: Mapping[str, float] | None = None) -> dict[str, Question]:
        """:meth:`evaluate` of many findings at once (one array computation for all)."""
        kb = self.kb
        base = context[2]
        items, delta, mask = self._effects(case, findings, context)
        if not items:
            return {}
        scores = np.array([base[d] for d in self.diagnoses])
        prior = _softmax(scores)
        gains, answered = information(prior, delta, mask)
        shown = _softmax(scores + delta)  # what the user will see after each answer
        # columns run by id descending, so ties go to the last id; rounded, so that a tie
        # is one whatever the order of the sums
        leaders = np.round(shown, 12).argmax(axis=2)
        low = np.where(mask[..., None], shown, np.inf).min(axis=1)
        high = np.where(mask[..., None], shown, -np.inf).max(axis=1)
        # the three largest swings of each question, ties by id (columns reversed to run
        # by id ascending; a stable sort keeps that order among equal swings)
        ascending = np.round(high - low, 12)[:, ::-1]
        top = np.argsort(-ascending, axis=1, kind="stable")[:, :3]
        top_swings = np.take_along_axis(ascending, top, axis=1).tolist()
        top_names = [[self.diagnoses[-1 - j] for j in row] for row in top.tolist()]
        current = self.diagnoses[int(np.round(prior, 12).argmax())]
        if reporting is None:
            weights = prior
        else:
            weights = np.array([reporting.get(d, 0.0) for d in self.diagnoses])
        # a mean of probabilities; clipped, since rounding can carry it past 1 (1 + 2e-16)
        rates = np.clip(np.stack([self.report_rates(f) for f, _ in items]) @ weights,
                        0.0, 1.0).tolist()
        changes = (mask & (leaders != self._index[current]) & (answered > 0)).any(axis=1)
        result = {}
        for i, (finding, values) in enumerate(items):
            separates = tuple((d, s) for d, s in zip(top_names[i], top_swings[i], strict=True)
                              if s >= 0.01)
            spec = kb.findings[finding]
            outcomes = Outcomes(values, answered[i], leaders[i], shown[i], self._index)
            result[finding] = Question(finding, spec.question, spec.help,
                                       kb.finding_topics[finding], float(gains[i]), outcomes,
                                       separates, bool(changes[i]), rates[i])
        return result

    def answerable(self, finding: str, reporting: Mapping[str, float]) -> float:
        """The chance ``finding`` can be answered: ``sum_d Q(d) r_d(finding)``."""
        rates = self.report_rates(finding)
        return min(1.0, float(sum(q * rates[self._index[d]] for d, q in reporting.items())))

    def report_rates(self, finding: str) -> np.ndarray:
        """``r_d(finding)`` of every diagnosis (in the order of :attr:`diagnoses`)."""
        rates = self._rates.get(finding)
        if rates is None:
            rates = np.array([self.kb.report_rate(finding, d) for d in self.diagnoses])
            rates.setflags(write=False)
            self._rates[finding] = rates
        return rates

    def reporting_posterior(self, case: Case, probs: Mapping[str, float],
                            not_assessed: Collection[str] = ()) -> dict[str, float]:
        """``Q(d)``: the differential updated by which findings were reported or not."""
        logs = np.zeros(len(self.diagnoses))
        for g in case.findings:
            logs += np.log(np.maximum(self.report_rates(g), 1e-9))
        for g in not_assessed:
            logs += np.log(np.maximum(1 - self.report_rates(g), 1e-9))
        return softmax({d: math.log(p) + logs[self._index[d]]
                        for d, p in probs.items() if p > 0})

    def targets(self, findings: frozenset[str]) -> frozenset[str]:
        """The diagnoses whose score an answer to ``findings`` can change."""
        cached = self._targets.get(findings)
        if cached is None:
            cached = frozenset(r.target for r in self.whatif.cone(findings)
                               if r.id in self.table.unit_of)
            self._targets[findings] = cached
        return cached

    def pair_gain(self, case: Case, first: str, second: str,
                  context: Context) -> float:
        """The expected information of asking both findings (the joint answer model)."""
        kb = self.kb
        facts, base_trace, base = context
        rows = []
        for a, _ in answer_values(kb.findings[first]):
            for b, _ in answer_values(kb.findings[second]):
                given = {**case.findings, first: a, second: b}
                if (unmet_requirement(kb.vocabulary, first, given) is None
                        and unmet_requirement(kb.vocabulary, second, given) is None):
                    rows.append((a, b))
        if len(rows) < 2:
            return 0.0
        delta = self.effects.deltas(facts, base_trace, (first, second), rows)
        prior = _softmax(np.array([base[d] for d in self.diagnoses]))
        gains, _ = information(prior, delta[None], np.ones((1, len(rows)), dtype=bool))
        return float(gains[0])

    def pairs(self, facts: Mapping[str, Any], candidates: Collection[str],
              ) -> set[tuple[str, str]]:
        """Pairs of candidates that together would complete a scoring rule's condition
        whose other parts already hold."""
        found: set[tuple[str, str]] = set()
        for conjunction in self.conjunctions:
            open_vars: set[str] = set()
            for atom in conjunction:
                if atom.var in facts:
                    if not atom.holds(facts, frozenset()):
                        break
                elif atom.op is Op.UNKNOWN:
                    continue
                elif atom.var in candidates:
                    open_vars.add(atom.var)
                    if len(open_vars) > 2:
                        break
                else:
                    break
            else:
                if len(open_vars) == 2:
                    first, second = sorted(open_vars)
                    found.add((first, second))
        return found

    def rank(self, case: Case, performed: frozenset[str] | None = None,
             not_assessed: Collection[str] = ()) -> list[Question]:
        """Every useful question, best first (see the module text for the value)."""
        return self._rank(case, self._context(self.reasoner.facts(case)),
                          self.candidates(case, performed, not_assessed), not_assessed)

    def _rank(self, case: Case, context: Context,
              candidates: Sequence[str], not_assessed: Collection[str]) -> list[Question]:
        kb = self.kb
        facts = context[0]
        probs = softmax(context[2])
        reporting = self.reporting_posterior(case, probs, not_assessed)
        questions = self._questions(case, candidates, context, reporting)
        # The answers can only tell apart the diagnoses whose rules read them, so a pair
        # is worth at most the entropy of those diagnoses with all others lumped together;
        # pairs that could not beat the best question even so are not evaluated, nor more
        # than settings.max_pairs of those with the highest such bound.
        bounded = []
        q_array = np.array([reporting.get(d, 0.0) for d in self.diagnoses])
        for pair in self.pairs(facts, set(candidates)):
            if all(f in questions for f in pair):
                first, second = sorted(pair, key=lambda f: (questions[f].report_rate, f))
                both = float(q_array @ (self.report_rates(first) * self.report_rates(second)))
                per_question = both / (1 + questions[first].report_rate)
                read = self.targets(frozenset(pair))
                lumped = [probs[d] for d in read] + [1 - sum(probs[d] for d in read)]
                ceiling = entropy({str(i): p for i, p in enumerate(lumped)})
                bounded.append((ceiling * per_question, per_question, first, second))
        best = max((q.value for q in questions.values()), default=0.0)
        for bound, per_question, first, second in sorted(bounded,
                                                         reverse=True)[:kb.settings.max_pairs]:
            if bound <= best:
                break
            joint = self.pair_gain(case, first, second, context)
            value = joint * per_question
            if value > questions[first].pair_value:
                questions[first] = replace(questions[first], partner=second, pair_gain=joint,
                                           pair_value=value)
                best = max(best, value)
        order = {f: i for i, f in enumerate(kb.findings)}
        return sorted((q for q in questions.values() if q.value > 1e-9),
                      key=lambda q: (-q.value, order[q.finding]))

    def advise(self, case: Case, last_topic: str | None = None,
               not_assessed: Collection[str] = (), trace: Trace | None = None) -> Advice:
        """The next question, or why to stop; and the best test not yet performed.

        ``trace`` is the case's rule trace if already known (a differential's: experta and
        the plain-Python twin give the same one); otherwise it is run here."""
        kb = self.kb
        context = self._context(self.reasoner.facts(case), trace)
        facts, trace, scores = context
        remaining = self.candidates(case, None, not_assessed)
        ranked = self._rank(case, context, remaining, not_assessed)
        probs = softmax(scores)
        leader = max(probs, key=lambda d: (probs[d], d))
        threshold = kb.settings.confidence_threshold
        test = self._next_test(case, ranked[0].gain if ranked else 0.0, not_assessed, context,
                               remaining)
        missing = self.missing_context(case, context)
        bits = entropy(probs)
        if probs[leader] >= threshold:
            return Advice(None, f"{kb.name_of(leader)} has reached {probs[leader]:.0%} "
                          f"(threshold {threshold:.0%}).", test, tuple(ranked), missing, bits)
        # one answer that changes the leader settles it; only else is the bound computed
        if not ranked or (not any(q.changes_leader for q in ranked)
                          and not self.leader_can_change(facts, trace, remaining)):
            if missing:  # never 'nothing could change it' while the context is incomplete
                return Advice(None, missing_reason(missing), test, tuple(ranked), missing,
                              bits)
            return Advice(None, "No remaining answers, even all together, could change the "
                          f"leading diagnosis ({kb.name_of(leader)}).", test, tuple(ranked),
                          (), bits)
        return Advice(self.pick(ranked, last_topic), None, test, tuple(ranked), missing, bits)

    def missing_context(self, case: Case, context: Context) -> tuple[tuple[str, str], ...]:
        """What the work-up lacks: the studies performed when none was chosen, and each
        patient field (one of a list of values) not given whose value could change the
        leader of the differential."""
        kb = self.kb
        missing: list[tuple[str, str]] = []
        if not case.modalities:
            missing.append((MODALITIES, "the studies performed"))
        facts, trace, base = context
        scores = np.array([base[d] for d in self.diagnoses])
        leader = int(np.round(_softmax(scores), 12).argmax())
        for var in self.context_fields():
            field = var.removeprefix(PATIENT)
            if field in case.patient:
                continue
            spec = kb.vocabulary.patient[field]
            delta = self.effects.deltas(facts, trace, (var,), [(v,) for v in spec.values])
            after = np.round(_softmax(scores + delta), 12).argmax(axis=1)
            if (after != leader).any():
                missing.append((var, spec.name))
        return tuple(missing)

    def context_fields(self) -> list[str]:
        """Patient fields with a list of values that some scoring rule can read, those
        read by the most scoring rules first."""
        if self._context_vars is None:
            read: set[str] = set()
            for rule in self.kb.rules:
                if rule.id in self.table.unit_of:
                    read |= self.effects.inputs(rule)
            readers: dict[str, int] = {}
            for rule in self.kb.rules:
                if rule.id in self.table.unit_of:
                    for var in self.effects.inputs(rule):
                        readers[var] = readers.get(var, 0) + 1
            fields = [PATIENT + name for name, spec in self.kb.vocabulary.patient.items()
                      if spec.type == "choice" and PATIENT + name in read]
            order = {var: i for i, var in enumerate(fields)}
            self._context_vars = sorted(fields, key=lambda v: (-readers.get(v, 0), order[v]))
        return self._context_vars

    def pick(self, ranked: Sequence[Question], last_topic: str | None) -> Question:
        """The best of ``ranked`` (non-empty), preferring the last topic among near-ties."""
        best = ranked[0]
        near = [q for q in ranked if q.value >= best.value * (1 - self.kb.settings.near_tie)]
        return next((q for q in near if last_topic and q.topic == last_topic), best)

    def leader_can_change(self, facts: Mapping[str, Any], trace: Trace,
                          findings: Collection[str]) -> bool:
        """Whether some answers to ``findings`` (any of them, together) could change the
        leader of the differential of ``facts`` (whose rule trace is ``trace``).

        The findings are split into independent groups: two findings belong together when
        some scoring rule (or group of rules counted once) can depend on both. Within a
        small group every combination of answers, 'not assessed' included, is run, so the
        most each rival can gain on the leader there is exact; a group with too many
        combinations uses the optimistic bound of :meth:`ScoreTable.reach`. Gains of
        separate groups add up, so the total is exact across groups and never too small.
        """
        base = self.table.log_scores(trace)
        leader = max(base, key=lambda d: (base[d], d))
        gaps = {d: base[leader] - score for d, score in base.items() if d != leader}
        reach = np.zeros(len(self.diagnoses))
        at = self._index[leader]
        for group in self._independent_groups(findings):
            choices = [[None, *self.distinct_answers(f)] for f in group]
            if math.prod(len(c) for c in choices) > _MAX_COMBINATIONS:
                rules = [r.id for r in self.whatif.cone(frozenset(group))
                         if r.id in self.table.unit_of]
                bounds = self.table.reach(trace.fired, rules)
                reach += [bounds[d][0] + bounds[leader][1] for d in self.diagnoses]
                continue
            delta = self.effects.deltas(facts, trace, group,
                                        list(itertools.product(*choices)))
            # the best each rival can gain on the leader (0: leaving all unanswered)
            reach += np.maximum((delta - delta[:, at:at + 1]).max(axis=0), 0.0)
        # the tolerance errs towards 'could change': the work-up never stops on a rounding
        return any(reach[self._index[rival]] >= gap - _TOLERANCE for rival, gap in gaps.items())

    def distinct_answers(self, finding: str) -> list[Any]:
        """One answer from each class of answers no rule tells apart: every value, or
        for a number each threshold any rule tests, and the bottom of its range."""
        spec = self.kb.findings[finding]
        if spec.type not in ("number", "integer"):
            return list(spec.values)
        return sorted(self._cut_points.get(finding, set())
                      | {(spec.range or (0.0, 1.0))[0]})

    def _units_of(self, finding: str) -> frozenset[tuple[str, str]]:
        """The scoring units (a rule, or a group counted once) an answer can change."""
        cached = self._units.get(finding)
        if cached is None:
            unit_of = self.table.unit_of
            cached = self._units[finding] = frozenset(
                unit_of[r.id] for r in self.whatif.cone(frozenset({finding}))
                if r.id in unit_of)
        return cached

    def _independent_groups(self, findings: Collection[str]) -> list[tuple[str, ...]]:
        """``findings`` joined when a scoring unit (a rule, or a group of rules counted
        once) can depend on both; only groups some scoring rule depends on."""
        parent = {f: f for f in findings}

        def root(f: str) -> str:
            while parent[f] != f:
                parent[f] = parent[parent[f]]
                f = parent[f]
            return f

        first_of: dict[tuple[str, str], str] = {}
        for finding in sorted(findings):
            for unit in self._units_of(finding):
                other = first_of.setdefault(unit, finding)
                if other != finding:
                    parent[root(finding)] = root(other)
        groups: dict[str, list[str]] = {}
        for finding in sorted(findings):
            if self._units_of(finding):
                groups.setdefault(root(finding), []).append(finding)
        return [tuple(group) for group in groups.values()]

    def _next_test(self, case: Case, best_gain: float, not_assessed: Collection[str],
                   context: Context, candidates: Sequence[str]) -> TestSuggestion | None:
        """A bone-imaging modality not yet performed whose findings would separate best."""
        kb = self.kb
        performed = kb.vocabulary.expand_modalities(case.modalities)
        facts, base_trace, _ = context
        current = set(candidates)
        best: TestSuggestion | None = None
        for mod_id, modality in kb.vocabulary.modalities.items():
            if mod_id in performed or modality.bone_imaging != "yes":
                continue
            with_mod = kb.vocabulary.expand_modalities(case.modalities | {mod_id})
            new_findings = [f for f in self.candidates(case, with_mod, not_assessed)
                            if f not in current]
            mod_facts = {**facts, MODALITIES: with_mod}
            mod_trace = self.whatif.update(base_trace, mod_facts, frozenset({MODALITIES}))
            mod_scores = self.table.log_scores(mod_trace)
            items, delta, mask = self._effects(case, new_findings,
                                               (mod_facts, mod_trace, mod_scores))
            if not items:
                continue
            prior = _softmax(np.array([mod_scores[d] for d in self.diagnoses]))
            values, _ = information(prior, delta, mask)
            gains = [(float(g), f) for g, (f, _) in zip(values, items, strict=True)]
            if not gains:
                continue
            gains.sort(key=lambda g: (-g[0], g[1]))
            gain = gains[0][0]
            suggestion = TestSuggestion(mod_id, modality.name, modality.radiation,
                                        modality.effective_dose_msv, gain,
                                        tuple(f for _, f in gains[:3]))
            if best is None or (gain, -_RADIATION[modality.radiation]) > (
                    best.gain, -_RADIATION[best.radiation]):
                best = suggestion
        if best is None or best.gain <= max(best_gain, 0.05):
            return None
        return best


_RADIATION = {"none": 0, "low": 1, "moderate": 2, "high": 3}


def missing_reason(missing: Sequence[tuple[str, str]]) -> str:
    """Why the work-up is not done while context is missing (``Advice.missing``)."""
    parts = []
    names = [name for var, name in missing if var != MODALITIES]
    if any(var == MODALITIES for var, _ in missing):
        parts.append("no study has been chosen, so nothing a study shows can be asked yet")
    if names:
        parts.append(("not given: " + ", ".join(names)) + " (the answer could change the "
                     "leading diagnosis)")
    return "Not finished: " + "; ".join(parts) + "."
_TOLERANCE = 1e-9  # log-score: far below any likelihood ratio, far above rounding


def _softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def information(prior: np.ndarray, delta: np.ndarray, mask: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mutual_information` of many questions at once, and each answer's chance.

    ``prior`` has one probability per diagnosis; ``delta`` (questions x answers x
    diagnoses) the change of each diagnosis's log-score for each answer; ``mask`` which
    answers are real (the rest pad the array). ``P(v | d)`` is proportional to the factor
    the answer applies to *d* (:func:`answer_likelihoods`).

    Computed as ``I = sum_d P(d) sum_v P(v|d) log2(P(v|d) / P(v))``. A diagnosis that no
    answer touches has ``P(v|d)`` uniform, so all of them count as one term: each question
    is computed over the diagnoses its answers touch (a few of many in a large knowledge
    base) and the rest lumped together, exactly.
    """
    touched = (delta != 0).any(axis=1)  # questions x diagnoses
    width = max(1, int(touched.sum(axis=1).max(initial=0)))
    columns = np.argsort(~touched, axis=1, kind="stable")[:, :width]  # touched first
    real = np.take_along_axis(touched, columns, axis=1)
    change = np.take_along_axis(delta, columns[:, None, :], axis=2)
    weight = prior[columns] * real  # P(d) of the touched diagnoses
    rest = np.maximum(0.0, 1.0 - weight.sum(axis=1))  # P(d) of all the others
    shifted = np.where(mask[..., None], change, -np.inf)
    factors = np.exp(shifted - shifted.max(axis=1, keepdims=True))
    likelihood = factors / factors.sum(axis=1, keepdims=True)  # P(v|d)
    uniform = mask / mask.sum(axis=1, keepdims=True)  # P(v|d) of an untouched d
    answered = (likelihood * weight[:, None, :]).sum(axis=2) + rest[:, None] * uniform
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = likelihood / answered[..., None]
        terms = np.where((likelihood > 0) & mask[..., None],
                         likelihood * np.log2(ratio), 0.0)
        lumped = np.where(uniform > 0, uniform * np.log2(uniform / answered), 0.0)
    gains = (terms.sum(axis=1) * weight).sum(axis=1) + rest * lumped.sum(axis=1)
    return np.maximum(0.0, gains), answered


class Outcomes(Sequence[Outcome]):
    """The outcomes of one question, built when first read: every candidate is scored
    after each answer, but only the question shown needs its outcomes spelled out."""

    __slots__ = ("_args", "_items")

    def __init__(self, values: Sequence[tuple[Any, str]], chances: np.ndarray,
                 leaders: np.ndarray, shown: np.ndarray, index: Mapping[str, int]):
        self._args: tuple[Any, ...] | None = (values, chances, leaders, shown, index)
        self._items: tuple[Outcome, ...] = ()

    def _all(self) -> tuple[Outcome, ...]:
        if self._args is not None:
            values, chances, leaders, shown, index = self._args
            names = tuple(index)
            self._items = tuple(
                Outcome(value, label, float(chances[j]), names[leaders[j]],
                        float(shown[j, leaders[j]]), Posterior(index, shown[j]))
                for j, (value, label) in enumerate(values))
            self._args = None
        return self._items

    def __getitem__(self, i: Any) -> Any:
        return self._all()[i]

    def __len__(self) -> int:
        return len(self._all())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]


class Posterior(Mapping[str, float]):
    """One row of an array of probabilities, read as ``{diagnosis: probability}``."""

    __slots__ = ("_index", "_row")

    def __init__(self, index: Mapping[str, int], row: np.ndarray):
        self._index = index
        self._row = row

    def __getitem__(self, diagnosis: str) -> float:
        return float(self._row[self._index[diagnosis]])

    def __iter__(self) -> Any:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)
