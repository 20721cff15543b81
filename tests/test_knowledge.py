"""The shipped knowledge base keeps the contracts of DESIGN.md and the seed's content."""

from __future__ import annotations

import pytest

from ossdx.core.errors import Severity
from ossdx.kb import Kind, check_knowledge_base
from ossdx.reasoning.inference import PythonEngine

from conftest import KB_DIR

# The core vocabulary of DESIGN.md: never dropped or renamed.
CORE_FINDINGS = {
    "region": {"spine", "sacrum", "pelvis", "sternum", "rib", "long_bone", "skull", "scapula",
               "other"},
    "vertebral_location": {"endplate", "central_body", "whole_body", "posterior_elements"},
    "long_bone_location": {"epiphysis", "metaphysis", "diaphysis"},
    "lesion_count": {"solitary", "multiple", "diffuse"},
    "interval_change": {"new", "enlarging", "stable", "decreasing"},
    "density": {"lytic", "sclerotic", "mixed", "not_visible"},
    "matrix": {"chondroid", "osteoid", "ground_glass", "none"},
    "trabecular_pattern": {"normal", "coarse_vertical", "coarse_disorganized"},
    "brush_border": {"yes", "no"},
    "zone_of_transition": {"narrow", "wide"},
    "sclerotic_rim": {"yes", "no"},
    "cortical_breach": {"yes", "no"},
    "cortical_thickening": {"yes", "no"},
    "endosteal_scalloping": {"none", "less_than_two_thirds", "more_than_two_thirds"},
    "periosteal_reaction": {"none", "present"},
    "expansile": {"yes", "no"},
    "whole_bone_involvement": {"yes", "no"},
    "soft_tissue_mass": {"yes", "no"},
    "size_cm": None,
    "endplate_defect_with_disc_contiguity": {"yes", "no"},
    "mirror_endplate_changes": {"yes", "no"},
    "disc_space_narrowing": {"yes", "no"},
    "fracture": {"none", "pathologic", "insufficiency", "compression"},
    "fracture_line": {"yes", "no"},
    "posterior_elements_involved": {"yes", "no"},
    "posterior_cortex": {"convex_bulge", "retropulsed_fragment", "normal"},
    "si_joint_centered": {"yes", "no"},
    "si_joint_erosions": {"yes", "no"},
    "bilateral": {"yes", "no"},
    "t1_signal": {"hypo", "iso", "hyper"},
    "t2_signal": {"hypo", "iso", "hyper", "heterogeneous"},
    "enhancement": {"none", "present"},
    "marrow_edema": {"yes", "no"},
    "fluid_sign": {"yes", "no"},
    "opposed_phase_signal_drop": {"yes", "no"},
    "fdg_uptake": {"none", "low", "moderate", "intense"},
    "bone_scan_uptake": {"none", "focal", "multifocal", "diffuse", "linear", "superscan"},
    "sacral_uptake_pattern": {"h_shaped", "unilateral_vertical", "focal", "none"},
}
CORE_NEEDS = {
    "density": {"XR", "CT", "PET_CT"}, "soft_tissue_mass": {"CT", "PET_CT", "MRI"},
    "t1_signal": {"MRI"}, "fdg_uptake": {"PET_CT"}, "bone_scan_uptake": {"bone_scan"},
    "sacral_uptake_pattern": {"bone_scan", "PET_CT"}, "enhancement": {"MRI", "CT", "PET_CT"},
}
CORE_PATIENT = {
    "sex": {"F", "M"},
    "primary": {"breast_idc", "breast_ilc", "breast_phyllodes", "breast_inflammatory",
                "breast_other", "none", "unknown"},
    "receptors.er": {"pos", "neg"}, "receptors.pr": {"pos", "neg"},
    "receptors.her2": {"pos", "neg"},
    "treatment": {"none", "chemotherapy", "endocrine", "her2_targeted", "radiation",
                  "bisphosphonate", "denosumab", "surgery"},
    "known_bone_metastases": {"yes", "no", "unknown"},
    "osteoporosis": {"yes", "no", "unknown"},
    "symptoms": {"none", "focal_bone_pain", "back_pain", "low_back_buttock_pain",
                 "inflammatory_back_pain", "neurologic_deficit", "hypercalcemia"},
}
CORE_DIAGNOSES = {"metastasis", "treated_metastasis", "schmorl_node", "enchondroma",
                  "chondrosarcoma", "hemangioma", "sacroiliitis", "insufficiency_fracture",
                  "osteoporotic_fracture", "bone_island", "degenerative", "red_marrow", "paget",
                  "fibrous_dysplasia", "other"}
# added to the differential in 2026-12 (they were only named until their knowledge came)
WIDER_DIAGNOSES = {"myeloma", "lymphoma", "osteomyelitis", "osteopoikilosis",
                   "radiation_change", "bone_infarct"}
CORE_MODALITIES = {"XR", "CT", "MRI", "bone_scan", "PET_CT", "MG", "US"}

# The headings of the seed exhibit whose teaching must be in the KB.
SEED_HEADINGS = [
    "Learning Objectives", "Epidemiology", "Imaging Options",
    "Diffuse Osseous Metastatic Disease", "Quick Quiz (pattern of bone destruction)",
    "Malignant Phyllodes Tumor, Osseous Metastasis",
    "Invasive Lobular Carcinoma, Osseous Metastasis",
    "Male Breast Cancer, Direct Osseous Invasion", "Quick Quiz (skeletal related events)",
    "Treatment Options for Metastases", "Assessing Treatment Response with Imaging",
    "Post-Treatment Osseous Metastatic Changes",
    "Receptor Conversion in Breast Cancer Osseous Metastasis",
    "Differential of Sacral Osseous Metastases",
    "Primary Bone Lesion (Enchondroma) vs Osseous Metastases",
    "Sternal Metastasis vs Benign Hemangioma", "Differential Diagnosis: Schmorl's Node",
    "Conclusion",
]


def test_shipped_kb_has_no_errors_or_warnings():
    """ossdx validate on the shipped KB is clean."""
    from ossdx.authoring.lint import validate_folder

    problems = validate_folder(KB_DIR)
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("finding", sorted(CORE_FINDINGS))
def test_core_finding_is_present_with_its_values(finding, kb):
    """Every core finding exists, with every core value, a question and help text."""
    spec = kb.findings[finding]
    assert spec.question and spec.help
    if CORE_FINDINGS[finding] is not None:
        assert CORE_FINDINGS[finding] <= set(spec.values)
    if finding in CORE_NEEDS:
        assert set(spec.needs) == CORE_NEEDS[finding]


def test_core_patient_fields_and_modalities(kb):
    """Patient context and modalities of the contract are all there."""
    for field, values in CORE_PATIENT.items():
        assert values <= set(kb.vocabulary.patient[field].values), field
    assert kb.vocabulary.patient["age"].range == (0, 120)
    assert set(kb.vocabulary.modalities) >= CORE_MODALITIES
    assert "CT" in kb.vocabulary.modalities["PET_CT"].includes


def test_all_diagnoses_with_texts_and_sourced_priors(kb):
    """The 15 diagnoses exist, each with name, description, teaching points and a sourced prior."""
    assert set(kb.diagnoses) == CORE_DIAGNOSES | WIDER_DIAGNOSES
    assert not kb.named_diagnoses, "every diagnosis of the vocabulary is described"
    for dx in kb.diagnoses.values():
        assert dx.name and dx.description and dx.teaching_points, dx.id
        assert dx.prior.references, dx.id


@pytest.mark.parametrize("diagnosis", sorted(CORE_DIAGNOSES | WIDER_DIAGNOSES))
def test_each_diagnosis_has_four_rules_and_one_against(diagnosis, kb):
    """At least 4 evidence rules per diagnosis, at least one of them against it."""
    rules = [r for r in kb.rules if r.kind is Kind.EVIDENCE and r.target == diagnosis]
    assert len(rules) >= 4
    assert any(r.lr < 1 for r in rules)
    assert any(r.lr > 1 for r in rules)


def test_every_rule_has_description_strength_and_reference(kb):
    """Rules read like a textbook entry: description, likelihood ratio, reference."""
    for rule in kb.rules:
        assert rule.description and rule.references, rule.id
        if rule.kind is Kind.EVIDENCE:
            assert rule.strength and rule.lr != 1.0, rule.id


def test_rules_chain_at_least_two_levels(kb):
    """Some evidence rule reads a concept derived from another concept (findings -> concept
    -> concept -> evidence)."""
    deep = [r for r in kb.rules if r.kind is Kind.EVIDENCE
            and any(kb.rule(c.id).stratum >= 2 for c in kb.rules
                    if c.kind is Kind.CONCEPT and c.target in r.concepts)]
    assert deep


def test_seed_sections_are_all_covered(kb):
    """Each heading of the seed exhibit maps to knowledge-base ids that exist."""
    covered = {s.heading: s.covered_by for s in kb.seed_coverage}
    known = {*kb.teaching_points, *kb.quizzes, *kb.pitfalls, *kb.recommendations,
             *kb.concepts, *kb.diagnoses, *(r.id for r in kb.rules)}
    for heading in SEED_HEADINGS:
        assert heading in covered, heading
        assert set(covered[heading]) <= known, heading


def test_seed_pitfalls_and_recommendations_present(kb):
    """The seed's modality pitfalls and its recommendations are rules of the KB."""
    for pitfall in ("radiograph_late_lytic", "bone_scan_lytic_insensitive", "ct_osteopenia",
                    "schmorl_fdg_false_positive", "check_ct_behind_fdg"):
        assert f"pitfall.{pitfall}" in {r.id for r in kb.rules}
    for rec in ("biopsy_first_metastasis", "contralateral_breast_lobular", "multidisciplinary",
                "surgery_pathologic_fracture", "radiotherapy_palliation", "bone_targeted_agents"):
        assert f"recommendation.{rec}" in {r.id for r in kb.rules}


def _examples(kb):
    return [(rule, i, ex) for rule in kb.rules for i, ex in enumerate(rule.examples)]


def test_rule_examples_exist(kb):
    """Rules carry executable examples written as data."""
    assert len(_examples(kb)) >= 6


def test_rule_examples_behave_as_written(kb):
    """Every rule example fires (or stays silent) as its author wrote (tests as data)."""
    engine = PythonEngine(kb)
    wrong = []
    for rule, i, example in _examples(kb):
        fired = rule.id in engine.run(example.facts).fired
        if fired != example.fires:
            wrong.append(f"{example.location}: {rule.id} example {i} expected "
                         f"{'fire' if example.fires else 'no fire'}")
    assert wrong == []


def test_no_warning_about_unknown_files():
    """Every file under knowledge_base/ is a known kind (no stray files)."""
    _, problems = check_knowledge_base(KB_DIR)
    assert not [p for p in problems if p.code == "unknown-file"
                and p.severity is Severity.WARNING]


VERIFIED_SNOMED = {"metastasis": "94222008", "hemangioma": "400210000",
                   "enchondroma": "31186001", "chondrosarcoma": "1163016002",
                   "osteoporotic_fracture": "443165006"}


def test_verified_codes_are_attached_and_others_well_formed(kb):
    """The verified SNOMED CT codes are on their diagnoses; every code present has the
    right form (codes are optional: empty rather than guessed)."""
    for diagnosis, code in VERIFIED_SNOMED.items():
        assert kb.diagnoses[diagnosis].codes.snomed_ct == code
    assert kb.findings["region"].values["sacrum"].codes.radlex == "RID2509"
    codes = [d.codes for d in kb.diagnoses.values() if d.codes]
    codes += [f.codes for f in kb.findings.values() if f.codes]
    codes += [v.codes for f in kb.findings.values() for v in f.values.values() if v.codes]
    for code in codes:
        assert code.snomed_ct is None or code.snomed_ct.isdigit()
        assert code.radlex is None or code.radlex.startswith("RID")


def test_numbers_are_named_with_their_unit(kb):
    """An expected number reads with its unit ('Size (cm) < 1'), and a name that already
    holds the unit does not repeat it."""
    from ossdx.reasoning.explain import _var_name

    assert _var_name(kb, "size_cm") == "Size (cm)"
    assert _var_name(kb, "ct_attenuation_hu") == "CT attenuation (HU)"
