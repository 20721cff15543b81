"""The worked example of docs/AUTHORING.md, executed: its YAML blocks are applied to a copy of
the shipped knowledge base, which must then validate cleanly, fire the new rules, rank the
new diagnosis first on its example cases and show the new rules in coverage; and every
message the guide quotes must be what `ossdx validate` prints for the mistake it describes."""

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
QUOTED = re.compile(r"^(knowledge_base/\S+:\d+: .+)$", re.M)
DX = "diagnoses/giant_cell_tumour.yaml"
CONCEPT = "concepts/articular.yaml"
FEMUR = "cases/authoring/gct-distal-femur.yaml"
RADIUS = "cases/authoring/gct-distal-radius.yaml"
BIOPSY = "giant_cell_tumour_biopsy_solid_part"
END_OF_BONE = {"giant_cell_tumour.profile.long_bone_location.epiphysis",
               "giant_cell_tumour.profile.subarticular_extension.yes"}
NEW_RULES = {"subarticular_lucency.rimless", "giant_cell_tumour.rimless_subarticular",
             "metastasis.solitary_subarticular_lucency", "giant_cell_tumour.prior.population",
             "giant_cell_tumour.prior.young_adult", "giant_cell_tumour.prior.bone_pain",
             f"recommendation.{BIOPSY}", *END_OF_BONE}


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def blocks() -> list[tuple[str, str, str]]:
    """(mode, path, text) of every marked YAML block of the guide, in order."""
    return BLOCK.findall(guide_text())


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


@pytest.fixture(scope="module")
def femur(authored, authored_kb):
    return Reasoner(authored_kb).diagnose(load_case(authored / FEMUR, authored_kb))


def test_guide_marks_every_file_of_the_worked_example():
    """The guide has a block for the references, finding, concept, diagnosis, rival, advice
    and cases, each creating a new file or appending to an existing one."""
    found = [(mode, rel) for mode, rel, _ in blocks()]
    assert found == [
        ("file", "references/giant_cell_tumour.yaml"), ("file", "findings/6_articular.yaml"),
        ("file", CONCEPT), ("file", DX), ("append", "diagnoses/metastasis.yaml"),
        ("file", "recommendations/giant_cell_tumour.yaml"), ("file", FEMUR), ("file", RADIUS)]
    for mode, rel in found:
        assert ".." not in Path(rel).parts and not Path(rel).is_absolute()
        assert (KB_DIR / rel).exists() == (mode == "append"), rel


def test_worked_example_validates_without_errors_or_warnings(authored, capsys):
    """After the worked example, `ossdx validate` reports nothing (rule examples included)."""
    assert main(["validate", str(authored)]) == 0
    assert capsys.readouterr().out.strip() == "0 error(s), 0 warning(s)"


def test_new_diagnosis_states_every_core_finding(authored_kb):
    """The new profile states every core finding of its regions, and the new finding's
    declared population is its reference (so its profile rules compile)."""
    profile = authored_kb.profiles["giant_cell_tumour"]
    core = authored_kb.manifest.core_findings
    assert set(core["any"]) | set(core["long_bone"]) <= set(profile)
    assert authored_kb.reference["subarticular_extension"] == pytest.approx(
        {"yes": 0.15, "no": 0.85})
    compiled = {r.id for r in authored_kb.rules if r.target == "giant_cell_tumour"}
    assert {"giant_cell_tumour.profile.subarticular_extension.yes",
            "giant_cell_tumour.profile.subarticular_extension.no"} <= compiled


def test_new_rules_fire_on_the_example_case(femur):
    """The concept, the profile rules, the combination, the rival's rule, the prior factors
    and the recommendation all fire on the femur case."""
    assert set(femur.trace.fired) >= NEW_RULES


def test_pattern_counts_the_end_of_bone_once(femur):
    """The epiphyseal position and the subchondral extension fire, but only one counts."""
    reasons = {r.rule: r for r in femur.entry("giant_cell_tumour").evidence_for}
    assert set(reasons) >= END_OF_BONE
    assert sorted(reasons[rule].counted for rule in END_OF_BONE) == [False, True]


def test_example_cases_lead_with_the_new_diagnosis(authored, authored_kb, femur):
    """Both example cases rank the giant cell tumour first; the CT-only one with less
    confidence; the rival's rule lowers metastasis on the femur case."""
    radius = Reasoner(authored_kb).diagnose(load_case(authored / RADIUS, authored_kb))
    assert femur.leader.id == "giant_cell_tumour"
    assert radius.leader.id == "giant_cell_tumour"
    assert femur.leader.probability > radius.leader.probability
    against = {r.rule for r in femur.entry("metastasis").evidence_against}
    assert "metastasis.solitary_subarticular_lucency" in against


OLDER = (("age: 33", "age: 70"), ("symptoms: [focal_bone_pain]}",
                                  'symptoms: [focal_bone_pain], known_bone_metastases: "yes"}'),
         ("lesion_count: solitary", "lesion_count: multiple"),
         ("zone_of_transition: narrow", "zone_of_transition: wide"),
         ('cortical_breach: "no"', 'cortical_breach: "yes"'))


def test_biopsy_advice_is_shown_only_within_its_band(authored, authored_kb, femur, tmp_path):
    """The recommendation is shown when the tumour leads; for a 70-year-old with known bone
    metastases, several lesions and an aggressive subarticular lucency it still fires, but
    the tumour is below the band, so it is not shown (the guide's step 8)."""
    assert BIOPSY in [n.id for n in femur.recommendations]
    older = (authored / FEMUR).read_text(encoding="utf-8")
    for old, new in OLDER:
        assert older.count(old) == 1, old
        older = older.replace(old, new)
    case = tmp_path / "older.yaml"
    case.write_text(older, encoding="utf-8")
    differential = Reasoner(authored_kb).diagnose(load_case(case, authored_kb))
    assert f"recommendation.{BIOPSY}" in differential.trace.fired
    assert differential.entry("giant_cell_tumour").probability < 0.2
    assert BIOPSY not in [n.id for n in differential.recommendations]


def test_diagnose_prints_what_the_guide_describes(authored, capsys):
    """`ossdx diagnose` on the femur case ranks the tumour first and prints the profile
    figures the guide works out, the pattern's uncounted sign and the served advice."""
    assert main(["--kb", str(authored), "diagnose", str(authored / FEMUR)]) == 0
    out = capsys.readouterr().out
    ranked = [line.split(".", 1)[1].split("  ")[0].strip() for line in out.splitlines()
              if re.match(r"^ *\d+\. ", line)]
    assert ranked[0] == "Giant cell tumour of bone"
    worked = "P 0.71 vs 0.15, LR 4.75 (expert estimate)"
    assert worked in guide_text() and worked in out
    assert "not counted: same sign as giant_cell_tumour.profile." in out
    assert "(for Giant cell tumour of bone" in out


def test_coverage_shows_the_new_rules_exercised(authored_kb):
    """Coverage lists the new rules on the new cases, the tumour has two cases, and the
    'no' answer of the new finding is a rule no case exercises yet."""
    coverage = coverage_of_folder(authored_kb)
    both = {"authoring-gct-distal-femur", "authoring-gct-distal-radius"}
    for rule in ("subarticular_lucency.rimless", "giant_cell_tumour.rimless_subarticular",
                 "giant_cell_tumour.profile.subarticular_extension.yes"):
        assert both <= set(coverage.of(rule).cases), rule
    assert "authoring-gct-distal-femur" in coverage.of(
        "metastasis.solitary_subarticular_lucency").cases
    assert "authoring-gct-distal-radius" not in coverage.of(
        "metastasis.solitary_subarticular_lucency").cases
    assert "giant_cell_tumour" not in coverage.thin
    unexercised = {r.rule for r in coverage.unexercised}
    assert "giant_cell_tumour.profile.subarticular_extension.no" in unexercised


def test_graph_of_the_new_diagnosis_links_finding_concept_and_rules(authored, capsys):
    """`ossdx graph --diagnosis giant_cell_tumour` shows the new finding feeding the concept
    and the profile rule, and the rules feeding the diagnosis."""
    assert main(["--kb", str(authored), "graph", "--diagnosis", "giant_cell_tumour"]) == 0
    dot = capsys.readouterr().out
    for node in ("finding:subarticular_extension", "concept:subarticular_lucency",
                 "rule:subarticular_lucency.rimless", "rule:giant_cell_tumour.rimless_subarticular",
                 "rule:giant_cell_tumour.profile.subarticular_extension.yes",
                 "diagnosis:giant_cell_tumour"):
        assert f'"{node}"' in dot


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _printed(root: Path) -> set[str]:
    return {str(p) for p in validate_folder(root)}


def _quoted(heading: str) -> set[str]:
    """The messages quoted in one numbered section of the guide."""
    sections = re.split(r"^## ", guide_text(), flags=re.M)
    (section,) = [s for s in sections if s.startswith(heading)]
    return set(QUOTED.findall(section))


BROKEN = ('p: {narrow: 0.85, wide: 0.15}', 'p: {narrow: 0.85, wide: 0.25}',
          'p: {"yes": 0.6, "no": 0.4}', 'p: {"yes": 1.2, "no": 0.4}')


def test_guide_quotes_only_messages_checked_here():
    """Every message the guide quotes is in one of the sections whose mistakes are made below."""
    quoted = set(QUOTED.findall(guide_text()))
    checked = _quoted("7.") | _quoted("10.") | _quoted("11.") | _quoted("12.")
    assert quoted == checked
    assert len(_quoted("7.")) == 1 and len(_quoted("10.")) == 1
    assert len(_quoted("11.")) == 2 and len(_quoted("12.")) == 3


def test_broken_profile_prints_exactly_the_quoted_messages(tmp_path):
    """A probability of 1.2 and figures summing to 1.1, as the guide shows them, make
    validate print exactly the guide's two errors and the warning that follows from them."""
    text = guide_text()
    assert BROKEN[1] in text and BROKEN[3] in text
    root = authored_copy(tmp_path)
    _edit(root, DX, BROKEN[0], BROKEN[1])
    _edit(root, DX, BROKEN[2], BROKEN[3])
    printed = {p for p in _printed(root) if p.startswith(f"knowledge_base/{DX}:")}
    assert printed == _quoted("12.")


def test_typo_prints_the_quoted_message(tmp_path):
    """A misspelt finding in the concept rule is reported as the guide quotes it."""
    root = authored_copy(tmp_path)
    _edit(root, CONCEPT, 'when: {subarticular_extension: "yes"',
          'when: {subarticular_extention: "yes"')
    (typo,) = [m for m in _quoted("11.") if "did you mean" in m]
    assert typo in _printed(root)


def test_logic_mistakes_print_the_quoted_messages(tmp_path):
    """A prior factor reading a finding, a failing concept example and a rule widened to the
    sacrum print the warning, the example error and the never-fires error the guide quotes."""
    root = authored_copy(tmp_path)
    _edit(root, DX, "when: {patient: {age: {at_least: 20, below: 40}}}",
          "when: {patient: {age: {at_least: 20, below: 40}}, long_bone_location: epiphysis}")
    _edit(root, CONCEPT, 'sclerotic_rim: "yes"}\n            fires: "no"',
          'sclerotic_rim: "yes"}\n            fires: "yes"')
    _edit(root, DX, "when: {concept: subarticular_lucency, zone_of_transition: narrow}",
          "when: {concept: subarticular_lucency, zone_of_transition: narrow, region: sacrum}")
    printed = _printed(root)
    expected = _quoted("7.") | _quoted("10.") | {m for m in _quoted("11.")
                                                 if "can never fire" in m}
    assert len(expected) == 3
    assert expected <= printed, "\n".join(sorted(printed))
