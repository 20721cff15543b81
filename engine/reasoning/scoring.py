"""From fired rules to a ranked differential: a naive-Bayes model over likelihood ratios.

The stated model (also in README "How the ranking works"):

* The differential is a set of mutually exclusive diagnoses, always including the catch-all
  ``other`` (a lesion the knowledge base does not describe).
* Each diagnosis *d* has a base prior probability ``p0(d)`` for a bone lesion found on
  imaging in this population. It enters as a rule (``<d>.prior.population``) that fires
  when a bone-imaging study was performed and multiplies the catch-all's base rate
  ``p0(other)`` by ``p0(d) / p0(other)``, so the epidemiology is cited like any other
  reason; then the factors of the prior rules that fire on the patient context and site.
* Each evidence rule that fires contributes its likelihood ratio ``LR = P(e | d) / P(e |
  other)``: how much more (or less) often the sign is seen with *d* than with the reference
  class. Signs are assumed conditionally independent given the diagnosis, except that rules
  sharing a ``group`` (one underlying sign written several ways) count once: the strongest.
* ``score(d) = (log p0(other) + sum log(prior factors, the population rule included)
  + w * sum log(LR)) / T``, and the posterior is the softmax of the scores,
  ``P(d | case) = exp(score(d)) / sum_k exp(score(k))`` (ties rank ``other`` first:
  without evidence nothing is claimed).
  ``w`` (``settings.evidence_weight``) scales the evidence against the priors and ``T``
  (``settings.temperature``) the sureness of the whole: naive Bayes counts correlated signs
  as independent, and shrunk estimates can make it too timid. These two are the only
  parameters fitted to cases, on calibration cases the knowledge was not edited against
  (``python -m benchmarks.calibrate`` prints the grid), and they are stated in kb.yaml.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ossdx.kb.model import Kind, KnowledgeBase, Rule
from ossdx.reasoning.inference import Trace


@dataclass(frozen=True)
class Contribution:
    """One fired rule's effect on one diagnosis."""

    rule: Rule
    counted: bool = True
    superseded_by: str | None = None

    @property
    def log_lr(self) -> float:
        return math.log(self.rule.lr) if self.counted else 0.0


@dataclass(frozen=True)
class Score:
    diagnosis: str
    base_prior: float
    prior_factors: tuple[Contribution, ...]
    evidence: tuple[Contribution, ...]
    log_score: float
    probability: float
    reference_prior: float = 1.0

    @property
    def prior(self) -> float:
        """Prior after the population and context factors, before normalisation."""
        return self.reference_prior * math.prod(c.rule.lr for c in self.prior_factors)

    @property
    def evidence_for(self) -> tuple[Contribution, ...]:
        return tuple(c for c in self.evidence if c.rule.lr > 1)

    @property
    def evidence_against(self) -> tuple[Contribution, ...]:
        return tuple(c for c in self.evidence if c.rule.lr < 1)


def strength(log_lr: float, rule_id: str) -> tuple[float, str]:
    """Sort key of the rules of one group: the first counts (largest |log LR|, then the
    smallest rule id)."""
    return (-abs(log_lr), rule_id)


def _grouped(rules: Iterable[Rule]) -> list[Contribution]:
    """Count the strongest rule of each group; mark the others as superseded."""
    best: dict[str, Rule] = {}
    rules = list(rules)
    for rule in rules:
        if rule.group is None:
            continue
        current = best.get(rule.group)
        if current is None or (strength(math.log(rule.lr), rule.id)
                               < strength(math.log(current.lr), current.id)):
            best[rule.group] = rule
    result = []
    for rule in rules:
        winner = best.get(rule.group) if rule.group else None
        if winner is None or winner.id == rule.id:
            result.append(Contribution(rule))
        else:
            result.append(Contribution(rule, counted=False, superseded_by=winner.id))
    return result


def softmax(log_scores: Mapping[str, float]) -> dict[str, float]:
    top = max(log_scores.values())
    weights = {k: math.exp(v - top) for k, v in log_scores.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def score(kb: KnowledgeBase, trace: Trace) -> list[Score]:
    """Posterior of every diagnosis, sorted by probability (ties by id), highest first."""
    factors: dict[str, list[Rule]] = {d: [] for d in kb.diagnoses}
    evidence: dict[str, list[Rule]] = {d: [] for d in kb.diagnoses}
    for rule_id in sorted(trace.fired):  # by id: the result never depends on file order
        rule = kb.rule(rule_id)
        if rule.kind is Kind.PRIOR:
            factors[rule.target].append(rule)
        elif rule.kind is Kind.EVIDENCE:
            evidence[rule.target].append(rule)
    weight = kb.settings.evidence_weight
    temperature = kb.settings.temperature
    reference = kb.base_priors[kb.other]
    partial = {}
    for dx in kb.diagnoses:
        prior_contribs = tuple(Contribution(r) for r in factors[dx])
        contribs = tuple(_grouped(evidence[dx]))
        log_score = (math.log(reference) + sum(c.log_lr for c in prior_contribs)
                     + weight * sum(c.log_lr for c in contribs)) / temperature
        partial[dx] = (prior_contribs, contribs, log_score)
    probabilities = softmax({dx: v[2] for dx, v in partial.items()})
    scores = [
        Score(dx, kb.base_priors[dx], p, e, s, probabilities[dx], reference)
        for dx, (p, e, s) in partial.items()
    ]
    order = rank_key(kb.other)
    return sorted(scores, key=lambda s: order(s.diagnosis, s.probability))


def rank_key(other: str) -> Callable[[str, float], tuple[float, bool, str]]:
    """Sort key of the differential: probability, then the catch-all first, then id."""
    return lambda diagnosis, probability: (-round(probability, 12), diagnosis != other,
                                           diagnosis)


class ScoreTable:
    """Precomputed rule weights for fast log-scores (the same model as :func:`score`).

    Question selection evaluates thousands of what-if answers; this computes only the
    unnormalised log-scores, with the same grouping rule (the strongest rule of a group
    counts), without building explanation objects.
    """

    def __init__(self, kb: KnowledgeBase):
        temperature = kb.settings.temperature
        reference = math.log(kb.base_priors[kb.other]) / temperature
        self.base = {d: reference for d in kb.base_priors}
        self.weight = kb.settings.evidence_weight / temperature  # of an evidence ratio
        self.prior_weight = 1.0 / temperature  # of a prior factor
        self.entries: dict[str, tuple[str, float, str | None, bool]] = {}
        for rule in kb.rules:
            if rule.kind in (Kind.PRIOR, Kind.EVIDENCE):
                self.entries[rule.id] = (rule.target, math.log(rule.lr), rule.group,
                                         rule.kind is Kind.EVIDENCE)
        # the scoring unit of each rule: its group (counted once), or the rule itself
        self.unit_of: dict[str, tuple[str, str]] = {
            rule_id: (target, group if is_evidence and group else rule_id)
            for rule_id, (target, _, group, is_evidence) in self.entries.items()}
        self._members: dict[tuple[str, str], list[str]] = {}  # unit -> its rules
        for rule_id, unit in self.unit_of.items():
            self._members.setdefault(unit, []).append(rule_id)

    def log_scores(self, trace: Trace) -> dict[str, float]:
        scores = dict(self.base)
        best: dict[tuple[str, str], tuple[float, str]] = {}
        for rule_id in sorted(trace.fired):
            entry = self.entries.get(rule_id)
            if entry is None:
                continue
            target, log_lr, group, is_evidence = entry
            if not is_evidence:
                scores[target] += self.prior_weight * log_lr
            elif group is None:
                scores[target] += self.weight * log_lr
            else:
                key = (target, group)
                current = best.get(key)
                if current is None or strength(log_lr, rule_id) < strength(*current):
                    best[key] = (log_lr, rule_id)
        for (target, _), (log_lr, _) in best.items():
            scores[target] += self.weight * log_lr
        return scores

    def reach(self, fired: Iterable[str], undecided: Iterable[str],
              ) -> dict[str, tuple[float, float]]:
        """How far each diagnosis's log-score could still rise and fall.

        ``undecided`` are the rules whose firing later answers could still change (either
        way); the others keep their state in ``fired``. A group counts its strongest fired
        member, so its contribution can only become that of the fixed members plus one of
        the undecided ones: the bound is exact per group and optimistic across groups
        (answers that exclude each other are allowed together).
        """
        fired, undecided = set(fired), set(undecided)
        units = dict.fromkeys(self.unit_of[r] for r in undecided if r in self.unit_of)
        result = {d: (0.0, 0.0) for d in self.base}
        for unit in units:
            target, members = unit[0], self._members[unit]
            fixed = [m for m in members if m in fired and m not in undecided]
            now = self._contribution([m for m in members if m in fired])
            # the strongest of fixed + [m] is the strongest of (the strongest fixed, m)
            strongest = min(((self.entries[r][1], r) for r in fixed),
                            key=lambda entry: strength(*entry), default=None)
            kept = [strongest[1]] if strongest else []
            options = [self._contribution(fixed)] + [self._contribution([*kept, m])
                                                     for m in members if m in undecided]
            up, down = result[target]
            result[target] = (up + max(options) - now, down + now - min(options))
        return result

    def _contribution(self, rule_ids: Iterable[str]) -> float:
        """The score contribution of the fired members of one group (or one rule)."""
        best = min(((self.entries[r][1], r) for r in rule_ids),
                   key=lambda entry: strength(*entry), default=None)
        if best is None:
            return 0.0
        return best[0] * (self.weight if self.entries[best[1]][3] else self.prior_weight)
