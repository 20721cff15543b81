"""Latency of one answer: updated differential + explanation + next question.

For the shipped knowledge base and a synthetic one ten times larger (benchmarks/synthetic.py),
replays the answers of the repository's case files one at a time (each case's findings in
knowledge-base order) and times each step: the experta engine of record, the explanation and
the next-question advice. Reports median and p95, KB load and compile time, peak memory, and,
measured in the same run on the same rules and facts, a plain-Python evaluation of the same
compiled rules (the floor) with the ratio experta / floor.

    python -m benchmarks.latency [--json] [--answers 200] [--factor 10]

The last line printed is one JSON object (keys include p50_ms, p95_ms, p95_ms_10x,
compile_s, ratio_to_floor, and answer_to_floor: the p50 of a whole answer over the p50 of
the plain-Python rule run, in the same run). The question advisor remembers what answers do
to the scores (ossdx.advice.effects), as it does in the running app; the cold columns time
each answer with that memory emptied first.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ossdx.advice.questions import QuestionAdvisor
from ossdx.kb import KnowledgeBase, load_knowledge_base
from ossdx.kb.case import Case
from ossdx.reasoning.cases import read_case_folder
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.inference import ExpertaEngine, PythonEngine

from .synthetic import scale_case, scale_kb


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def answer_steps(kb: KnowledgeBase, limit: int) -> list[Case]:
    """Case states after each answer, replaying every case file's findings in KB order."""
    steps: list[Case] = []
    order = {f: i for i, f in enumerate(kb.findings)}
    cases = [e.case for e in read_case_folder(kb.root / "cases", kb) if e.case and e.case.findings]
    while len(steps) < limit and cases:
        for case in cases:
            answered: dict[str, Any] = {}
            for finding in sorted(case.findings, key=order.__getitem__):
                answered[finding] = case.findings[finding]
                steps.append(case.with_findings(dict(answered)))
            if len(steps) >= limit:
                break
    return steps[:limit]


def time_each(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[float]:
    """Milliseconds of ``fn`` on each item."""
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(kb: KnowledgeBase, steps: Sequence[Case]) -> dict[str, float]:
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    reasoner = Reasoner(kb)
    _ = reasoner.experta  # the network of record compiles on first use: count it here
    compile_s = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    advisor = QuestionAdvisor(reasoner)

    def one_answer(case: Case) -> None:
        differential = reasoner.diagnose(case)
        advisor.advise(case, trace=differential.trace)  # the app passes the same trace

    for case in steps[:5]:  # warm caches (cones, rule indexes) as a running app would
        one_answer(case)
    full = time_each(one_answer, steps)

    def cold_answer(case: Case) -> None:
        advisor.effects.clear()  # nothing remembered from earlier answers
        one_answer(case)

    cold = time_each(cold_answer, steps)
    facts = [reasoner.facts(c) for c in steps]
    experta = ExpertaEngine(kb)
    python = PythonEngine(kb)
    record = time_each(experta.run, facts)
    floor = time_each(python.run, facts)
    return {
        "rules": len(kb.rules),
        "findings": len(kb.findings),
        "diagnoses": len(kb.diagnoses),
        "answers": len(steps),
        "p50_ms": statistics.median(full),
        "p95_ms": percentile(full, 95),
        "cold_p50_ms": statistics.median(cold),
        "cold_p95_ms": percentile(cold, 95),
        "engine_p50_ms": statistics.median(record),
        "floor_p50_ms": statistics.median(floor),
        "ratio_to_floor": statistics.median(record) / statistics.median(floor),
        "answer_to_floor": statistics.median(full) / statistics.median(floor),
        "compile_s": compile_s,
        "compile_peak_mb": peak / 1e6,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="Latency of one answer, shipped and 10x KB.")
    parser.add_argument("--json", action="store_true", help="(the JSON line is always last)")
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--kb", type=Path, default=None)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    kb = load_knowledge_base(args.kb)
    load_s = time.perf_counter() - start
    steps = answer_steps(kb, args.answers)
    shipped = measure(kb, steps)
    big_kb = scale_kb(kb, args.factor)
    big = measure(big_kb, [scale_case(c, args.factor) for c in steps])

    rows = [("shipped", shipped), (f"{args.factor}x", big)]
    print(f"ossdx latency benchmark, {date.today()}, Python {platform.python_version()}, "
          f"KB {kb.version}; KB load (read + check YAML): {load_s:.3f} s")
    print(f"{'KB':8} {'rules':>6} {'answers':>7} {'p50 ms':>8} {'p95 ms':>8} {'cold p50':>8} "
          f"{'experta':>8} {'floor':>7} {'ratio':>6} {'answer':>6} {'compile s':>9} "
          f"{'peak MB':>8}")
    for name, row in rows:
        print(f"{name:8} {row['rules']:6d} {row['answers']:7d} {row['p50_ms']:8.2f} "
              f"{row['p95_ms']:8.2f} {row['cold_p50_ms']:8.2f} {row['engine_p50_ms']:8.2f} "
              f"{row['floor_p50_ms']:7.3f} {row['ratio_to_floor']:6.1f} "
              f"{row['answer_to_floor']:6.1f} {row['compile_s']:9.3f} "
              f"{row['compile_peak_mb']:8.1f}")
    print("p50/p95: one answer -> differential (experta) + explanation + next question; "
          "cold: the same with nothing remembered from earlier answers.")
    print("ratio: experta / floor, rule evaluation alone (experta network vs plain Python, "
          "same rules); answer: a whole answer (p50) / floor (p50).")
    result = {
        "date": str(date.today()),
        "kb_version": kb.version,
        "answers": shipped["answers"],
        "p50_ms": round(shipped["p50_ms"], 3),
        "p95_ms": round(shipped["p95_ms"], 3),
        "p50_ms_10x": round(big["p50_ms"], 3),
        "p95_ms_10x": round(big["p95_ms"], 3),
        "load_s": round(load_s, 4),
        "compile_s": round(shipped["compile_s"], 4),
        "compile_s_10x": round(big["compile_s"], 4),
        "ratio_to_floor": round(shipped["ratio_to_floor"], 2),
        "answer_to_floor": round(shipped["answer_to_floor"], 2),
        "floor_p50_ms": round(shipped["floor_p50_ms"], 4),
        "answer_to_floor_10x": round(big["answer_to_floor"], 2),
        "cold_p50_ms": round(shipped["cold_p50_ms"], 3),
        "cold_p95_ms_10x": round(big["cold_p95_ms"], 3),
        "ratio_to_floor_10x": round(big["ratio_to_floor"], 2),
        "peak_mb": round(shipped["compile_peak_mb"], 2),
        "peak_mb_10x": round(big["compile_peak_mb"], 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
