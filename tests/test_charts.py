"""The reliability diagram shared by the app and docs/: bins merged by case count."""

from __future__ import annotations

import pytest

from ossdx.ui.charts import pooled, reliability_chart


def test_pooled_bins_are_weighted_by_their_cases():
    """Two sets' rows of one bin merge into one row whose figures are case-weighted means,
    and a bin only one set has keeps its own figures."""
    a = [{"bin": "0.9-1.0", "n": 3, "confidence": 0.95, "accuracy": 1.0}]
    b = [{"bin": "0.9-1.0", "n": 1, "confidence": 0.91, "accuracy": 0.0},
         {"bin": "0.3-0.4", "n": 2, "confidence": 0.35, "accuracy": 0.5}]
    rows = {r["bin"]: r for r in pooled([a, b])}
    assert rows["0.9-1.0"]["n"] == 4
    assert rows["0.9-1.0"]["confidence"] == pytest.approx((3 * 0.95 + 0.91) / 4)
    assert rows["0.9-1.0"]["accuracy"] == pytest.approx(0.75)
    assert rows["0.3-0.4"] == {"bin": "0.3-0.4", "n": 2, "confidence": 0.35, "accuracy": 0.5}


def test_the_chart_plots_each_bin_with_its_case_count_and_the_diagonal():
    """The chart's data are the bins (probability, share right, cases), beside the diagonal
    of perfect calibration, under the title it was given."""
    rows = [{"bin": "0.5-0.6", "n": 7, "confidence": 0.55, "accuracy": 0.4}]
    spec = reliability_chart(rows, title="Blind test part").to_dict()
    assert spec["title"] == "Blind test part"
    values = [layer["data"]["values"] for layer in spec["layer"] if "data" in layer]
    assert [{"probability": 0, "right": 0}, {"probability": 1, "right": 1}] in values
    assert [{"bin": "0.5-0.6", "probability": 0.55, "right": 0.4, "cases": 7}] in values \
        or spec.get("data", {}).get("values") == [
            {"bin": "0.5-0.6", "probability": 0.55, "right": 0.4, "cases": 7}]
