"""Fit the evidence weight w (settings.evidence_weight) on the tuning part of the vignettes.

Prints, for each w on a grid, top-1 / top-3 accuracy and the Brier score on the tuning part
(never the test part), and the w with the lowest Brier score. Rerun after editing the KB:

    python -m benchmarks.calibrate [--cases knowledge_base/cases/literature]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from ossdx.authoring.evaluate import case_result, load_cases, summarise
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.scoring import score

GRID = [round(0.50 + 0.1 * i, 2) for i in range(11)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=None, help="folder of vignettes (default: literature)")
    parser.add_argument("--kb", default=None)
    args = parser.parse_args(argv)
    kb = load_knowledge_base(args.kb)
    folder = Path(args.cases) if args.cases else kb.root / "cases" / "literature"
    cases, _ = load_cases(folder, kb, "tuning")
    reasoner = Reasoner(kb)
    traces = [reasoner.trace(c) for c in cases]
    rows = []
    for w in GRID:
        weighted = replace(kb, manifest=kb.manifest.model_copy(update={
            "settings": kb.settings.model_copy(update={"evidence_weight": w})}))
        results = []
        for case, trace in zip(cases, traces, strict=True):
            results.append(case_result(case, score(weighted, trace)))
        summary = summarise(results)
        rows.append({"w": w, "top1": summary["top1"], "top3": summary["top3"],
                     "brier": summary["brier"]})
    print(f"Tuning part: {len(cases)} cases, KB {kb.version}")
    print(f"{'w':>5} {'top-1':>7} {'top-3':>7} {'Brier':>7}")
    for row in rows:
        print(f"{row['w']:5.2f} {row['top1']:7.1%} {row['top3']:7.1%} {row['brier']:7.3f}")
    best = min(rows, key=lambda r: (round(r["brier"], 4), -r["top1"]))
    print(f"lowest Brier at w = {best['w']:.2f} (current setting {kb.settings.evidence_weight})")
    print(json.dumps({"best_w": best["w"], "rows": rows, "n": len(cases)}))


if __name__ == "__main__":
    main()
