"""A reader study: how well does a reader do with only what ossdx is given?

ossdx reads a case's coded findings, patient context and modalities, never its narrative or
images. Whether its errors come from its knowledge or from what those coded findings can tell
apart is a question a figure can answer: give a second reader exactly the same coded input,
score that reader on the same cases, and compare.

    python -m benchmarks.reader sheets --out DIR [--sets blind_test ...] [--batch 40]
    python -m benchmarks.reader score --out DIR [--answers FILE ...]

``sheets`` writes the cases of the named sets (benchmarks/accuracy.py's set names, or any
folder under the knowledge base's ``cases/``, such as a department's own cases) as reader
sheets: patient context, modalities and findings in words, nothing else (no title,
narrative, source, teaching point, file name or truth), shuffled with a fixed seed and
numbered ``r0001``, ``r0002`` ... in batches of ``--batch``, with ``diagnoses.yaml`` (the
ids a reader may answer with) and ``key.json`` (which case each sheet is). Readers answer a
batch in a YAML file of the same name under ``answers/``: for each sheet, up to five
diagnosis ids with probabilities; what the listed ones leave is shared evenly by the rest.

``score`` reads the answers and prints, per set and for the test parts pooled, the reader's
and ossdx's summary figures on the same cases (top-1, top-3, Brier, wrong leaders at
>= 90 %) and the paired counts (both right, only the reader, only ossdx, neither). Only
summary figures are printed, never a case: the held-out parts' sheets and answers are no
more for the knowledge editor's eyes than their case files are. The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from benchmarks.accuracy import TEST_PARTS, _sets
from ossdx.authoring.evaluate import CaseResult, case_result, load_cases, summarise
from ossdx.core.errors import InputError, Location, Problem
from ossdx.core.loader import read_document
from ossdx.kb import KnowledgeBase, load_knowledge_base
from ossdx.kb.case import Case
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.scoring import rank_key

SEED = 20261206
DEFAULT_SETS = (*TEST_PARTS, "blind_tuning", "literature_tuning", "literature_test")
MAX_LISTED = 5


def sheet_text(kb: KnowledgeBase, case: Case) -> dict[str, Any]:
    """What a reader sees of a case: the coded input in words, nothing else."""
    def line(var: str, value: Any) -> str:
        spec = kb.vocabulary.variable(var)
        return f"{spec.name if spec is not None else var}: {kb.value_text(var, value)}"

    return {
        "patient": [line(f"patient.{k}", v) for k, v in case.patient.items()]
        or ["nothing recorded"],
        "modalities": sorted(case.modalities) or ["none recorded"],
        "findings": [line(f, v) for f, v in case.findings.items()],
    }


def set_folders(kb: KnowledgeBase, names: Sequence[str]) -> dict[str, tuple[Path, str]]:
    """Each name's folder and split: a benchmark set, or a folder under ``cases/``."""
    known = _sets(kb)
    found = {n: known[n] if n in known else (kb.root / "cases" / n, "all") for n in names}
    missing = [n for n, (folder, _) in found.items() if not folder.is_dir()]
    if missing:
        raise ValueError(f"no set or case folder {', '.join(missing)}; sets: "
                         f"{', '.join(known)}, or a folder under {kb.root / 'cases'}")
    return found


def write_sheets(kb: KnowledgeBase, out: Path, sets: Sequence[str], batch: int) -> int:
    paths = set_folders(kb, sets)
    cases = [(name, case) for name in sets
             for case in load_cases(paths[name][0], kb, paths[name][1])[0]]
    random.Random(SEED).shuffle(cases)
    out.mkdir(parents=True, exist_ok=True)
    (out / "answers").mkdir(exist_ok=True)
    key: dict[str, dict[str, str]] = {}
    sheets: list[dict[str, Any]] = []
    for number, (name, case) in enumerate(cases, 1):
        sheet_id = f"r{number:04d}"
        key[sheet_id] = {"set": name,
                         "file": str(Path(case.location.file).relative_to(kb.root))}
        sheets.append({"sheet": sheet_id, **sheet_text(kb, case)})
    for start in range(0, len(sheets), batch):
        part = sheets[start:start + batch]
        name = f"batch{start // batch + 1:02d}.yaml"
        (out / name).write_text(yaml.safe_dump(part, sort_keys=False, allow_unicode=True),
                                encoding="utf-8")
    (out / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    (out / "diagnoses.yaml").write_text(yaml.safe_dump(
        {d: kb.diagnoses[d].name for d in kb.diagnoses}, sort_keys=False), encoding="utf-8")
    return len(sheets)


def read_answers(path: Path, sheets: Mapping[str, Any], diagnoses: Sequence[str],
                 ) -> dict[str, dict[str, float]]:
    """One answer file, checked: sheet id -> {diagnosis id: probability in [0, 1]}, at most
    five per sheet, summing to at most 1. Every problem raises :class:`InputError` with its
    line."""
    doc = read_document(path)
    problems: list[Problem] = []
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "an answer file maps sheet ids to answers, "
                                          "for example  r0007: {metastasis: 0.6}")])
    answers: dict[str, dict[str, float]] = {}
    for sheet, answer in doc.data.items():
        if sheet not in sheets:
            problems.append(doc.problem((sheet,), f"no sheet '{sheet}' in key.json"))
            continue
        if not isinstance(answer, dict) or not answer:
            problems.append(doc.problem((sheet,), "an answer maps diagnosis ids to "
                                                  "probabilities, for example {metastasis: 0.6}"))
            continue
        for dx, p in answer.items():
            if dx not in diagnoses:
                problems.append(doc.problem((sheet, dx), f"unknown diagnosis '{dx}'; allowed: "
                                                         f"{', '.join(diagnoses)}"))
            elif isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                problems.append(doc.problem((sheet, dx), f"probability {p!r} must be a "
                                                         "number from 0 to 1"))
        numbers = {str(d): float(p) for d, p in answer.items()
                   if isinstance(p, (int, float)) and not isinstance(p, bool)}
        if len(answer) > MAX_LISTED or sum(numbers.values()) > 1 + 1e-6:
            problems.append(doc.problem((sheet,), f"list at most {MAX_LISTED} diagnoses, "
                                                  "with probabilities summing to 1 or less"))
        answers[str(sheet)] = numbers
    if problems:
        raise InputError(problems)
    return answers


def reader_probabilities(answer: Mapping[str, Any] | None, diagnoses: Sequence[str],
                         ) -> dict[str, float]:
    """A reader's answer as a full distribution: the listed probabilities (scaled down if
    they sum to more than 1), the rest shared evenly by the diagnoses not listed."""
    listed = {d: float(p) for d, p in (answer or {}).items() if d in diagnoses and p}
    total = sum(listed.values())
    if total > 1:
        listed = {d: p / total for d, p in listed.items()}
        total = 1.0
    rest = [d for d in diagnoses if d not in listed]
    share = (1 - total) / len(rest) if rest else 0.0
    return {d: listed.get(d, share) for d in diagnoses}


def reader_result(case: Case, probabilities: Mapping[str, float], other: str) -> CaseResult:
    order = rank_key(other)
    ranking = tuple(sorted(probabilities, key=lambda d: order(d, probabilities[d])))
    return CaseResult(case.name, case.truth or "", case.acceptable, ranking,
                      dict(probabilities))


def mcnemar_p(b: int, c: int) -> float:
    """Exact two-sided McNemar p: the chance of a split of the b + c discordant cases at
    least this uneven if either reader were as likely to be the one right."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired(reader: Sequence[CaseResult], model: Sequence[CaseResult]) -> dict[str, Any]:
    pairs = list(zip(reader, model, strict=True))
    counts: dict[str, Any] = {
        "both": sum(r.top1 and m.top1 for r, m in pairs),
        "reader_only": sum(r.top1 and not m.top1 for r, m in pairs),
        "ossdx_only": sum(m.top1 and not r.top1 for r, m in pairs),
        "neither": sum(not r.top1 and not m.top1 for r, m in pairs)}
    counts["mcnemar_p"] = mcnemar_p(counts["reader_only"], counts["ossdx_only"])
    return counts


def _figures(results: Sequence[CaseResult], focus: Sequence[str]) -> dict[str, Any]:
    """Summary figures, with top-1 apart for the cases whose truth is one of ``focus`` (the
    must-not-miss diagnoses) and for the others."""
    s = summarise(results)
    figures = {k: s[k] for k in ("n", "top1", "top1_ci95", "top3", "brier", "wrong_conf90")}
    inside = [r for r in results if r.truth in focus]
    outside = [r for r in results if r.truth not in focus]
    figures["focus_n"], figures["rest_n"] = len(inside), len(outside)
    figures["focus_top1"] = sum(r.top1 for r in inside) / len(inside) if inside else None
    figures["rest_top1"] = sum(r.top1 for r in outside) / len(outside) if outside else None
    return figures


def score_answers(kb: KnowledgeBase, out: Path, answer_files: Sequence[Path],
                  ) -> dict[str, Any]:
    try:
        key = json.loads((out / "key.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError([Problem(Location(str(out / "key.json"), getattr(error, "lineno", 1)),
                                  f"not the key that 'sheets' writes: {error}")]) from None
    diagnoses = list(kb.diagnoses)
    answers: dict[str, Any] = {}
    for path in answer_files:
        answers.update(read_answers(path, key, diagnoses))
    reasoner = Reasoner(kb)
    by_set: dict[str, tuple[list[CaseResult], list[CaseResult]]] = {}
    cases = {str(Path(c.location.file).relative_to(kb.root)): c
             for folder, split in set_folders(kb, sorted({v["set"] for v in key.values()}))
             .values()
             for c in load_cases(folder, kb, split)[0]}
    for sheet_id, where in key.items():
        if sheet_id not in answers:
            continue
        case = cases.get(where["file"])
        if case is None:
            raise InputError([Problem(Location(str(out / "key.json")),
                                      f"sheet {sheet_id}: no case file {where['file']} in set "
                                      f"{where['set']} (the cases changed since the sheets)")])
        probabilities = reader_probabilities(answers[sheet_id], diagnoses)
        reader, model = by_set.setdefault(where["set"], ([], []))
        reader.append(reader_result(case, probabilities, kb.other))
        model.append(case_result(case, reasoner.scores(reasoner.facts(case))))
    report: dict[str, Any] = {"kb": kb.version, "sheets": len(key), "answered": 0, "sets": {}}
    groups = {name: [name] for name in by_set}
    groups["test_parts_pooled"] = [n for n in TEST_PARTS if n in by_set]
    for name, members in groups.items():
        reader = [r for m in members for r in by_set[m][0]]
        model = [r for m in members for r in by_set[m][1]]
        if not reader:
            continue
        focus = kb.manifest.must_not_miss
        report["sets"][name] = {"reader": _figures(reader, focus),
                                "ossdx": _figures(model, focus),
                                "paired": paired(reader, model)}
    report["answered"] = sum(len(v[0]) for v in by_set.values())
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"Reader study: {report['answered']} of {report['sheets']} sheets answered; "
          f"ossdx knowledge base {report['kb']}")
    print(f"{'set':22s} {'n':>4s} {'reader top-1':>12s} {'ossdx top-1':>11s} "
          f"{'reader top-3':>12s} {'ossdx top-3':>11s} {'Brier r/o':>13s} "
          f"{'both/r/o/none':>15s}")
    for name, row in report["sets"].items():
        r, m, p = row["reader"], row["ossdx"], row["paired"]
        print(f"{name:22s} {r['n']:4d} {r['top1']:12.1%} {m['top1']:11.1%} "
              f"{r['top3']:12.1%} {m['top3']:11.1%} {r['brier']:6.3f}/{m['brier']:.3f} "
              f"{p['both']:>3d}/{p['reader_only']}/{p['ossdx_only']}/{p['neither']}")
    print("paired top-1 (exact McNemar p): " + "; ".join(
        f"{name} {row['paired']['mcnemar_p']:.2g}" for name, row in report["sets"].items()))
    print("top-1 where the truth is a must-not-miss diagnosis / any other (reader, ossdx):")
    for name, row in report["sets"].items():
        r, m = row["reader"], row["ossdx"]
        if r["focus_n"] and r["rest_n"]:
            print(f"  {name:20s} {r['focus_n']:3d}: {r['focus_top1']:6.1%} {m['focus_top1']:6.1%}"
                  f"   {r['rest_n']:3d}: {r['rest_top1']:6.1%} {m['rest_top1']:6.1%}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("sheets", help="write the reader sheets")
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS))
    make.add_argument("--batch", type=int, default=40)
    grade = sub.add_parser("score", help="score the readers' answers against ossdx")
    grade.add_argument("--out", type=Path, required=True)
    grade.add_argument("--answers", type=Path, nargs="*")
    for p in (make, grade):
        p.add_argument("--kb", default=None)
    args = parser.parse_args(argv)
    kb = load_knowledge_base(args.kb)
    if args.command == "sheets":
        try:
            n = write_sheets(kb, args.out, args.sets, args.batch)
        except ValueError as error:
            parser.error(str(error))
        result: dict[str, Any] = {"sheets": n, "out": str(args.out)}
        print(f"{n} sheets written to {args.out}")
    else:
        if not (args.out / "key.json").is_file():
            parser.error(f"{args.out} has no key.json: write the sheets there first")
        files = args.answers or sorted((args.out / "answers").glob("*.yaml"))
        try:
            result = score_answers(kb, args.out, files)
        except InputError as error:
            parser.exit(2, f"{error}\n")
        print_report(result)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
