"""Coverage of the rules by the case files: which rules fire on which cases, and what is untested.

``ossdx coverage [CASES_DIR] [--json]`` runs every case file (by default all under the
knowledge base's ``cases/``) through the rules and reports, for each rule, the cases on which
it fired; the rules no case exercises; and the diagnoses that fewer than
:data:`MIN_CASES` case files carry as their ``truth``. A rule no case fires is a rule nobody
has seen work; a diagnosis with one case has no second opinion on its rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ossdx.core.errors import Location, Problem
from ossdx.kb.case import Case, case_facts
from ossdx.kb.model import Kind, KnowledgeBase
from ossdx.reasoning.cases import read_case_folder
from ossdx.reasoning.inference import ExpertaEngine, PythonEngine

MIN_CASES = 2
EXIT_OK, EXIT_INPUT = 0, 2


@dataclass(frozen=True)
class RuleCoverage:
    """One rule and the cases on which it fired."""

    rule: str
    kind: str
    target: str
    location: Location
    cases: tuple[str, ...]

    @property
    def exercised(self) -> bool:
        return bool(self.cases)


@dataclass(frozen=True)
class Coverage:
    """Which rules the cases exercise, and which diagnoses have too few cases."""

    cases: tuple[str, ...]
    rules: tuple[RuleCoverage, ...]
    truths: Mapping[str, tuple[str, ...]]
    problems: tuple[Problem, ...] = ()

    @property
    def unexercised(self) -> tuple[RuleCoverage, ...]:
        return tuple(r for r in self.rules if not r.exercised)

    @property
    def thin(self) -> dict[str, int]:
        """Diagnoses carried as truth by fewer than MIN_CASES case files, with their count."""
        return {dx: len(cases) for dx, cases in self.truths.items() if len(cases) < MIN_CASES}

    def of(self, rule_id: str) -> RuleCoverage:
        return next(r for r in self.rules if r.rule == rule_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": len(self.cases),
            "rules": len(self.rules),
            "exercised": len(self.rules) - len(self.unexercised),
            "fired": {r.rule: list(r.cases) for r in self.rules if r.exercised},
            "unexercised": [{"rule": r.rule, "kind": r.kind, "target": r.target,
                             "location": str(r.location)} for r in self.unexercised],
            "truths": {dx: list(cases) for dx, cases in self.truths.items()},
            "diagnoses_with_few_cases": self.thin,
            "min_cases": MIN_CASES,
            "invalid_files": sorted({p.location.file for p in self.problems}),
        }


def load_all_cases(folder: str | Path, kb: KnowledgeBase,
                   ) -> tuple[list[Case], list[Problem]]:
    """Every case file under ``folder`` (with or without a truth); problems apart."""
    entries = read_case_folder(folder, kb)
    return ([e.case for e in entries if e.case is not None],
            [p for e in entries for p in e.problems])


def compute_coverage(kb: KnowledgeBase, cases: Sequence[Case], *, fast: bool = False,
                     problems: Iterable[Problem] = ()) -> Coverage:
    """Run each case and record, per rule, the cases on which it fired.

    The experta network (the engine of record) runs the cases unless ``fast``, which uses
    its plain-Python twin (held to identical traces by the test suite).
    """
    engine = PythonEngine(kb) if fast else ExpertaEngine(kb)
    fired: dict[str, list[str]] = {r.id: [] for r in kb.rules}
    truths: dict[str, list[str]] = {dx: [] for dx in kb.diagnoses}
    names = []
    for case in cases:
        names.append(case.name)
        for rule_id in engine.run(case_facts(case, kb.vocabulary)).fired:
            fired[rule_id].append(case.name)
        if case.truth is not None:
            truths.setdefault(kb.scored_as(case.truth), []).append(case.name)
    rules = tuple(RuleCoverage(r.id, r.kind.value, r.target, r.location,
                               tuple(fired[r.id])) for r in kb.rules)
    return Coverage(tuple(names), rules, {dx: tuple(c) for dx, c in truths.items()},
                    tuple(problems))


def coverage_of_folder(kb: KnowledgeBase, folder: str | Path | None = None, *,
                       fast: bool = False) -> Coverage:
    """Coverage by every case file under ``folder`` (default: the KB's ``cases/`` without
    the held-out folders that kb.yaml declares, whose per-case results are not for the
    knowledge editor)."""
    if folder is not None:
        cases, problems = load_all_cases(folder, kb)
    else:
        entries = read_case_folder(kb.root / "cases", kb,
                                   keep=lambda path: not kb.is_held_out(path))
        cases = [e.case for e in entries if e.case is not None]
        problems = [p for e in entries for p in e.problems]
    return compute_coverage(kb, cases, fast=fast, problems=problems)


def _short(items: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


KIND_TITLES = {
    Kind.CONCEPT.value: "Concept rules (each a way a derived concept holds)",
    Kind.PRIOR.value: "Prior factors",
    Kind.EVIDENCE.value: "Evidence rules",
    Kind.PITFALL.value: "Pitfalls",
    Kind.RECOMMENDATION.value: "Recommendations",
}


def format_coverage(coverage: Coverage) -> str:
    """The text report of ``ossdx coverage``."""
    total, untested = len(coverage.rules), len(coverage.unexercised)
    share = (total - untested) / total if total else 1.0
    lines = [f"{len(coverage.cases)} case file(s); {total - untested} of {total} rules "
             f"fired on at least one case ({share:.0%})", ""]
    for kind, title in KIND_TITLES.items():
        rules = [r for r in coverage.rules if r.kind == kind]
        if not rules:
            continue
        done = sum(r.exercised for r in rules)
        lines.append(f"{title}: {done} of {len(rules)} exercised")
        for r in rules:
            count = f"{len(r.cases):3d} case(s)" if r.cases else "  never   "
            lines.append(f"  {count}  {r.rule}" + (f"  ({_short(r.cases)})" if r.cases else ""))
        lines.append("")
    lines.append(f"Rules no case exercises ({untested}):")
    untested_rules = sorted(coverage.unexercised, key=lambda r: (r.location.file,
                                                                   r.location.line or 0))
    lines += [f"  {r.location}: {r.rule}" for r in untested_rules] or ["  none"]
    lines.append("")
    thin = coverage.thin
    lines.append(f"Diagnoses with fewer than {MIN_CASES} cases as truth ({len(thin)}):")
    lines += [f"  {dx}: {n} case(s)" for dx, n in thin.items()] or ["  none"]
    if coverage.problems:
        lines += ["", f"Case files that could not be read ({len(coverage.problems)} "
                  "problem(s)); see the messages above"]
    return "\n".join(lines)
