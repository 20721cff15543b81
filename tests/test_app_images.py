"""Images in the app's pages through AppTest: an unknown case shows its pictures before the
commit (blind: no caption, no labelled drawing) and everything after; the work-up shows a
loaded example's images above it and lets a user view their own images in memory; a question
about an illustrated sign shows its drawing; the examples page previews findings beside
images; the knowledge-base page shows the gallery."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import dicom_factory as df
import pytest
from apptest import run, start
from image_kb import CAPTION, CASE_PATH, CREDIT, DRAWING_CAPTION, SLICES, TITLE, make_image_kb
from streamlit.testing.v1 import AppTest

from ossdx.reasoning.cases import load_case
from ossdx.ui.images import illustrations_of

from conftest import KB_DIR

TRAINEE = "ui/screens/trainee.py"
WORKUP = "ui/screens/workup.py"
EXAMPLES = "ui/screens/examples.py"
SVG = "data:image/svg+xml;base64,"
HEMANGIOMA = "seed/seed-sternal-hemangioma.yaml"


# ------------------------------------------------------------------ helpers
def images(at: AppTest) -> list[tuple[str, str]]:
    """(address, caption) of every image on the page, in order."""
    return [(img.url, img.caption) for element in at.get("image") for img in element.proto.imgs]


def text(at: AppTest) -> str:
    """What the page shows as text (Markdown escapes removed), image captions included."""
    parts = [str(e.value) for kind in ("markdown", "caption", "info", "warning", "error",
                                       "success") for e in getattr(at, kind)]
    parts += [caption for _, caption in images(at)] + [e.label for e in at.expander]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


@pytest.fixture
def image_kb(tmp_path, monkeypatch) -> Path:
    """The knowledge base with one DICOM unknown case, served through OSSDX_KB, and a
    progress database under tmp_path."""
    root = make_image_kb(tmp_path / "kb")
    monkeypatch.setenv("OSSDX_KB", str(root))
    monkeypatch.delenv("OSSDX_DATABASE_URL", raising=False)
    monkeypatch.setenv("OSSDX_DB", str(tmp_path / "progress.sqlite3"))
    return root


def open_unknown(at: AppTest) -> AppTest:
    at.text_input(key="learner.name.trainee").set_value("Ann")
    run(at)
    at.selectbox(key="trainee.pick").set_value(CASE_PATH)
    return run(at)


def load_example(at: AppTest, key: str) -> AppTest:
    at.switch_page(EXAMPLES)
    run(at)
    at.button(key=f"example.{key}").click()
    run(at)
    at.switch_page(WORKUP)  # AppTest does not follow st.switch_page by itself
    return run(at)


# ------------------------------------------------------------------ unknown cases
def test_an_unknown_case_shows_its_pictures_blind_until_the_commit(image_kb):
    """Before the commit: the DICOM series with a slice slider and window presets, captioned
    only 'Image 1 (CT)'; neither its caption nor the labelled drawing (which names the
    diagnosis); a window preset changes the pixels. After the commit: both images with their
    captions and credits, the window kept."""
    at = open_unknown(start(TRAINEE))
    (before,) = images(at)
    assert before[1].startswith("Image 1 (CT)") and not before[0].startswith(SVG)
    shown = text(at)
    assert CAPTION not in shown and DRAWING_CAPTION not in shown and TITLE not in shown
    assert "1 labelled drawing of this case is shown after you commit" in shown
    assert f"Credit: {CREDIT}" in shown
    slider = at.slider(key="trainee.images.0.slice")
    assert (slider.min, slider.max) == (1, SLICES)
    at.radio(key="trainee.images.0.window").set_value("bone")
    run(at)
    ((bone, caption),) = images(at)
    assert bone != before[0] and "W 1800 / L 400" in caption

    at.selectbox(key="trainee.choice.1").set_value("metastasis")
    run(at)
    at.button(key="trainee.commit").click()
    run(at)
    (series, series_caption), (drawing, drawing_caption) = images(at)
    assert series_caption.startswith(f"{CAPTION} (CT)") and "W 1800 / L 400" in series_caption
    assert series == bone  # the same slice and window: the same pixels
    assert drawing.startswith(SVG) and drawing_caption == f"{DRAWING_CAPTION} (CT)"
    assert "after you commit" not in text(at)


def test_a_new_unknown_case_starts_with_its_own_window(image_kb):
    """Opening the case again (Random) forgets the window chosen for the last one."""
    at = open_unknown(start(TRAINEE))
    at.radio(key="trainee.images.0.window").set_value("bone")
    run(at)
    at.button(key="trainee.random").click()  # the only case: opened afresh
    run(at)
    assert at.radio(key="trainee.images.0.window").value != "bone"


# ------------------------------------------------------------------ work-up
def test_the_workup_shows_a_loaded_examples_images(kb):
    """A loaded example's images are shown above the work-up with their captions and
    credits; a new case has none."""
    case = load_case(KB_DIR / "cases" / HEMANGIOMA, kb)
    assert case.images, "the seed hemangioma case is expected to carry an image"
    at = load_example(start(WORKUP), HEMANGIOMA)
    labels = [e.label for e in at.expander]
    assert f"Images of this case ({len(case.images)})" in labels
    assert [c for _, c in images(at)] == [f"{i.caption} ({i.modality})" for i in case.images]
    assert f"Credit: {case.images[0].credit}" in text(at)
    at.button(key="sidebar.new_case").click()
    run(at)
    assert not any(label.startswith("Images of this case") for label in
                   (e.label for e in at.expander))
    assert images(at) == []


def test_in_quiz_mode_the_workup_images_are_blind_until_revealed(kb):
    """In quiz mode a drawing (which names what it shows) is held back with a note, and
    shown with its caption once the case is revealed."""
    case = load_case(KB_DIR / "cases" / HEMANGIOMA, kb)
    at = start(EXAMPLES)
    at.toggle(key="examples.quiz").set_value(True)
    run(at)
    load_example(at, HEMANGIOMA)
    assert images(at) == []
    assert "shown once you reveal the case" in text(at)
    assert case.images[0].caption not in text(at)
    at.toggle(key="workup.reveal").set_value(True)
    run(at)
    assert [c for _, c in images(at)] == [f"{i.caption} ({i.modality})" for i in case.images]


def test_the_workup_views_a_users_own_images_in_memory(tmp_path, monkeypatch):
    """An uploaded DICOM series and PNG are shown, no file is written anywhere, no
    identifier is shown, and a new case forgets them."""
    from PIL import Image

    raw = io.BytesIO()
    df.ct_slice(identifying=True).save_as(raw, enforce_file_format=True)
    png = io.BytesIO()
    Image.new("L", (8, 8), 30).save(png, format="PNG")
    # A temporary and a working folder of this test's own, so that what other test workers
    # write at the same time is not taken for the app's doing.
    own_tmp, own_cwd = tmp_path / "tmp", tmp_path / "cwd"
    own_tmp.mkdir()
    own_cwd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own_tmp))
    monkeypatch.setenv("TMPDIR", str(own_tmp))
    monkeypatch.chdir(own_cwd)
    watched = [own_tmp, own_cwd, KB_DIR]

    def files() -> set[Path]:
        # Python's bytecode cache is written by the interpreter on a first import, not by
        # the app.
        return {p for folder in watched for p in folder.rglob("*")
                if "__pycache__" not in p.parts}

    before = files()
    at = start(WORKUP)
    assert len(at.get("file_uploader")) == 0  # drawn when asked for
    at.toggle(key="workup.own_images").set_value(True)
    run(at)
    (uploader,) = at.get("file_uploader")
    uploader.set_value([("scan.dcm", raw.getvalue(), "application/dicom"),
                        ("key.png", png.getvalue(), "image/png")])
    run(at)
    assert len(images(at)) == 2
    shown = text(at)
    assert "identifying attribute" in shown
    for secret in (df.PATIENT, "MRN-0042", "General Hospital", "ACC123"):
        assert secret not in shown
    assert files() == before
    at.button(key="sidebar.new_case").click()
    run(at)
    assert images(at) == []


def test_a_question_about_an_illustrated_sign_shows_its_drawing(kb):
    """Going through the questions (each marked 'not assessed'), every question whose
    finding has illustrated values shows those drawings under 'What it looks like', and no
    other question does; at least one such question is met."""
    at = start(WORKUP)
    at.multiselect(key="context.modalities").set_value(sorted(kb.vocabulary.modalities))
    run(at)
    at.selectbox(key="patient.primary").set_value("breast_idc")
    run(at)
    if "workup.skip_context" in {b.key for b in at.button}:
        at.button(key="workup.skip_context").click()
        run(at)
    met = 0
    for _ in range(60):
        skips = [b.key for b in at.button if b.key and b.key.startswith("ask.")
                 and b.key.endswith(".skip")]
        if not skips:
            break
        finding = skips[0].split(".")[1]
        expected = [item.title for _, item in illustrations_of(kb, finding)]
        drawn = [c for url, c in images(at) if url.startswith(SVG)]
        folded = "What it looks like" in [e.label for e in at.expander]
        assert drawn == expected and folded == bool(expected), finding
        met += bool(expected)
        at.button(key=skips[0]).click()
        run(at)
    assert met, "no question about an illustrated sign was asked"


# ------------------------------------------------------------------ examples and KB page
def test_an_example_previews_its_findings_beside_its_images(kb):
    """The preview toggle of a case with images shows its findings and every image; quiz
    mode offers no preview (captions and drawings would give the answer away)."""
    case = load_case(KB_DIR / "cases" / HEMANGIOMA, kb)
    at = start(EXAMPLES)
    assert images(at) == []  # nothing drawn until asked for
    at.toggle(key=f"examples.preview.{HEMANGIOMA}").set_value(True)
    run(at)
    assert [c for _, c in images(at)] == [f"{i.caption} ({i.modality})" for i in case.images]
    shown = text(at)
    for finding, value in case.findings.items():
        assert f"**{kb.findings[finding].name}**: {kb.value_text(finding, value)}" in shown
    at.toggle(key="examples.quiz").set_value(True)
    run(at)
    assert images(at) == []
    assert not [t for t in at.toggle if t.key and t.key.startswith("examples.preview.")]


def test_the_knowledge_base_page_shows_the_gallery(kb):
    """The 'Illustrations' section shows every drawing as an image, with its caption."""
    at = start("ui/screens/knowledge_base.py")
    at.button_group(key="kb_section").set_value("Illustrations")
    run(at)
    drawn = images(at)
    assert sorted(c for _, c in drawn) == sorted(i.title for i in kb.illustrations.values())
    assert all(url.startswith(SVG) for url, _ in drawn)
    assert kb.illustrations["honda_sign"].caption.strip() in text(at)
