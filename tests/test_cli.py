"""The command line keeps the DESIGN.md contract."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ossdx.cli.main import main

from conftest import KB_DIR, MINI_KB, ROOT

SCHMORL = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_diagnose_json_contract():
    """--json prints one object whose differential is sorted and carries the contract keys."""
    code, text = run("diagnose", str(SCHMORL), "--json")
    assert code == 0
    data = json.loads(text)
    probs = [e["probability"] for e in data["differential"]]
    assert probs == sorted(probs, reverse=True)
    assert abs(sum(probs) - 1) < 1e-4
    for entry in data["differential"]:
        assert {"id", "name", "probability", "evidence_for", "evidence_against"} <= set(entry)
    top = data["differential"][0]
    assert top["id"] == "schmorl_node"
    reason = top["evidence_for"][0]
    assert reason["rule"] and reason["text"] and reason["findings"]
    assert {"pitfalls", "recommendations", "next_question"} <= set(data)
    assert any(p["id"] == "schmorl_fdg_false_positive" for p in data["pitfalls"])


def test_diagnose_text_shows_ranking_evidence_and_next_question():
    """The text report names the leader, the rule evidence, the pitfalls and a next question."""
    code, text = run("diagnose", str(SCHMORL))
    assert code == 0
    assert "1. Schmorl's node" in text
    assert "schmorl_node.profile.vertebral_location.endplate" in text  # the rule and its finding
    assert "Position in the vertebra: At an endplate" in text
    assert "Pitfalls:" in text
    assert "Next question:" in text or "No further question:" in text
    assert "not a diagnosis" in text


def test_diagnose_text_says_when_nothing_separates_the_diagnoses(tmp_path: Path):
    """A case with nothing in it: every diagnosis equally likely, and the report says that
    there is no leader (the first line of the tie is not one); a real case has no such line."""
    empty = tmp_path / "empty.yaml"
    empty.write_text("id: empty\nfindings: {}\n", encoding="utf-8")
    code, text = run("diagnose", str(empty))
    assert code == 0
    assert "No leading diagnosis yet: nothing separates the diagnoses." in text
    _, schmorl = run("diagnose", str(SCHMORL))
    assert "No leading diagnosis" not in schmorl and "No single leading" not in schmorl


def test_validate_clean_kb_exits_0():
    """The shipped KB validates with no errors."""
    code, text = run("validate", str(KB_DIR))
    assert code == 0
    assert text.strip().endswith("0 error(s), 0 warning(s)")


def broken_mini_kb(tmp_path: Path) -> Path:
    """A copy of the mini knowledge base with one misspelt finding (alpha.yaml line 23)."""
    import shutil

    root = tmp_path / "kb"
    shutil.copytree(MINI_KB, root)
    path = root / "diagnoses" / "alpha.yaml"
    path.write_text(path.read_text().replace("when: {density: lytic}", "when: {densty: lytic}"))
    return root


def test_validate_broken_kb_exits_1_with_file_line(tmp_path: Path):
    """A broken KB lists its problems as file:line: message and exits 1."""
    code, text = run("validate", str(broken_mini_kb(tmp_path)), "--json")
    assert code == 1
    data = json.loads(text)
    assert data["errors"] == 1
    (error,) = [p for p in data["problems"] if p["severity"] == "error"]
    assert error["file"] == "kb/diagnoses/alpha.yaml"
    assert error["line"] == 23


def test_validate_says_which_checks_wait_for_a_loadable_kb(tmp_path: Path):
    """A file error stops the knowledge base from loading, so the checks over the loaded
    rules cannot run: validate says so, and the second run, once the error is mended, finds
    the failing example that the first could not see."""
    root = broken_mini_kb(tmp_path)
    concepts = root / "concepts" / "basic.yaml"
    concepts.write_text(concepts.read_text().replace(
        '{findings: {cortical_breach: "no"}, fires: "no"}',
        '{findings: {cortical_breach: "no"}, fires: "yes"}'))
    code, text = run("validate", str(root))
    assert code == 1
    assert "kb/diagnoses/alpha.yaml:23: unknown finding" in text
    assert "did not load, so these checks did not run" in text and "rule examples" in text
    assert "aggressive.breach" not in text
    alpha = root / "diagnoses" / "alpha.yaml"
    alpha.write_text(alpha.read_text().replace("{densty: lytic}", "{density: lytic}"))
    code, text = run("validate", str(root), "--json")
    assert code == 1
    data = json.loads(text)
    assert data["checks_not_run"] == []
    (error,) = [p for p in data["problems"] if p["severity"] == "error"]
    assert (error["file"], error["line"]) == ("kb/concepts/basic.yaml", 12)
    assert "aggressive.breach" in error["message"]


def test_validate_reads_the_global_kb_option(tmp_path: Path):
    """'ossdx --kb DIR validate' checks DIR, as every other command reads --kb, not the
    shipped knowledge base."""
    code, text = run("--kb", str(broken_mini_kb(tmp_path)), "validate")
    assert code == 1
    assert "kb/diagnoses/alpha.yaml:23: unknown finding" in text


def test_evaluate_reports_accuracy_brier_confusion():
    """evaluate --json has top-1, top-3, mean rank, Brier and a confusion table."""
    code, text = run("--kb", str(MINI_KB), "evaluate", str(MINI_KB / "cases"), "--json")
    assert code == 0
    report = json.loads(text)
    assert report["n"] == 2
    assert {"top1", "top3", "mean_rank", "brier", "confusion", "calibration",
            "sensitivity"} <= set(report)
    assert report["confusion"]["alpha"] == {"alpha": 1}
    low, high = report["top1_ci95"]
    assert 0 <= low <= report["top1"] <= high <= 1 and high - low > 0.3  # two cases: wide


def test_the_accuracy_interval_is_wilsons():
    """The 95 % interval given with every accuracy: at 0 of n its upper end is
    z^2 / (n + z^2) (Wilson's closed form there), it mirrors at n - x, it holds the observed
    rate, and four times the cases halve its width, roughly."""
    from ossdx.advice.track_record import wilson_interval

    z2 = 1.959964 ** 2
    assert wilson_interval(0, 10) == [0.0, pytest.approx(z2 / (10 + z2), abs=1e-4)]
    for x, n in ((50, 86), (26, 41), (3, 7)):
        low, high = wilson_interval(x, n)
        assert low < x / n < high
        mirrored = wilson_interval(n - x, n)
        assert low == pytest.approx(1 - mirrored[1], abs=2e-4)
        assert high == pytest.approx(1 - mirrored[0], abs=2e-4)
    narrow = wilson_interval(200, 344)
    wide = wilson_interval(50, 86)
    assert 0.4 < (narrow[1] - narrow[0]) / (wide[1] - wide[0]) < 0.6


def test_evaluate_missing_folder_exits_2(tmp_path: Path, capsys):
    """A folder that does not exist is an input error."""
    code, _ = run("evaluate", str(tmp_path / "none"))
    assert code == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_console_script_in_subprocess():
    """The installed entry point runs diagnose end to end."""
    result = subprocess.run([sys.executable, "-m", "ossdx.cli.main", "diagnose", str(SCHMORL),
                             "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["differential"][0]["id"] == "schmorl_node"


def test_app_command_forwards_streamlit_options(monkeypatch):
    """'ossdx app --server.port N' runs the packaged Streamlit script with the app's safe
    settings and then the user's options (the last given wins), from any folder."""
    import contextlib
    import os
    import tomllib

    seen = {}

    def fake_execv(path, command):
        seen["command"] = command
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", fake_execv)
    monkeypatch.chdir("/")
    with contextlib.suppress(SystemExit):
        main(["app", "--server.port", "8999", "--server.headless", "true"])
    command = seen["command"]
    assert command[1:4] == ["-m", "streamlit", "run"]
    # ui/serve.py: Streamlit's st.App around the app's script (with the boot indicator)
    served = Path(command[4])
    assert served.name == "serve.py" and (served.parent / "streamlit_app.py").is_file()
    assert 'st.App("streamlit_app.py"' in served.read_text(encoding="utf-8")
    assert command[-4:] == ["--server.port", "8999", "--server.headless", "true"]
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    options = dict(zip(command[5:-4:2], command[6:-4:2], strict=True))
    assert options["--client.showErrorDetails"] == config["client"]["showErrorDetails"]
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.maxUploadSize"] == str(config["server"]["maxUploadSize"])
