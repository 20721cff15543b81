"""A bad case file gives one clear problem naming file, line and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ossdx.cli.main import main
from ossdx.core.errors import InputError
from ossdx.reasoning.cases import load_case

# name -> (file text, expected line, words the message must contain)
BAD_CASES = {
    "malformed_yaml": ("findings:\n  region: [spine\n", 2, ["not valid YAML"]),
    "not_a_mapping": ("- region: spine\n", 1, ["mapping"]),
    "empty_file": ("", 1, ["empty"]),
    "unknown_top_level_key": ("findngs:\n  region: spine\n", 1,
                              ["unknown key 'findngs'", "did you mean 'findings'"]),
    "unknown_finding": ("findings:\n  region: spine\n  t1_signl: hypo\n", 3,
                        ["unknown finding 't1_signl'", "did you mean 't1_signal'"]),
    "value_not_allowed": ("findings:\n  density: lytc\n", 2,
                          ["'lytc' is not a value of 'density'", "allowed: lytic"]),
    "number_out_of_range": ("findings:\n  size_cm: 80\n", 2, ["allowed: a number from 0 to 50"]),
    "finding_without_its_modality": ("modalities: [MRI]\nfindings:\n  fdg_uptake: intense\n",
                                     3, ["needs one of the modalities PET_CT", "MRI"]),
    "requirement_contradicted": ("findings:\n  region: rib\n  vertebral_location: endplate\n",
                                 3, ["applies only when region is spine"]),
    "unknown_modality": ("modalities: [PET]\nfindings:\n  region: spine\n", 1,
                         ["unknown modality 'PET'", "allowed: XR"]),
    "unknown_truth": ("findings:\n  region: spine\ntruth: schmorls_node\n", 3,
                      ["unknown diagnosis", "did you mean 'schmorl_node'"]),
    "unknown_patient_field": ("patient:\n  agee: 50\nfindings: {region: spine}\n", 2,
                              ["unknown patient field 'agee'", "did you mean 'age'"]),
    "receptor_value": ("patient:\n  receptors: {er: maybe}\nfindings: {region: spine}\n", 2,
                       ["'maybe' is not a value of 'er'"]),
    "findings_not_mapping": ("findings: [region, spine]\n", 1, ["must be a mapping"]),
    "alias_bomb": ("a: &x [1]\nb: *x\n", 1, ["anchors"]),
    "duplicate_finding": ("findings:\n  region: spine\n  region: rib\n", 3, ["duplicate key"]),
    "key_with_a_bracket": ("fin[1]dings:\n  region: spine\n", 1,
                           ["unknown key 'fin[1]dings'", "allowed:"]),
    "merge_key": ("findings:\n  region: spine\n  <<: {density: lytic}\n", 3,
                  ["merge keys ('<<') are not allowed", "write the values out"]),
    "empty_value": ("findings:\n  region: spine\n  density:\n", 3,
                    ["'density' is empty", "leave it out if it was not assessed",
                     "allowed: lytic"]),
    "list_for_one_value": ("findings:\n  density: [lytic, sclerotic]\n", 2,
                           ["'density' takes one value, not a list", "allowed: lytic"]),
    "number_read_as_text_out_of_range": ("findings:\n  size_cm: 1e308\n", 2,
                                         ["'size_cm' is 1e+308", "from 0 to 50 cm"]),
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_case_file_names_file_line_and_fix(name: str, tmp_path: Path, kb):
    """Each kind of mistake is reported with the file, the right line and what is allowed."""
    text, line, words = BAD_CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_case(path, kb)
    problem = info.value.problems[0]
    assert problem.location.file == str(path)
    assert problem.location.line == line
    for word in words:
        assert word in problem.message


def test_missing_case_file(tmp_path: Path, kb):
    """A path that does not exist is an InputError, not an OSError."""
    with pytest.raises(InputError, match="no such file"):
        load_case(tmp_path / "absent.yaml", kb)


@pytest.mark.parametrize("name", ["malformed_yaml", "unknown_finding", "value_not_allowed",
                                  "finding_without_its_modality"])
def test_cli_prints_one_line_and_exits_2(name: str, tmp_path: Path, capsys):
    """ossdx diagnose on a bad file prints one line with file:line, exits 2, no traceback."""
    text, line, _ = BAD_CASES[name]
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["diagnose", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{path}:{line}: ")
    assert "Traceback" not in err


def test_yes_no_bare_or_quoted_mean_the_same(tmp_path: Path, kb, reasoner):
    """'cortical_breach: yes' and 'cortical_breach: "yes"' give the same case."""
    bare = tmp_path / "bare.yaml"
    quoted = tmp_path / "quoted.yaml"
    bare.write_text("findings: {region: rib, cortical_breach: yes}\n")
    quoted.write_text('findings: {region: rib, cortical_breach: "yes"}\n')
    assert load_case(bare, kb).findings == load_case(quoted, kb).findings


def test_modalities_are_inferred_when_omitted(tmp_path: Path, kb):
    """Without 'modalities', the fewest modalities that show the findings are assumed."""
    path = tmp_path / "c.yaml"
    path.write_text("findings: {region: spine, fdg_uptake: low, density: lytic, "
                    "t1_signal: hypo}\n")
    case = load_case(path, kb)
    assert case.modalities == {"PET_CT", "MRI"}


def test_number_yaml_reads_as_text_is_a_number(tmp_path: Path, kb):
    """YAML 1.1 reads 2e1 (no dot) as text; as a size it is still the number 20."""
    path = tmp_path / "exponent.yaml"
    path.write_text("modalities: [CT]\nfindings:\n  region: spine\n  size_cm: 2e1\n")
    assert load_case(path, kb).findings["size_cm"] == 20.0


def test_missing_case_file_is_reported_before_the_knowledge_base_loads(tmp_path: Path, capsys):
    """A case file that does not exist is named (without a line it cannot have) even when the
    knowledge base is broken: the file is read first."""
    broken_kb = tmp_path / "kb"
    broken_kb.mkdir()
    (broken_kb / "kb.yaml").write_text("version: [\n")
    code = main(["--kb", str(broken_kb), "diagnose", str(tmp_path / "missing.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{tmp_path / 'missing.yaml'}: no such file" in err
    assert "missing.yaml:1" not in err and "knowledge base" not in err
