"""The worked example of docs/AUTHORING.md, executed: its YAML blocks are applied to a copy of
the shipped knowledge base, which must then validate cleanly, fire the new rules, rank the
new diagnosis first on its example case and show the new rules in coverage."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ossdx.authoring.coverage import coverage_of_folder
from ossdx.authoring.lint import validate_folder
from ossdx.cli.main import main
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import load_case
from ossdx.reasoning.diagnosis import Reasoner

from conftest import KB_DIR, ROOT

GUIDE = ROOT / "docs" / "AUTHORING.md"
BLOCK = re.compile(r"<!--\s*authoring:(file|append)\s+(\S+)\s*-->\s*\n```yaml\n(.*?)```", re.S)
NEW_RULES = {"infarct_pattern.serpiginous_metadiaphysis", "bone_infarct.pattern",
             "bone_infarct.fatty_centre", "metastasis.infarct_pattern",
             "bone_infarct.prior.long_bone", "bone_infarct.prior.radiation"}
FEMUR = "cases/authoring/bone-infarct-femur.yaml"
HUMERUS = "cases/authoring/bone-infarct-humerus.yaml"


def blocks() -> list[tuple[str, str, str]]:
    """(mode, path, text) of every marked YAML block of the guide, in order."""
    return BLOCK.findall(GUIDE.read_text(encoding="utf-8"))


def apply_guide(root: Path) -> None:
    """Apply the guide's blocks to a knowledge-base folder, as an educator would."""
    for mode, rel, text in blocks():
        path = root / rel
        if mode == "file":
            assert not path.exists(), f"{rel} already exists"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        else:
            before = path.read_text(encoding="utf-8")
            path.write_text(before + ("" if before.endswith("\n") else "\n") + text,
                            encoding="utf-8")


def authored_copy(parent: Path) -> Path:
    root = parent / "knowledge_base"
    shutil.copytree(KB_DIR, root)
    apply_guide(root)
    return root


@pytest.fixture(scope="module")
def authored(tmp_path_factory) -> Path:
    return authored_copy(tmp_path_factory.mktemp("authoring"))


@pytest.fixture(scope="module")
def authored_kb(authored):
    return load_knowledge_base(authored)


def test_guide_marks_every_file_of_the_worked_example():
    """The guide has a block for the references, finding, concept, diagnosis, rival and cases."""
    found = [(mode, rel) for mode, rel, _ in blocks()]
    assert found == [
        ("append", "references.yaml"), ("file", "findings/6_infarct.yaml"),
        ("file", "concepts/infarct.yaml"), ("file", "diagnoses/bone_infarct.yaml"),
        ("append", "diagnoses/metastasis.yaml"), ("file", FEMUR), ("file", HUMERUS)]
    for mode, rel in found:
        assert ".." not in Path(rel).parts and not Path(rel).is_absolute()
        assert (KB_DIR / rel).exists() == (mode == "append"), rel


def test_worked_example_validates_without_errors_or_warnings(authored):
    """After the worked example, `ossdx validate` reports nothing (rule examples included)."""
    assert [str(p) for p in validate_folder(authored)] == []
    assert main(["validate", str(authored)]) == 0


def test_new_rules_fire_on_the_example_case(authored, authored_kb):
    """The concept, the evidence rules, the rival's rule and the prior factors all fire."""
    case = load_case(authored / FEMUR, authored_kb)
    fired = set(Reasoner(authored_kb).diagnose(case).trace.fired)
    assert fired >= NEW_RULES


def test_example_cases_lead_with_the_new_diagnosis(authored, authored_kb):
    """Both example cases rank bone infarct first; the CT-only one with less confidence."""
    reasoner = Reasoner(authored_kb)
    femur = reasoner.diagnose(load_case(authored / FEMUR, authored_kb))
    humerus = reasoner.diagnose(load_case(authored / HUMERUS, authored_kb))
    assert femur.leader.id == "bone_infarct"
    assert humerus.leader.id == "bone_infarct"
    assert femur.leader.probability > humerus.leader.probability
    against = {r.rule for r in femur.entry("metastasis").evidence_against}
    assert "metastasis.infarct_pattern" in against


def test_coverage_shows_the_new_rules_exercised(authored_kb):
    """Coverage lists the new rules on the new cases, and bone infarct has two cases."""
    coverage = coverage_of_folder(authored_kb)
    both = {"authoring-bone-infarct-femur", "authoring-bone-infarct-humerus"}
    for rule in ("infarct_pattern.serpiginous_metadiaphysis", "bone_infarct.pattern",
                 "metastasis.infarct_pattern"):
        assert both <= set(coverage.of(rule).cases), rule
    assert coverage.of("bone_infarct.fatty_centre").cases == ("authoring-bone-infarct-femur",)
    assert "bone_infarct" not in coverage.thin
    assert "bone_infarct.no_border" in {r.rule for r in coverage.unexercised}


def test_graph_of_the_new_diagnosis_links_finding_concept_and_rules(authored, capsys):
    """`ossdx graph --diagnosis bone_infarct` shows the new finding feeding the new rules."""
    assert main(["--kb", str(authored), "graph", "--diagnosis", "bone_infarct"]) == 0
    dot = capsys.readouterr().out
    for node in ("finding:serpiginous_border", "concept:infarct_pattern",
                 "rule:bone_infarct.pattern", "diagnosis:bone_infarct"):
        assert f'"{node}"' in dot


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_messages_quoted_in_the_guide_are_what_validate_prints(tmp_path):
    """The example messages in the guide come from the mistakes the guide describes."""
    quoted = set(re.findall(r"^(knowledge_base/\S+:\d+: .+)$",
                            GUIDE.read_text(encoding="utf-8"), re.M))
    assert len(quoted) == 3
    typo = authored_copy(tmp_path / "typo")
    _edit(typo, "diagnoses/bone_infarct.yaml", 'when: {serpiginous_border: "no"}',
          'when: {serpiginous_boarder: "no"}')
    logic = authored_copy(tmp_path / "logic")
    _edit(logic, "diagnoses/bone_infarct.yaml", "when: {concept: fat_signal, region: long_bone}",
          "when: {concept: [fat_signal, infarct_pattern], long_bone_location: epiphysis}")
    _edit(logic, "diagnoses/bone_infarct.yaml",
          'serpiginous_border: "no"}\n        fires: "no"',
          'serpiginous_border: "no"}\n        fires: "yes"')
    printed = {str(p) for root in (typo, logic) for p in validate_folder(root)}
    assert quoted <= printed, "\n".join(sorted(printed))
