"""Accuracy on the case library: seed cases, and the literature vignettes' tuning and test parts.

    python -m benchmarks.accuracy [--robustness] [--write]

Prints top-1 / top-3 accuracy, mean rank of the truth, Brier score and the number of cases
whose truth is a must-not-miss diagnosis (kb.yaml) but is outside the top 3, per set; with
--robustness also top-1 under +/-30% perturbed likelihood ratios and with 30% of findings
dropped (20 draws each). --write stores the figures in benchmarks/reported.json, which the
README quotes and which tests/test_accuracy.py holds the knowledge base to (a KB edit that
loses cases fails CI).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from ossdx.authoring.evaluate import evaluate, load_cases
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.diagnosis import Reasoner

REPORTED = Path(__file__).resolve().parent / "reported.json"
KEYS = ("n", "top1", "top3", "mean_rank", "brier")


def measure(with_robustness: bool = False) -> dict[str, Any]:
    kb = load_knowledge_base()
    reasoner = Reasoner(kb)
    sets = {
        "seed": (kb.root / "cases" / "seed", "all"),
        "literature_tuning": (kb.root / "cases" / "literature", "tuning"),
        "literature_test": (kb.root / "cases" / "literature", "test"),
    }
    result: dict[str, Any] = {"date": str(date.today()), "kb_version": kb.version}
    for name, (folder, split) in sets.items():
        cases, _ = load_cases(folder, kb, split)
        report = evaluate(kb, cases, reasoner=reasoner,
                          with_robustness=with_robustness and name != "seed")
        row = {k: report[k] for k in KEYS}
        row.update({k: v for k, v in report.items() if k.endswith("_outside_top3")})
        if "robustness" in report:
            rob = report["robustness"]
            row["lr_perturbed_top1"] = rob["lr_perturbed_top1"]["mean"]
            row["lr_perturbed_top1_min"] = rob["lr_perturbed_top1"]["min"]
            row["findings_dropped_top1"] = rob["findings_dropped_top1"]["mean"]
        result[name] = row
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robustness", action="store_true")
    parser.add_argument("--write", action="store_true", help="update benchmarks/reported.json")
    args = parser.parse_args(argv)
    result = measure(args.robustness)
    print(f"Accuracy, KB {result['kb_version']}, {result['date']}")
    print(f"{'set':18} {'n':>4} {'top-1':>7} {'top-3':>7} {'rank':>5} {'Brier':>6} "
          f"{'miss>3':>6} {'LR+-30%':>8} {'-30% f.':>8}")
    for name in ("seed", "literature_tuning", "literature_test"):
        row = result[name]
        extra = (f"{row['lr_perturbed_top1']:8.1%} {row['findings_dropped_top1']:8.1%}"
                 if "lr_perturbed_top1" in row else "")
        missed = sum(v for k, v in row.items() if k.endswith("_outside_top3"))
        print(f"{name:18} {row['n']:4d} {row['top1']:7.1%} {row['top3']:7.1%} "
              f"{row['mean_rank']:5.2f} {row['brier']:6.3f} {missed:6d} {extra}")
    if args.write:
        REPORTED.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {REPORTED}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
