"""Accuracy on the case library never falls below the figures the README reports.

benchmarks/reported.json holds the last measured figures (``python -m benchmarks.accuracy
--robustness --write``); a knowledge-base edit that loses cases fails here. The margin is
about one case of the smallest set. The blind test part is never measured here: running the
suite must not be a look at it (docs/EVALUATION.md).
"""

from __future__ import annotations

import json

import pytest

from benchmarks.accuracy import REPORTED, TUNING_SETS, measure

MARGIN_ACCURACY = 0.03
MARGIN_BRIER = 0.03


@pytest.fixture(scope="module")
def now() -> dict:
    return measure(sets=TUNING_SETS)


@pytest.fixture(scope="module")
def reported() -> dict:
    return json.loads(REPORTED.read_text())


@pytest.mark.parametrize("name", TUNING_SETS)
def test_accuracy_not_below_reported(name, now, reported):
    """Top-1 and top-3 stay within a small margin of the reported figures; Brier likewise."""
    if name not in reported:
        pytest.fail(f"{name} has no reported figures: run python -m benchmarks.accuracy --write")
    current, before = now[name], reported[name]
    assert current["n"] == before["n"], "the case set changed: remeasure and report"
    assert current["top1"] >= before["top1"] - MARGIN_ACCURACY
    assert current["top3"] >= before["top3"] - MARGIN_ACCURACY
    assert current["brier"] <= before["brier"] + MARGIN_BRIER


def test_seed_cases_all_right(now):
    """Every seed case leads with its truth (no margin)."""
    assert now["seed"]["top1"] == 1.0


@pytest.mark.parametrize("name", TUNING_SETS)
def test_no_more_metastases_outside_the_top_three(name, now, reported):
    """A knowledge-base edit never pushes another metastasis out of the first three (the
    seed and blind-tuning cases have none; one deceptive literature vignette, a metastasis
    that looks exactly like an acute Schmorl's node, is ranked fourth)."""
    assert now[name]["metastasis_outside_top3"] <= reported[name]["metastasis_outside_top3"]
    if name in ("seed", "blind_tuning"):
        assert now[name]["metastasis_outside_top3"] == 0


def test_a_missing_plot_extra_is_named_before_any_measurement(monkeypatch, capsys):
    """--plot without vl-convert stops at once with exit 2 and names the extra to install,
    instead of a traceback after the whole (minutes-long) run."""
    import importlib.util

    import benchmarks.accuracy as accuracy

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "vl_convert" else real(name, *a))
    monkeypatch.setattr(accuracy, "measure", lambda *a, **k: pytest.fail("measured anyway"))
    with pytest.raises(SystemExit) as stop:
        accuracy.main(["--plot", "reliability.svg"])
    assert stop.value.code == 2
    assert "pip install -c constraints.txt -e '.[docs]'" in capsys.readouterr().err
