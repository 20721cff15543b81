"""The fixed rules that split each blind case set once into its parts.

Within each truth, files are ordered by SHA-256 of the set's salt + the case id; the 1st,
3rd, 5th ... go to the first part and the 2nd, 4th ... to the second (so each diagnosis is
split half and half, the odd one to the first part).

* ``blind`` (2026-12, 178 cases): ``tuning`` (the knowledge editor may read it) and
  ``test`` (held out), salt ``ossdx-blind-2026:``.
* ``blind2`` (2026-12, the second round): ``calibration`` (held out from the knowledge
  editor; only the two global parameters of the score are fitted on it, by
  benchmarks/calibrate.py) and ``test`` (held out), salt ``ossdx-blind2-2026:``.
* ``blind3`` (2026-12, the third round, 145 cases): ``test`` (held out; first, so that the
  odd case of each truth goes to it and the part that reports is the larger) and
  ``validation`` (held out from the knowledge editor; its summary figures are the check a
  knowledge edit must pass before it is kept), salt ``ossdx-blind3-2026:``.
* ``blind4`` (2026-12, the fourth round, 145 cases): ``test`` and ``validation`` as for
  ``blind3``, both held out, salt ``ossdx-blind4-2026:``. Committed at the end of stop 24,
  after that stop's knowledge edits, so that its first measurement is of knowledge that never
  met it.
* ``blind5`` (2026-12-07, the fifth round): ``test`` and ``validation`` as for ``blind3``,
  both held out, salt ``ossdx-blind5-2026:``. Written in stop 31 by six new writers and
  committed before any knowledge edit it measures.
* ``blind6`` (2026-12-07, the sixth round): ``test`` and ``validation`` as for ``blind3``,
  both held out, salt ``ossdx-blind6-2026:``. Written in stop 33 by six new writers and
  committed after that stop's first knowledge edits, before any edit it measures.

Each rule was applied once, when its set was committed (docs/EVALUATION.md);
``tests/test_evaluation.py`` checks that the committed folders still follow it. Run as a
script it only reports whether they do.

    python -m benchmarks.blind_split [--apply SOURCE_DIR --set NAME]   (--apply: once per set)
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ossdx.core.loader import read_document

CASES = Path(__file__).resolve().parents[1] / "knowledge_base" / "cases"


@dataclass(frozen=True)
class BlindSet:
    """One blind set: its folder, the salt of its order and its two parts."""

    name: str
    salt: str
    parts: tuple[str, str]

    @property
    def folder(self) -> Path:
        return CASES / self.name

    def assign(self, files: list[Path]) -> dict[Path, str]:
        """The part of each case file, by the rule above (truths read, never shown)."""
        by_truth: dict[str, list[tuple[str, Path]]] = defaultdict(list)
        for path in files:
            data = read_document(path).data
            key = hashlib.sha256((self.salt + str(data["id"])).encode("utf-8")).hexdigest()
            by_truth[str(data["truth"])].append((key, path))
        placed = {}
        for members in by_truth.values():
            for i, (_, path) in enumerate(sorted(members)):
                placed[path] = self.parts[i % 2]
        return placed

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*/*.yaml"))

    def check(self) -> list[str]:
        """Files whose folder disagrees with the rule (empty when the split holds)."""
        return [str(p) for p, part in self.assign(self.files()).items()
                if p.parent.name != part]


SETS = {s.name: s for s in (BlindSet("blind", "ossdx-blind-2026:", ("tuning", "test")),
                            BlindSet("blind2", "ossdx-blind2-2026:", ("calibration", "test")),
                            BlindSet("blind3", "ossdx-blind3-2026:", ("test", "validation")),
                            BlindSet("blind4", "ossdx-blind4-2026:", ("test", "validation")),
                            BlindSet("blind5", "ossdx-blind5-2026:", ("test", "validation")),
                            BlindSet("blind6", "ossdx-blind6-2026:", ("test", "validation")))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apply", type=Path, help="copy SOURCE_DIR/*/*.yaml into the parts")
    parser.add_argument("--set", choices=list(SETS), default="blind2",
                        help="the set --apply fills")
    args = parser.parse_args(argv)
    if args.apply:
        blind = SETS[args.set]
        files = sorted(args.apply.glob("*/*.yaml"))
        placed = blind.assign(files)
        for path, part in placed.items():
            (blind.folder / part).mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, blind.folder / part / path.name)
        counts = {part: sum(1 for p in placed.values() if p == part) for part in blind.parts}
        print(f"copied {len(files)} files into {blind.name}: {counts}")
        return 0
    wrong = [p for blind in SETS.values() for p in blind.check()]
    print("every split follows its rule" if not wrong else f"{len(wrong)} file(s) misplaced")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
