"""Golden set of broken knowledge bases: each mistake is reported at its exact file:line.

Each case copies the mini KB, applies one edit (the mistake it is named after), and
asserts that ``ossdx validate`` reports exactly that problem where it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ossdx.authoring.lint import validate_folder
from ossdx.cli.main import main
from ossdx.core.errors import Severity
from ossdx.kb import check_knowledge_base

# name: (file, old text, new text, expected line, words in the message)
SIZE_PROFILE = "profile:\n  - finding: size_cm\n    p: {\"<5\": 0.8, \">=5\": 0.2}\n"
BETA_RULES = "rules:\n  - id: beta.sclerotic"

BROKEN = {
    "unknown_finding_in_rule": (
        "diagnoses/alpha.yaml", "when: {density: lytic}", "when: {densty: lytic}", 23,
        ["unknown finding or condition key 'densty'", "did you mean 'density'"]),
    "unknown_value_in_rule": (
        "diagnoses/alpha.yaml", "when: {density: lytic}", "when: {density: lytik}", 23,
        ["'lytik' is not a value of 'density'", "allowed: lytic, sclerotic"]),
    "unknown_concept": (
        "diagnoses/alpha.yaml", "when: {concept: aggressive}", "when: {concept: agressive}",
        17, ["unknown concept 'agressive'", "did you mean 'aggressive'"]),
    "unknown_reference": (
        "diagnoses/beta.yaml", "    references: [ref_a]\n  - id: beta.bright\n",
        "    references: [ref_c]\n  - id: beta.bright\n", 14,
        ["unknown reference 'ref_c'", "did you mean"]),
    "missing_reference": (
        "diagnoses/beta.yaml",
        "    strength: moderate\n    references: [ref_a]\n  - id: beta.bright\n",
        "    strength: moderate\n    references: []\n  - id: beta.bright\n", 14,
        ["has no references"]),
    "duplicate_rule_id": (
        "diagnoses/alpha.yaml", "id: alpha.lytic", "id: alpha.aggressive", 21,
        ["duplicate rule id 'alpha.aggressive'", "first defined at"]),
    "rule_id_wrong_prefix": (
        "diagnoses/alpha.yaml", "id: alpha.lytic", "id: beta.lytic", 21,
        ["must start with 'alpha.'"]),
    "misspelt_rule_key": (
        "diagnoses/alpha.yaml", "    effect: for\n    strength: weak",
        "    effect: for\n    strenght: weak", 25,
        ["unknown key 'strenght'", "did you mean 'strength'"]),
    "bad_effect": (
        "diagnoses/alpha.yaml", "    effect: for\n    strength: weak",
        "    effect: pro\n    strength: weak",
        24, ["'effect' is 'pro'", "allowed: for, against"]),
    "two_strengths": (
        "diagnoses/alpha.yaml", "    strength: weak\n", "    strength: weak\n    lr: 2\n", 21,
        ["give exactly one of 'strength'"]),
    "lr_against_direction": (
        "diagnoses/alpha.yaml", "    lr: 3\n", "    lr: 0.5\n", 31,
        ["effect is 'for' but the likelihood ratio is 0.5"]),
    "lr_out_of_range": (
        "diagnoses/alpha.yaml", "    lr: 3\n", "    lr: 500\n", 31, ["outside the sane range"]),
    "probability_out_of_range": (
        "diagnoses/beta.yaml", "  base: 0.3", "  base: 1.3", 6, ["'base' is the number 1.3",
                                                                "< 1"]),
    "diagnosis_file_name_mismatch": (
        "diagnoses/beta.yaml", "id: beta\n", "id: gamma\n", 1, ["must match its file name"]),
    "missing_required_key": (
        "diagnoses/beta.yaml", "name: Beta\n", "", 1, ["missing required key 'name'"]),
    "unknown_modality_in_needs": (
        "findings/basic.yaml", "needs: [MRI]", "needs: [MR]", 31,
        ["unknown modality 'MR'", "did you mean 'MRI'"]),
    "alias_to_unknown_value": (
        "findings/basic.yaml", "      sclerotic: {label: Sclerotic}\n",
        "      sclerotic: {label: Sclerotic}\n    aliases: {blastic: sclerotik}\n", 19,
        ["alias 'blastic' points to 'sclerotik'"]),
    "implies_unknown_finding": (
        "findings/basic.yaml", "      sclerotic: {label: Sclerotic}\n",
        "      sclerotic: {label: Sclerotic, implies: {regon: rib}}\n", 18,
        ["'density: sclerotic' implies unknown finding 'regon'", "did you mean 'region'"]),
    "implies_unknown_value": (
        "findings/basic.yaml", "      sclerotic: {label: Sclerotic}\n",
        "      sclerotic: {label: Sclerotic, implies: {region: ribs}}\n", 18,
        ["'ribs' is not a value of 'region'", "allowed: spine, rib"]),
    "implies_its_own_finding": (
        "findings/basic.yaml", "      sclerotic: {label: Sclerotic}\n",
        "      sclerotic: {label: Sclerotic, implies: {density: lytic}}\n", 18,
        ["'density: sclerotic' cannot imply a value of its own finding"]),
    "number_without_range": (
        "findings/basic.yaml", "    range: [0, 50]\n", "", 35, ["needs 'range"]),
    "concept_cycle": (
        "concepts/basic.yaml", "when: {cortical_breach: \"yes\"}",
        "when: {cortical_breach: \"yes\", concept: very_aggressive}", 8,
        ["cycle", "aggressive -> very_aggressive -> aggressive"]),
    "numeric_spec_on_choice": (
        "diagnoses/alpha.yaml", "when: {density: lytic}", "when: {density: {at_least: 2}}", 23,
        ["'density' takes a value, a list of values, or {not: ...}"]),
    "never_fires_range": (
        "concepts/basic.yaml", "size_cm: {at_least: 5}", "size_cm: {at_least: 5, below: 3}",
        19, ["can never hold"]),
    "range_outside_finding": (
        "concepts/basic.yaml", "size_cm: {at_least: 5}", "size_cm: {at_least: 80}", 19,
        ["80 is outside the range of 'size_cm'"]),
    "unknown_patient_field": (
        "diagnoses/other.yaml", "patient: {primary: none}", "patient: {primry: none}", 11,
        ["unknown patient field 'primry'", "did you mean 'primary'"]),
    "yaml_syntax_error": (
        "diagnoses/beta.yaml", "description: The benign one.", "description: [The benign one.",
        5, ["not valid YAML"]),
    "duplicate_key": (
        "diagnoses/beta.yaml", "group: benign\n", "group: benign\ngroup: malignant\n", 4,
        ["duplicate key 'group'", "first given on line 3"]),
    "quiz_answer_not_an_option": (
        None, None, None, 7, ["answer 'E' is not one of the options"]),
    "unknown_reference_in_accuracy": (
        "diagnoses/alpha.yaml", "reference: ref_b}", "reference: ref_x}", 37,
        ["unknown reference 'ref_x'"]),
    "empty_condition": (
        "diagnoses/alpha.yaml", "when: {density: lytic}", "when: {}", 23,
        ["a condition must test at least one thing"]),
    "text_given_as_number": (
        "diagnoses/beta.yaml", "name: Beta\n", "name: 1.10\n", 2,
        ["'name' must be text, got the number 1.1", "put it in quotes"]),
    "example_with_unknown_finding": (
        "concepts/basic.yaml", '- {findings: {cortical_breach: "no"}, fires: "no"}',
        '- {findings: {cortical_brech: "no"}, fires: "no"}', 12,
        ["unknown finding 'cortical_brech'"]),
    # ------------------------------------------------------------ likelihood profiles
    "profile_probability_outside_0_1": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE.replace("0.8", "1.0") + BETA_RULES, 10,
        ["must lie strictly between 0 and 1"]),
    "profile_not_summing_to_1": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE.replace("0.8", "0.5") + BETA_RULES, 10,
        ["sum to 0.7, not 1", "within 0.02", "complete: no"]),
    "incomplete_profile_giving_every_value": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE.replace("0.8", "0.5") + '    complete: "no"\n' + BETA_RULES, 11,
        ["every value of 'size_cm' is given", "sum to 0.7", "would be rescaled",
         "remove 'complete: no'"]),
    "study_n_not_a_whole_number": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE + "    basis: study\n    n: 12.5\n" + BETA_RULES, 12,
        ["'n' must be a whole number, got the number 12.5"]),
    "profile_entry_not_a_mapping": (
        "diagnoses/beta.yaml", BETA_RULES, SIZE_PROFILE + "  - just a string\n" + BETA_RULES,
        11, ["item 2 of 'profile' must be a mapping, got 'just a string'"]),
    "profile_number_as_key": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE.replace('"<5"', "1") + BETA_RULES, 10,
        ["the key 1 in 'p' is a number", "put it in quotes"]),
    "profile_unknown_finding": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE.replace("size_cm", "size_m") + BETA_RULES, 9,
        ["unknown finding 'size_m'", "did you mean 'size_cm'"]),
    "profile_unknown_value": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE.replace("<5", "<4") + BETA_RULES, 10,
        ["'<4' is not a value of 'size_cm'", "allowed: <5, >=5"]),
    "pattern_around_a_sign_the_profile_lacks": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE + "patterns:\n  - id: beta.fatty\n    description: One process.\n"
        "    signs: [{t1_signal: hyper}]\n" + BETA_RULES, 14,
        ["pattern 'beta.fatty' names 't1_signal'", "does not state", "(it states size_cm)"]),
    "pattern_sign_with_a_misspelt_finding": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE + "patterns:\n  - id: beta.fatty\n    description: One process.\n"
        "    signs: [{sise_cm: \"<5\"}]\n" + BETA_RULES, 14,
        ["unknown finding 'sise_cm'", "did you mean 'size_cm'"]),
    "unknown_finding_without_a_near_match": (
        "diagnoses/alpha.yaml", "when: {density: lytic}", "when: {fluid_levels: lytic}", 23,
        ["unknown finding or condition key 'fluid_levels'", "defined in findings/*.yaml",
         "add a new one there first"]),
    # ------------------------------------------------------------ populations, used or not
    "population_not_summing_to_1": (
        "findings/basic.yaml", "      sclerotic: {label: Sclerotic}\n",
        "      sclerotic: {label: Sclerotic}\n    population: {lytic: 0.03, sclerotic: 0.9}\n",
        19, ["the population of 'density' sums to 0.93, not 1 (within 0.02)"]),
    "population_missing_a_value": (
        "findings/basic.yaml", "      sclerotic: {label: Sclerotic}\n",
        "      sclerotic: {label: Sclerotic}\n    population: {lytic: 0.03}\n",
        19, ["the population of 'density' gives no probability for sclerotic"]),
    "population_probability_outside_0_1": (
        "findings/basic.yaml", "      sclerotic: {label: Sclerotic}\n",
        "      sclerotic: {label: Sclerotic}\n    population: {lytic: 1.5, sclerotic: 0.5}\n",
        19, ["the population share of 'lytic' is 1.5", "strictly between 0 and 1"]),
    "population_unknown_value": (
        "findings/basic.yaml", "      sclerotic: {label: Sclerotic}\n",
        "      sclerotic: {label: Sclerotic}\n    population: {lytik: 0.5, sclerotic: 0.5}\n",
        19, ["'lytik' is not a value of 'density'", "did you mean 'lytic'"]),
    # ------------------------------------------------------------ kb.yaml
    "lr_limits_reversed": (
        "kb.yaml", "  confidence_threshold: 0.9\n",
        "  confidence_threshold: 0.9\n  lr_limits: [50, 0.02]\n", 13,
        ["lr_limits [50, 0.02]", "write [0.02, 50]"]),
    "lr_limits_with_three_items": (
        "kb.yaml", "  confidence_threshold: 0.9\n",
        "  confidence_threshold: 0.9\n  lr_limits: [0.5, 2, 3]\n", 13,
        ["'lr_limits' has 3 item(s); it takes at most 2", "write [low, high]"]),
    "core_findings_unknown_area": (
        "kb.yaml", "answer_model:", "core_findings:\n  femur: [density]\nanswer_model:", 14,
        ["unknown area 'femur' in core_findings", "allowed: any, spine, rib"]),
    # ------------------------------------------------------------ recommendations' diagnoses
    "recommendation_for_unknown_diagnosis": (
        "recommendations/basic.yaml", "for: [alpha]", "for: [alfa]", 7,
        ["unknown diagnosis 'alfa'", "did you mean 'alpha'"]),
    "band_outside_0_1": (
        "recommendations/basic.yaml", "band: [0.2, 1]", "band: [0.2, 1.5]", 8,
        ["must lie within [0, 1]"]),
    "band_reversed": (
        "recommendations/basic.yaml", "band: [0.2, 1]", "band: [0.9, 0.2]", 8,
        ["bounds reversed", "write [0.2, 0.9]"]),
    "biopsy_without_its_diagnoses": (
        "recommendations/basic.yaml", "    for: [alpha]\n    band: [0.2, 1]\n", "", 2,
        ["declares the diagnoses it serves"]),
    # ------------------------------------------------------------ lint: rules that never fire
    "never_fires_disjoint_values": (
        "diagnoses/alpha.yaml", "    when: {density: lytic}\n",
        "    when:\n      density: lytic\n      all:\n        - {density: sclerotic}\n", 26,
        ["rule 'alpha.lytic' can never fire", "no value of 'density' meets both",
         "'density: sclerotic'", "'density: lytic' (line 24)"]),
    "never_fires_not_every_value": (
        "diagnoses/alpha.yaml", "when: {density: lytic}",
        "when: {density: {not: [lytic, sclerotic]}}", 23,
        ["rule 'alpha.lytic' can never fire", "excludes every value of 'density'"]),
    "never_fires_concept_required_and_forbidden": (
        "diagnoses/alpha.yaml", "when: {concept: aggressive}",
        "when: {concept: aggressive, without_concept: aggressive}", 17,
        ["rule 'alpha.aggressive' can never fire", "forbids concept 'aggressive'",
         "also needs 'concept: aggressive'"]),
    "never_fires_needs_excluded_modality": (
        "diagnoses/alpha.yaml", "when: {density: lytic}",
        "when: {density: lytic, without_modality: [XR, CT]}", 23,
        ["rule 'alpha.lytic' can never fire", "'density' needs one of the modalities CT, XR",
         "the same condition excludes"]),
    "never_fires_modality_required_and_excluded": (
        "diagnoses/other.yaml", "when: {region: rib, patient: {primary: none}}",
        "when: {region: rib, modality: MRI, without_modality: MRI}", 11,
        ["rule 'other.none' can never fire", "needs 'modality: MRI' but also excludes it"]),
    "never_fires_unknown_and_known": (
        "diagnoses/alpha.yaml", "when: {density: lytic}",
        "when: {density: lytic, unknown: density}", 23,
        ["rule 'alpha.lytic' can never fire",
         "'density' cannot be both not assessed and 'density: lytic'"]),
    "never_fires_numbers_across_conditions": (
        "concepts/basic.yaml", "        when: {concept: aggressive, size_cm: {at_least: 5}}\n",
        "        when:\n          concept: aggressive\n          size_cm: {at_least: 5}\n"
        "          all:\n            - size_cm: {below: 2}\n", 23,
        ["rule 'very_aggressive.large' can never fire",
         "no number meets both 'size_cm: {below: 2}' and 'size_cm: {at_least: 5}'"]),
    "never_fires_through_concept": (
        "diagnoses/alpha.yaml", "when: {concept: aggressive}",
        "when: {concept: aggressive, cortical_breach: \"no\"}", 17,
        ["rule 'alpha.aggressive' can never fire",
         "concept 'aggressive' is derived only from 'cortical_breach: yes'",
         "concepts/basic.yaml:8"]),
    "never_fires_underivable_concept": (
        "concepts/basic.yaml", 'when: {cortical_breach: "yes"}',
        'when: {cortical_breach: "yes", all: [{cortical_breach: "no"}]}', 8,
        ["rule 'aggressive.breach' can never fire", "no value of 'cortical_breach'"]),
    "never_fires_prior_factor": (
        "diagnoses/alpha.yaml", "    when: {region: spine}\n",
        "    when:\n      region: spine\n      all:\n        - region: rib\n", 14,
        ["prior factor 'alpha.prior.spine' can never fire", "no value of 'region' meets both"]),
    # ------------------------------------------------------------ lint: rule examples as tests
    "example_expected_to_fire_does_not": (
        "concepts/basic.yaml", '- {findings: {cortical_breach: "no"}, fires: "no"}',
        '- {findings: {cortical_breach: "no"}, fires: "yes"}', 12,
        ["example 2 of rule 'aggressive.breach' expects it to fire, but it does not",
         "'cortical_breach: yes' does not hold (the example has no)"]),
    "example_expected_silent_fires": (
        "concepts/basic.yaml", '- {findings: {cortical_breach: "yes"}, fires: "yes"}',
        '- {findings: {cortical_breach: "yes"}, fires: "no"}', 11,
        ["example 1 of rule 'aggressive.breach' expects it not to fire, but it does",
         "the example meets 'cortical_breach: yes'"]),
    "example_on_evidence_rule_fails": (
        "diagnoses/alpha.yaml", "    strength: weak\n    references: [ref_a]\n",
        "    strength: weak\n    references: [ref_a]\n    examples:\n"
        "      - {findings: {density: sclerotic}, fires: \"yes\"}\n", 28,
        ["example 1 of rule 'alpha.lytic' expects it to fire",
         "'density: lytic' does not hold (the example has sclerotic)"]),
    # ------------------------------------------------------------ case files
    "case_truth_unknown": (
        "cases/alpha-case.yaml", "truth: alpha", "truth: alfa", 4,
        ["unknown diagnosis 'alfa'", "did you mean 'alpha'"]),
}

QUIZ = """quizzes:
  - id: q.one
    question: Which?
    options: {A: One, B: Two}
    explanation: Because.
    references: [ref_a]
    answer: E
"""


def apply(root: Path, name: str) -> str:
    file, old, new, _, _ = BROKEN[name]
    if name == "quiz_answer_not_an_option":
        (root / "quizzes").mkdir()
        (root / "quizzes" / "q.yaml").write_text(QUIZ)
        return "quizzes/q.yaml"
    path = root / file
    text = path.read_text()
    assert old in text, f"fixture edit for {name} no longer applies"
    path.write_text(text.replace(old, new, 1))
    return file


def test_the_mini_kb_is_clean():
    """The unbroken mini KB has no errors (so each broken copy has exactly its mistake)."""
    from conftest import MINI_KB

    kb, problems = check_knowledge_base(MINI_KB)
    assert kb is not None
    assert [p for p in problems if p.severity is Severity.ERROR] == []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_kb_reports_file_line_and_message(name: str, kb_copy):
    """The mistake is reported once, at its file and line, with an actionable message."""
    root = kb_copy()
    file = apply(root, name)
    _, _, _, line, words = BROKEN[name]
    errors = [p for p in validate_folder(root) if p.severity is Severity.ERROR]
    assert errors, "the mistake was not detected"
    expected_file = f"{root.name}/{file}"
    matching = [p for p in errors if p.location.file == expected_file
                and p.location.line == line and all(w in p.message for w in words)]
    assert matching, "\n".join(str(p) for p in errors)


def test_every_mistake_is_reported_in_one_run(kb_copy, capsys):
    """Five mistakes in different files give five messages in one run (collect, don't stop)."""
    root = kb_copy()
    names = ["unknown_finding_in_rule", "unknown_modality_in_needs", "duplicate_key",
             "unknown_patient_field", "range_outside_finding"]
    for name in names:
        apply(root, name)
    assert main(["validate", str(root)]) == 1
    out = capsys.readouterr().out
    for name in names:
        file, _, _, line, _ = BROKEN[name]
        assert f"{root.name}/{file}:{line}:" in out


def _misspelt_key(lines: list[str]) -> tuple[int, str]:
    """Insert an unknown top-level key after 'name:'; its line and the expected words."""
    at = next(i for i, line in enumerate(lines) if line.startswith("name:"))
    lines.insert(at + 1, "colour: red\n")
    return at + 2, "unknown key 'colour'"


def _no_prior(lines: list[str]) -> tuple[int, str]:
    """Remove the 'prior:' block; the error is on the id line."""
    start = next(i for i, line in enumerate(lines) if line.startswith("prior:"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "\n"))
    del lines[start:end]
    return 1, "needs a 'prior'"


@pytest.mark.parametrize("diagnosis, mistake", [("hemangioma", _misspelt_key),
                                                ("other", _misspelt_key),
                                                ("hemangioma", _no_prior)])
def test_a_broken_diagnosis_file_is_one_error_not_one_per_mention(diagnosis, mistake,
                                                                  kb_copy):
    """A mistake in one diagnosis file of the shipped knowledge base (a misspelt key, a
    missing prior) is reported once, there; the pitfalls, advice, reporting rates, seed
    coverage and mimic lists that name the diagnosis or its rules are not each reported as
    unknown (which would bury the real mistake), nor, for the catch-all, as a missing file
    or missing population priors."""
    from conftest import KB_DIR

    root = kb_copy(KB_DIR)
    path = root / "diagnoses" / f"{diagnosis}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    line, words = mistake(lines)
    path.write_text("".join(lines))
    mentions = [p for p in root.rglob("*.yaml")
                if p != path and "cases" not in p.parts and diagnosis in p.read_text()]
    assert len(mentions) >= 3  # the diagnosis is named elsewhere, so a cascade could happen
    errors = [p for p in validate_folder(root) if p.severity is Severity.ERROR]
    assert [(p.location.file, p.location.line) for p in errors] == [
        (f"{root.name}/diagnoses/{diagnosis}.yaml", line)], "\n".join(map(str, errors))
    assert words in errors[0].message


def test_a_broken_pitfall_file_does_not_cascade_and_names_keys_as_written(kb_copy):
    """A misspelt key in one pitfall of the shipped knowledge base is one error, there: the
    seed coverage that names the file's other pitfalls does not report them as unknown; and
    the allowed keys are named as a file writes them ('for', not the program's 'for_')."""
    from conftest import KB_DIR

    root = kb_copy(KB_DIR)
    path = root / "pitfalls" / "imaging.yaml"
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("    title:"))
    lines.insert(at + 1, "    titel: again\n")
    path.write_text("".join(lines))
    errors = [p for p in validate_folder(root) if p.severity is Severity.ERROR]
    assert [(p.location.file, p.location.line) for p in errors] == [
        (f"{root.name}/pitfalls/imaging.yaml", at + 2)], "\n".join(map(str, errors))
    message = errors[0].message
    assert "unknown key 'titel'" in message and "did you mean 'title'" in message
    assert "for, " in message and "for_" not in message


# name: (file, old text, new text) of one mistake that must give exactly one error, there
ONE_ERROR_ONLY = {
    # a pattern over an entry in error is not reported again as naming an unstated finding
    "pattern_over_an_entry_with_a_bad_probability": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE.replace("0.8", "1.3") + "patterns:\n  - id: beta.small\n"
        "    description: One process.\n    signs: [{size_cm: \"<5\"}]\n" + BETA_RULES),
    "pattern_over_an_entry_with_a_misspelt_finding": (
        "diagnoses/beta.yaml", BETA_RULES,
        SIZE_PROFILE.replace("size_cm", "size_m") + "patterns:\n  - id: beta.small\n"
        "    description: One process.\n    signs: [{size_cm: \"<5\"}]\n" + BETA_RULES),
    # reversed limits are one error at kb.yaml, not one at every ratio of the knowledge base
    "lr_limits_reversed": ("kb.yaml", "  confidence_threshold: 0.9\n",
                           "  confidence_threshold: 0.9\n  lr_limits: [50, 0.02]\n"),
    # a kb.yaml value of the wrong type does not also make kb.yaml 'missing'
    "kb_yaml_value_of_the_wrong_type": ("kb.yaml", "version: 1.0.0", "version: 0.1"),
    "kb_yaml_list_given_as_text": ("kb.yaml", "  confidence_threshold: 0.9\n",
                                   "  confidence_threshold: 0.9\n  lr_limits: low\n"),
}


@pytest.mark.parametrize("name", sorted(ONE_ERROR_ONLY))
def test_one_mistake_is_one_error(name: str, kb_copy):
    """The mistake is reported once, where it is, and nothing that follows from it."""
    root = kb_copy()
    file, old, new = ONE_ERROR_ONLY[name]
    path = root / file
    text = path.read_text()
    assert old in text, f"fixture edit for {name} no longer applies"
    path.write_text(text.replace(old, new, 1))
    errors = [p for p in validate_folder(root) if p.severity is Severity.ERROR]
    assert [p.location.file for p in errors] == [f"{root.name}/{file}"], \
        "\n".join(map(str, errors))


@pytest.mark.parametrize("word, choices, expected", [
    # a choice holding every part of the word beats a close spelling of another paper
    ("kransdorf_1995", ["kransdorf_1990", "kransdorf_sweet_1995"], "kransdorf_sweet_1995"),
    # a different name, or a different last part of a dotted id, is no typo
    ("nobody_1999", ["cuenod_1996"], None),
    ("metastasis.prior.population", ["metastasis.prior.lobular"], None),
    # an abbreviation of exactly one choice
    ("refs", ["finding", "p", "references", "note"], "references"),
    # typos are still caught
    ("miller_1918", ["miller_1981", "hayashi_2013"], "miller_1981"),
    ("densty", ["density", "region"], "density"),
    ("t1_signl", ["t1_signal", "density"], "t1_signal"),
    ("MR", ["MRI", "CT"], "MRI"),
])
def test_did_you_mean_suggests_only_likely_typos(word, choices, expected):
    """A suggestion is offered only where the word is likely a slip for it."""
    from ossdx.core.errors import did_you_mean

    assert did_you_mean(word, choices) == (f" (did you mean '{expected}'?)" if expected else "")
