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
import math
import re

import pytest
from apptest import start
from test_app import set_context, texts

from ossdx.advice.track_record import (
    FILE_NAME,
    Band,
    ShortList,
    TrackRecord,
    bands_of,
    conformal_threshold,
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


# ------------------------------------------------------------------ the short list
def short(threshold: float = 0.1, n: int = 20, covered: int = 19) -> ShortList:
    return ShortList(coverage=0.9, threshold=threshold, n=n, covered=covered)


def test_the_conformal_threshold_is_the_kth_largest_truth_probability():
    """k = ceil((n + 1) x coverage): of nine cases, 80 % takes the 8th largest, 90 % the 9th,
    and 95 % would need a 10th, so the whole differential is listed; rounded down."""
    probabilities = [0.9, 0.1, 0.8, 0.3, 0.7, 0.2, 0.6, 0.5, 0.4]
    assert conformal_threshold(probabilities, 0.8) == 0.2
    assert conformal_threshold(probabilities, 0.9) == 0.1
    assert conformal_threshold(probabilities, 0.95) == 0.0
    assert conformal_threshold([0.123456], 0.4) == 0.1234
    assert conformal_threshold([], 0.9) == 0.0


def test_lists_drawn_at_the_threshold_hold_at_least_the_level_of_the_cases_that_set_it():
    """Whatever the probabilities, at least ceil((n + 1) x coverage) of the n cases have their
    truth at the threshold or more."""
    import random
    rng = random.Random(7)
    for n in (10, 55, 181):
        truths = [rng.random() ** 3 for _ in range(n)]
        for coverage in (0.5, 0.8, 0.9):
            tau = conformal_threshold(truths, coverage)
            assert sum(p >= tau for p in truths) >= min(n, math.ceil((n + 1) * coverage))


def _differential(kb, case_file):
    return Reasoner(kb).diagnose(load_case(case_file, kb))


def test_the_short_list_is_the_leader_and_every_diagnosis_at_the_threshold(kb):
    differential = _differential(kb, KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml")
    entries = differential.entries
    cut = entries[2].probability  # the third entry's probability as threshold: three listed
    assert [e.id for e in short(threshold=cut).members(differential)] == [
        e.id for e in entries[:3]]
    above_all = short(threshold=min(1.0, entries[0].probability + 0.01))
    assert [e.id for e in above_all.members(differential)] == [entries[0].id]
    assert len(short(threshold=0.0).members(differential)) == len(entries)


def test_the_short_list_sentence_names_the_list_its_rule_and_its_count(kb):
    differential = _differential(kb, KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml")
    first, second = differential.entries[0], differential.entries[1]
    tr = record(version="v1").model_copy(update={"short_list": short(
        threshold=second.probability, n=181, covered=164)})
    said = tr.short_list_sentence(differential, "v1")
    assert said.startswith(f"Short list (90%): {first.name} and {second.name}, every diagnosis "
                           f"at {second.probability:.1%} or more.")
    assert ("held the truth in 164 of 181 published cases held out (91%): on new cases like "
            "them, at least 90% (split-conformal).") in said
    assert "changed" not in said
    assert tr.short_list_sentence(differential, "v2").endswith(
        "(split-conformal; this is v2: the knowledge has changed since).")
    alone = tr.model_copy(update={"short_list": short(threshold=0.999)})
    assert alone.short_list_sentence(differential, "v1").startswith(
        f"Short list (90%): {first.name} alone, the only diagnosis at 99.9% or more.")
    assert record().short_list_sentence(differential, "v1") is None  # an older file


@pytest.mark.parametrize(("short_list", "expected"), [
    ({"coverage": 0.9, "threshold": 0.05, "n": 3, "covered": 5},
     r"short_list: .*covered \(5\) cannot exceed n \(3\)"),
    ({"coverage": 0.9, "threshold": 1.5, "n": 3, "covered": 3},
     r"short_list\.threshold: .*less than or equal to 1"),
    ({"coverage": 1, "threshold": 0.05, "n": 3, "covered": 3},
     r"short_list\.coverage: .*less than 1"),
])
def test_a_broken_short_list_is_refused_with_what_is_wrong(tmp_path, short_list, expected):
    data = json.loads(record().model_dump_json())
    data["short_list"] = short_list
    (tmp_path / FILE_NAME).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_track_record(tmp_path)
    assert re.search(expected, str(caught.value)), str(caught.value)


def test_the_diagnose_output_carries_the_short_list(kb):
    """`ossdx diagnose --json` lists exactly the leader and the diagnoses at the shipped
    threshold or more, and the text output says the same sentence."""
    case_file = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"
    out = io.StringIO()
    assert main(["diagnose", str(case_file), "--json"], out) == 0
    data = json.loads(out.getvalue())
    tau = load_track_record(KB_DIR).short_list.threshold
    rows = data["differential"]
    listed = [r for i, r in enumerate(rows) if i == 0 or r["probability"] >= tau]
    assert 1 < len(listed) < len(rows)
    short_list = data["short_list"]
    assert short_list["diagnoses"] == [r["id"] for r in listed]
    assert (short_list["threshold"], short_list["coverage"]) == (tau, 0.9)
    names = [r["name"] for r in listed]
    assert short_list["text"].startswith(
        f"Short list (90%): {', '.join(names[:-1])} and {names[-1]}, every diagnosis at ")
    out = io.StringIO()
    assert main(["diagnose", str(case_file)], out) == 0
    assert short_list["text"] in out.getvalue()


def test_evaluate_reports_how_the_short_list_does_on_the_cases():
    """Three cases at threshold 0.2: the first is right at once (a list of one), the second's
    truth is second at 0.3 (listed, two long), the third's truth at 0.1 is not listed."""
    from ossdx.authoring.evaluate import CaseResult, short_list_summary
    results = [CaseResult("a", "x", (), ("x", "y", "z"), {"x": 0.9, "y": 0.06, "z": 0.04}),
               CaseResult("b", "y", (), ("x", "y", "z"), {"x": 0.6, "y": 0.3, "z": 0.1}),
               CaseResult("c", "z", (), ("x", "y", "z"), {"x": 0.5, "y": 0.4, "z": 0.1})]
    summary = short_list_summary(results, short(threshold=0.2))
    assert summary["held"] == pytest.approx(2 / 3)
    assert summary["mean_size"] == pytest.approx((1 + 2 + 2) / 3)
    assert summary["single"] == 1


def test_the_benchmark_sets_the_short_list_at_the_level_asked(capsys):
    """Over the 24 seed cases at 90 %, k = ceil(25 x 0.9) = 23 of them must be covered; a
    level outside (0, 1) is refused."""
    from benchmarks import track_record as bench
    result = bench.main(["--cases", "seed", "--source", "the seed", "--cases-are",
                         "teaching cases of the exhibit"])
    assert result["cases"] == "teaching cases of the exhibit"
    short_list = result["short_list"]
    assert short_list["n"] == 24 and short_list["coverage"] == 0.9
    assert short_list["covered"] >= 23 and short_list["threshold"] > 0
    with pytest.raises(SystemExit) as caught:
        bench.main(["--cases", "seed", "--coverage", "1.5"])
    assert caught.value.code == 2
    assert "--coverage must be between 0 and 1" in capsys.readouterr().err


def test_the_work_up_shows_the_short_list_under_the_leader():
    at = start()
    assert not any(t.startswith("Short list") for t in texts(at, "caption"))
    set_context(at, ["CT"])
    lists = [t for t in texts(at, "caption") if t.startswith("Short list (90%): ")]
    assert len(lists) == 1 and "(split-conformal)." in lists[0], lists


def test_the_markdown_export_carries_the_track_record_and_the_short_list(kb):
    """The report a user saves says, under the differential, the same two sentences as the
    work-up: the leader's track record, then the short list."""
    from ossdx.advice.export import escape_markdown, to_markdown
    differential = _differential(kb, KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml")
    text = to_markdown(kb, differential)
    tr = load_track_record(KB_DIR)
    record_at = text.index(escape_markdown(tr.sentence(differential.leader.probability,
                                                       kb.version)))
    short_at = text.index(escape_markdown(tr.short_list_sentence(differential, kb.version)))
    assert record_at < short_at < text.index("## Evidence")
