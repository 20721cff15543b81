"""Accuracy and calibration on the case library, set by set.

    python -m benchmarks.accuracy [--robustness] [--write]

Sets: the seed exhibit's cases; the 101 literature vignettes of 2026-11 (their hash split is
kept as ``literature_tuning`` / ``literature_test``, but both parts are tuning data now: see
docs/EVALUATION.md); the blind set of 2026-12 (``knowledge_base/cases/blind``), whose
``test`` part is held out from whoever edits the knowledge base; and the second blind set
(``blind2``), both of whose parts are held out (its ``calibration`` part only fits the two
global parameters of the score, by benchmarks/calibrate.py). For each set: top-1 /
top-3 accuracy, mean rank of the truth, multi-class Brier score, ECE of the leader (10
bins), wrong leaders held at >= 90 %, the mean probability of the truth, and metastases
outside the top 3. A diagnosis the knowledge base only names counts as 'other'.

Only summary figures are printed, never a case: the blind test part's per-case results are
not for the knowledge editor's eyes. ``--write`` stores the figures in
benchmarks/reported.json (the README quotes them); writing it is a look at the test part,
to be recorded in docs/EVALUATION.md. The last line printed is one JSON object, with the
blind test part also as the flat keys ``blind_n``, ``blind_top1``, ``blind_top3``,
``blind_brier``, ``blind_ece``, ``blind_wrong_conf90``, ``blind_met_out_top3``, and
``rules_only_on_blind_test``: how many scoring rules fire on blind test cases and on no
other case file, with ``handwritten_rules_only_on_blind_test`` for the rules written by hand
(a red flag for rules fitted to the test part; profile rules exist for every value). The
second set's test part gives the same keys with the prefix ``blind2_``, the third set's
(2026-12-06, 82 test and 63 validation cases, both held out) with ``blind3_``; its
validation part is the check a knowledge edit must pass before it is kept; the fourth set's
(committed at the end of stop 24, the same two parts) with ``blind4_``; the fifth set's
(committed in stop 31, the same two parts) with ``blind5_``; the sixth set's (committed in
stop 33, the same two parts) with ``blind6_``. The test parts
together are the row ``test_parts_pooled`` and the flat keys ``test_parts_pooled_n``,
``..._top1``, ``..._top3``, ``..._brier``, ``..._ece`` and so on. Each set also has
``ece_if_calibrated``, ``ece_p`` and ``brier_if_calibrated`` (flat for the test parts as
``blind_ece_if_calibrated`` and so on): what ECE and Brier would be on these cases if the
model were calibrated, by consistency resampling (ossdx.authoring.evaluate.consistency), so
that an ECE can be read against the noise of a few dozen cases. With a short list in the
knowledge base's track record (set on the validation parts; see benchmarks/track_record.py),
each set has ``short_list_held`` (how often the list held the truth) and ``short_list_size``
(its mean length), flat for the test parts as ``blind_short_list_held`` and so on.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from datetime import date
from pathlib import Path
from typing import Any

from ossdx.authoring.evaluate import evaluate, load_cases
from ossdx.kb import Kind, KnowledgeBase, load_knowledge_base
from ossdx.reasoning.cases import read_case_folder
from ossdx.reasoning.diagnosis import Reasoner

REPORTED = Path(__file__).resolve().parent / "reported.json"
KEYS = ("n", "top1", "top3", "top1_ci95", "top3_ci95", "mean_rank", "brier", "ece",
        "wrong_conf90", "mean_p_truth")
SETS = ("seed", "literature_tuning", "literature_test", "blind_tuning", "blind_test",
        "blind2_calibration", "blind2_test", "blind3_validation", "blind3_test",
        "blind4_validation", "blind4_test", "blind5_validation", "blind5_test",
        "blind6_validation", "blind6_test")
TUNING_SETS = ("seed", "literature_tuning", "literature_test", "blind_tuning")
TEST_PARTS = ("blind_test", "blind2_test", "blind3_test", "blind4_test", "blind5_test",
              "blind6_test")
POOLED = "test_parts_pooled"  # every blind set's test part together


def _sets(kb: KnowledgeBase) -> dict[str, tuple[Path, str]]:
    cases = kb.root / "cases"
    return {
        "seed": (cases / "seed", "all"),
        "literature_tuning": (cases / "literature", "tuning"),
        "literature_test": (cases / "literature", "test"),
        "blind_tuning": (cases / "blind" / "tuning", "all"),
        "blind_test": (cases / "blind" / "test", "all"),
        "blind2_calibration": (cases / "blind2" / "calibration", "all"),
        "blind2_test": (cases / "blind2" / "test", "all"),
        "blind3_validation": (cases / "blind3" / "validation", "all"),
        "blind3_test": (cases / "blind3" / "test", "all"),
        "blind4_validation": (cases / "blind4" / "validation", "all"),
        "blind4_test": (cases / "blind4" / "test", "all"),
        "blind5_validation": (cases / "blind5" / "validation", "all"),
        "blind5_test": (cases / "blind5" / "test", "all"),
        "blind6_validation": (cases / "blind6" / "validation", "all"),
        "blind6_test": (cases / "blind6" / "test", "all"),
    }


def rules_only_on_blind_test(kb: KnowledgeBase, reasoner: Reasoner) -> tuple[int, int]:
    """Scoring rules that fire on some held-out case (kb.yaml's held-out folders) and on no
    case the knowledge editor may read: all of them, and those written by hand (not compiled
    from a profile, which states every value of a finding whether or not any tuning case
    shows it)."""
    fired_test: set[str] = set()
    fired_other: set[str] = set()
    for entry in read_case_folder(kb.root / "cases", kb):
        if entry.case is None:
            continue
        target = fired_test if kb.is_held_out(entry.path) else fired_other
        target.update(reasoner.trace(entry.case, fast=True).fired)
    scoring = {r.id for r in kb.rules if r.kind in (Kind.PRIOR, Kind.EVIDENCE)}
    only = (fired_test - fired_other) & scoring
    return len(only), len({r for r in only if ".profile." not in r})


def _row(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of one set as the benchmark reports them."""
    row = {k: report[k] for k in KEYS}
    row.update({k: v for k, v in report.items() if k.endswith("_outside_top3")})
    row["reliability"] = report["reliability"]
    if "short_list" in report:
        short = report["short_list"]
        row["short_list_held"], row["short_list_size"] = short["held"], short["mean_size"]
        row["short_list_threshold"] = short["threshold"]
    cons = report.get("consistency") or {}
    row.update({k: cons[k] for k in ("ece_if_calibrated", "ece_p", "brier_if_calibrated")
                if k in cons})
    if "robustness" in report:
        rob = report["robustness"]
        row["lr_perturbed_top1"] = rob["lr_perturbed_top1"]["mean"]
        row["lr_perturbed_top1_min"] = rob["lr_perturbed_top1"]["min"]
        row["findings_dropped_top1"] = rob["findings_dropped_top1"]["mean"]
    return row


def measure(with_robustness: bool = False, sets: tuple[str, ...] = SETS) -> dict[str, Any]:
    kb = load_knowledge_base()
    reasoner = Reasoner(kb)
    result: dict[str, Any] = {"date": str(date.today()), "kb_version": kb.version}
    pooled = []  # the test parts of every blind set, together
    for name, (folder, split) in _sets(kb).items():
        if name not in sets or not folder.is_dir():
            continue
        cases, _ = load_cases(folder, kb, split)
        if name in TEST_PARTS:
            pooled += cases
        result[name] = _row(evaluate(kb, cases, reasoner=reasoner,
                                     with_robustness=with_robustness and name != "seed"))
    if pooled:
        row = _row(evaluate(kb, pooled, reasoner=reasoner))
        result[POOLED] = row
        result.update({f"{POOLED}_{k}": row[k] for k in (
            "n", "top1", "top3", "top1_ci95", "top3_ci95", "brier", "ece", "wrong_conf90",
            "ece_if_calibrated", "ece_p", "brier_if_calibrated", "short_list_held",
            "short_list_size") if k in row})
    for prefix in ("blind", "blind2", "blind3", "blind4", "blind5", "blind6"):
        test = result.get(f"{prefix}_test")
        if test is None:
            continue
        result.update({
            f"{prefix}_n": test["n"], f"{prefix}_top1": test["top1"],
            f"{prefix}_top3": test["top3"], f"{prefix}_brier": test["brier"],
            f"{prefix}_top1_ci95": test["top1_ci95"], f"{prefix}_top3_ci95": test["top3_ci95"],
            f"{prefix}_ece": test["ece"], f"{prefix}_wrong_conf90": test["wrong_conf90"],
            f"{prefix}_met_out_top3": test.get("metastasis_outside_top3", 0),
            f"{prefix}_ece_if_calibrated": test.get("ece_if_calibrated"),
            f"{prefix}_ece_p": test.get("ece_p"),
            f"{prefix}_brier_if_calibrated": test.get("brier_if_calibrated"),
            f"{prefix}_short_list_held": test.get("short_list_held"),
            f"{prefix}_short_list_size": test.get("short_list_size"),
        })
    if "blind_test" in result:
        only, handwritten = rules_only_on_blind_test(kb, reasoner)
        result["rules_only_on_blind_test"] = only
        result["handwritten_rules_only_on_blind_test"] = handwritten
    return result


def plot(result: dict[str, Any], path: Path) -> None:
    """The leader's reliability diagram on the tuning sets (pooled) beside the blind test
    part's, as an SVG with the date and the knowledge-base version in the titles."""
    import altair as alt

    from ossdx.ui.charts import pooled, reliability_chart

    tuning = pooled([result[name]["reliability"] for name in TUNING_SETS])
    n_tuning = sum(result[name]["n"] for name in TUNING_SETS)
    stamp = f"KB {result['kb_version']}, {result['date']}"
    panels = [reliability_chart(tuning, title=f"Tuning sets pooled ({n_tuning} cases), {stamp}")]
    for name, label in (("blind_test", "Blind test part"), ("blind2_test", "Blind set 2, test"),
                        ("blind3_test", "Blind set 3, test"),
                        ("blind4_test", "Blind set 4, test"),
                        ("blind5_test", "Blind set 5, test"),
                        ("blind6_test", "Blind set 6, test")):
        if name in result:
            test = result[name]
            panels.append(reliability_chart(
                test["reliability"],
                title=f"{label}, held out ({test['n']} cases; ECE {test['ece']:.3f})"))
    alt.hconcat(*panels).save(str(path))


def interval(bounds: list[float]) -> str:
    return f"{bounds[0]:.0%}-{bounds[1]:.0%}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robustness", action="store_true")
    parser.add_argument("--json", action="store_true", help="(the JSON line is always last)")
    parser.add_argument("--write", action="store_true", help="update benchmarks/reported.json")
    parser.add_argument("--plot", type=Path, metavar="SVG",
                        help="save the reliability diagrams (tuning sets pooled; blind test "
                             "part) as an SVG; needs the docs extra (vl-convert-python)")
    args = parser.parse_args(argv)
    if args.plot and importlib.util.find_spec("vl_convert") is None:
        # checked before the run, so a missing extra does not cost a measurement
        parser.error("--plot needs the docs extra: pip install -c constraints.txt -e '.[docs]'")
    result = measure(args.robustness)
    print(f"Accuracy, KB {result['kb_version']}, {result['date']}")
    print(f"{'set':18} {'n':>4} {'top-1':>7} {'95% CI':>9} {'top-3':>7} {'95% CI':>9} "
          f"{'rank':>5} {'Brier':>6} "
          f"{'ECE':>6} {'ECEcal':>6} {'Bcal':>6} {'wr>=90':>6} {'p(tru)':>6} {'met>3':>5} "
          f"{'list90':>6} {'size':>4} {'LR+-30%':>8} {'-30% f.':>8}")
    for name in (*SETS, POOLED):
        if name not in result:
            continue
        row = result[name]
        extra = (f"{row['lr_perturbed_top1']:8.1%} {row['findings_dropped_top1']:8.1%}"
                 if "lr_perturbed_top1" in row else "")
        listed = (f"{row['short_list_held']:6.1%} {row['short_list_size']:4.1f}"
                  if "short_list_held" in row else f"{'-':>6} {'-':>4}")
        print(f"{name:18} {row['n']:4d} {row['top1']:7.1%} {interval(row['top1_ci95']):>9} "
              f"{row['top3']:7.1%} {interval(row['top3_ci95']):>9} "
              f"{row['mean_rank']:5.2f} {row['brier']:6.3f} {row['ece']:6.3f} "
              f"{row.get('ece_if_calibrated', 0):6.3f} {row.get('brier_if_calibrated', 0):6.3f} "
              f"{row['wrong_conf90']:6d} {row['mean_p_truth']:6.2f} "
              f"{row.get('metastasis_outside_top3', 0):5d} {listed} {extra}")
    print(f"scoring rules that fire only on blind test cases: "
          f"{result['rules_only_on_blind_test']} (written by hand: "
          f"{result['handwritten_rules_only_on_blind_test']})")
    if args.plot:
        plot(result, args.plot)
        print(f"wrote {args.plot}")
    if args.write:
        REPORTED.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {REPORTED}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
