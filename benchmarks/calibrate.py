"""Fit the two global parameters of the scoring model on calibration data only.

The model (engine/reasoning/scoring.py) has two numbers fitted to cases rather than taken
from the literature: the evidence weight ``w`` (settings.evidence_weight) and the
temperature ``T`` (settings.temperature). This script scores the calibration cases on a
grid of both, and prints the Brier score, ECE and accuracy of each, and the pair it chooses
by a stated rule: only pairs under which every seed case keeps its expected leader (the
exhibit is the project's specification); among them the lowest Brier score (a proper score:
it rewards calibration and accuracy alike); among the pairs within 0.005 of it, the fewest
wrong leaders held at 90 % or more, then the lowest ECE. (The seed condition was added on
2026-12-06 after the rule without it chose w = 1.6, T = 1.5, under which the seed's sternal
hemangioma fell to second place; docs/EVALUATION.md records both.)

The calibration cases are the second blind set's ``calibration`` part: cases the knowledge
was never edited against (its editor does not read them). Until 2026-12-06 the pair was
fitted on the tuning sets, the very cases the knowledge had been fitted to; there the rules
look surer than they are on new cases, and the fit sharpened them (T = 0.9). Rerun after
editing the knowledge base, and write the pair into kb.yaml by hand if it also passes the
check every knowledge edit passes (docs/EVALUATION.md): on the validation parts, top-1 does
not fall and the Brier score does not rise. (On 2026-12-06, after the stop-24 edits, the rule
chose w = 1.3, T = 1.3 by one fewer wrong leader held at 90 % or more among 55 cases; on the
third set's validation part, which the pair is not fitted on, its Brier score rose from
0.512 to 0.522, so w = 1.2, T = 1.1 were kept.)

    python -m benchmarks.calibrate [--json]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from ossdx.authoring.evaluate import case_result, load_cases, summarise
from ossdx.kb import KnowledgeBase, load_knowledge_base
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.scoring import score

WEIGHTS = [round(0.6 + 0.1 * i, 2) for i in range(11)]  # 0.6 .. 1.6
TEMPERATURES = [round(0.5 + 0.1 * i, 2) for i in range(11)]  # 0.5 .. 1.5
CALIBRATION_FOLDERS = ("blind2/calibration",)
SPECIFICATION_FOLDER = "seed"  # every case here must keep its expected leader
BRIER_TIE = 0.005  # Brier scores this close count as equal


def with_settings(kb: KnowledgeBase, **settings: float) -> KnowledgeBase:
    return replace(kb, manifest=kb.manifest.model_copy(update={
        "settings": kb.settings.model_copy(update=settings)}))


def grid(kb: KnowledgeBase) -> tuple[int, list[dict[str, Any]]]:
    cases = []
    for folder in CALIBRATION_FOLDERS:
        found, _ = load_cases(kb.root / "cases" / folder, kb)
        cases += found
    seed_folder = kb.root / "cases" / SPECIFICATION_FOLDER
    seed = load_cases(seed_folder, kb)[0] if seed_folder.is_dir() else []
    reasoner = Reasoner(kb)
    traces = [reasoner.trace(c, fast=True) for c in cases]
    seed_traces = [reasoner.trace(c, fast=True) for c in seed]
    rows = []
    for w in WEIGHTS:
        for t in TEMPERATURES:
            tuned = with_settings(kb, evidence_weight=w, temperature=t)
            results = [case_result(c, score(tuned, tr)) for c, tr in zip(cases, traces,
                                                                         strict=True)]
            summary = summarise(results)
            seed_right = all(case_result(c, score(tuned, tr)).top1
                             for c, tr in zip(seed, seed_traces, strict=True))
            rows.append({"w": w, "t": t, "top1": summary["top1"], "top3": summary["top3"],
                         "brier": summary["brier"], "ece": summary["ece"],
                         "wrong_conf90": summary["wrong_conf90"], "seed_right": seed_right})
    return len(cases), rows


def choose(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The pair the stated rule chooses (see the module's docstring)."""
    allowed = [r for r in rows if r["seed_right"]] or rows
    lowest = min(r["brier"] for r in allowed)
    near = [r for r in allowed if r["brier"] <= lowest + BRIER_TIE]
    return min(near, key=lambda r: (r["wrong_conf90"], r["ece"], r["brier"]))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="(the JSON line is always last)")
    parser.add_argument("--kb", default=None)
    args = parser.parse_args(argv)
    kb = load_knowledge_base(args.kb)
    n, rows = grid(kb)
    print(f"Calibration data: {n} cases ({', '.join(CALIBRATION_FOLDERS)}), KB {kb.version}")
    print(f"{'w':>5} {'T':>5} {'top-1':>7} {'top-3':>7} {'Brier':>7} {'ECE':>7} {'wr>=90':>6} "
          f"{'seed ok':>7}")
    for row in rows:
        if row["t"] in (0.7, 1.0, 1.3) or row["w"] == 1.0:
            print(f"{row['w']:5.2f} {row['t']:5.2f} {row['top1']:7.1%} {row['top3']:7.1%} "
                  f"{row['brier']:7.3f} {row['ece']:7.3f} {row['wrong_conf90']:6d} "
                  f"{'yes' if row['seed_right'] else 'no':>7}")
    best = choose(rows)
    current = next(r for r in rows if r["w"] == kb.settings.evidence_weight
                   and r["t"] == kb.settings.temperature) if any(
        r["w"] == kb.settings.evidence_weight and r["t"] == kb.settings.temperature
        for r in rows) else None
    print(f"chosen: w = {best['w']:.2f}, T = {best['t']:.2f}: Brier {best['brier']:.3f},"
          f" ECE {best['ece']:.3f} (kb.yaml now: w = {kb.settings.evidence_weight}, "
          f"T = {kb.settings.temperature})")
    result = {"n": n, "best": best, "current": current, "rows": rows}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
