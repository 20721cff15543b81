"""Measure the system on a folder of case files that carry ``truth:``.

Reports top-1 / top-3 accuracy, mean rank of the truth, the multi-class Brier score
(sum over diagnoses of (p - y)^2; 0 is perfect, 2 is worst), per-diagnosis sensitivity, a
confusion table, a calibration table, and robustness to perturbed likelihood ratios and to
dropped findings. A case counts as right when its top entry is the truth or one of its
``acceptable`` answers.

The vignette set is split once, by a fixed rule, into a tuning part (2/3) and a test part
(1/3): a case is in the test part when the SHA-256 of its file name's stem, read as an
integer, is divisible by 3 (:func:`split_of`).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ossdx.advice.track_record import ShortList, readable_track_record, wilson_interval
from ossdx.core.errors import Problem
from ossdx.kb.case import Case
from ossdx.kb.model import KnowledgeBase
from ossdx.reasoning.cases import read_case_folder
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.inference import Trace
from ossdx.reasoning.scoring import Score, score

SPLITS = ("all", "tuning", "test")
BINS = 10


def split_of(path: str | Path) -> str:
    """'test' for one third of files (by a hash of the name), else 'tuning'."""
    digest = hashlib.sha256(Path(path).stem.encode("utf-8")).hexdigest()
    return "test" if int(digest, 16) % 3 == 0 else "tuning"


def load_cases(folder: str | Path, kb: KnowledgeBase, split: str = "all",
               ) -> tuple[list[Case], list[Problem]]:
    """Every case file with a truth under ``folder`` (and in ``split``); problems apart."""
    keep = None if split == "all" else (lambda path: split_of(path) == split)
    entries = read_case_folder(folder, kb, keep=keep)
    cases = [_as_ranked(e.case, kb) for e in entries
             if e.case is not None and e.case.truth is not None]
    return cases, [p for e in entries for p in e.problems]


def _as_ranked(case: Case, kb: KnowledgeBase) -> Case:
    """The case with its truth and acceptable answers as the differential ranks them (a
    diagnosis the knowledge base only names counts as the catch-all)."""
    return replace(case, truth=kb.scored_as(case.truth or ""),
                   acceptable=tuple(dict.fromkeys(kb.scored_as(a) for a in case.acceptable)))


@dataclass(frozen=True)
class CaseResult:
    case: str
    truth: str
    acceptable: tuple[str, ...]
    ranking: tuple[str, ...]
    probabilities: dict[str, float]

    @property
    def rank(self) -> int:
        good = {self.truth, *self.acceptable}
        return next(i for i, d in enumerate(self.ranking, 1) if d in good)

    @property
    def top1(self) -> bool:
        return self.rank == 1

    @property
    def top3(self) -> bool:
        return self.rank <= 3

    @property
    def confidence(self) -> float:
        """The probability of the leader."""
        return self.probabilities[self.ranking[0]]

    @property
    def brier(self) -> float:
        return sum((p - (1.0 if d == self.truth else 0.0)) ** 2
                   for d, p in self.probabilities.items())

    @property
    def truth_probability(self) -> float:
        """The probability of the truth, or of an acceptable answer if that is higher."""
        return max(self.probabilities.get(d, 0.0) for d in (self.truth, *self.acceptable))

    def short_list_size(self, threshold: float) -> int:
        """How many diagnoses the short list at ``threshold`` holds (the leader always)."""
        return max(1, sum(p >= threshold for p in self.probabilities.values()))

    def in_short_list(self, threshold: float) -> bool:
        return self.top1 or self.truth_probability >= threshold


def case_result(case: Case, scores: Sequence[Score]) -> CaseResult:
    """A case's result from its differential (:func:`engine.scoring.score`, ranked)."""
    return CaseResult(case.name, case.truth or "", case.acceptable,
                      tuple(s.diagnosis for s in scores),
                      {s.diagnosis: s.probability for s in scores})


def summarise(results: Sequence[CaseResult], must_not_miss: Sequence[str] = ()
              ) -> dict[str, Any]:
    n = len(results)
    if n == 0:
        return {"n": 0}
    by_truth: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_truth[r.truth].append(r)
    confusion: dict[str, Counter[str]] = {t: Counter() for t in by_truth}
    for r in results:
        confusion[r.truth][r.ranking[0]] += 1
    top1, top3 = sum(r.top1 for r in results), sum(r.top3 for r in results)
    return {
        "n": n,
        "top1": top1 / n,
        "top3": top3 / n,
        "top1_ci95": wilson_interval(top1, n),
        "top3_ci95": wilson_interval(top3, n),
        "mean_rank": sum(r.rank for r in results) / n,
        "brier": sum(r.brier for r in results) / n,
        **{f"{dx}_outside_top3": sum(not r.top3 for r in results if r.truth == dx)
           for dx in must_not_miss},
        "sensitivity": {t: sum(r.top1 for r in rs) / len(rs) for t, rs in sorted(by_truth.items())},
        "support": {t: len(rs) for t, rs in sorted(by_truth.items())},
        "confusion": {t: dict(sorted(c.items())) for t, c in sorted(confusion.items())},
        "calibration": calibration(results),
        "ece": expected_calibration_error(results),
        "reliability": reliability(results),
        "wrong_conf90": sum(1 for r in results if not r.top1 and r.confidence >= 0.9),
        "mean_p_truth": sum(r.probabilities.get(r.truth, 0.0) for r in results) / n,
        "misses": [{"case": r.case, "truth": r.truth, "top": r.ranking[0],
                    "rank": r.rank} for r in results if not r.top1],
    }


def reliability(results: Sequence[CaseResult], bins: int = BINS) -> list[dict[str, Any]]:
    """The reliability diagram of the leader: cases binned by the leader's probability (10
    equal bins), each with its mean probability and how often the leader was right."""
    table: list[list[CaseResult]] = [[] for _ in range(bins)]
    for r in results:
        table[min(int(r.confidence * bins), bins - 1)].append(r)
    return [{"bin": f"{i / bins:.1f}-{(i + 1) / bins:.1f}", "n": len(rows),
             "confidence": sum(r.confidence for r in rows) / len(rows),
             "accuracy": sum(r.top1 for r in rows) / len(rows)}
            for i, rows in enumerate(table) if rows]


def _ece(pairs: Sequence[tuple[float, bool]], bins: int) -> float:
    """ECE of (leader's probability, right?) pairs: the case-weighted mean over the bins of
    |share right - mean probability|, i.e. sum over bins of |right - sum p| / n."""
    table: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for p, right in pairs:
        table[min(int(p * bins), bins - 1)].append((p, right))
    return sum(abs(sum(y for _, y in cell) - sum(q for q, _ in cell))
               for cell in table if cell) / len(pairs) if pairs else 0.0


def expected_calibration_error(results: Sequence[CaseResult], bins: int = BINS) -> float:
    """ECE of the leader (Guo et al. 2017): the case-weighted mean, over the 10 bins of
    :func:`reliability`, of |accuracy - mean probability|."""
    return _ece([(r.confidence, r.top1) for r in results], bins)


def consistency(results: Sequence[CaseResult], *, draws: int = 1000, bins: int = BINS,
                seed: int = 20261206) -> dict[str, Any]:
    """What the calibration figures would be if the model were calibrated: the consistency
    resampling of Broecker and Smith (2007, Weather and Forecasting 22:651). Each draw keeps
    every case's probabilities and lets its leader be right with the leader's own
    probability; the ECE of those draws is what perfect calibration shows on this many cases
    with these probabilities (10 bins on a few dozen cases are never empty of noise).
    ``ece_p`` is the share of draws at least as far off as the observed ECE: a small share
    says the model is miscalibrated, a large one that the sample cannot tell. The expected
    multi-class Brier score under the model's own probabilities, ``mean(1 - sum p^2)``, is
    the Brier score a calibrated model with these probabilities would have: what is left
    above the goal then is a want of sharpness (accuracy), not of calibration."""
    if not results:
        return {}
    rng = random.Random(seed)
    observed = expected_calibration_error(results, bins)
    confidences = [r.confidence for r in results]
    simulated = sorted(_ece([(p, rng.random() < p) for p in confidences], bins)
                       for _ in range(draws))
    return {
        "draws": draws,
        "ece_if_calibrated": sum(simulated) / draws,
        "ece_if_calibrated_90": [simulated[int(0.05 * draws)], simulated[int(0.95 * draws) - 1]],
        "ece_p": sum(s >= observed for s in simulated) / draws,
        "brier_if_calibrated": sum(1 - sum(p * p for p in r.probabilities.values())
                                   for r in results) / len(results),
    }


def calibration(results: Sequence[CaseResult], bins: int = BINS) -> list[dict[str, Any]]:
    """Predicted probability (every diagnosis of every case) against observed frequency."""
    table: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for r in results:
        for d, p in r.probabilities.items():
            table[min(int(p * bins), bins - 1)].append((p, d == r.truth))
    rows = []
    for i, items in enumerate(table):
        if not items:
            continue
        rows.append({"bin": f"{i / bins:.1f}-{(i + 1) / bins:.1f}", "n": len(items),
                     "mean_predicted": sum(p for p, _ in items) / len(items),
                     "observed": sum(y for _, y in items) / len(items)})
    return rows


def _perturbed(kb: KnowledgeBase, rng: random.Random, spread: float) -> KnowledgeBase:
    rules = tuple(replace(r, lr=r.lr * rng.uniform(1 - spread, 1 + spread)) if r.lr != 1.0
                  else r for r in kb.rules)
    return replace(kb, rules=rules)


def robustness(kb: KnowledgeBase, reasoner: Reasoner, cases: Sequence[Case], traces:
               Sequence[Trace], *, draws: int = 20, spread: float = 0.3,
               drop: float = 0.3, seed: int = 20261129) -> dict[str, Any]:
    """Top-1 accuracy under random LR perturbation and under random loss of findings."""
    rng = random.Random(seed)
    lr_top1 = []
    for _ in range(draws):
        noisy = _perturbed(kb, rng, spread)
        results = [case_result(c, score(noisy, t)) for c, t in zip(cases, traces, strict=True)]
        lr_top1.append(sum(r.top1 for r in results) / len(results))
    drop_top1 = []
    for _ in range(draws):
        results = []
        for case in cases:
            keys = sorted(case.findings)
            keep = [k for k in keys if rng.random() >= drop]
            reduced = case.with_findings({k: case.findings[k] for k in keep})
            trace = reasoner.trace(reduced, fast=True)
            results.append(case_result(case, score(kb, trace)))
        drop_top1.append(sum(r.top1 for r in results) / len(results))

    def stats(values: list[float]) -> dict[str, float]:
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        return {"mean": mean, "min": min(values), "max": max(values), "sd": sd}

    return {"draws": draws, "lr_spread": spread, "drop_fraction": drop,
            "lr_perturbed_top1": stats(lr_top1), "findings_dropped_top1": stats(drop_top1)}


def evaluate(kb: KnowledgeBase, cases: Iterable[Case], *, reasoner: Reasoner | None = None,
             with_robustness: bool = False) -> dict[str, Any]:
    """Run every case (experta engine of record) and summarise."""
    reasoner = reasoner or Reasoner(kb)
    cases = list(cases)
    traces = [reasoner.trace(c) for c in cases]
    results = [case_result(c, score(kb, t)) for c, t in zip(cases, traces, strict=True)]
    report = summarise(results, kb.manifest.must_not_miss)
    report["consistency"] = consistency(results)
    report["must_not_miss"] = list(kb.manifest.must_not_miss)
    report["kb_version"] = kb.version
    record = readable_track_record(kb.root)
    if record is not None and record.short_list is not None and results:
        report["short_list"] = short_list_summary(results, record.short_list)
    if with_robustness and cases:
        report["robustness"] = robustness(kb, reasoner, cases, traces)
    return report


def short_list_summary(results: Sequence[CaseResult], short: ShortList) -> dict[str, Any]:
    """How the knowledge base's conformal short list (set on its held-out cases) does on
    these cases: how often it holds the truth, and how long it is."""
    n, tau = len(results), short.threshold
    held = sum(r.in_short_list(tau) for r in results)
    sizes = [r.short_list_size(tau) for r in results]
    return {"threshold": tau, "coverage_target": short.coverage, "held": held / n,
            "held_ci95": wilson_interval(held, n), "mean_size": sum(sizes) / n,
            "single": sum(size == 1 for size in sizes)}


def _short_list_line(report: dict[str, Any]) -> list[str]:
    short = report.get("short_list")
    if not short:
        return []
    low, high = short["held_ci95"]
    return [f"Short list (every diagnosis at {short['threshold']:.1%} or more, set for "
            f"{short['coverage_target']:.0%} on held-out cases): held the truth in "
            f"{short['held']:.1%} (95% interval {low:.1%}-{high:.1%}); "
            f"{short['mean_size']:.2f} diagnoses on average, one alone in {short['single']} "
            f"of {report['n']} cases"]


def _consistency_lines(report: dict[str, Any]) -> list[str]:
    cons = report.get("consistency")
    if not cons:
        return []
    low, high = cons["ece_if_calibrated_90"]
    return [f"  if the model were calibrated, ECE on these cases would be "
            f"{cons['ece_if_calibrated']:.3f} (90% of draws {low:.3f}-{high:.3f}); as far off "
            f"as observed in {cons['ece_p']:.0%} of draws",
            f"  Brier score if the model were calibrated: {cons['brier_if_calibrated']:.3f}"]


def format_report(report: dict[str, Any]) -> str:
    """The evaluation as plain-text tables."""
    skipped = report.get("skipped_invalid_files", 0)
    if report.get("n", 0) == 0:
        if skipped:
            return (f"No case to evaluate: {skipped} case file(s) did not load (their errors "
                    "are printed above); mend them and run again.")
        return "No case files with 'truth:' found."
    lines = [
        f"Cases: {report['n']}   KB {report.get('kb_version', '?')}",
        *([f"Skipped: {skipped} case file(s) that did not load (their errors are printed "
             "above)"] if skipped else []),
        f"Top-1 accuracy: {report['top1']:.1%}"
        f"   (95% interval {report['top1_ci95'][0]:.1%}-{report['top1_ci95'][1]:.1%})",
        f"Top-3 accuracy: {report['top3']:.1%}"
        f"   (95% interval {report['top3_ci95'][0]:.1%}-{report['top3_ci95'][1]:.1%})",
        f"Mean rank of the truth: {report['mean_rank']:.2f}",
        f"Brier score (multi-class, 0 best): {report['brier']:.3f}",
        f"Expected calibration error of the leader (10 bins): {report['ece']:.3f}",
        *_consistency_lines(report),
        f"Wrong leaders held at 90% or more: {report['wrong_conf90']}",
        *_short_list_line(report),
        f"Mean probability given to the truth: {report['mean_p_truth']:.2f}",
        *(f"{dx} outside the top 3 when it is the truth: {report[dx + '_outside_top3']}"
          for dx in report.get("must_not_miss", [])),
        "",
        "Per-diagnosis sensitivity (top-1):",
    ]
    for dx, sens in report["sensitivity"].items():
        lines.append(f"  {dx:24s} {sens:6.1%}  (n={report['support'][dx]})")
    lines += ["", "Confusion (truth -> top-1 counts):"]
    for truth, row in report["confusion"].items():
        cells = ", ".join(f"{k} {v}" for k, v in row.items())
        lines.append(f"  {truth:24s} {cells}")
    lines += ["", "Reliability of the leader (probability bin: cases, mean probability, "
                  "share right):"]
    for row in report["reliability"]:
        lines.append(f"  {row['bin']}: n={row['n']:4d}  probability {row['confidence']:.3f}"
                     f"  right {row['accuracy']:.3f}")
    lines += ["", "Calibration of every entry (predicted bin: n, mean predicted, observed):"]
    for row in report["calibration"]:
        lines.append(f"  {row['bin']}: n={row['n']:5d}  predicted {row['mean_predicted']:.3f}"
                     f"  observed {row['observed']:.3f}")
    if "robustness" in report:
        rob = report["robustness"]
        lp, fd = rob["lr_perturbed_top1"], rob["findings_dropped_top1"]
        lines += ["", f"Robustness ({rob['draws']} draws):",
                  f"  LRs perturbed +/-{rob['lr_spread']:.0%}: top-1 mean {lp['mean']:.1%} "
                  f"(min {lp['min']:.1%}, max {lp['max']:.1%})",
                  f"  {rob['drop_fraction']:.0%} of findings dropped: top-1 mean "
                  f"{fd['mean']:.1%} (min {fd['min']:.1%}, max {fd['max']:.1%})"]
    if report.get("misses"):
        lines += ["", "Misses:"]
        for miss in report["misses"]:
            lines.append(f"  {miss['case']}: truth {miss['truth']} (rank {miss['rank']}), "
                         f"top {miss['top']}")
    return "\n".join(lines)
