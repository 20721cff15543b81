"""The benchmark scripts run end to end on the small test KB and print their JSON contract."""

from __future__ import annotations

import json

import pytest

from benchmarks import calibrate, check_edit, latency, questions

from conftest import MINI_KB


def last_json(capsys) -> dict:
    lines = capsys.readouterr().out.strip().splitlines()
    return json.loads(lines[-1])


def test_latency_benchmark_on_the_mini_kb(capsys):
    """latency prints a table and a JSON line with the contract's keys."""
    latency.main(["--kb", str(MINI_KB), "--answers", "12", "--factor", "3"])
    result = last_json(capsys)
    for key in ("p50_ms", "p95_ms", "p95_ms_10x", "compile_s", "ratio_to_floor"):
        assert key in result
    assert result["answers"] == 12
    assert result["p50_ms"] <= result["p95_ms"]


def test_questions_benchmark_on_the_mini_kb(capsys):
    """questions prints a table and a JSON line with the contract's keys."""
    questions.main(["--kb", str(MINI_KB)])
    result = last_json(capsys)
    for key in ("adaptive_mean", "kb_order_mean", "random_mean", "adaptive_top1",
                "full_info_top1"):
        assert key in result
    assert result["cases"] == 2
    assert 0.0 <= result["adaptive_top1"] <= 1.0
    assert sum(part["cases"] for part in result["by_part"].values()) == 2


def test_calibration_benchmark_chooses_by_its_stated_rule(monkeypatch, capsys):
    """calibrate scores a grid of (w, T) on the calibration folders and chooses, among the
    admissible pairs (every seed case keeps its leader, the tuning sets' guard holds) that lie
    within the Brier tie of the lowest of those, the fewest wrong leaders at >= 90 %, then ECE."""
    monkeypatch.setattr(calibrate, "CALIBRATION_FOLDERS", ("",))  # the mini KB's cases/
    result = calibrate.main(["--kb", str(MINI_KB)])
    rows, best = result["rows"], result["best"]
    assert len(rows) == len(calibrate.WEIGHTS) * len(calibrate.TEMPERATURES)
    allowed = [r for r in rows if r["admissible"]] or rows
    lowest = min(r["brier"] for r in allowed)
    near = [r for r in allowed if r["brier"] <= lowest + calibrate.BRIER_TIE]
    assert best in near
    assert best["wrong_conf90"] == min(r["wrong_conf90"] for r in near)
    assert last_json(capsys)["best"] == best


def test_calibration_cross_check_fits_on_the_folders_it_leaves_in(monkeypatch, capsys):
    """With the same folder given twice, leaving one out fits on an identical copy: each part
    gets the pair the rule chooses on all the cases, and its refit figures are that pair's."""
    monkeypatch.setattr(calibrate, "CALIBRATION_FOLDERS", ("", ""))
    result = calibrate.main(["--kb", str(MINI_KB), "--cross-check"])
    best, parts = result["best"], result["cross_check"]
    assert [part["n"] * 2 for part in parts] == [result["n"], result["n"]]
    for part in parts:
        assert (part["w"], part["t"]) == (best["w"], best["t"])
        assert part["refit"]["brier"] == pytest.approx(best["brier"])
    assert result["cross_check_pooled_brier"]["refit"] == pytest.approx(best["brier"])
    assert "Left out in turn" in capsys.readouterr().out


def test_calibration_refuses_pairs_that_break_the_tuning_guard():
    """A pair is admissible only while each guarded set has no more must-not-miss diagnoses
    outside its top three than allowed: a limit no count can meet refuses every pair."""
    from ossdx.kb import load_knowledge_base

    kb = load_knowledge_base(MINI_KB)
    cases = calibrate.traced(kb, "")
    truths = {case.truth for case, _ in cases}
    assert calibrate.within_guard(kb, [(cases, {dx: len(cases) for dx in truths})])
    assert not calibrate.within_guard(kb, [(cases, {dx: -1 for dx in truths})])
    rows = calibrate.rows_for(kb, cases, [], [(cases, {dx: -1 for dx in truths})])
    assert not any(row["admissible"] for row in rows)


@pytest.mark.parametrize("guard, kept", [("assert True", True), ("assert False", False)])
def test_an_edit_that_fails_a_standing_guard_is_not_kept(monkeypatch, capsys, tmp_path,
                                                         guard, kept):
    """With the checkout's knowledge base as the edit, the verdict also needs the standing
    guards (pytest files) to pass: equal figures are kept only while the guard passes."""
    import shutil

    shutil.copytree(MINI_KB, tmp_path / "knowledge_base")
    (tmp_path / "test_guard.py").write_text(f"def test_guard():\n    {guard}\n")
    monkeypatch.setattr(check_edit, "ROOT", tmp_path)
    monkeypatch.setattr(check_edit, "GUARDS", ("test_guard.py",))
    monkeypatch.setattr(check_edit, "VALIDATION", ("",))
    result = check_edit.main(["--kb", str(tmp_path / "knowledge_base"),
                              "--baseline", str(MINI_KB)])
    assert result["guards"] is kept and result["keep"] is kept
    assert ("KEEP:" if kept else "DO NOT KEEP: a standing guard fails") in capsys.readouterr().out


def test_an_edit_is_kept_only_if_top1_holds_and_brier_does_not_rise(monkeypatch, capsys,
                                                                     kb_copy):
    """check_edit compares two knowledge bases on the validation cases (here the mini KB's
    cases/) and keeps an edit only if top-1 does not fall and Brier does not rise."""
    monkeypatch.setattr(check_edit, "VALIDATION", ("",))
    same = check_edit.main(["--kb", str(MINI_KB), "--baseline", str(MINI_KB)])
    assert same["keep"] is True
    assert same["paired"] == {"turned_right": 0, "turned_wrong": 0, "brier_change": 0.0,
                              "brier_change_95": [0.0, 0.0]}
    worse = kb_copy()
    alpha = worse / "diagnoses" / "alpha.yaml"
    alpha.write_text(alpha.read_text().replace("base: 0.2", "base: 0.0001"))
    result = check_edit.main(["--kb", str(worse), "--baseline", str(MINI_KB)])
    pooled = check_edit.POOLED
    assert result["after"][pooled]["brier"] > result["before"][pooled]["brier"]
    assert result["keep"] is False
    # the paired readout: the same cases, so the mean change is the change of the means
    noise = result["paired"]
    assert noise["brier_change"] == pytest.approx(
        result["after"][pooled]["brier"] - result["before"][pooled]["brier"])
    n = result["before"][pooled]["n"]
    assert noise["turned_wrong"] >= 1 and noise["turned_right"] == 0
    assert noise["turned_wrong"] == round(n * (result["before"][pooled]["top1"]
                                               - result["after"][pooled]["top1"]))
    low, high = noise["brier_change_95"]
    assert low <= noise["brier_change"] <= high
    assert "DO NOT KEEP" in capsys.readouterr().out
    assert check_edit.main(["--kb", str(MINI_KB), "--baseline", str(worse)])["keep"] is True
    assert last_json(capsys)["keep"] is True


def test_check_edit_reads_the_knowledge_base_of_a_revision(tmp_path):
    """--against REV compares with the knowledge base as committed; a revision that does not
    exist is a clear message, not a traceback."""
    extracted = check_edit.revision_kb("HEAD", tmp_path)
    assert (extracted / "kb.yaml").is_file()
    with pytest.raises(SystemExit, match="cannot read knowledge_base at 'no-such-rev'"):
        check_edit.revision_kb("no-such-rev", tmp_path / "x")
