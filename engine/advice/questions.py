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

from ossdx.kb import schema
from ossdx.kb.case import Case, unmet_requirement
from ossdx.kb.model import MODALITIES, Atom, Conjunction, Kind, KnowledgeBase, Op
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
    outcomes: tuple[Outcome, ...]
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
    def _context(self, facts: Mapping[str, Any]) -> Context:
        facts = dict(facts)
        trace = self.reasoner.python.run(facts)
        return facts, trace, self.table.log_scores(trace)

    def evaluate(self, case: Case, finding: str,
                 context: Context | None = None,
                 reporting: Mapping[str, float] | None = None) -> Question | None:
        """The expected information of asking ``finding`` (None if no answer can matter);
        its chance of an answer from ``reporting`` (``Q``; by default the differential)."""
        kb = self.kb
        spec = kb.findings[finding]
        facts, base_trace, base = context or self._context(self.reasoner.facts(case))
        prior = softmax(base)
        values = [(v, label) for v, label in answer_values(spec)
                  if unmet_requirement(kb.vocabulary, finding, {**case.findings, finding: v})
                  is None]
        if len(values) < 2:
            return None
        changed = frozenset({finding})
        outcomes_raw = []
        for value, label in values:
            trace = self.whatif.update(base_trace, {**facts, finding: value}, changed)
            outcomes_raw.append((value, label, self.table.log_scores(trace)))
        likelihood = answer_likelihoods(base, [after for _, _, after in outcomes_raw])
        outcomes = []
        for i, (value, label, after) in enumerate(outcomes_raw):
            p_v = sum(prior[d] * likelihood[d][i] for d in base)
            posterior = softmax(after)  # what the user will see after answering v
            leader = max(posterior, key=lambda d: (posterior[d], d))
            outcomes.append(Outcome(value, label, p_v, leader, posterior[leader], posterior))
        swings = {d: max(o.posterior[d] for o in outcomes) - min(o.posterior[d] for o in outcomes)
                  for d in base}
        separates = tuple(sorted(((d, s) for d, s in swings.items() if s >= 0.01),
                                 key=lambda x: (-x[1], x[0]))[:3])
        current_leader = max(prior, key=lambda d: (prior[d], d))
        changes = any(o.leader != current_leader and o.probability > 0 for o in outcomes)
        gain = mutual_information(prior, likelihood)
        return Question(finding, spec.question, spec.help, kb.finding_topics[finding],
                        gain, tuple(outcomes), separates, changes,
                        self.answerable(finding, prior if reporting is None else reporting))

    def answerable(self, finding: str, reporting: Mapping[str, float]) -> float:
        """The chance ``finding`` can be answered: ``sum_d Q(d) r_d(finding)``."""
        return sum(q * self.kb.report_rate(finding, d) for d, q in reporting.items())

    def reporting_posterior(self, case: Case, probs: Mapping[str, float],
                            not_assessed: Collection[str] = ()) -> dict[str, float]:
        """``Q(d)``: the differential updated by which findings were reported or not."""
        kb = self.kb
        logs = {}
        for d, p in probs.items():
            if p <= 0:
                continue
            logs[d] = (math.log(p)
                       + sum(math.log(max(kb.report_rate(g, d), 1e-9)) for g in case.findings)
                       + sum(math.log(max(1 - kb.report_rate(g, d), 1e-9))
                             for g in not_assessed))
        return softmax(logs)

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
        prior = softmax(base)
        combos = []
        for a, _ in answer_values(kb.findings[first]):
            for b, _ in answer_values(kb.findings[second]):
                given = {**case.findings, first: a, second: b}
                if (unmet_requirement(kb.vocabulary, first, given) is None
                        and unmet_requirement(kb.vocabulary, second, given) is None):
                    combos.append({first: a, second: b})
        if len(combos) < 2:
            return 0.0
        changed = frozenset({first, second})
        afters = [self.table.log_scores(self.whatif.update(base_trace, {**facts, **combo},
                                                           changed)) for combo in combos]
        return mutual_information(prior, answer_likelihoods(base, afters))

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
        questions = {}
        for finding in candidates:
            q = self.evaluate(case, finding, context, reporting)
            if q is not None:
                questions[finding] = q
        # The answers can only tell apart the diagnoses whose rules read them, so a pair
        # is worth at most the entropy of those diagnoses with all others lumped together;
        # pairs that could not beat the best question even so are not evaluated, nor more
        # than settings.max_pairs of those with the highest such bound.
        bounded = []
        for pair in self.pairs(facts, set(candidates)):
            if all(f in questions for f in pair):
                first, second = sorted(pair, key=lambda f: (questions[f].report_rate, f))
                both = sum(q * kb.report_rate(first, d) * kb.report_rate(second, d)
                           for d, q in reporting.items())
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
               not_assessed: Collection[str] = ()) -> Advice:
        """The next question, or why to stop; and the best test not yet performed."""
        kb = self.kb
        context = self._context(self.reasoner.facts(case))
        facts, trace, scores = context
        remaining = self.candidates(case, None, not_assessed)
        ranked = self._rank(case, context, remaining, not_assessed)
        probs = softmax(scores)
        leader = max(probs, key=lambda d: (probs[d], d))
        threshold = kb.settings.confidence_threshold
        test = self._next_test(case, ranked[0].gain if ranked else 0.0, not_assessed, context,
                               remaining)
        if probs[leader] >= threshold:
            return Advice(None, f"{kb.name_of(leader)} has reached {probs[leader]:.0%} "
                          f"(threshold {threshold:.0%}).", test, tuple(ranked))
        if not ranked or not self.leader_can_change(facts, trace, remaining):
            return Advice(None, "No remaining answers, even all together, could change the "
                          f"leading diagnosis ({kb.name_of(leader)}).", test, tuple(ranked))
        return Advice(self.pick(ranked, last_topic), None, test, tuple(ranked))

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
        reach = dict.fromkeys(gaps, 0.0)
        for group, rules in self._independent_groups(findings):
            combinations = math.prod(len(self.distinct_answers(f)) + 1 for f in group)
            if combinations > _MAX_COMBINATIONS:
                bounds = self.table.reach(trace.fired, rules)
                for rival in reach:
                    reach[rival] += bounds[rival][0] + bounds[leader][1]
                continue
            best = dict.fromkeys(gaps, 0.0)
            for answers in itertools.product(*[[None, *self.distinct_answers(f)]
                                               for f in group]):
                changed = {f: v for f, v in zip(group, answers, strict=True) if v is not None}
                if not changed:
                    continue
                after = self.table.log_scores(self.whatif.update(
                    trace, {**facts, **changed}, frozenset(changed)))
                for rival in best:
                    gain = (after[rival] - base[rival]) - (after[leader] - base[leader])
                    best[rival] = max(best[rival], gain)
            for rival, gain in best.items():
                reach[rival] += gain
        return any(reach[rival] >= gap for rival, gap in gaps.items())

    def distinct_answers(self, finding: str) -> list[Any]:
        """One answer from each class of answers no rule tells apart: every value, or
        for a number each threshold any rule tests, and the bottom of its range."""
        spec = self.kb.findings[finding]
        if spec.type not in ("number", "integer"):
            return list(spec.values)
        return sorted(self._cut_points.get(finding, set())
                      | {(spec.range or (0.0, 1.0))[0]})

    def _independent_groups(self, findings: Collection[str],
                            ) -> list[tuple[tuple[str, ...], list[str]]]:
        """``findings`` joined when a scoring unit (a rule, or a group of rules counted
        once) can depend on both; each group with the scoring rules that depend on it."""
        unit_of = self.table.unit_of
        parent = {f: f for f in findings}

        def root(f: str) -> str:
            while parent[f] != f:
                parent[f] = parent[parent[f]]
                f = parent[f]
            return f

        depends: dict[tuple[str, str], set[str]] = {}
        for finding in findings:
            for rule in self.whatif.cone(frozenset({finding})):
                unit = unit_of.get(rule.id)
                if unit is not None:
                    depends.setdefault(unit, set()).add(finding)
        for members in depends.values():
            first, *rest = sorted(members)
            for other in rest:
                parent[root(other)] = root(first)
        groups: dict[str, list[str]] = {}
        for finding in sorted(findings):
            groups.setdefault(root(finding), []).append(finding)
        result = []
        for group in groups.values():
            rules = [r.id for r in self.whatif.cone(frozenset(group)) if r.id in unit_of]
            if rules:
                result.append((tuple(group), rules))
        return result

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
            gains = []
            for finding in new_findings:
                q = self.evaluate(case, finding,
                                  (mod_facts, mod_trace, self.table.log_scores(mod_trace)))
                if q is not None:
                    gains.append((q.gain, finding))
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
