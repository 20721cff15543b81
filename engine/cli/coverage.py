"""``ossdx coverage [CASES_DIR] [--json]``: which rules the case files exercise."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from ossdx.authoring.coverage import coverage_of_folder, format_coverage
from ossdx.core.errors import InputError, Location, Problem
from ossdx.kb import load_knowledge_base

EXIT_OK, EXIT_INPUT = 0, 2


def run(args: argparse.Namespace, out: TextIO) -> int:
    """``ossdx coverage [CASES_DIR] [--json]``."""
    kb = load_knowledge_base(args.kb)
    folder = Path(args.cases_dir) if args.cases_dir else kb.root / "cases"
    if not folder.exists():
        raise InputError([Problem(Location(str(folder), 1), "no such file or folder",
                                  code="missing")])
    coverage = coverage_of_folder(kb, folder)
    for problem in coverage.problems:
        sys.stderr.write(f"{problem}\n")
    if args.json:
        out.write(json.dumps(coverage.as_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(format_coverage(coverage) + "\n")
    return EXIT_INPUT if coverage.problems else EXIT_OK
