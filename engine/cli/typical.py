"""``ossdx typical``: does each diagnosis lead on its own typical picture?"""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ossdx.authoring.typical import check_typical, format_typical, typical_as_dict
from ossdx.cli.graph import _check_id
from ossdx.core.errors import InputError, Location, Problem
from ossdx.kb import load_knowledge_base

EXIT_OK = 0


def run(args: argparse.Namespace, out: TextIO) -> int:
    """``ossdx typical [--signs K] [--diagnosis ID] [--json]``; advisory, so it exits 0."""
    kb = load_knowledge_base(args.kb)
    if args.signs < 1:
        raise InputError([Problem(Location("--signs"), f"{args.signs} findings per picture; "
                                  "give 1 or more", code="bad-value")])
    chosen = None
    if args.diagnosis is not None:
        _check_id("--diagnosis", args.diagnosis, sorted(kb.profiles))
        chosen = [args.diagnosis]
    results = check_typical(kb, args.signs, chosen)
    if args.json:
        out.write(json.dumps(typical_as_dict(results, args.signs), indent=2,
                             ensure_ascii=False) + "\n")
    else:
        out.write(format_typical(kb, results, args.signs) + "\n")
    return EXIT_OK
