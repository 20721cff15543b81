"""Exports of a work-up: Markdown for people, the CLI's JSON, and a FHIR DiagnosticReport."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from datetime import UTC, datetime

import pytest

from ossdx.advice.export import diagnosis_json, escape_markdown, to_fhir, to_markdown
from ossdx.advice.questions import QuestionAdvisor
from ossdx.cli.main import main
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import load_case, make_case
from ossdx.reasoning.diagnosis import Reasoner

from conftest import KB_DIR

SCHMORL = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"
HEMANGIOMA = KB_DIR / "cases" / "seed" / "seed-sternal-hemangioma.yaml"


@pytest.fixture(scope="module")
def schmorl(kb, reasoner):
    case = load_case(SCHMORL, kb)
    return reasoner.diagnose(case), QuestionAdvisor(reasoner).advise(case)


def test_markdown_has_the_disclaimer_the_version_and_the_findings(kb, schmorl):
    """The Markdown carries the KB's disclaimer, its version and every finding entered."""
    differential, advice = schmorl
    text = to_markdown(kb, differential, advice)
    assert text.count(kb.manifest.disclaimer) == 2  # at the top and at the bottom
    assert kb.version in text
    for finding, value in differential.case.findings.items():
        assert f"{kb.findings[finding].name}: {kb.label_of(finding, value)}" in text


def test_markdown_ranks_the_differential_with_its_evidence(kb, schmorl):
    """The ranked table starts with the leader; each fired rule is listed with its id."""
    differential, advice = schmorl
    text = to_markdown(kb, differential, advice)
    leader = differential.leader
    assert f"| 1 | {leader.name} | {leader.probability:.1%} |" in text
    for reason in leader.evidence_for:
        assert f"`{reason.rule}`" in text


def test_markdown_lists_the_citations_of_the_rules_that_fired(kb, schmorl):
    """Every reference cited by the leader's evidence appears with its citation."""
    differential, advice = schmorl
    text = to_markdown(kb, differential, advice)
    cited = {r for reason in differential.leader.evidence_for for r in reason.references}
    assert cited
    for ref_id in cited:
        assert escape_markdown(kb.references[ref_id].citation) in text


def test_markdown_names_the_findings_not_assessed(kb, schmorl):
    """Findings the user marked 'not assessed' are listed as such."""
    differential, advice = schmorl
    text = to_markdown(kb, differential, advice, not_assessed=["sclerotic_rim"])
    assert f"Not assessed: {kb.findings['sclerotic_rim'].name}" in text


def test_markdown_shows_html_in_a_title_literally(kb, schmorl):
    """A case title holding HTML is escaped, so no Markdown viewer renders it as a tag."""
    differential, advice = schmorl
    case = dataclasses.replace(differential.case, title="<img src=x onerror=alert(1)>")
    text = to_markdown(kb, dataclasses.replace(differential, case=case), advice)
    assert re.search(r"(?<!\\)<img", text) is None  # every '<' is escaped
    assert r"\<img src=x onerror=alert(1)\>" in text


@pytest.mark.parametrize("text, expected", [
    ("<b>bold</b>", r"\<b\>bold\</b\>"),
    ("[link](javascript:x)", r"\[link\](javascript:x)"),
    ("*a* _b_ `c` | $d$ ~e~", r"\*a\* \_b\_ \`c\` \| \$d\$ \~e\~"),
    ("# not a heading", r"\# not a heading"),
    ("1. not a list", r"1\. not a list"),
    ("two\nlines", "two lines"),
])
def test_escape_markdown_neutralises_markup(text, expected):
    """HTML, links, emphasis, code, tables, maths and block markers are escaped."""
    assert escape_markdown(text) == expected


def test_json_is_exactly_the_cli_output():
    """The JSON export equals what `ossdx diagnose --json` prints for the same case."""
    kb = load_knowledge_base(KB_DIR)  # the same files the CLI reads now
    reasoner = Reasoner(kb)
    case = load_case(SCHMORL, kb)
    differential, advice = reasoner.diagnose(case), QuestionAdvisor(reasoner).advise(case)
    out = io.StringIO()
    assert main(["--kb", str(KB_DIR), "diagnose", str(SCHMORL), "--json"], out) == 0
    expected = json.loads(out.getvalue())
    assert json.loads(json.dumps(diagnosis_json(kb, differential, advice))) == expected


def test_fhir_report_is_a_preliminary_diagnostic_report(kb, schmorl):
    """The FHIR resource is an R4 DiagnosticReport, status preliminary, with the leader."""
    differential, _ = schmorl
    issued = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    report = to_fhir(kb, differential, issued=issued)
    assert report["resourceType"] == "DiagnosticReport"
    assert report["status"] == "preliminary"
    assert report["code"]["text"]
    assert report["issued"] == "2026-01-02T03:04:05+00:00"
    assert report["conclusionCode"][0]["text"] == differential.leader.name
    assert kb.manifest.disclaimer in report["conclusion"]


def test_fhir_report_carries_the_markdown_and_the_snomed_code(kb, reasoner):
    """presentedForm decodes to the Markdown; a leader with a SNOMED CT code carries it."""
    differential = reasoner.diagnose(load_case(HEMANGIOMA, kb))
    leader = differential.leader
    codes = kb.diagnoses[leader.id].codes
    assert codes is not None and codes.snomed_ct
    markdown = to_markdown(kb, differential)
    report = to_fhir(kb, differential, markdown=markdown)
    form = report["presentedForm"][0]
    assert base64.b64decode(form["data"]).decode("utf-8") == markdown
    assert report["conclusionCode"][0]["coding"] == [
        {"system": "http://snomed.info/sct", "code": codes.snomed_ct, "display": leader.name}]


def test_a_tie_at_the_top_is_said_and_not_coded(kb, reasoner):
    """Before anything separates the diagnoses the Markdown says there is no leader, and the
    FHIR report names none (no conclusionCode; the conclusion says why); a real case has a
    coded leader and no such sentence."""
    differential = reasoner.diagnose(make_case(kb, {}))
    assert len(differential.tied_leaders) == len(differential.entries)
    markdown = to_markdown(kb, differential)
    assert "**No leading diagnosis yet: nothing separates the diagnoses.**" in markdown
    report = to_fhir(kb, differential, markdown=markdown)
    assert "conclusionCode" not in report
    assert "No leading diagnosis yet" in report["conclusion"]
    real = reasoner.diagnose(load_case(HEMANGIOMA, kb))
    assert "No leading diagnosis" not in to_markdown(kb, real)
    assert to_fhir(kb, real)["conclusionCode"][0]["text"] == real.leader.name
