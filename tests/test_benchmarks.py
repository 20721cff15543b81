"""The benchmark scripts run end to end on the small test KB and print their JSON contract."""

from __future__ import annotations

import json

from benchmarks import calibrate, latency, questions

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


def test_calibration_benchmark_on_the_mini_kb(capsys):
    """calibrate prints the evidence-weight table and the best weight."""
    calibrate.main(["--kb", str(MINI_KB), "--cases", str(MINI_KB / "cases")])
    result = last_json(capsys)
    assert result["best_w"] in [row["w"] for row in result["rows"]]
