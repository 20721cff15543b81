"""The speed benchmarks keep their contracts: latency's answer_to_floor, and the browser
benchmark's click-to-settled figures from a real app in chromium."""

from __future__ import annotations

import json

import pytest
from browser_support import require_browser

from benchmarks import latency

from conftest import MINI_KB


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_latency_reports_a_whole_answer_against_the_floor(capsys):
    """The last line has answer_to_floor, the whole answer's p50 over the plain-Python
    rule run's p50 of the same run, and the cold figures."""
    latency.main(["--kb", str(MINI_KB), "--answers", "12", "--factor", "2"])
    result = last_json(capsys)
    assert result["answer_to_floor"] == pytest.approx(
        result["p50_ms"] / result["floor_p50_ms"], rel=0.01)
    assert result["answer_to_floor"] > 1  # a whole answer does more than the rules alone
    assert "cold_p50_ms" in result and "cold_p95_ms_10x" in result


@pytest.mark.browser
def test_browser_benchmark_measures_answers_pages_and_a_cold_start(capsys):
    """The browser benchmark starts its own app, answers, switches pages and reports the
    contract's keys, each a positive time."""
    require_browser()
    from benchmarks import browser

    browser.main(["--answers", "3", "--rounds", "1"])
    result = last_json(capsys)
    for key in ("answer_p50_ms", "answer_p95_ms", "page_open_p50_ms", "cold_start_ms",
                "first_progress_ms", "first_app_output_ms"):
        assert result[key] > 0, key
    assert result["answers"] >= 3
    assert result["answer_p50_ms"] <= result["answer_p95_ms"]
    assert result["first_progress_ms"] <= result["first_app_output_ms"] <= result["cold_start_ms"]
