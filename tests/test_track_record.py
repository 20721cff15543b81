"""The track record beside the differential: how often leaders held like this one were right
on cases held out from the knowledge (ossdx/advice/track_record.py, benchmarks/track_record.py).

What a user relies on: the sentence quotes the band the leader's probability falls in, with
its count and its Wilson interval; it says when the knowledge has changed since the
measurement; the shipped record is for the shipped knowledge; a broken file is named and the
differential is still shown; a tie has no leader and no track record."""

from __future__ import annotations

import io
import itertools
import json
import re

import pytest
from apptest import start
from test_app import set_context, texts

from ossdx.advice.track_record import (
    FILE_NAME,
    Band,
    TrackRecord,
    bands_of,
    leader_note,
    load_track_record,
    wilson_interval,
)
from ossdx.cli.main import main
from ossdx.core.errors import InputError
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import load_case
from ossdx.reasoning.diagnosis import Reasoner

from conftest import KB_DIR, MINI_KB

EDGES = (0.0, 0.4, 0.6, 0.8, 1.0)


def record(version: str = "v1", bands: tuple[tuple[int, int], ...] = ((10, 3), (5, 3),
                                                                       (8, 6), (12, 11))
           ) -> TrackRecord:
    return TrackRecord(measured="2026-12-06", knowledge_base=version,
                       cases="published cases held out", source="a test set",
                       bands=tuple(Band(low=lo, high=hi, n=n, right=r) for (lo, hi), (n, r)
                                   in zip(itertools.pairwise(EDGES), bands, strict=True)))


def test_cases_fall_in_the_band_of_their_leaders_probability():
    """A band holds low <= p < high; the last band holds 1.0 too; every case is counted once."""
    pairs = [(0.1, False), (0.39, True), (0.4, True), (0.59, False), (0.6, True), (0.8, True),
             (0.99, False), (1.0, True)]
    bands = bands_of(pairs, EDGES)
    assert [(b.n, b.right) for b in bands] == [(2, 1), (2, 1), (1, 1), (3, 2)]
    assert sum(b.n for b in bands) == len(pairs)


def test_the_sentence_quotes_the_leaders_band_with_its_interval():
    """At 70 % the leader is in the 60-80 % band: 6 of 8 right, 75 %, with the Wilson
    interval of 6 of 8; at 100 % the top band; at 0 the bottom one."""
    tr = record()
    low, high = wilson_interval(6, 8)
    said = tr.sentence(0.7, "v1")
    assert "leaders held at 60% to 80% were right in 6 of 8 published cases held out" in said
    assert f"75% (95% interval {low * 100:.0f}-{high:.0%})" in said
    assert "Measured on 2026-12-06 on a test set with knowledge base v1." in said
    assert "changed" not in said
    assert "80% or more were right in 11 of 12" in tr.sentence(1.0, "v1")
    assert "under 40% were right in 3 of 10" in tr.sentence(0.0, "v1")


def test_the_sentence_says_when_the_knowledge_has_changed_since():
    said = record(version="v1").sentence(0.5, "v2")
    assert "(this is v2: the knowledge has changed since)" in said


def test_an_empty_band_is_said_as_such():
    tr = record(bands=((10, 3), (0, 0), (8, 6), (12, 11)))
    said = tr.sentence(0.5, "v1")
    assert "none of the 30 published cases held out had a leader held at 40% to 60%" in said


@pytest.mark.parametrize(("content", "expected"), [
    ("{not json", r"track_record\.json:1: not a readable JSON file"),
    ("[]", r"track_record\.json: file: "),
    (json.dumps({"measured": "d", "knowledge_base": "v", "cases": "c", "source": "s",
                 "bands": [{"low": 0, "high": 0.5, "n": 3, "right": 4},
                           {"low": 0.5, "high": 1, "n": 1, "right": 1}]}),
     r"track_record\.json: bands\.0: .*right \(4\) cannot exceed n \(3\)"),
    (json.dumps({"measured": "d", "knowledge_base": "v", "cases": "c", "source": "s",
                 "bands": [{"low": 0, "high": 0.4, "n": 3, "right": 1},
                           {"low": 0.5, "high": 1, "n": 1, "right": 1}]}),
     r"track_record\.json: file: .*without gaps or overlaps"),
    (json.dumps({"measured": "d", "knowledge_base": "v", "cases": "c", "source": "s",
                 "bands": []}), r"track_record\.json: bands: "),
    (json.dumps({"measured": "d", "knowledge_base": "v", "cases": "c", "bands": [],
                 "extra": 1}), r"track_record\.json: source: Field required"),
])
def test_a_broken_file_is_refused_with_its_name_and_what_is_wrong(tmp_path, content, expected):
    (tmp_path / FILE_NAME).write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_track_record(tmp_path)
    assert re.search(expected, str(caught.value)), str(caught.value)


def test_a_knowledge_base_without_a_record_says_nothing(mini_kb):
    """An educator's knowledge base has no track record: no sentence, no error."""
    assert load_track_record(MINI_KB) is None
    case = load_case(MINI_KB / "cases" / "alpha-case.yaml", mini_kb)
    assert leader_note(mini_kb, Reasoner(mini_kb).diagnose(case)) is None


def test_the_cli_names_a_broken_record_and_still_shows_the_differential(kb_copy):
    """`ossdx diagnose` on a knowledge base with a broken track record exits 0 with the
    differential, and says which file is wrong instead of the track record."""
    root = kb_copy()
    (root / FILE_NAME).write_text('{"measured": 1}', encoding="utf-8")
    out = io.StringIO()
    code = main(["--kb", str(root), "diagnose", str(root / "cases" / "alpha-case.yaml")], out)
    text = out.getvalue()
    assert code == 0
    assert re.search(r"^ 1\. ", text, re.M), text
    assert f"Track record not shown: {root / FILE_NAME}: " in text


def test_the_shipped_record_is_for_the_shipped_knowledge(kb):
    """The record that users read was measured with this knowledge base, on enough cases to
    say something (rerun `python -m benchmarks.track_record --write` after a knowledge edit)."""
    tr = load_track_record(KB_DIR)
    assert tr is not None, "knowledge_base/track_record.json is missing"
    assert tr.knowledge_base == kb.version, (
        f"the track record was measured with {tr.knowledge_base}, the knowledge base is now "
        f"{kb.version}: run python -m benchmarks.track_record --write")
    assert tr.n >= 40 and all(b.n > 0 for b in tr.bands)


def test_the_diagnose_output_carries_the_track_record(kb):
    """Text and JSON of `ossdx diagnose` quote the record for the leader's probability."""
    case_file = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"
    differential = Reasoner(kb).diagnose(load_case(case_file, kb))
    expected = load_track_record(KB_DIR).sentence(differential.leader.probability, kb.version)
    out = io.StringIO()
    assert main(["diagnose", str(case_file)], out) == 0
    assert expected in out.getvalue()
    out = io.StringIO()
    assert main(["diagnose", str(case_file), "--json"], out) == 0
    assert json.loads(out.getvalue())["track_record"] == expected


def test_a_tie_has_no_track_record(kb):
    """With nothing entered every diagnosis ties: there is no leader to quote a record for."""
    from ossdx.kb.case import Case
    differential = Reasoner(kb).diagnose(Case(findings={}))
    assert len(differential.tied_leaders) > 1
    assert leader_note(kb, differential) is None


def test_the_benchmark_counts_every_case_once(tmp_path, capsys):
    """benchmarks/track_record.py over the seed cases: the bands add up to the cases scored,
    and what it writes loads back as the same record."""
    from benchmarks import track_record as bench
    kb = load_knowledge_base(KB_DIR)
    seeds = list((KB_DIR / "cases" / "seed").glob("*.yaml"))
    result = bench.main(["--cases", "seed", "--source", "the seed"])
    assert sum(b["n"] for b in result["bands"]) == len(seeds)
    assert result["knowledge_base"] == kb.version
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result


def test_the_work_up_shows_the_track_record_under_the_leader():
    """In the app, once a study separates the diagnoses, the caption under the headline quotes
    the leader's track record; before that (a tie) it does not."""
    at = start()
    assert not any(t.startswith("Track record:") for t in texts(at, "caption"))
    set_context(at, ["CT"])
    records = [t for t in texts(at, "caption") if t.startswith("Track record:")]
    assert len(records) == 1
    assert re.search(r"were right in \d+ of \d+ published cases held out from the knowledge",
                     records[0]), records[0]


def test_validate_names_a_broken_record_and_not_a_stale_one(kb_copy):
    """`ossdx validate` gives file:line for a record that is not JSON; a record measured with
    other knowledge is no fault of the knowledge (every edit makes it so) and is not reported
    (the sentence beside the leader says it)."""
    from ossdx.authoring.lint import validate_folder
    root = kb_copy()
    (root / FILE_NAME).write_text(record(version="0.0.1+old").model_dump_json(),
                                  encoding="utf-8")
    assert not [p for p in validate_folder(root) if FILE_NAME in p.location.file]
    (root / FILE_NAME).write_text('{"bands": 3\n', encoding="utf-8")
    broken = [str(p) for p in validate_folder(root) if FILE_NAME in p.location.file]
    assert len(broken) == 1 and re.search(r"track_record\.json:2: not a readable JSON", broken[0])
