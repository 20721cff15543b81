"""``ossdx validate``: every problem of a knowledge base, beyond the schema.

Schema and reference errors come from the loader; this module adds checks over the loaded
objects (coverage of each diagnosis by rules, case files against the vocabulary) and
reports everything as ``file:line: message`` with a severity.
"""

from __future__ import annotations

from pathlib import Path

from .cases import load_case
from .errors import InputError, Location, Problem, Severity
from .kb import check_knowledge_base, default_kb_path
from .kb.model import Kind, KnowledgeBase
from .loader import iter_yaml_files

MIN_RULES = 4


def lint(kb: KnowledgeBase) -> list[Problem]:
    """Checks over a loaded knowledge base."""
    problems = []
    for dx_id in kb.diagnoses:
        rules = [r for r in kb.rules if r.kind is Kind.EVIDENCE and r.target == dx_id]
        location = _diagnosis_location(kb, dx_id)
        if len(rules) < MIN_RULES:
            problems.append(Problem(location, f"diagnosis '{dx_id}' has {len(rules)} evidence "
                            f"rule(s); {MIN_RULES} or more make a useful entry",
                            Severity.WARNING, code="few-rules"))
        if not any(r.lr < 1 for r in rules):
            problems.append(Problem(location, f"diagnosis '{dx_id}' has no rule against it; "
                                    "nothing can lower it", Severity.WARNING,
                                    code="no-rule-against"))
        if not any(r.lr > 1 for r in rules):
            problems.append(Problem(location, f"diagnosis '{dx_id}' has no rule for it",
                                    code="no-rule-for"))
    return problems


def _diagnosis_location(kb: KnowledgeBase, dx_id: str) -> Location:
    path = kb.root / "diagnoses" / f"{dx_id}.yaml"
    try:
        shown = str(path.relative_to(kb.root.parent))
    except ValueError:
        shown = str(path)
    return Location(shown, 1)


def check_cases(kb: KnowledgeBase) -> list[Problem]:
    """Every case file under ``cases/`` must load against the vocabulary."""
    problems: list[Problem] = []
    folder = kb.root / "cases"
    if not folder.is_dir():
        return problems
    for path in iter_yaml_files(folder):
        try:
            load_case(path, kb, name=str(path.relative_to(kb.root.parent)))
        except InputError as exc:
            problems.extend(exc.problems)
    return problems


def validate_folder(root: Path | None = None) -> list[Problem]:
    """Everything ``ossdx validate`` reports, sorted by file and line."""
    root = root or default_kb_path()
    kb, problems = check_knowledge_base(root)
    if kb is not None:
        problems += lint(kb)
        problems += check_cases(kb)
    return sorted(set(problems), key=lambda p: (p.location.file, p.location.line or 0,
                                                p.severity != Severity.ERROR, p.message))
