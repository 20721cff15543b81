"""The fixed rule that split the blind case set once into a tuning and a test part.

Within each truth, files are ordered by SHA-256 of ``"ossdx-blind-2026:" + id``; the 1st,
3rd, 5th ... go to ``tuning`` and the 2nd, 4th ... to ``test`` (so each diagnosis is split
half and half, the odd one to tuning). The rule was applied once, when the set was
committed (docs/EVALUATION.md); ``tests/test_evaluation.py`` checks that the committed
folders still follow it. Run as a script it only reports whether they do.

    python -m benchmarks.blind_split [--apply SOURCE_DIR]   (--apply was used once)
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from collections import defaultdict
from pathlib import Path

from ossdx.core.loader import read_document

BLIND = Path(__file__).resolve().parents[1] / "knowledge_base" / "cases" / "blind"
PARTS = ("tuning", "test")
SALT = "ossdx-blind-2026:"


def _key(case_id: str) -> str:
    return hashlib.sha256((SALT + case_id).encode("utf-8")).hexdigest()


def assign(files: list[Path]) -> dict[Path, str]:
    """The part of each case file, by the rule above (truths read, never shown)."""
    by_truth: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for path in files:
        data = read_document(path).data
        by_truth[str(data["truth"])].append((_key(str(data["id"])), path))
    parts = {}
    for members in by_truth.values():
        for i, (_, path) in enumerate(sorted(members)):
            parts[path] = PARTS[i % 2]
    return parts


def check() -> list[str]:
    """Files whose folder disagrees with the rule (empty when the split holds)."""
    files = sorted(BLIND.glob("*/*.yaml"))
    return [str(p) for p, part in assign(files).items() if p.parent.name != part]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apply", type=Path, help="copy SOURCE_DIR/*/*.yaml into the parts")
    args = parser.parse_args(argv)
    if args.apply:
        files = sorted(args.apply.glob("*/*.yaml"))
        for path, part in assign(files).items():
            (BLIND / part).mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, BLIND / part / path.name)
        counts = {part: sum(1 for p in assign(files).values() if p == part) for part in PARTS}
        print(f"copied {len(files)} files: {counts}")
        return 0
    wrong = check()
    print("the split follows its rule" if not wrong else f"{len(wrong)} file(s) misplaced")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
