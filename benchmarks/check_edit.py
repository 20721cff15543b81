"""Check a knowledge edit the way docs/EVALUATION.md requires before it is kept.

Scores two knowledge bases, the edited one and a baseline (a folder, or the knowledge base as
it is at a git revision), on the validation parts (the second blind set's calibration part
and the third to sixth sets' validation parts: published cases held out from the knowledge)
and on the tuning sets, and prints summary figures only, never a case. The verdict follows
the stated rule: an edit is kept only if, on the validation parts pooled, top-1 does not
fall and the Brier score does not rise. It also prints, as counts, how far the change stands
out from noise (leaders turned right and wrong, a paired bootstrap interval of the Brier
change); the verdict does not use them. When the edited knowledge base is the checkout's,
the verdict also needs the standing guards to pass (GUARDS: the textbook presentations lead
with their diagnosis, and no tuning set falls below its reported figures or loses a
metastasis from its top three), run with pytest; ``--no-guards`` skips them. (Added in
stop 34, after an edit kept by the figures alone failed a textbook presentation.) Record
every check in docs/EVALUATION.md, kept or not.

    python -m benchmarks.check_edit --against HEAD          # the edit in the working tree
    python -m benchmarks.check_edit --baseline OLD_KB_DIR [--kb NEW_KB_DIR]

Exit status 0 when the edit may be kept, 1 when it may not. The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.track_record import FOLDERS as VALIDATION
from ossdx.authoring.evaluate import CaseResult, case_result, load_cases, summarise
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.scoring import score

ROOT = Path(__file__).resolve().parent.parent
TUNING = ("seed", "literature", "blind/tuning", "composite")
POOLED = "validation parts"
SHOWN = ("n", "top1", "top3", "brier", "ece", "wrong_conf90")
DRAWS = 2000  # paired bootstrap draws of the Brier change
SEED = 20261206


def figures(kb_dir: Path, folders: tuple[str, ...],
            pooled_out: list[CaseResult] | None = None) -> dict[str, dict[str, Any]]:
    """Summary figures of each folder (those that exist), and of the validation parts pooled
    (whose per-case results go to ``pooled_out``, for :func:`paired`, never printed)."""
    kb = load_knowledge_base(kb_dir)
    reasoner = Reasoner(kb)
    rows: dict[str, dict[str, Any]] = {}
    pooled = []
    for folder in folders:
        path = kb.root / "cases" / folder
        if not path.is_dir():
            continue
        cases = load_cases(path, kb)[0]
        results = [case_result(c, score(kb, reasoner.trace(c, fast=True))) for c in cases]
        if not results:
            continue
        summary = summarise(results)
        rows[folder] = {key: summary[key] for key in SHOWN} | {"version": kb.version}
        if folder in VALIDATION:
            pooled += results
    if pooled:
        summary = summarise(pooled)
        rows[POOLED] = {key: summary[key] for key in SHOWN} | {"version": kb.version}
        if pooled_out is not None:
            pooled_out.extend(pooled)
    return rows


def paired(before: list[CaseResult], after: list[CaseResult]) -> dict[str, Any]:
    """How far the change on the validation parts stands out from noise, as counts only:
    how many leaders turned right and how many turned wrong (an edit that moves top-1 by one
    or two cases is within noise), and the 95 % interval of the Brier change over the same
    cases resampled (paired bootstrap; an interval that straddles 0 is noise)."""
    old = {r.case: r for r in before}
    pairs = [(old[r.case], r) for r in after if r.case in old]
    rng = random.Random(SEED)
    deltas = [b.brier - a.brier for a, b in pairs]
    means = sorted(sum(rng.choices(deltas, k=len(deltas))) / len(deltas)
                   for _ in range(DRAWS)) if deltas else [0.0]
    return {"turned_right": sum(1 for a, b in pairs if b.top1 and not a.top1),
            "turned_wrong": sum(1 for a, b in pairs if a.top1 and not b.top1),
            "brier_change": sum(deltas) / len(deltas) if deltas else 0.0,
            "brier_change_95": [means[int(0.025 * len(means))],
                                means[min(len(means) - 1, int(0.975 * len(means)))]]}


def revision_kb(revision: str, into: Path) -> Path:
    """The knowledge_base folder as committed at ``revision``, extracted under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision,
                              "knowledge_base"], capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit(f"check_edit: cannot read knowledge_base at {revision!r}: "
                         f"{archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "knowledge_base"


def verdict(before: dict[str, Any], after: dict[str, Any]) -> tuple[bool, str]:
    if after["top1"] < before["top1"]:
        return False, "top-1 fell on the validation parts"
    if after["brier"] > before["brier"]:
        return False, "the Brier score rose on the validation parts"
    return True, "top-1 did not fall and the Brier score did not rise on the validation parts"


def _row(name: str, label: str, x: dict[str, Any]) -> str:
    return (f"{name:20s} {label:7s} {x['n']:4d} {x['top1']:7.1%} {x['top3']:7.1%} "
            f"{x['brier']:8.5f} {x['ece']:6.3f} {x['wrong_conf90']:6d}")


GUARDS = ("tests/test_textbook.py", "tests/test_accuracy.py")


def guards_pass() -> bool:
    """Run the standing guards on the checkout's knowledge base; print their last line."""
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n0", "-p", "no:cacheprovider",
                          *GUARDS], cwd=ROOT, capture_output=True, text=True, check=False)
    lines = run.stdout.strip().splitlines()
    print(f"guards ({', '.join(GUARDS)}): {lines[-1] if lines else run.stderr.strip()}")
    return run.returncode == 0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default=str(ROOT / "knowledge_base"),
                        help="the edited knowledge base (default: the checkout's)")
    base = parser.add_mutually_exclusive_group(required=True)
    base.add_argument("--against", metavar="REV", help="baseline: knowledge_base at this git "
                      "revision (HEAD: the last commit, so the edit is the working tree's)")
    base.add_argument("--baseline", metavar="DIR", help="baseline: this knowledge-base folder")
    parser.add_argument("--json", action="store_true", help="(the JSON line is always last)")
    parser.add_argument("--no-guards", action="store_true",
                        help="do not run the standing guards (they run only when the edited "
                             "knowledge base is the checkout's)")
    args = parser.parse_args(argv)
    folders = (*VALIDATION, *TUNING)
    with tempfile.TemporaryDirectory(prefix="ossdx-check-") as tmp:
        old_dir = Path(args.baseline) if args.baseline else revision_kb(args.against, Path(tmp))
        old_cases: list[CaseResult] = []
        new_cases: list[CaseResult] = []
        before = figures(old_dir, folders, old_cases)
        after = figures(Path(args.kb), folders, new_cases)
    if POOLED not in before or POOLED not in after:
        raise SystemExit("check_edit: no validation cases under "
                         f"{', '.join(VALIDATION)} in both knowledge bases")
    keep, reason = verdict(before[POOLED], after[POOLED])
    print(f"{'set':20s} {'':7s} {'n':>4s} {'top-1':>7s} {'top-3':>7s} {'Brier':>8s} "
          f"{'ECE':>6s} {'wr>=90':>6s}")
    for name in (POOLED, *folders):
        if name in before and name in after:
            print(_row(name, "before", before[name]))
            print(_row("", "after", after[name]))
    noise = paired(old_cases, new_cases)
    low, high = noise["brier_change_95"]
    print(f"before: {before[POOLED]['version']}  after: {after[POOLED]['version']}")
    print(f"validation parts: {noise['turned_right']} leader(s) turned right, "
          f"{noise['turned_wrong']} turned wrong; Brier change {noise['brier_change']:+.5f} "
          f"(95 % paired bootstrap {low:+.5f} to {high:+.5f})")
    guarded = not args.no_guards and Path(args.kb).resolve() == (ROOT / "knowledge_base").resolve()
    guards = guards_pass() if guarded else None
    if keep and guards is False:
        keep, reason = False, "a standing guard fails (" + ", ".join(GUARDS) + ")"
    print(f"{'KEEP' if keep else 'DO NOT KEEP'}: {reason}")
    result = {"keep": keep, "reason": reason, "before": before, "after": after,
              "paired": noise, "guards": guards}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["keep"] else 1)
