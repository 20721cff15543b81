"""``ossdx typical``: does each diagnosis lead on its own typical picture?"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from ossdx.authoring.typical import check_typical, format_typical, typical_as_dict
from ossdx.cli.graph import check_id
from ossdx.core.errors import InputError, Location, Problem
from ossdx.core.loader import parse_text
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import make_case

EXIT_OK = 0


def run(args: argparse.Namespace, out: TextIO) -> int:
    """``ossdx typical [--signs K] [--diagnosis ID] [--patient FIELD=VALUE ...]
    [--modality ID ...] [--json]``; advisory, so it exits 0."""
    kb = load_knowledge_base(args.kb)
    if args.signs < 1:
        raise InputError([Problem(Location("--signs"), f"{args.signs} findings per picture; "
                                  "give 1 or more", code="bad-value")])
    chosen = None
    if args.diagnosis is not None:
        check_id("--diagnosis", args.diagnosis, sorted(kb.profiles))
        chosen = [args.diagnosis]
    modalities = None
    if args.modality:
        for modality in args.modality:
            check_id("--modality", modality, sorted(kb.vocabulary.modalities))
        modalities = frozenset(args.modality)
    patient = _patient(args.patient or [])
    make_case(kb, {}, patient, name="--patient")  # checked like a case file's patient
    results = check_typical(kb, args.signs, chosen, patient, modalities)
    if args.json:
        out.write(json.dumps(typical_as_dict(results, args.signs, patient, modalities),
                             indent=2, ensure_ascii=False, default=sorted) + "\n")
    else:
        given = ", ".join(f"{k}={v}" for k, v in patient.items())
        context = [f"patient {given}"] if given else []
        if modalities:
            context.append(f"only what {' and '.join(sorted(modalities))} can show")
        out.write(format_typical(kb, results, args.signs, "; ".join(context)) + "\n")
    return EXIT_OK


def _patient(pairs: list[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` options as a patient mapping; each value read as YAML, so that
    ``age=70`` is a number and ``treatment=[surgery, radiation]`` a list."""
    patient: dict[str, Any] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field:
            raise InputError([Problem(Location("--patient"), f"'{pair}' is not FIELD=VALUE "
                                      "(for example primary=none or labs.paraprotein=present)",
                                      code="bad-value")])
        patient[field.strip()] = parse_text(f"value: {value}\n", "--patient").data["value"]
    return patient
