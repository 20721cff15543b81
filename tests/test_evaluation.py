"""The blind evaluation sets keep their integrity: each split follows its fixed rule, and
their held-out parts stay out of every tool the knowledge editor uses."""

from __future__ import annotations

import pytest

from benchmarks.blind_split import SETS
from ossdx.core.loader import read_document
from ossdx.kb import load_knowledge_base


@pytest.mark.parametrize("name", sorted(SETS))
def test_the_blind_split_follows_its_fixed_rule(name):
    """Every blind case file sits in the part its rule assigns (nothing moved by hand)."""
    blind = SETS[name]
    if not blind.folder.is_dir():
        pytest.fail(f"{blind.folder} is missing")
    assert blind.check() == []


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_diagnosis_is_in_both_parts_of_a_blind_set(name):
    """The rule splits every truth half and half, so both parts hold every diagnosis."""
    blind = SETS[name]
    placed = blind.assign(blind.files())
    first, second = blind.parts
    assert set(placed.values()) == {first, second}
    truths = len({str(read_document(p).data["truth"]) for p in placed})
    assert 0 <= sum(p == first for p in placed.values()) \
        - sum(p == second for p in placed.values()) <= truths


def test_the_held_out_parts_are_declared_held_out():
    """kb.yaml declares every part the knowledge editor must not read as held out."""
    kb = load_knowledge_base()
    assert kb.is_held_out(SETS["blind"].folder / "test" / "x.yaml")
    assert not kb.is_held_out(SETS["blind"].folder / "tuning" / "x.yaml")
    for name in ("blind2", "blind3", "blind4", "blind5", "blind6"):
        for part in SETS[name].parts:
            assert kb.is_held_out(SETS[name].folder / part / "x.yaml")


# ------------------------------------------------ consistency resampling (Broecker-Smith)
def _result(i: int, confidence: float, right: bool):
    from ossdx.authoring.evaluate import CaseResult
    other = 1.0 - confidence
    return CaseResult(f"c{i}", "a" if right else "b", (), ("a", "b"),
                      {"a": confidence, "b": other})


def test_confident_leaders_that_are_always_wrong_are_called_miscalibrated():
    """Fifty leaders held at 95 % and all wrong: no calibrated draw is that far off."""
    from ossdx.authoring.evaluate import consistency
    cons = consistency([_result(i, 0.95, False) for i in range(50)])
    assert cons["ece_p"] == 0.0
    assert cons["ece_if_calibrated"] < 0.1


def test_a_perfect_match_is_never_called_miscalibrated():
    """Forty leaders at 50 % of which twenty are right: observed ECE 0, every draw is at
    least as far off."""
    from ossdx.authoring.evaluate import consistency, expected_calibration_error
    results = [_result(i, 0.5, i % 2 == 0) for i in range(40)]
    assert expected_calibration_error(results) == 0
    assert consistency(results)["ece_p"] == 1.0


def test_the_noise_of_ece_shrinks_with_the_number_of_cases():
    """A calibrated model's ECE is larger on 40 cases than on 1,000 (the reason the goal of
    ECE <= 0.05 is read against this figure), and the figure is reproducible."""
    from ossdx.authoring.evaluate import consistency
    small = [_result(i, 0.7, i % 10 < 7) for i in range(40)]
    large = [_result(i, 0.7, i % 10 < 7) for i in range(1000)]
    assert consistency(small)["ece_if_calibrated"] > 2 * consistency(large)["ece_if_calibrated"]
    assert consistency(small) == consistency(small)


def test_the_brier_score_a_calibrated_model_would_have():
    """1 - sum p^2 per case: 0.5 for an even pair, 0 for a certainty."""
    from ossdx.authoring.evaluate import consistency
    assert consistency([_result(0, 0.5, True)])["brier_if_calibrated"] == pytest.approx(0.5)
    assert consistency([_result(0, 1.0, True)])["brier_if_calibrated"] == pytest.approx(0.0)


# ------------------------------------------------ evaluate's messages on files that fail
GOOD_CASE = "id: good\nmodalities: [CT]\nfindings: {region: spine, density: lytic}\ntruth: alpha\n"
BAD_CASE = "id: bad\nmodalities: [CT]\nfindings: {region: spne}\ntruth: alpha\n"


def _evaluate(folder, capsys) -> tuple[int, str, str]:
    from ossdx.cli.main import main

    from conftest import MINI_KB
    code = main(["--kb", str(MINI_KB), "evaluate", str(folder)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_folder_whose_cases_all_fail_to_load_says_so(tmp_path, capsys):
    """The only case has a truth but does not load: evaluate says the case files did not
    load, not that no case has 'truth:'."""
    (tmp_path / "bad.yaml").write_text(BAD_CASE)
    code, out, err = _evaluate(tmp_path, capsys)
    assert code == 2
    assert "bad.yaml:3: 'spne' is not a value of 'region'" in err
    assert "1 case file(s) did not load" in out and "No case files with 'truth:'" not in out


def test_the_summary_counts_the_case_files_skipped(tmp_path, capsys):
    """A folder with one good and one broken case evaluates the good one and says that one
    file was skipped."""
    (tmp_path / "good.yaml").write_text(GOOD_CASE)
    (tmp_path / "bad.yaml").write_text(BAD_CASE)
    code, out, _ = _evaluate(tmp_path, capsys)
    assert code == 2
    assert "Cases: 1 " in out
    assert "Skipped: 1 case file(s) that did not load" in out


def test_a_missing_folder_is_named_without_a_line(tmp_path, capsys):
    """A folder that does not exist has no line to name."""
    code, _, err = _evaluate(tmp_path / "none", capsys)
    assert code == 2
    assert f"{tmp_path / 'none'}: no such file or folder" in err
    assert f"{tmp_path / 'none'}:1:" not in err
