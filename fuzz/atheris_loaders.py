"""Coverage-guided fuzz target for the file loaders (on demand, not in CI).

    pip install atheris
    python fuzz/atheris_loaders.py -atheris_runs=200000 fuzz/corpus

Feeds arbitrary bytes to the case-file, response-file and YAML loaders. The project's own
``InputError`` is the expected outcome for bad input; any other exception is a crash that
atheris reports with the input that caused it. See docs/FUZZING.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with atheris.instrument_imports():
    from ossdx.core.errors import InputError
    from ossdx.core.loader import parse_bytes
    from ossdx.kb import load_knowledge_base
    from ossdx.reasoning.cases import parse_case
    from ossdx.response.assess import load_response_criteria
    from ossdx.response.files import parse_response_bytes

KB = load_knowledge_base()
CRITERIA = load_response_criteria(KB)


def test_one_input(data: bytes) -> None:
    for load in (lambda: parse_bytes(data, "fuzz.yaml"),
                 lambda: parse_case(data, "fuzz.yaml", KB),
                 lambda: parse_response_bytes(data, "fuzz.yaml", KB, CRITERIA)):
        try:
            load()
        except InputError as exc:
            for problem in exc.problems:
                assert problem.location.file == "fuzz.yaml"
                assert problem.location.line is not None and problem.location.line >= 1


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
