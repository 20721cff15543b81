"""The reader study: sheets show only the coded input, and answers are scored like ossdx."""

from __future__ import annotations

import json

import pytest
import yaml

from benchmarks import reader
from ossdx.kb.case import Case

from conftest import KB_DIR

DIAGNOSES = ["metastasis", "hemangioma", "bone_island", "other"]


def test_a_reader_answer_becomes_a_full_distribution():
    """Listed probabilities stand; what they leave is shared by the rest; over 1 is scaled."""
    p = reader.reader_probabilities({"metastasis": 0.6, "hemangioma": 0.2}, DIAGNOSES)
    assert p == pytest.approx({"metastasis": 0.6, "hemangioma": 0.2, "bone_island": 0.1,
                               "other": 0.1})
    over = reader.reader_probabilities({"metastasis": 1.5, "hemangioma": 0.5}, DIAGNOSES)
    assert over == pytest.approx({"metastasis": 0.75, "hemangioma": 0.25, "bone_island": 0.0,
                                  "other": 0.0})
    assert reader.reader_probabilities({"not_a_diagnosis": 0.9}, DIAGNOSES) == pytest.approx(
        dict.fromkeys(DIAGNOSES, 0.25))
    assert sum(reader.reader_probabilities(None, DIAGNOSES).values()) == pytest.approx(1)


def test_ties_rank_the_catch_all_first_as_ossdx_does():
    case = Case(findings={}, truth="other", id="c")
    result = reader.reader_result(case, dict.fromkeys(DIAGNOSES, 0.25), "other")
    assert result.ranking[0] == "other" and result.top1


def test_paired_counts_add_up_to_the_cases():
    right = reader.reader_result(Case(findings={}, truth="metastasis"),
                                 {"metastasis": 0.9, "other": 0.1}, "other")
    wrong = reader.reader_result(Case(findings={}, truth="metastasis"),
                                 {"metastasis": 0.1, "other": 0.9}, "other")
    counts = reader.paired([right, right, wrong, wrong], [right, wrong, right, wrong])
    assert counts == {"both": 1, "reader_only": 1, "ossdx_only": 1, "neither": 1,
                      "mcnemar_p": 1.0}


def test_mcnemar_p_is_the_exact_binomial_tail():
    """8 against 2 discordant cases: 2 x P(X <= 2), X ~ Bin(10, 1/2) = 2 x 56 / 1024."""
    assert reader.mcnemar_p(8, 2) == pytest.approx(112 / 1024)
    assert reader.mcnemar_p(2, 8) == reader.mcnemar_p(8, 2)
    assert reader.mcnemar_p(0, 0) == 1.0


def test_sheets_show_the_coded_input_and_nothing_that_gives_the_answer(kb, tmp_path):
    """No title, narrative, source, teaching point, file name or truth reaches a reader."""
    n = reader.write_sheets(kb, tmp_path, ["seed"], batch=10)
    seed_files = sorted((KB_DIR / "cases" / "seed").glob("*.yaml"))
    assert n == len(seed_files)
    batches = [p.read_text() for p in sorted(tmp_path.glob("batch*.yaml"))]
    text = "".join(batches)
    sheets = [s for b in batches for s in yaml.safe_load(b)]
    assert len(sheets) == n and all(set(s) == {"sheet", "patient", "modalities", "findings"}
                                    for s in sheets)
    for path in seed_files:
        raw = yaml.safe_load(path.read_text())
        assert path.stem not in text
        for field in ("title", "narrative", "source"):
            if raw.get(field):
                assert str(raw[field])[:40] not in text
    key = json.loads((tmp_path / "key.json").read_text())
    assert sorted(v["file"] for v in key.values()) == sorted(
        str(p.relative_to(KB_DIR)) for p in seed_files)


def test_score_compares_the_reader_with_ossdx_on_the_same_cases(kb, tmp_path):
    """A reader who always says metastasis is right exactly on the seed's metastases."""
    reader.write_sheets(kb, tmp_path, ["seed"], batch=100)
    key = json.loads((tmp_path / "key.json").read_text())
    (tmp_path / "answers" / "a.yaml").write_text(yaml.safe_dump(
        {sheet: {"metastasis": 0.7} for sheet in key}))
    report = reader.score_answers(kb, tmp_path, [tmp_path / "answers" / "a.yaml"])
    truths = [yaml.safe_load((KB_DIR / v["file"]).read_text()) for v in key.values()]
    metastases = sum(1 for t in truths
                     if "metastasis" in [t["truth"], *(t.get("acceptable") or [])])
    row = report["sets"]["seed"]
    assert report["answered"] == len(key)
    assert row["reader"]["top1"] == pytest.approx(metastases / len(key))
    assert row["ossdx"]["top1"] == 1.0  # the seed's expected leaders (tests/test_seed_cases.py)
    assert row["paired"]["reader_only"] == 0
    assert row["paired"]["both"] == metastases
    assert row["reader"]["focus_top1"] == 1.0  # kb.yaml's must-not-miss: metastasis


def test_a_malformed_answer_file_is_refused_by_line_and_says_what_is_allowed(kb, tmp_path,
                                                                              capsys):
    reader.write_sheets(kb, tmp_path, ["seed"], batch=100)
    answers = tmp_path / "answers" / "bad.yaml"
    answers.write_text("r0001: {metastasis: 0.7}\n"
                       "r0002: {metastasis: 1.5}\n"
                       "r0003: {metastases: 0.5}\n"
                       "r9999: {metastasis: 0.5}\n"
                       "r0004: {metastasis: high}\n")
    with pytest.raises(SystemExit) as exit_:
        reader.main(["score", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"{answers}:2: probability 1.5 must be a number from 0 to 1" in err
    assert f"{answers}:3: unknown diagnosis 'metastases'; allowed: " in err
    assert f"{answers}:4: no sheet 'r9999' in key.json" in err
    assert f"{answers}:5: probability 'high' must be a number from 0 to 1" in err
    assert "Traceback" not in err


def test_sheets_can_be_written_for_a_department_folder_and_refuse_an_unknown_one(
        kb, tmp_path, capsys):
    """Any folder under the knowledge base's cases/ is a set; an unknown name is refused."""
    n = reader.write_sheets(kb, tmp_path / "a", ["literature"], batch=200)
    assert n == len(list((KB_DIR / "cases" / "literature").glob("*.yaml")))
    with pytest.raises(SystemExit):
        reader.main(["sheets", "--out", str(tmp_path / "b"), "--sets", "no_such_folder"])
    assert "no set or case folder no_such_folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        reader.main(["score", "--out", str(tmp_path / "c")])
    assert "has no key.json" in capsys.readouterr().err
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "key.json").write_text('{"r0001": ')
    with pytest.raises(SystemExit):
        reader.main(["score", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert f"{tmp_path / 'c' / 'key.json'}:1: not the key that 'sheets' writes" in err
    assert "Traceback" not in err
