"""Likelihood profiles follow their stated model (engine/kb/profiles.py), checked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ossdx.authoring.lint import validate_folder
from ossdx.core.errors import Severity
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import make_case
from ossdx.reasoning.diagnosis import Reasoner

BETA_SIZE = '  - finding: size_cm\n    p: {"<5": 0.8, ">=5": 0.2}\n'
ALPHA_SIZE = '  - finding: size_cm\n    p: {"<5": 0.3, ">=5": 0.7}\n'
BETA_DENSITY = '  - finding: density\n    p: {lytic: 0.1, sclerotic: 0.9}\n'
SIZE_POPULATION = '    population: {"<5": 0.6, ">=5": 0.4}\n'
DENSITY_POPULATION = '    population: {lytic: 0.5, sclerotic: 0.5}\n'


def add_profile(root: Path, diagnosis: str, entries: str, patterns: str = "") -> None:
    path = root / "diagnoses" / f"{diagnosis}.yaml"
    text = path.read_text()
    path.write_text(text.replace("rules:\n", f"profile:\n{entries}{patterns}rules:\n", 1))


def add_population(root: Path, finding_line: str, population: str) -> None:
    path = root / "findings" / "basic.yaml"
    text = path.read_text()
    path.write_text(text.replace(finding_line, finding_line + population, 1))


def errors(root: Path) -> list:
    """The errors ``ossdx validate`` reports on the knowledge base at ``root``."""
    return [p for p in validate_folder(root) if p.severity is Severity.ERROR]


def line_of(root: Path, diagnosis: str, text: str) -> int:
    """The 1-based line of the first line of a diagnosis file that contains ``text``."""
    lines = (root / "diagnoses" / f"{diagnosis}.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines) if text in line) + 1


def gain(kb_root: Path, diagnosis: str, base: dict, more: dict) -> float:
    """exp(change of the diagnosis's log-score) when ``more`` is added to ``base``."""
    kb = load_knowledge_base(kb_root)
    reasoner = Reasoner(kb)
    before = reasoner.diagnose(make_case(kb, base, modalities=["CT"]))
    after = reasoner.diagnose(make_case(kb, {**base, **more}, modalities=["CT"]))
    return math.exp(after.entry(diagnosis).log_score - before.entry(diagnosis).log_score)


def test_a_declared_population_is_the_reference(kb_copy):
    """With a population, LR = ((n P + a R) / (n + a)) / R: (30*0.8 + 10*0.6)/40/0.6 = 1.25."""
    root = kb_copy()
    add_profile(root, "beta", BETA_SIZE)
    add_population(root, "    bins: [5]\n", SIZE_POPULATION)
    assert gain(root, "beta", {"region": "rib"}, {"size_cm": 2}) == pytest.approx(1.25)
    assert gain(root, "beta", {"region": "rib"}, {"size_cm": 7}) == pytest.approx(
        (30 * 0.2 + 10 * 0.4) / 40 / 0.4)


def test_without_a_population_the_reference_is_the_base_rate_mixture(kb_copy):
    """R(<5) = (0.2 * 0.3 + 0.3 * 0.8) / 0.5 = 0.6; alpha's LR = (9 + 6)/40 / 0.6 = 0.625."""
    root = kb_copy()
    add_profile(root, "beta", BETA_SIZE)
    add_profile(root, "alpha", ALPHA_SIZE)
    assert gain(root, "alpha", {"region": "rib"}, {"size_cm": 2}) == pytest.approx(0.625)
    assert gain(root, "beta", {"region": "rib"}, {"size_cm": 2}) == pytest.approx(1.25)


def test_a_finding_only_one_diagnosis_states_moves_nothing_without_a_population(kb_copy):
    """Its reference is that diagnosis's own profile, so the ratio is 1 and no rule fires."""
    root = kb_copy()
    add_profile(root, "beta", BETA_SIZE)
    assert gain(root, "beta", {"region": "rib"}, {"size_cm": 2}) == pytest.approx(1.0)


def test_signs_of_a_pattern_count_once(kb_copy):
    """Beta's sclerotic density (LR 1.6) and small size (LR 1.25) in one pattern: adding the
    size to a sclerotic lesion adds nothing; without the pattern it multiplies by 1.25."""
    pattern = ("patterns:\n  - id: beta.compact\n    description: One process.\n"
               '    signs: [{density: sclerotic}, {size_cm: "<5"}]\n')
    plain, grouped = kb_copy(name="plain"), kb_copy(name="grouped")
    for root, extra in ((plain, ""), (grouped, pattern)):
        add_profile(root, "beta", BETA_SIZE + BETA_DENSITY, extra)
        add_population(root, "    bins: [5]\n", SIZE_POPULATION)
        add_population(root, "      sclerotic: {label: Sclerotic}\n", DENSITY_POPULATION)
    sclerotic = {"region": "rib", "density": "sclerotic"}
    assert gain(plain, "beta", sclerotic, {"size_cm": 2}) == pytest.approx(1.25)
    assert gain(grouped, "beta", sclerotic, {"size_cm": 2}) == pytest.approx(1.0)


def test_a_value_that_implies_another_counts_it_once(kb_copy):
    """With 'density: sclerotic' declared to imply 'region: rib', beta's P(sclerotic) already
    holds P(rib): adding the density to a rib lesion takes back LR(rib) = (30*0.8 + 10*0.4)
    / 40 / 0.4 = 1.75, which the region had counted."""
    region = '  - finding: region\n    p: {spine: 0.2, rib: 0.8}\n'
    plain, implying = kb_copy(name="plain"), kb_copy(name="implying")
    for root in (plain, implying):
        add_profile(root, "beta", region + BETA_DENSITY)
        add_population(root, "      rib: {label: Rib}\n",
                       "    population: {spine: 0.6, rib: 0.4}\n")
        add_population(root, "      sclerotic: {label: Sclerotic}\n", DENSITY_POPULATION)
    path = implying / "findings" / "basic.yaml"
    path.write_text(path.read_text().replace(
        "sclerotic: {label: Sclerotic}", "sclerotic: {label: Sclerotic, implies: {region: rib}}"))
    rib, sclerotic = {"region": "rib"}, {"density": "sclerotic"}
    # (beta's hand-written sclerotic rule adds its own ratio to both)
    assert gain(implying, "beta", rib, sclerotic) == pytest.approx(
        gain(plain, "beta", rib, sclerotic) / 1.75)
    assert gain(implying, "beta", {}, sclerotic) == pytest.approx(
        gain(plain, "beta", {}, sclerotic))
    # the implied value still counts on its own, and with any other value of the implier
    assert gain(implying, "beta", {}, rib) == pytest.approx(1.75)
    assert gain(implying, "beta", {"density": "lytic"}, rib) == pytest.approx(1.75)


def test_an_implying_value_likelier_than_what_it_implies_is_a_warning(kb_copy):
    """Every sclerotic lesion would be a rib lesion, so P(sclerotic | beta) = 0.9 cannot
    exceed P(rib | beta) = 0.8: validate warns at beta's density entry; at 0.7 it does not."""
    region = '  - finding: region\n    p: {spine: 0.2, rib: 0.8}\n'
    consistent = BETA_DENSITY.replace("lytic: 0.1, sclerotic: 0.9", "lytic: 0.3, sclerotic: 0.7")
    bad, good = kb_copy(name="bad"), kb_copy(name="good")
    for root, density in ((bad, BETA_DENSITY), (good, consistent)):
        add_profile(root, "beta", region + density)
        path = root / "findings" / "basic.yaml"
        path.write_text(path.read_text().replace(
            "sclerotic: {label: Sclerotic}",
            "sclerotic: {label: Sclerotic, implies: {region: rib}}"))
    lines = (bad / "diagnoses" / "beta.yaml").read_text().splitlines()
    entry_line = lines.index("  - finding: density") + 1
    warned = [p for p in validate_folder(bad) if p.code == "implies-inconsistent"]
    assert [(p.location.file, p.location.line, p.severity) for p in warned] == [
        ("bad/diagnoses/beta.yaml", entry_line, Severity.WARNING)]
    assert "P(density: sclerotic | beta) = 0.9 exceeds P(region: rib) = 0.8" \
        in warned[0].message
    assert not [p for p in validate_folder(good) if p.code == "implies-inconsistent"]



def test_several_values_of_one_finding_that_imply_another_are_bounded_together(kb_copy):
    """Lytic and sclerotic both declared to imply a rib: they exclude each other, so
    P(lytic) + P(sclerotic) = 0.9 cannot exceed P(rib) = 0.8 although each alone (0.45)
    does not; at 0.3 + 0.3 validate is silent. Either value keeps the rib from counting
    again, and the guard that says so is one condition, which the rule checks do not call
    contradictory."""
    region = '  - finding: region\n    p: {spine: 0.2, rib: 0.8}\n'
    roots = {}
    for name, density in (("bad", "lytic: 0.45, sclerotic: 0.45, mixed: 0.1"),
                          ("good", "lytic: 0.3, sclerotic: 0.3, mixed: 0.4")):
        root = roots[name] = kb_copy(name=name)
        add_profile(root, "beta", region + f"  - finding: density\n    p: {{{density}}}\n")
        add_population(root, "      rib: {label: Rib}\n",
                       "    population: {spine: 0.6, rib: 0.4}\n")
        path = root / "findings" / "basic.yaml"
        path.write_text(path.read_text().replace(
            "      lytic: {label: Lytic}\n      sclerotic: {label: Sclerotic}\n",
            "      lytic: {label: Lytic, implies: {region: rib}}\n"
            "      sclerotic: {label: Sclerotic, implies: {region: rib}}\n"
            "      mixed: {label: Mixed}\n"))
    warned = [p for p in validate_folder(roots["bad"]) if p.code == "implies-inconsistent"]
    assert len(warned) == 1
    assert "P(density: lytic or sclerotic | beta) = 0.9 exceeds P(region: rib) = 0.8" \
        in warned[0].message
    problems = validate_folder(roots["good"])
    assert not [p for p in problems if p.code == "implies-inconsistent"]
    assert not [p for p in problems if "can never hold" in p.message]
    for value in ("lytic", "sclerotic"):
        assert gain(roots["good"], "beta", {"density": value}, {"region": "rib"}) == \
            pytest.approx(1.0)
    # with the third value the rib counts: LR = (30*0.8 + 10*0.4) / 40 / 0.4 = 1.75
    assert gain(roots["good"], "beta", {"density": "mixed"}, {"region": "rib"}) == \
        pytest.approx(1.75)

ALPHA_SITED = ('  - finding: region\n    p: {spine: 0.5, rib: 0.5}\n'
               '  - finding: cortical_breach\n    p: {"yes": 0.2, "no": 0.8}\n'
               '  - finding: cortical_breach\n    given: {region: rib}\n'
               '    p: {"yes": 0.6, "no": 0.4}\n')
BETA_BREACH = '  - finding: cortical_breach\n    p: {"yes": 0.5, "no": 0.5}\n'


def test_a_sign_stated_per_site_is_weighed_against_the_mix_at_that_site(kb_copy):
    """Alpha breaches the cortex in 60 % of rib lesions and 20 % of the others (half each);
    beta in 50 % anywhere (its sites follow the region's reference, alpha's). In the rib
    the reference is (0.2*0.5*0.6 + 0.3*0.5*0.5) / (0.2*0.5 + 0.3*0.5) = 0.54, so alpha's
    LR is ((30*0.6 + 10*0.54)/40) / 0.54; in the spine R = 0.38 and alpha's LR is
    ((30*0.2 + 10*0.38)/40) / 0.38; with the site not given alpha's marginal 0.4 meets
    R = (0.2*0.4 + 0.3*0.5)/0.5 = 0.46. The hand rules on the breach fire alike
    everywhere, so ratios of gains isolate the profile."""
    root = kb_copy()
    add_profile(root, "alpha", ALPHA_SITED)
    add_profile(root, "beta", BETA_BREACH)
    breach = {"cortical_breach": "yes"}
    rib, spine, unknown = (gain(root, dx, base, breach)
                           for dx, base in (("alpha", {"region": "rib"}),
                                            ("alpha", {"region": "spine"}), ("alpha", {})))
    in_rib = (30 * 0.6 + 10 * 0.54) / 40 / 0.54
    in_spine = (30 * 0.2 + 10 * 0.38) / 40 / 0.38
    marginal = (30 * 0.4 + 10 * 0.46) / 40 / 0.46
    assert rib / spine == pytest.approx(in_rib / in_spine)
    assert unknown / spine == pytest.approx(marginal / in_spine)
    # beta states no site, yet its ratio follows each site's reference
    beta_rib = gain(root, "beta", {"region": "rib"}, breach)
    beta_spine = gain(root, "beta", {"region": "spine"}, breach)
    assert beta_rib / beta_spine == pytest.approx(
        ((30 * 0.5 + 10 * 0.54) / 40 / 0.54) / ((30 * 0.5 + 10 * 0.38) / 40 / 0.38))
    kb = load_knowledge_base(root)
    explained = next(r for r in kb.rules if r.id == "alpha.profile.cortical_breach.yes.at_rib")
    assert "in the rib against 54% of the reference mix there" in explained.description


@pytest.mark.parametrize(("entries", "words"), [
    ('  - finding: cortical_breach\n    given: {region: rib}\n    p: {"yes": 0.6, "no": 0.4}\n',
     ["no plain entry of it for the other sites"]),
    (ALPHA_SITED.replace("given: {region: rib}", "given: {region: liver}"),
     ["'liver' is not a value of 'region'"]),
    (ALPHA_SITED.replace("given: {region: rib}", "given: {density: lytic}")
     + '  - finding: density\n    p: {lytic: 0.5, sclerotic: 0.5}\n',
     []),
    (ALPHA_SITED.replace("given: {region: rib}", "given: {cortical_breach: \"yes\"}"),
     ["'given' must name another one-choice finding"]),
    (ALPHA_SITED.replace("given: {region: rib}", "given: {region: [spine, rib]}"),
     ["names every value of 'region'"]),
    (ALPHA_SITED, ["declares a population, which holds at every site"]),
])
def test_a_wrong_given_is_reported_at_its_line(kb_copy, entries, words):
    """A 'given' without the plain entry, with an unknown site, naming the finding itself or
    every site, or on a finding with a declared population, is an error at the entry; a
    'given' over another one-choice finding is allowed."""
    root = kb_copy()
    add_profile(root, "alpha", entries)
    if "population" in " ".join(words):
        add_population(root, '      "no": {label: Intact}\n',
                       '    population: {"yes": 0.3, "no": 0.7}\n')
    problems = errors(root)
    if not words:
        assert problems == []
        return
    sited = line_of(root, "alpha", "given:") - 1
    assert any(p.location.file == "kb/diagnoses/alpha.yaml"
               and p.location.line in (sited, sited + 1)
               and all(w in p.message for w in words) for p in problems), problems


@pytest.mark.parametrize(("broken", "words"), [
    ('p: {"yes": 1.2, "no": 0.8}', "must lie strictly between 0 and 1"),
    ('p: {"yes": 0.2, "no": 0.5}', "sum to 0.7, not 1"),
])
def test_a_plain_entry_in_error_is_the_only_error_of_its_sites(kb_copy, broken, words):
    """When the plain entry of a finding stated per site has an error, that error is the one
    reported: the sited entry is not also reported as lacking its plain entry."""
    root = kb_copy()
    add_profile(root, "alpha", ALPHA_SITED.replace('p: {"yes": 0.2, "no": 0.8}', broken, 1))
    problems = errors(root)
    plain = line_of(root, "alpha", broken)
    assert [(p.location.file, p.location.line) for p in problems] == [
        ("kb/diagnoses/alpha.yaml", plain)], problems
    assert words in problems[0].message


def test_sites_of_one_finding_over_two_findings_are_an_error(kb_copy):
    """Alpha states the breach per region and beta per density: the cells of one finding
    must be sets of one finding's values, so validate refuses the second at its 'given'."""
    root = kb_copy()
    add_profile(root, "alpha", ALPHA_SITED)
    add_profile(root, "beta", BETA_BREACH + '  - finding: cortical_breach\n'
                '    given: {density: lytic}\n    p: {"yes": 0.7, "no": 0.3}\n'
                '  - finding: density\n    p: {lytic: 0.5, sclerotic: 0.5}\n')
    problems = errors(root)
    given = line_of(root, "beta", "given:")
    assert [(p.location.file, p.location.line) for p in problems] == [
        ("kb/diagnoses/beta.yaml", given)], problems
    assert "over one finding (density, region here)" in problems[0].message


def test_shrinkage_tempers_an_estimate_more_than_a_large_study(kb_copy):
    """The same stated P gives a ratio nearer 1 as an expert estimate (n = 30) than from a
    study of 300 lesions."""
    expert, study = kb_copy(name="expert"), kb_copy(name="study")
    add_profile(expert, "beta", BETA_SIZE)
    add_profile(study, "beta", BETA_SIZE.replace(
        "}\n", "}\n    basis: study\n    n: 300\n    references: [ref_a]\n"))
    for root in (expert, study):
        add_population(root, "    bins: [5]\n", SIZE_POPULATION)
    small = {"size_cm": 2}
    assert 1.0 < gain(expert, "beta", {"region": "rib"}, small) \
        < gain(study, "beta", {"region": "rib"}, small) < 0.8 / 0.6 + 1e-9


def test_a_figure_stated_by_definition_is_not_shrunk(kb_copy):
    """A definition is not an estimate: P(<5) = 0.8 against a population of 0.6 gives
    exactly 0.8 / 0.6, where an expert estimate would give (30*0.8 + 10*0.6)/40/0.6."""
    root = kb_copy()
    add_profile(root, "beta", BETA_SIZE.replace(
        "}\n", "}\n    basis: definition\n    note: fixed by how beta is defined.\n"))
    add_population(root, "    bins: [5]\n", SIZE_POPULATION)
    assert gain(root, "beta", {"region": "rib"}, {"size_cm": 2}) == pytest.approx(0.8 / 0.6)
    assert gain(root, "beta", {"region": "rib"}, {"size_cm": 7}) == pytest.approx(0.2 / 0.4)


def test_a_definition_without_its_note_is_refused_at_its_line(kb_copy):
    """An unshrunk figure must say which definition fixes it: validate names the line."""
    root = kb_copy()
    add_profile(root, "beta", BETA_SIZE.replace("}\n", "}\n    basis: definition\n"))
    problems = errors(root)
    basis = line_of(root, "beta", "basis: definition")
    assert [(p.location.file, p.location.line) for p in problems] == [
        ("kb/diagnoses/beta.yaml", basis)], problems
    assert "which definition fixes it" in problems[0].message


def test_a_sign_in_two_patterns_is_refused_at_its_line(kb_copy):
    """A sign counts once in one pattern; named again in a second pattern it would silently
    stay in the first, so validate refuses it where the second names it."""
    patterns = ("patterns:\n  - id: beta.compact\n    description: One process.\n"
                '    signs: [{density: sclerotic}, {size_cm: "<5"}]\n'
                "  - id: beta.small\n    description: Another.\n"
                '    signs: [{size_cm: "<5"}]\n')
    root = kb_copy()
    add_profile(root, "beta", BETA_SIZE + BETA_DENSITY, patterns)
    problems = errors(root)
    second = line_of(root, "beta", "id: beta.small") + 2
    assert [(p.location.file, p.location.line) for p in problems] == [
        ("kb/diagnoses/beta.yaml", second)], problems
    assert "already counts once in pattern 'beta.compact'" in problems[0].message
