"""How many questions until the leading diagnosis settles: adaptive vs fixed orders.

For every case file in the repository (under knowledge_base/cases), simulate a user who
knows the patient context and the modalities performed and answers each question from the
case file ('not assessed' when the file lacks the finding; that question still counts).
The *final* leader is the leader with all the case's findings. For each strategy we count
the questions asked until the leader equals the final one and stays so:

* adaptive: the engine's next question (greatest expected entropy reduction per question,
  told which findings were answered 'not assessed');
* KB order: the findings in knowledge-base order;
* random: a random order (fixed seed).

Every strategy asks only findings whose modality was performed and that are relevant so far.
We also report the adaptive strategy's top-1 accuracy when it stops by its own rule
(confidence threshold, or no question could change the leader) against the full-information
top-1 accuracy. The report rates behind the adaptive strategy are estimated from every case
file but the blind test part; the table by part shows that held-out part apart (as counts of
questions only: no case is named).

    python -m benchmarks.questions [--json] [--cases DIR] [--seed N]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ossdx.advice.questions import QuestionAdvisor
from ossdx.kb import KnowledgeBase, load_knowledge_base
from ossdx.kb.case import Case
from ossdx.reasoning.cases import read_case_folder
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.scoring import softmax

Order = Callable[[Case, set[str]], str | None]


def leader(advisor: QuestionAdvisor, case: Case) -> str:
    scores = advisor.table.log_scores(advisor.reasoner.python.run(advisor.reasoner.facts(case)))
    probs = softmax(scores)
    return max(probs, key=lambda d: (probs[d], d))


def run_strategy(advisor: QuestionAdvisor, full: Case, choose: Order) -> tuple[list[str], int]:
    """Ask until nothing is left; return leaders after each question and the count."""
    case = full.with_findings({})
    asked: set[str] = set()
    leaders = [leader(advisor, case)]
    while True:
        finding = choose(case, asked)
        if finding is None:
            break
        asked.add(finding)
        if finding in full.findings:
            case = case.with_findings({**case.findings, finding: full.findings[finding]})
        leaders.append(leader(advisor, case))
    return leaders, len(asked)


def settled_at(leaders: Sequence[str], final: str) -> int:
    """Questions asked before the leader equals ``final`` and stays there."""
    index = len(leaders) - 1
    while index > 0 and leaders[index - 1] == final:
        index -= 1
    return index if leaders[-1] == final else len(leaders) - 1


def adaptive(advisor: QuestionAdvisor) -> Order:
    """The engine's next question (with its topic preference), never stopping early."""
    last_topic: list[str | None] = [None]

    def choose(case: Case, asked: set[str]) -> str | None:
        not_assessed = asked - set(case.findings)
        ranked = advisor.rank(case, None, not_assessed)
        if ranked:
            chosen = advisor.pick(ranked, last_topic[0])
            last_topic[0] = chosen.topic
            return chosen.finding
        rest = advisor.candidates(case, None, not_assessed)
        return rest[0] if rest else None
    return choose


def fixed(advisor: QuestionAdvisor, order: Sequence[str]) -> Order:
    def choose(case: Case, asked: set[str]) -> str | None:
        available = set(advisor.candidates(case))
        return next((f for f in order if f in available and f not in asked), None)
    return choose


def adaptive_stop(advisor: QuestionAdvisor, full: Case) -> tuple[str, int]:
    """The adaptive strategy with its stopping rule: the leader when it stops, questions."""
    case = full.with_findings({})
    asked: set[str] = set()
    topic = None
    while True:
        advice = advisor.advise(case, topic, asked - set(case.findings))
        question = advice.question
        if question is None:
            break
        asked.add(question.finding)
        topic = question.topic
        if question.finding in full.findings:
            case = case.with_findings({**case.findings,
                                       question.finding: full.findings[question.finding]})
    return leader(advisor, case), len(asked)


def load_all(kb: KnowledgeBase, folder: Path) -> list[Case]:
    return [case for case, _ in load_parts(kb, folder)]


def load_parts(kb: KnowledgeBase, folder: Path, held_out: bool = False,
               ) -> list[tuple[Case, str]]:
    """Every case with findings, and its part. The held-out folders of kb.yaml (the blind
    sets' test and calibration parts) are left out unless ``held_out`` (a milestone look, to
    be recorded in docs/EVALUATION.md): this benchmark also reports accuracy when the
    questioning stops."""
    return [(e.case, _part(e.path)) for e in read_case_folder(folder, kb)
            if e.case and e.case.findings and (held_out or not kb.is_held_out(e.path))]


def _part(path: Path) -> str:
    blind = next((p for p in path.parts if p.startswith("blind")), None)
    if blind is not None:
        return f"{blind}, {path.parent.name} part"
    if "literature" in path.parts:
        return "vignettes (2026-11)"
    return "seed" if "seed" in path.parts else "other"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="Questions to a settled diagnosis.")
    parser.add_argument("--json", action="store_true", help="(the JSON line is always last)")
    parser.add_argument("--cases", type=Path, default=None)
    parser.add_argument("--kb", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--held-out", action="store_true",
                        help="also the blind test part (a look: record it in EVALUATION.md)")
    args = parser.parse_args(argv)
    kb = load_knowledge_base(args.kb)
    parts = load_parts(kb, args.cases or kb.root / "cases", args.held_out)
    cases = [case for case, _ in parts]
    advisor = QuestionAdvisor(Reasoner(kb))
    rng = random.Random(args.seed)
    counts: dict[str, list[int]] = {"adaptive": [], "kb_order": [], "random": []}
    stop_hits, full_hits, stop_questions = 0, 0, []
    kb_order = list(kb.findings)
    for case in cases:
        final = leader(advisor, case)
        good = {case.truth, *case.acceptable} if case.truth else {final}
        full_hits += final in good
        shuffled = kb_order[:]
        rng.shuffle(shuffled)
        for name, choose in (("adaptive", adaptive(advisor)),
                             ("kb_order", fixed(advisor, kb_order)),
                             ("random", fixed(advisor, shuffled))):
            leaders, _ = run_strategy(advisor, case, choose)
            counts[name].append(settled_at(leaders, final))
        stopped_leader, asked = adaptive_stop(advisor, case)
        stop_hits += stopped_leader in good
        stop_questions.append(asked)
    n = len(cases)
    by_part: dict[str, dict[str, Any]] = {}
    for name in sorted({part for _, part in parts}):
        rows = [i for i, (_, part) in enumerate(parts) if part == name]
        a = statistics.mean(counts["adaptive"][i] for i in rows)
        k = statistics.mean(counts["kb_order"][i] for i in rows)
        by_part[name] = {"cases": len(rows), "adaptive_mean": a, "kb_order_mean": k,
                         "ratio": a / k if k else None}
    result = {
        "date": str(date.today()),
        "kb_version": kb.version,
        "cases": n,
        "adaptive_mean": statistics.mean(counts["adaptive"]),
        "adaptive_median": statistics.median(counts["adaptive"]),
        "kb_order_mean": statistics.mean(counts["kb_order"]),
        "kb_order_median": statistics.median(counts["kb_order"]),
        "random_mean": statistics.mean(counts["random"]),
        "random_median": statistics.median(counts["random"]),
        "adaptive_top1": stop_hits / n,
        "adaptive_questions_mean": statistics.mean(stop_questions),
        "full_info_top1": full_hits / n,
    }
    result["adaptive_vs_kb_order"] = result["adaptive_mean"] / result["kb_order_mean"]
    result["by_part"] = by_part
    print(f"Questions until the leader settles, {n} case files, KB {kb.version}, {date.today()}")
    print(f"{'strategy':10} {'mean':>6} {'median':>7}")
    for name in counts:
        print(f"{name:10} {result[name + '_mean']:6.2f} {result[name + '_median']:7.1f}")
    print(f"adaptive / KB order (mean): {result['adaptive_vs_kb_order']:.0%}")
    print(f"{'part':28} {'cases':>5} {'adaptive':>8} {'KB order':>8} {'ratio':>6}")
    for name, row in by_part.items():
        ratio = f"{row['ratio']:.0%}" if row["ratio"] is not None else "-"
        print(f"{name:28} {row['cases']:5} {row['adaptive_mean']:8.2f} "
              f"{row['kb_order_mean']:8.2f} {ratio:>6}")
    print(f"top-1 when the adaptive strategy stops by itself: {result['adaptive_top1']:.1%} "
          f"after {result['adaptive_questions_mean']:.1f} questions on average; "
          f"with every finding: {result['full_info_top1']:.1%}")
    print(json.dumps(_rounded(result)))
    return result


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


if __name__ == "__main__":
    main()
