"""``ossdx graph``: export the knowledge graph (DOT, GraphML or JSON)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ossdx.authoring.graph import build_graph, export, filtered
from ossdx.core.errors import InputError, Location, Problem, allowed, did_you_mean
from ossdx.kb import load_knowledge_base


def check_id(option: str, given: str, choices: Iterable[str]) -> None:
    """Refuse an id given to ``option`` that is not one of ``choices`` (with did-you-mean)."""
    choices = list(choices)
    if given not in choices:
        raise InputError([Problem(Location(option), f"unknown id '{given}'"
                                  f"{did_you_mean(given, choices)}; {allowed(sorted(choices))}",
                                  code="unknown-id")])


def run(args: argparse.Namespace, out: TextIO) -> int:
    """``ossdx graph [--diagnosis ID] [--finding ID] [--format F] [-o FILE]``."""
    kb = load_knowledge_base(args.kb)
    if args.diagnosis is not None:
        check_id("--diagnosis", args.diagnosis, kb.diagnoses)
    if args.finding is not None:
        variables = [*kb.findings, *(k for k in kb.vocabulary.patient)]
        check_id("--finding", args.finding, variables)
    graph = filtered(build_graph(kb), diagnosis=args.diagnosis, finding=args.finding)
    text = export(graph, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        out.write(f"wrote {args.output}: {graph.number_of_nodes()} nodes, "
                  f"{graph.number_of_edges()} edges ({args.format})\n")
    else:
        out.write(text)
    return 0
