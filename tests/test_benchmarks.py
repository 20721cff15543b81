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


def test_calibration_benchmark_chooses_by_its_stated_rule(monkeypatch, capsys):
    """calibrate scores a grid of (w, T) on the calibration folders and chooses, among the pairs
    that keep every seed case's leader and lie within the Brier tie of the lowest of those,
    the fewest wrong leaders at >= 90 %, then ECE."""
    monkeypatch.setattr(calibrate, "CALIBRATION_FOLDERS", ("",))  # the mini KB's cases/
    result = calibrate.main(["--kb", str(MINI_KB)])
    rows, best = result["rows"], result["best"]
    assert len(rows) == len(calibrate.WEIGHTS) * len(calibrate.TEMPERATURES)
    allowed = [r for r in rows if r["seed_right"]] or rows
    lowest = min(r["brier"] for r in allowed)
    near = [r for r in allowed if r["brier"] <= lowest + calibrate.BRIER_TIE]
    assert best in near
    assert best["wrong_conf90"] == min(r["wrong_conf90"] for r in near)
    assert last_json(capsys)["best"] == best
