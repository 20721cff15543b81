"""Coverage: which rules the case files exercise, which none does, which diagnoses lack cases.

Expected values for the mini KB were worked out by hand from its two cases:
mini-alpha (CT; spine, lytic, cortex breached) fires aggressive.breach, alpha.prior.spine,
alpha.aggressive, alpha.lytic, beta.aggressive and the recommendation biopsy_alpha (its
condition is the aggressive concept; coverage records the rule firing, before any band);
mini-beta (rib, sclerotic) fires beta.sclerotic. Both show a lesion on bone imaging, so both
fire the base-rate rules
alpha.prior.population and beta.prior.population. No size, no T1 signal and no patient
primary are given, so the other six rules never fire.
"""

from __future__ import annotations

import io
import json

import pytest

from ossdx.authoring.coverage import MIN_CASES, coverage_of_folder, format_coverage
from ossdx.cli.main import main

from conftest import MINI_KB

FIRED = {
    "aggressive.breach": ("mini-alpha",),
    "alpha.prior.spine": ("mini-alpha",),
    "alpha.aggressive": ("mini-alpha",),
    "alpha.lytic": ("mini-alpha",),
    "beta.aggressive": ("mini-alpha",),
    "recommendation.biopsy_alpha": ("mini-alpha",),
    "beta.sclerotic": ("mini-beta",),
    "alpha.prior.population": ("mini-alpha", "mini-beta"),
    "beta.prior.population": ("mini-alpha", "mini-beta"),
}
NEVER = {"very_aggressive.large", "alpha.very", "alpha.bright", "beta.bright",
         "beta.bright_small", "other.none"}


@pytest.mark.parametrize("fast", [False, True])
def test_rules_fired_per_case_on_the_mini_kb(fast, mini_kb):
    """Each rule lists exactly the cases it fired on (experta and its Python twin agree)."""
    coverage = coverage_of_folder(mini_kb, fast=fast)
    assert sorted(coverage.cases) == ["mini-alpha", "mini-beta"]
    assert {r.rule: r.cases for r in coverage.rules if r.exercised} == FIRED
    assert {r.rule for r in coverage.unexercised} == NEVER
    assert len(coverage.rules) == len(mini_kb.rules)


def test_diagnoses_with_fewer_than_two_cases(mini_kb):
    """alpha and beta have one case each as truth, other has none: all three are thin."""
    coverage = coverage_of_folder(mini_kb)
    assert MIN_CASES == 2
    assert coverage.thin == {"alpha": 1, "beta": 1, "other": 0}


def test_a_second_case_takes_a_diagnosis_off_the_thin_list(mini_kb, kb_copy):
    """Adding a second alpha case leaves only beta and other thin, and exercises other.none."""
    root = kb_copy()
    (root / "cases" / "alpha-two.yaml").write_text(
        "id: mini-alpha-two\npatient: {primary: none}\n"
        "findings: {region: rib, density: lytic}\ntruth: alpha\n")
    coverage = coverage_of_folder(mini_kb, root / "cases")
    assert coverage.thin == {"beta": 1, "other": 0}
    assert coverage.of("other.none").cases == ("mini-alpha-two",)
    assert coverage.of("alpha.lytic").cases == ("mini-alpha", "mini-alpha-two")


def test_text_report_names_untested_rules_with_their_place(mini_kb):
    """The text report gives counts, the untested rules with file:line, and thin diagnoses."""
    text = format_coverage(coverage_of_folder(mini_kb))
    assert "2 case file(s); 9 of 15 rules fired on at least one case (60%)" in text
    assert "Evidence rules: 4 of 9 exercised" in text
    assert "mini_kb/diagnoses/alpha.yaml:33: alpha.bright" in text
    assert "mini_kb/concepts/basic.yaml:17: very_aggressive.large" in text
    assert "  alpha: 1 case(s)" in text and "  other: 0 case(s)" in text


def test_coverage_command_defaults_to_the_kb_cases_folder():
    """`ossdx coverage --json` with no folder runs the KB's cases/."""
    out = io.StringIO()
    assert main(["--kb", str(MINI_KB), "coverage", "--json"], out) == 0
    data = json.loads(out.getvalue())
    assert data["cases"] == 2 and data["rules"] == 15 and data["exercised"] == 9
    assert data["fired"] == {rule: list(cases) for rule, cases in FIRED.items()}
    assert {r["rule"] for r in data["unexercised"]} == NEVER
    assert data["diagnoses_with_few_cases"] == {"alpha": 1, "beta": 1, "other": 0}


def test_coverage_command_on_a_folder_reports_unreadable_cases(kb_copy, capsys):
    """A broken case file is reported with its line; the others are still counted; exit 2."""
    root = kb_copy()
    (root / "cases" / "broken.yaml").write_text("findings: {densty: lytic}\n")
    out = io.StringIO()
    assert main(["--kb", str(MINI_KB), "coverage", str(root / "cases")], out) == 2
    assert "broken.yaml:1: unknown finding 'densty'" in capsys.readouterr().err
    assert "2 case file(s)" in out.getvalue()


def test_coverage_command_rejects_a_missing_folder(tmp_path, capsys):
    """A folder that does not exist is an input error."""
    assert main(["--kb", str(MINI_KB), "coverage", str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
