"""``ossdx validate`` beyond the schema: never-firing rules, duplicates and shadowed rules,
unused findings and concepts, failing rule examples; warnings apart from errors.

The golden set of errors is in test_kb_errors.py; this file holds the warnings (which that
file's test filters out), the checks that need more than one edit, and the command line.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ossdx.authoring import lint
from ossdx.authoring.lint import validate_folder
from ossdx.cli.main import main
from ossdx.core.errors import Location, Problem, Severity

from conftest import MINI_KB

PITFALL = """pitfalls:
  - id: mri_only
    title: MRI only
    text: A test pitfall.
    when: {modality: MRI, without_modality: [MRI, CT]}
    references: [ref_a]
"""
RECOMMENDATION = """recommendations:
  - id: no_mri_t1
    title: T1 without MRI
    text: A test recommendation.
    category: next_imaging
    when: {t1_signal: hyper, without_modality: MRI}
    references: [ref_a]
"""
UNUSED_FINDING = """  - id: marrow_edema
    name: Marrow oedema
    question: Oedema?
    help: MRI.
    needs: [MRI]
    values:
      "yes": {label: Oedema}
      "no": {label: No oedema}
"""
UNUSED_CONCEPT = """  - id: lucent
    name: Lucent
    description: A lucent lesion.
    rules:
      - id: lucent.lytic
        description: Lytic is lucent.
        when: {density: lytic}
        references: [ref_a]
"""

LYTIC_BREACH = """  - id: alpha.lytic_breach
    description: A lytic lesion with a breached cortex favours alpha more.
    when: {density: lytic, cortical_breach: "yes"}
    effect: for
    strength: weak
    references: [ref_a]
"""  # a narrower rule of alpha, in no group


def edit(root: Path, file: str, old: str, new: str) -> Path:
    """Replace ``old`` by ``new`` once in ``root/file`` (the text must be there)."""
    path = root / file
    text = path.read_text()
    assert old in text, f"{file} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1))
    return path


def append(root: Path, file: str, text: str) -> None:
    path = root / file
    path.write_text(path.read_text() + text)


def new_file(root: Path, file: str, text: str) -> None:
    """Write ``root/file``, a file the mini knowledge base does not have, and its folder."""
    path = root / file
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)


def found(problems: list[Problem], root: Path, file: str, line: int, severity: Severity,
          *words: str) -> bool:
    """Whether a problem of this severity is at file:line with all these words."""
    return any(p.location.file == f"{root.name}/{file}" and p.location.line == line
               and p.severity is severity and all(w in p.message for w in words)
               for p in problems)


def messages(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


# ============================================================================ warnings
def test_rule_that_never_counts_in_its_group_is_a_warning():
    """A weaker rule that only fires with a stronger one of its group is reported as shadowed."""
    problems = validate_folder(MINI_KB)
    assert found(problems, MINI_KB, "diagnoses/beta.yaml", 22, Severity.WARNING,
                 "rule 'beta.bright_small' never counts", "'beta.bright'", "group 'fat'"), \
        messages(problems)
    assert errors(problems) == []


def test_stronger_refinement_in_a_group_is_not_reported(kb_copy):
    """A narrower rule stronger than the broad one of its group replaces it: no warning."""
    root = kb_copy()
    edit(root, "diagnoses/beta.yaml", "    strength: moderate\n    group: fat",
         "    lr: 20\n    group: fat")
    problems = validate_folder(root)
    assert not [p for p in problems if "bright_small" in p.message
                and p.code != "few-examples"], messages(problems)


def test_weaker_rule_pointing_the_other_way_in_a_group_never_counts(kb_copy):
    """A group counts its strongest member whichever way it points, so a weaker rule that
    only fires with a stronger one of its group is reported even when it argues against."""
    root = kb_copy()
    edit(root, "diagnoses/beta.yaml", "    effect: for\n    strength: moderate\n    group: fat",
         "    effect: against\n    strength: moderate\n    group: fat")
    problems = validate_folder(root)
    assert found(problems, root, "diagnoses/beta.yaml", 22, Severity.WARNING,
                 "rule 'beta.bright_small' never counts although it points the other way",
                 "'beta.bright'"), messages(problems)


def test_a_rule_on_a_concept_is_followed_to_its_findings(kb_copy):
    """A rule that reads a concept fires only when the concept's findings are there: if those
    findings fire a stronger rule of its group, it never counts either."""
    root = kb_copy()
    append(root, "diagnoses/beta.yaml", """  - id: beta.breach
    description: A breached cortex argues against beta.
    when: {cortical_breach: "yes"}
    effect: against
    strength: strong
    group: breach
    references: [ref_a]
  - id: beta.aggressive_breach
    description: Aggressive features (a breached cortex) argue against beta, weakly.
    when: {concept: aggressive}
    effect: against
    strength: weak
    group: breach
    references: [ref_a]
""")
    problems = validate_folder(root)
    assert [p for p in problems if "rule 'beta.aggressive_breach' never counts" in p.message
            and "'beta.breach'" in p.message], messages(problems)


def test_conditional_evidence_outside_a_group_is_not_reported(kb_copy):
    """A narrower rule with no group counts on top of the broad one, on purpose: no warning."""
    root = kb_copy()
    append(root, "diagnoses/alpha.yaml", LYTIC_BREACH)
    problems = validate_folder(root)
    assert not [p for p in problems if "alpha.lytic_breach" in p.message
                and p.code != "few-examples"], messages(problems)


def test_duplicate_rule_is_a_warning(kb_copy):
    """Two rules of one diagnosis with the same condition and effect: the later is reported."""
    root = kb_copy()
    append(root, "diagnoses/alpha.yaml", """  - id: alpha.lytic_again
    description: Lytic again.
    when: {density: lytic}
    effect: for
    strength: moderate
    references: [ref_a]
""")
    problems = validate_folder(root)
    assert found(problems, root, "diagnoses/alpha.yaml", 39, Severity.WARNING,
                 "rule 'alpha.lytic_again' duplicates 'alpha.lytic'", "alpha.yaml:21",
                 "remove one"), messages(problems)


def test_duplicate_with_opposite_effect_is_reported_as_cancelling(kb_copy):
    """Same condition, opposite effects on one diagnosis: the two cancel out."""
    root = kb_copy()
    append(root, "diagnoses/alpha.yaml", """  - id: alpha.not_lytic
    description: Lytic is against alpha.
    when: {density: lytic}
    effect: against
    strength: weak
    references: [ref_a]
""")
    problems = validate_folder(root)
    assert found(problems, root, "diagnoses/alpha.yaml", 39, Severity.WARNING,
                 "'alpha.not_lytic' has the same condition as 'alpha.lytic'",
                 "opposite effect", "cancel out"), messages(problems)


def test_concept_rule_subsumed_by_another_adds_nothing(kb_copy):
    """A concept rule narrower than another rule of the same concept is reported."""
    root = kb_copy()
    edit(root, "concepts/basic.yaml", "  - id: very_aggressive\n",
         """      - id: aggressive.breach_large
        description: A breached cortex in a large lesion.
        when: {cortical_breach: "yes", size_cm: {at_least: 5}}
        references: [ref_a]
  - id: very_aggressive
""")
    problems = validate_folder(root)
    assert found(problems, root, "concepts/basic.yaml", 13, Severity.WARNING,
                 "rule 'aggressive.breach_large' adds nothing", "'aggressive.breach'",
                 "derives 'aggressive'"), messages(problems)


def test_unused_finding_is_a_warning_at_its_definition(kb_copy):
    """A finding no rule reads is reported where it is defined."""
    root = kb_copy()
    append(root, "findings/basic.yaml", UNUSED_FINDING)
    problems = validate_folder(root)
    assert (root / "findings/basic.yaml").read_text().splitlines()[42] == "  - id: marrow_edema"
    assert found(problems, root, "findings/basic.yaml", 43, Severity.WARNING,
                 "finding 'marrow_edema' is not used by any rule"), messages(problems)
    assert errors(problems) == []


def test_unused_concept_is_a_warning_at_its_definition(kb_copy):
    """A derived concept no rule reads is reported where it is defined."""
    root = kb_copy()
    append(root, "concepts/basic.yaml", UNUSED_CONCEPT)
    problems = validate_folder(root)
    assert found(problems, root, "concepts/basic.yaml", 21, Severity.WARNING,
                 "concept 'lucent' is derived but no rule reads it"), messages(problems)


def test_dead_alternative_is_a_warning_not_an_error(kb_copy):
    """One alternative of 'any:' that can never hold is a warning; the rule still fires."""
    root = kb_copy()
    edit(root, "diagnoses/alpha.yaml", "    when: {density: lytic}\n",
         "    when:\n      any:\n        - {density: lytic}\n"
         "        - {density: sclerotic, unknown: density}\n")
    problems = validate_folder(root)
    assert found(problems, root, "diagnoses/alpha.yaml", 26, Severity.WARNING,
                 "one alternative of rule 'alpha.lytic' can never hold",
                 "'density' cannot be both not assessed"), messages(problems)
    assert errors(problems) == []


def test_warnings_leave_validate_successful(capsys):
    """Warnings are printed (marked 'warning:') but the exit code stays 0."""
    assert main(["validate", str(MINI_KB)]) == 0
    out = capsys.readouterr().out
    assert "mini_kb/diagnoses/beta.yaml:22: warning: rule 'beta.bright_small'" in out
    assert ("mini_kb/diagnoses/alpha.yaml:11: warning: prior factor 'alpha.prior.spine' reads "
            "the finding(s) region") in out
    # the mini knowledge base's eleven hand-written rules carry no examples: a warning each
    assert ("mini_kb/diagnoses/beta.yaml:9: warning: rule 'beta.sclerotic' has no examples: "
            "add one that fires and one that does not") in out
    assert out.strip().endswith("0 error(s), 15 warning(s)")


def test_a_rule_whose_examples_all_fire_is_a_warning(kb_copy):
    """Examples that only fire do not show what keeps a rule silent: validate asks for one
    that does not fire, at the rule's line; one of each silences the warning."""
    root = kb_copy()
    append(root, "diagnoses/alpha.yaml", LYTIC_BREACH + """    examples:
      - {findings: {density: lytic, cortical_breach: "yes"}, modalities: [CT], fires: "yes"}
""")
    line = (root / "diagnoses/alpha.yaml").read_text().splitlines().index(
        "  - id: alpha.lytic_breach") + 1
    problems = validate_folder(root)
    assert found(problems, root, "diagnoses/alpha.yaml", line, Severity.WARNING,
                 "rule 'alpha.lytic_breach' has no example that stays silent"), \
        messages(problems)
    silent = '      - {findings: {density: lytic, cortical_breach: "no"}, fires: "no"}\n'
    append(root, "diagnoses/alpha.yaml", silent)
    problems = validate_folder(root)
    assert not [p for p in problems if "alpha.lytic_breach" in p.message], messages(problems)


# ============================================================================ errors
def test_pitfall_that_can_never_fire_is_an_error(kb_copy):
    """A pitfall needing a modality it also excludes is reported at its condition."""
    root = kb_copy()
    new_file(root, "pitfalls/p.yaml", PITFALL)
    problems = validate_folder(root)
    assert found(problems, root, "pitfalls/p.yaml", 5, Severity.ERROR,
                 "pitfall 'mri_only' can never fire", "needs 'modality: MRI' but also "
                 "excludes it"), messages(problems)


def test_recommendation_that_can_never_fire_is_an_error(kb_copy):
    """A recommendation on an MRI finding without MRI can never fire."""
    root = kb_copy()
    (root / "recommendations" / "r.yaml").write_text(RECOMMENDATION)
    problems = validate_folder(root)
    assert found(problems, root, "recommendations/r.yaml", 6, Severity.ERROR,
                 "recommendation 'no_mri_t1' can never fire",
                 "'t1_signal' needs one of the modalities MRI"), messages(problems)


def test_failing_pitfall_example_is_an_error_at_the_example(kb_copy):
    """Pitfalls carry examples too; one that misbehaves is reported at its line."""
    root = kb_copy()
    new_file(root, "pitfalls/p.yaml",
        "pitfalls:\n  - id: lytic_on_xr\n    title: Lytic on a radiograph\n"
        "    text: A test pitfall.\n    when: {density: lytic, modality: XR}\n"
        "    references: [ref_a]\n    examples:\n"
        "      - {findings: {density: lytic}, modalities: [XR], fires: \"yes\"}\n"
        "      - {findings: {density: lytic}, modalities: [CT], fires: \"yes\"}\n")
    problems = validate_folder(root)
    assert found(problems, root, "pitfalls/p.yaml", 9, Severity.ERROR,
                 "example 2 of pitfall 'lytic_on_xr' expects it to fire, but it does not",
                 "'modality: XR' does not hold"), messages(problems)
    assert not found(problems, root, "pitfalls/p.yaml", 8, Severity.ERROR, "example 1")


def test_condition_against_a_findings_requirement_is_an_error(kb_copy):
    """A rule testing a finding where its 'requires' cannot hold can never fire."""
    root = kb_copy()
    edit(root, "findings/basic.yaml", "    needs: [MRI]\n",
         "    needs: [MRI]\n    requires: {region: spine}\n")
    edit(root, "diagnoses/other.yaml", "when: {region: rib, patient: {primary: none}}",
         "when: {region: rib, t1_signal: hyper}")
    problems = validate_folder(root)
    assert found(problems, root, "diagnoses/other.yaml", 11, Severity.ERROR,
                 "rule 'other.none' can never fire",
                 "'t1_signal' applies only when region is spine", "'region: rib'"), \
        messages(problems)


def test_readers_of_a_concept_that_can_never_be_derived_are_errors(kb_copy):
    """When no rule of a concept can fire, every rule needing the concept is reported too."""
    root = kb_copy()
    edit(root, "concepts/basic.yaml", 'when: {cortical_breach: "yes"}',
         'when: {cortical_breach: "yes", all: [{cortical_breach: "no"}]}')
    problems = validate_folder(root)
    for file, line, rule in (("diagnoses/alpha.yaml", 17, "alpha.aggressive"),
                             ("diagnoses/beta.yaml", 31, "beta.aggressive"),
                             ("concepts/basic.yaml", 19, "very_aggressive.large")):
        assert found(problems, root, file, line, Severity.ERROR,
                     f"rule '{rule}' can never fire", "can never be derived"), \
            messages(problems)


def test_every_problem_names_its_file_and_line(kb_copy):
    """With many mistakes at once, every message carries a file inside the KB and a line."""
    root = kb_copy()
    edit(root, "diagnoses/alpha.yaml", "when: {density: lytic}",
         "when: {density: lytic, unknown: density}")
    edit(root, "concepts/basic.yaml", '- {findings: {cortical_breach: "no"}, fires: "no"}',
         '- {findings: {cortical_breach: "no"}, fires: "yes"}')
    edit(root, "cases/beta-case.yaml", "truth: beta", "truth: gamma")
    append(root, "findings/basic.yaml", UNUSED_FINDING)
    problems = validate_folder(root)
    assert len(errors(problems)) >= 3
    for problem in problems:
        assert problem.location.file.startswith(f"{root.name}/"), problem
        assert problem.location.line is not None and problem.location.line >= 1, problem


# ============================================================================ response criteria
@pytest.fixture(autouse=True)
def without_response_check(request, monkeypatch):
    """Keep the response criteria's own check (another module) out of these tests.

    The mini KB has no response criteria; whether that is a problem is for ossdx.response.assess
    to say. The tests of the hand-over itself (``response`` in their name) keep it.
    """
    if "response" not in request.node.name:
        monkeypatch.setattr(lint, "check_response", lambda root, kb=None: [])


def test_response_criteria_check_is_called_with_the_kb_root(monkeypatch):
    """check_response passes the KB folder to ossdx.response.assess.check_response_kb."""
    import ossdx.response.assess

    seen = []

    def check(root):
        seen.append(Path(root))
        return [Problem(Location("mini_kb/response/mda.yaml", 3), "a response problem")]

    monkeypatch.setattr(ossdx.response.assess, "check_response_kb", check)
    problems = lint.check_response(MINI_KB)
    assert seen == [MINI_KB]
    assert [str(p) for p in problems] == ["mini_kb/response/mda.yaml:3: a response problem"]


def test_validate_reports_the_response_problems(monkeypatch):
    """Whatever the response check reports is part of validate's output, in file order."""
    extra = Problem(Location("mini_kb/response/mda.yaml", 3), "a response problem")
    monkeypatch.setattr(lint, "check_response", lambda root, kb=None: [extra])
    assert extra in validate_folder(MINI_KB)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_command_reports_severities(fmt, kb_copy):
    """The command prints errors and warnings with their severity and exits 1 on errors."""
    import json

    root = kb_copy()
    edit(root, "diagnoses/alpha.yaml", "when: {density: lytic}",
         "when: {density: lytic, unknown: density}")
    out = io.StringIO()
    args = ["validate", str(root)] + (["--json"] if fmt == "json" else [])
    assert main(args, out) == 1
    if fmt == "json":
        data = json.loads(out.getvalue())
        severities = {(p["code"], p["severity"]) for p in data["problems"]}
        assert ("never-fires", "error") in severities
        assert ("shadowed-rule", "warning") in severities
    else:
        text = out.getvalue()
        assert f"{root.name}/diagnoses/alpha.yaml:23: rule 'alpha.lytic' can never fire" in text
        assert f"{root.name}/diagnoses/beta.yaml:22: warning:" in text


def test_a_work_listed_under_two_ids_is_a_warning_at_the_second(kb_copy):
    """One paper under two reference ids (same author, year and title, or the same DOI) is
    reported where the second is defined, naming the first; companion papers that share
    only the start of a title, or a series' parts from other years, are not."""
    root = kb_copy()
    new_file(root, "references/more.yaml",
        "references:\n"
        "  - id: ref_a_again\n"
        "    citation: Author A, Author C. A test reference. Journal 2020;1:2-3.\n"
        "  - id: ref_b_part_two\n"
        "    citation: Author B. Another test reference. II. The sequel. Journal 2022.\n"
        "  - id: ref_d\n"
        "    citation: Author D. A test reference, the companion paper. Journal 2020.\n"
        "    doi: 10.1000/xyz\n"
        "  - id: ref_d_by_doi\n"
        "    citation: D, Author. Listed otherwise. J 2020.\n"
        "    doi: 10.1000/XYZ\n")
    problems = validate_folder(root)
    assert found(problems, root, "references/more.yaml", 2, Severity.WARNING,
                 "'ref_a_again' cites the same work as 'ref_a'"), messages(problems)
    assert found(problems, root, "references/more.yaml", 9, Severity.WARNING,
                 "'ref_d_by_doi' cites the same work as 'ref_d'"), messages(problems)
    duplicates = [p for p in problems if p.code == "duplicate-reference"]
    assert len(duplicates) == 2, messages(duplicates)
