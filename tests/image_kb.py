"""A knowledge-base copy for the image tests of the app: the shipped knowledge base without
its case files (so no held-out case is ever copied), plus one unknown case with a
de-identified DICOM CT series (built with pydicom, tests/dicom_factory.py) and a labelled
drawing that names the diagnosis."""

from __future__ import annotations

import shutil
from pathlib import Path

import dicom_factory as df

from conftest import KB_DIR

CASE_PATH = "seed/dicom-sacrum.yaml"  # under cases/
TITLE = "Lytic sacral metastasis on CT (a DICOM test case)"
CAPTION = "Axial CT: lytic metastasis in the left sacral ala"
DRAWING_CAPTION = "Drawing: the lytic metastasis marked"
DRAWING_LABEL = "lytic metastasis here"
CREDIT = "made in the test, CC0"
SLICES = 3
DRAWING = f"""<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">
<rect width="120" height="80" fill="#222"/><circle cx="60" cy="40" r="18" fill="#777"/>
<text x="6" y="74" fill="#fc0" font-size="10">{DRAWING_LABEL}</text></svg>
"""
CASE = f"""\
id: dicom-sacrum
title: {TITLE}
narrative: >-
  60-year-old woman with invasive ductal carcinoma; staging CT of the pelvis.
source: made in the test
teaching_points:
  - A lytic sacral lesion in breast cancer is a metastasis until shown otherwise.
patient: {{age: 60, sex: F, primary: breast_idc}}
modalities: [CT]
findings:
  region: sacrum
  density: lytic
truth: metastasis
images:
  - file: images/ct
    modality: CT
    caption: "{CAPTION}"
    credit: "{CREDIT}"
  - file: images/drawing.svg
    modality: CT
    caption: "{DRAWING_CAPTION}"
    credit: "{CREDIT}"
"""


def make_image_kb(root: Path) -> Path:
    """Write the knowledge base with its one DICOM case under ``root``; return ``root``."""
    shutil.copytree(KB_DIR, root, ignore=lambda folder, names:
                    ["cases"] if Path(folder) == KB_DIR else [])
    seed = root / "cases" / "seed"
    df.write_series(seed / "images" / "ct", count=SLICES, identifying=False)
    (seed / "images" / "drawing.svg").write_text(DRAWING, encoding="utf-8")
    (root / "cases" / CASE_PATH).write_text(CASE, encoding="utf-8")
    return root
