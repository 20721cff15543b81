"""``ossdx response FILE [--json]``: treatment response by MDA, WHO and UICC."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ossdx.kb import load_knowledge_base
from ossdx.response.assess import build_assessor, format_assessment
from ossdx.response.files import load_response_file


def run(args: argparse.Namespace, out: TextIO) -> int:
    """``ossdx response FILE [--json]``; bad files raise :class:`InputError` (exit 2)."""
    kb = load_knowledge_base(getattr(args, "kb", None))
    assessor = build_assessor(kb)
    case = load_response_file(args.file, kb, assessor.criteria)
    result = assessor.assess(case)
    if args.json:
        data = result.as_dict()
        data["disclaimer"] = kb.manifest.disclaimer
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(format_assessment(result, kb.manifest.disclaimer) + "\n")
    return 0
