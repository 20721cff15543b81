"""``ossdx deidentify IN OUT``: a de-identified copy of a DICOM file or series folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from ossdx.core.errors import InputError, Location, Problem

EXIT_OK = 0


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "deidentify", help="write a de-identified copy of a DICOM file or series folder",
        description="Removes the attributes of the DICOM basic de-identification profile "
                    "(names, IDs, dates, addresses, institution, accession number, ...), "
                    "replaces UIDs and removes private attributes; says what it removed.")
    p.add_argument("source", metavar="IN", help="DICOM file, or folder of one series")
    p.add_argument("target", metavar="OUT", help="the copy to write (must not exist)")


def run(args: argparse.Namespace, out: TextIO) -> int:
    source, target = Path(args.source), Path(args.target)
    from ossdx.imaging.dicom import deidentify_path  # pydicom only when the command runs
    from ossdx.imaging.limits import ImageError

    try:
        result = deidentify_path(source, target)
    except ImageError as exc:
        raise InputError([Problem(Location(str(source)), str(exc), code="image")]) from None
    count = len(result.written)
    out.write(f"wrote {target} ({count} file{'s' if count != 1 else ''})\n")
    for line in result.removal.lines():
        out.write(f"  {line}\n")
    out.write("  check the pixels too: text burned into an image is not removed by this\n")
    return EXIT_OK
