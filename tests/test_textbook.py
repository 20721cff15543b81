"""Textbook presentations lead with their diagnosis (knowledge regression tests).

Each row is a classic presentation of one diagnosis as standard radiology teaching describes
it (few findings, as a reader would report them). They were written while building the
knowledge base, so they test that it keeps its textbook knowledge; they are not an
independent measure of accuracy (the literature vignettes are).
"""

from __future__ import annotations

import pytest

from ossdx.reasoning.cases import make_case

BC = {"primary": "breast_idc", "age": 60, "sex": "F"}

PRESENTATIONS = [
    (
        "metastasis",
        {
            "region": "spine",
            "vertebral_location": "central_body",
            "density": "lytic",
            "posterior_elements_involved": "yes",
            "soft_tissue_mass": "yes",
            "t1_signal": "hypo",
            "fdg_uptake": "intense",
        },
        BC,
    ),
    (
        "metastasis",
        {
            "region": "spine",
            "lesion_count": "multiple",
            "density": "sclerotic",
            "bone_scan_uptake": "multifocal",
        },
        BC,
    ),
    (
        "metastasis",
        {
            "region": "sternum",
            "lesion_count": "solitary",
            "density": "lytic",
            "cortical_breach": "yes",
        },
        BC,
    ),
    (
        "metastasis",
        {"region": "rib", "density": "lytic", "expansile": "yes", "fdg_uptake": "intense"},
        BC,
    ),
    (
        "metastasis",
        {
            "region": "long_bone",
            "long_bone_location": "diaphysis",
            "density": "lytic",
            "cortical_breach": "yes",
        },
        BC,
    ),
    (
        "metastasis",
        {
            "region": "spine",
            "lesion_count": "diffuse",
            "t1_signal": "hypo",
            "t1_above_muscle": "no",
        },
        BC,
    ),
    ("metastasis", {"bone_scan_uptake": "superscan"}, BC),
    ("metastasis", {"region": "skull", "lesion_count": "multiple", "density": "lytic"}, BC),
    ("metastasis", {"region": "pelvis", "density": "mixed", "fdg_uptake": "moderate"}, BC),
    (
        "metastasis",
        {
            "region": "spine",
            "fracture": "pathologic",
            "posterior_cortex": "convex_bulge",
            "soft_tissue_mass": "yes",
        },
        BC,
    ),
    (
        "metastasis",
        {
            "region": "pelvis",
            "lesion_count": "solitary",
            "density": "sclerotic",
            "ct_attenuation_hu": 600,
        },
        BC,
    ),
    (
        "metastasis",
        {
            "region": "long_bone",
            "long_bone_location": "metaphysis",
            "density": "lytic",
            "fracture": "pathologic",
        },
        BC,
    ),
    ("metastasis", {"region": "spine", "fdg_uptake": "intense", "density": "not_visible"}, BC),
    (
        "metastasis",
        {
            "region": "sacrum",
            "density": "lytic",
            "fdg_uptake": "intense",
            "soft_tissue_mass": "yes",
        },
        BC,
    ),
    ("hemangioma", {"region": "spine", "trabecular_pattern": "coarse_vertical"}, BC),
    ("hemangioma", {"region": "spine", "t1_signal": "hyper", "t2_signal": "hyper"}, BC),
    (
        "hemangioma",
        {
            "region": "spine",
            "vertebral_location": "central_body",
            "density": "lytic",
            "trabecular_pattern": "coarse_vertical",
            "fdg_uptake": "none",
        },
        BC,
    ),
    (
        "bone_island",
        {
            "region": "pelvis",
            "lesion_count": "solitary",
            "density": "sclerotic",
            "brush_border": "yes",
        },
        BC,
    ),
    ("bone_island", {"region": "pelvis", "density": "sclerotic", "ct_attenuation_hu": 1200}, BC),
    (
        "bone_island",
        {
            "region": "long_bone",
            "density": "sclerotic",
            "brush_border": "yes",
            "bone_scan_uptake": "none",
            "size_cm": 1,
        },
        BC,
    ),
    (
        "schmorl_node",
        {
            "region": "spine",
            "vertebral_location": "endplate",
            "endplate_defect_with_disc_contiguity": "yes",
            "sclerotic_rim": "yes",
        },
        BC,
    ),
    (
        "schmorl_node",
        {
            "region": "spine",
            "vertebral_location": "endplate",
            "density": "lytic",
            "sclerotic_rim": "yes",
        },
        BC,
    ),
    (
        "enchondroma",
        {
            "region": "long_bone",
            "long_bone_location": "metaphysis",
            "matrix": "chondroid",
            "zone_of_transition": "narrow",
        },
        BC,
    ),
    ("enchondroma", {"region": "other", "matrix": "chondroid", "density": "lytic"}, BC),
    (
        "chondrosarcoma",
        {
            "region": "pelvis",
            "matrix": "chondroid",
            "endosteal_scalloping": "more_than_two_thirds",
            "soft_tissue_mass": "yes",
            "size_cm": 8,
        },
        BC,
    ),
    (
        "sacroiliitis",
        {"region": "sacrum", "bilateral": "yes", "si_joint_erosions": "yes", "marrow_edema": "yes"},
        BC,
    ),
    (
        "sacroiliitis",
        {
            "region": "pelvis",
            "si_joint_centered": "yes",
            "si_joint_erosions": "yes",
            "fdg_uptake": "moderate",
        },
        BC,
    ),
    (
        "insufficiency_fracture",
        {"region": "sacrum", "sacral_uptake_pattern": "h_shaped"},
        {**BC, "age": 75, "osteoporosis": "yes"},
    ),
    (
        "insufficiency_fracture",
        {"region": "sacrum", "fracture_line": "yes", "marrow_edema": "yes", "density": "sclerotic"},
        BC,
    ),
    ("insufficiency_fracture", {"region": "pelvis", "fracture": "insufficiency"}, BC),
    (
        "osteoporotic_fracture",
        {
            "region": "spine",
            "fracture": "compression",
            "fluid_sign": "yes",
            "posterior_cortex": "retropulsed_fragment",
            "soft_tissue_mass": "no",
        },
        BC,
    ),
    (
        "osteoporotic_fracture",
        {
            "region": "spine",
            "fracture": "compression",
            "opposed_phase_signal_drop": "yes",
            "posterior_elements_involved": "no",
        },
        {**BC, "age": 78},
    ),
    (
        "degenerative",
        {
            "region": "spine",
            "vertebral_location": "endplate",
            "mirror_endplate_changes": "yes",
            "disc_space_narrowing": "yes",
            "fdg_uptake": "low",
        },
        BC,
    ),
    (
        "degenerative",
        {
            "region": "sacrum",
            "si_joint_centered": "yes",
            "si_joint_erosions": "no",
            "density": "sclerotic",
        },
        {**BC, "age": 70},
    ),
    (
        "red_marrow",
        {
            "region": "spine",
            "lesion_count": "diffuse",
            "t1_signal": "iso",
            "t1_above_muscle": "yes",
            "opposed_phase_signal_drop": "yes",
        },
        BC,
    ),
    (
        "red_marrow",
        {"region": "long_bone", "t1_above_muscle": "yes", "density": "not_visible"},
        {**BC, "treatment": ["g_csf", "chemotherapy"]},
    ),
    (
        "paget",
        {
            "region": "pelvis",
            "trabecular_pattern": "coarse_disorganized",
            "cortical_thickening": "yes",
            "whole_bone_involvement": "yes",
        },
        {**BC, "age": 72},
    ),
    (
        "paget",
        {
            "region": "long_bone",
            "whole_bone_involvement": "yes",
            "cortical_thickening": "yes",
            "bone_scan_uptake": "diffuse",
        },
        {**BC, "age": 70},
    ),
    (
        "fibrous_dysplasia",
        {"region": "rib", "expansile": "yes", "matrix": "ground_glass"},
        {**BC, "age": 25},
    ),
    (
        "fibrous_dysplasia",
        {
            "region": "long_bone",
            "matrix": "ground_glass",
            "zone_of_transition": "narrow",
            "fdg_uptake": "moderate",
        },
        BC,
    ),
    (
        "treated_metastasis",
        {
            "region": "spine",
            "density": "sclerotic",
            "fdg_uptake": "none",
            "interval_change": "decreasing",
        },
        {**BC, "known_bone_metastases": "yes", "treatment": ["chemotherapy"]},
    ),
    (
        "treated_metastasis",
        {"region": "pelvis", "density": "sclerotic", "sclerotic_rim": "yes"},
        {**BC, "known_bone_metastases": "yes", "treatment": ["endocrine"]},
    ),
    (
        "myeloma",
        {"region": "skull", "lesion_count": "multiple", "density": "lytic",
         "sclerotic_rim": "no"},
        {"primary": "none", "age": 65, "symptoms": ["hypercalcemia"],
         "labs": {"paraprotein": "present"}},
    ),
    (
        "osteomyelitis",
        {
            "region": "spine",
            "mirror_endplate_changes": "yes",
            "disc_space_narrowing": "yes",
            "marrow_edema": "yes",
            "enhancement": "present",
            "soft_tissue_mass": "yes",
        },
        BC,
    ),
    (
        "metastasis",
        {
            "region": "spine",
            "lesion_count": "solitary",
            "density": "sclerotic",
            "fdg_uptake": "moderate",
        },
        BC,
    ),
    (
        "metastasis",
        {"region": "long_bone", "density": "lytic", "zone_of_transition": "wide", "matrix": "none"},
        BC,
    ),
    (
        "metastasis",
        {
            "region": "spine",
            "vertebral_location": "posterior_elements",
            "t1_signal": "hypo",
            "t2_signal": "hyper",
            "enhancement": "present",
        },
        BC,
    ),
    (
        "metastasis",
        {"region": "sternum", "lesion_count": "solitary", "bone_scan_uptake": "focal"},
        BC,
    ),
    (
        "metastasis",
        {
            "region": "pelvis",
            "lesion_count": "multiple",
            "density": "lytic",
            "fdg_uptake": "intense",
        },
        {**BC, "primary": "breast_ilc"},
    ),
    (
        "metastasis",
        {
            "region": "spine",
            "fracture": "compression",
            "t1_signal": "hypo",
            "opposed_phase_signal_drop": "no",
            "posterior_elements_involved": "yes",
        },
        BC,
    ),
    (
        "hemangioma",
        {
            "region": "spine",
            "t1_signal": "iso",
            "t2_signal": "hyper",
            "enhancement": "present",
            "trabecular_pattern": "coarse_vertical",
        },
        BC,
    ),
    (
        "bone_island",
        {
            "region": "spine",
            "density": "sclerotic",
            "t1_signal": "hypo",
            "t2_signal": "hypo",
            "marrow_edema": "no",
            "lesion_count": "solitary",
        },
        BC,
    ),
    (
        "schmorl_node",
        {
            "region": "spine",
            "vertebral_location": "endplate",
            "marrow_edema": "yes",
            "fdg_uptake": "moderate",
            "endplate_defect_with_disc_contiguity": "yes",
        },
        BC,
    ),
    (
        "enchondroma",
        {
            "region": "long_bone",
            "matrix": "chondroid",
            "endosteal_scalloping": "none",
            "lesion_count": "solitary",
        },
        BC,
    ),
    (
        "chondrosarcoma",
        {
            "region": "long_bone",
            "matrix": "chondroid",
            "cortical_thickening": "yes",
            "periosteal_reaction": "present",
        },
        {**BC, "symptoms": ["focal_bone_pain"]},
    ),
    (
        "insufficiency_fracture",
        {"region": "pelvis", "fracture_line": "yes", "density": "sclerotic"},
        {**BC, "age": 78, "osteoporosis": "yes"},
    ),
    (
        "insufficiency_fracture",
        {
            "region": "long_bone",
            "long_bone_location": "metaphysis",
            "fracture_line": "yes",
            "marrow_edema": "yes",
        },
        {**BC, "age": 75},
    ),
    (
        "osteoporotic_fracture",
        {
            "region": "spine",
            "fracture": "compression",
            "lesion_count": "multiple",
            "marrow_edema": "yes",
            "soft_tissue_mass": "no",
        },
        {**BC, "age": 80, "osteoporosis": "yes"},
    ),
    (
        "paget",
        {
            "region": "skull",
            "density": "mixed",
            "cortical_thickening": "yes",
            "whole_bone_involvement": "yes",
        },
        {**BC, "age": 72},
    ),
    (
        "paget",
        {"region": "spine", "trabecular_pattern": "coarse_disorganized", "expansile": "yes"},
        {**BC, "age": 70},
    ),
    ("fibrous_dysplasia", {"region": "long_bone", "matrix": "ground_glass"}, {**BC, "age": 30}),
    (
        "treated_metastasis",
        {"region": "spine", "density": "sclerotic", "bone_scan_uptake": "none"},
        {**BC, "known_bone_metastases": "yes", "treatment": ["chemotherapy", "denosumab"]},
    ),
    (
        "osteomyelitis",
        {
            "region": "long_bone",
            "periosteal_reaction": "present",
            "marrow_edema": "yes",
            "soft_tissue_mass": "yes",
        },
        {"primary": "none", "age": 50, "symptoms": ["fever"],
         "labs": {"inflammatory_markers": "raised"}},
    ),
    (
        "myeloma",
        {
            "region": "spine",
            "lesion_count": "diffuse",
            "t1_signal": "hypo",
            "t1_above_muscle": "no",
        },
        {"primary": "none", "age": 70, "labs": {"paraprotein": "present"}},
    ),
    (
        "red_marrow",
        {
            "region": "pelvis",
            "lesion_count": "diffuse",
            "t1_above_muscle": "yes",
            "bilateral": "yes",
        },
        {**BC, "age": 32},
    ),
    (
        "sacroiliitis",
        {
            "region": "sacrum",
            "si_joint_centered": "yes",
            "si_joint_erosions": "yes",
            "marrow_edema": "yes",
            "bilateral": "no",
        },
        {**BC, "symptoms": ["low_back_buttock_pain"]},
    ),
    (
        "degenerative",
        {
            "region": "spine",
            "vertebral_location": "endplate",
            "marrow_edema": "yes",
            "mirror_endplate_changes": "yes",
            "disc_space_narrowing": "yes",
            "enhancement": "present",
        },
        BC,
    ),
    # The four diagnoses added to the vocabulary with the blind sets, each as its source
    # describes it.
    (
        # Di Primio 2011: many small symmetric periarticular sclerotic foci, cold on bone scan
        "osteopoikilosis",
        {
            "region": "pelvis",
            "lesion_count": "multiple",
            "skeletal_distribution": "periarticular_symmetric",
            "density": "sclerotic",
            "size_cm": 0.5,
            "bone_scan_uptake": "none",
        },
        BC,
    ),
    (
        # the same foci on MRI: compact bone, dark on T1 and T2
        "osteopoikilosis",
        {
            "region": "long_bone",
            "long_bone_location": "epiphysis",
            "lesion_count": "multiple",
            "skeletal_distribution": "periarticular_symmetric",
            "t1_signal": "hypo",
            "t2_signal": "hypo",
            "size_cm": 0.5,
        },
        BC,
    ),
    (
        # Murphey 2014: serpiginous peripheral sclerosis of a medullary infarct
        "bone_infarct",
        {
            "region": "long_bone",
            "long_bone_location": "metaphysis",
            "serpiginous_margin": "yes",
            "density": "mixed",
        },
        {**BC, "treatment": ["corticosteroids"]},
    ),
    (
        # Mitchell 1987: the double line around marrow that keeps the signal of fat
        "bone_infarct",
        {
            "region": "long_bone",
            "long_bone_location": "metaphysis",
            "double_line_sign": "yes",
            "t1_signal": "iso",
            "bulls_eye_sign": "yes",
        },
        BC,
    ),
    (
        # fatty, T1-bright marrow confined to an earlier radiotherapy port
        "radiation_change",
        {
            "region": "spine",
            "lesion_count": "multiple",
            "in_radiation_field": "yes",
            "t1_signal": "hyper",
            "t1_above_muscle": "yes",
        },
        {**BC, "treatment": ["radiation", "surgery"]},
    ),
    (
        # a permeative lesion with a soft-tissue mass out of proportion to the bone
        # destroyed, in a patient without a known cancer
        "lymphoma",
        {
            "region": "long_bone",
            "long_bone_location": "diaphysis",
            "destruction_pattern": "permeative",
            "soft_tissue_mass": "yes",
            "soft_tissue_out_of_proportion": "yes",
            "fdg_uptake": "intense",
        },
        {"primary": "none", "age": 60, "sex": "F"},
    ),
]


@pytest.mark.parametrize(
    "truth,findings,patient",
    PRESENTATIONS,
    ids=[f"{i:02d}-{row[0]}" for i, row in enumerate(PRESENTATIONS)],
)
def test_textbook_presentation_leads_with_its_diagnosis(truth, findings, patient, kb, reasoner):
    """The classic presentation ranks its diagnosis first."""
    assert reasoner.diagnose(make_case(kb, findings, patient)).leader.id == truth
