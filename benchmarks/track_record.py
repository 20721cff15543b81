"""Measure the track record beside every differential, on cases held out from the knowledge.

Scores the case files of some folders (by default the second blind set's calibration part
and the third to sixth sets' validation parts, 278 published cases written by people who
never saw the rules, which the knowledge was never edited against; the fourth set's joined
at the end of stop 24, the fifth's in stop 31 and the sixth's in stop 33, when each was
committed), groups
the cases by the probability their leader was held at (bands between EDGES), counts the
right leaders in each, prints the table and, with ``--write``, writes it to
``track_record.json`` beside ``kb.yaml`` with today's date and the knowledge base's version
(ossdx/advice/track_record.py reads it; the app and ``ossdx diagnose`` quote it). Only
counts per band are written or printed, never a case.

The same cases set the conformal short list beside the record (the leader and every
diagnosis at a threshold or more, the threshold chosen so that such lists held the truth of
at least ``--coverage`` of these cases, with the finite-sample correction; see
ossdx/advice/track_record.py): only the threshold and its count are written.

The calibration part is the set the two global parameters (w, T) were fitted on (a fit of
two numbers to 55 cases), and the validation part is where a knowledge edit is checked
before it is kept; both leave the record a little kinder than a fresh set's
(docs/EVALUATION.md gives the test parts' figures). Rerun after every knowledge edit:

    python -m benchmarks.track_record --write

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime
import json
from typing import Any

from ossdx.advice.track_record import (
    FILE_NAME,
    ShortList,
    TrackRecord,
    bands_of,
    conformal_threshold,
    wilson_interval,
)
from ossdx.authoring.evaluate import case_result, load_cases
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.reasoning.scoring import score

FOLDERS = ("blind2/calibration", "blind3/validation", "blind4/validation", "blind5/validation",
           "blind6/validation")
CASES = "published cases held out from the knowledge"
SOURCE = ("the second blind set's calibration part and the third to sixth sets' "
          "validation parts")
EDGES = (0.0, 0.4, 0.6, 0.8, 1.0)  # 45 to 100 cases a band on 278
COVERAGE = 0.9  # the short list's level


def measure(folders: tuple[str, ...] = FOLDERS, kb_dir: str | None = None,
            source: str = SOURCE, coverage: float = COVERAGE, cases_are: str = CASES
            ) -> TrackRecord:
    kb = load_knowledge_base(kb_dir)
    cases = [c for folder in folders for c in load_cases(kb.root / "cases" / folder, kb)[0]]
    if not cases:
        raise SystemExit(f"no case files with a truth under {', '.join(folders)}")
    reasoner = Reasoner(kb)
    results = [case_result(c, score(kb, reasoner.trace(c, fast=True))) for c in cases]
    bands = bands_of([(r.confidence, r.top1) for r in results], EDGES)
    threshold = conformal_threshold([r.truth_probability for r in results], coverage)
    short = ShortList(coverage=coverage, threshold=threshold, n=len(results),
                      covered=sum(r.in_short_list(threshold) for r in results))
    return TrackRecord(measured=datetime.date.today().isoformat(), knowledge_base=kb.version,
                       cases=cases_are, source=source, bands=tuple(bands), short_list=short)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default=None, help="knowledge-base folder (default: installed)")
    parser.add_argument("--cases", nargs="+", default=list(FOLDERS),
                        help="folders under the KB's cases/")
    parser.add_argument("--source", default=SOURCE, help="how the sentence names the set")
    parser.add_argument("--cases-are", default=CASES,
                        help=f"what the sentence calls the cases (default: '{CASES}')")
    parser.add_argument("--coverage", type=float, default=COVERAGE,
                        help="the short list's level, between 0 and 1 (default 0.9)")
    parser.add_argument("--write", action="store_true", help=f"write {FILE_NAME} beside kb.yaml")
    parser.add_argument("--json", action="store_true", help="(the JSON line is always last)")
    args = parser.parse_args(argv)
    if not 0 < args.coverage < 1:
        parser.error(f"--coverage must be between 0 and 1, not {args.coverage}")
    record = measure(tuple(args.cases), args.kb, args.source, args.coverage, args.cases_are)
    print(f"{record.n} cases ({', '.join(args.cases)}), knowledge base {record.knowledge_base}")
    print(f"{'leader held at':>16} {'cases':>6} {'right':>6} {'share':>6}  95% interval")
    for band in record.bands:
        share = f"{band.right / band.n:6.0%}" if band.n else "     -"
        low, high = wilson_interval(band.right, band.n) if band.n else (0.0, 1.0)
        print(f"{band.label():>16} {band.n:6d} {band.right:6d} {share}  {low:.0%}-{high:.0%}")
    short = record.short_list
    if short is not None:
        print(f"short list ({short.coverage:.0%}): every diagnosis at {short.threshold:.2%} "
              f"or more; held the truth in {short.covered} of {short.n}")
    if args.write:
        target = load_knowledge_base(args.kb).root / FILE_NAME
        target.write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
        print(f"written: {target}")
    result = record.model_dump(mode="json")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
