"""The image components of the app (ossdx.ui.images) through AppTest, on small test pages
under tests/image_pages/: a DICOM case with slices and windows, PNG and SVG case images,
uploads held in memory, a question's illustration and the gallery."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import dicom_factory as df
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT

PAGES = ROOT / "tests" / "image_pages"
CASE = """\
id: image-page-test
patient: {{age: 60, sex: F, primary: breast_idc}}
modalities: [CT]
findings:
  region: spine
  density: lytic
images:
{entries}"""


def entry(file: str, modality: str = "CT", caption: str = "Axial CT") -> str:
    return (f"  - file: {file}\n    modality: {modality}\n    caption: {caption}\n"
            "    credit: made in the test, CC0\n")


def page(name: str, **env: str) -> AppTest:
    for key, value in env.items():
        os.environ[key] = value
    return AppTest.from_file(str(PAGES / name), default_timeout=60).run()


@pytest.fixture
def clean_env():
    saved = {k: os.environ.get(k) for k in ("OSSDX_IMAGE_CASE", "OSSDX_FINDING")}
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def urls(at: AppTest) -> list[str]:
    return [img.url for element in at.get("image") for img in element.proto.imgs]


def captions(at: AppTest) -> list[str]:
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [e.value for e in at.warning] + [e.value for e in at.error] + captions(at)
    return "\n".join(map(str, parts))


def dicom_case(tmp_path: Path) -> Path:
    df.write_series(tmp_path / "ct", count=3, identifying=False)
    path = tmp_path / "case.yaml"
    path.write_text(CASE.format(entries=entry("ct")), encoding="utf-8")
    return path


def test_a_dicom_case_shows_its_series_and_a_preset_changes_the_pixels(tmp_path, clean_env):
    """One image with a slice slider and window presets; each preset and each slice gives
    other pixels (the image's address is a hash of its pixels); the credit is shown."""
    at = page("case_images.py", OSSDX_IMAGE_CASE=str(dicom_case(tmp_path)))
    assert not at.exception and not at.error
    slider = at.slider(key="case.0.slice")
    assert (slider.min, slider.max, slider.value) == (1, 3, 2)
    (first,) = urls(at)
    assert "Credit: made in the test, CC0" in texts(at)
    at.radio(key="case.0.window").set_value("bone").run()
    (bone,) = urls(at)
    assert "W 1800 / L 400" in captions(at)[0]
    at.radio(key="case.0.window").set_value("soft tissue").run()
    (soft,) = urls(at)
    assert len({first, bone, soft}) == 3
    at.slider(key="case.0.slice").set_value(1).run()
    (other_slice,) = urls(at)
    assert other_slice != soft and "slice 1 of 3" in captions(at)[0]
    at.radio(key="case.0.window").set_value("bone").run()
    at.slider(key="case.0.slice").set_value(2).run()
    assert urls(at) == [bone]  # the same slice and window give the same pixels again


def test_free_width_and_level_are_set_by_hand(tmp_path, clean_env):
    """'free width / level' shows two sliders whose values window the image."""
    at = page("case_images.py", OSSDX_IMAGE_CASE=str(dicom_case(tmp_path)))
    at.radio(key="case.0.window").set_value("free width / level").run()
    at.slider(key="case.0.width").set_value(1.0).run()
    at.slider(key="case.0.level").set_value(500.0).run()
    assert not at.exception
    assert "W 1 / L 500" in captions(at)[0]


def test_png_and_svg_images_of_a_case_are_shown_as_images(tmp_path, clean_env):
    """A PNG goes through the media store; an SVG is an image address, never markup."""
    Image.new("L", (16, 16), 90).save(tmp_path / "key.png")
    (tmp_path / "sketch.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>t</title>'
        '<circle cx="5" cy="5" r="4"/></svg>', encoding="utf-8")
    path = tmp_path / "case.yaml"
    path.write_text(CASE.format(entries=entry("key.png", "XR", "Key image")
                                + entry("sketch.svg", "CT", "Schematic")), encoding="utf-8")
    at = page("case_images.py", OSSDX_IMAGE_CASE=str(path))
    assert not at.exception and not at.error
    png_url, svg_url = urls(at)
    assert png_url.endswith(".png") and svg_url.startswith("data:image/svg+xml;base64,")
    assert captions(at) == ["Key image (XR)", "Schematic (CT)"]
    assert not any("<svg" in e.value for e in at.markdown)


def test_uploaded_images_are_shown_from_memory_and_nothing_identifying_is_shown(clean_env):
    """An uploaded DICOM with a patient name is shown with a notice, its identifiers never;
    an uploaded PNG is shown; no file is written; a broken upload is an error message."""
    raw = io.BytesIO()
    df.ct_slice(identifying=True).save_as(raw, enforce_file_format=True)
    png = io.BytesIO()
    Image.new("L", (8, 8), 30).save(png, format="PNG")
    before = set(Path(tempfile.gettempdir()).iterdir()) | set(Path.cwd().iterdir())
    at = page("uploads.py")
    at.get("file_uploader")[0].set_value([
        ("scan.dcm", raw.getvalue(), "application/dicom"),
        ("key.png", png.getvalue(), "image/png")]).run()
    assert not at.exception and not at.error
    assert len(urls(at)) == 2
    shown = texts(at)
    assert "identifying attribute" in shown
    for secret in (df.PATIENT, "Doe", "MRN-0042", "General Hospital", "ACC123"):
        assert secret not in shown
    after = set(Path(tempfile.gettempdir()).iterdir()) | set(Path.cwd().iterdir())
    assert after == before
    at.get("file_uploader")[0].set_value([("bad.png", b"not a png", "image/png")]).run()
    assert not at.exception
    assert any("not a readable PNG" in e.value for e in at.error)


def test_a_question_shows_its_illustration_and_the_gallery_shows_all(kb, clean_env):
    """The Honda-sign question folds its drawing under 'What it looks like'; the gallery
    shows every illustration with its caption; all are SVG image addresses."""
    at = page("gallery.py", OSSDX_FINDING="sacral_uptake_pattern")
    assert not at.exception and not at.error
    (expander,) = at.expander
    assert expander.label == "What it looks like"
    shown = captions(at)
    assert shown[0] == kb.illustrations["honda_sign"].title
    assert sorted(shown[1:]) == sorted(i.title for i in kb.illustrations.values())
    assert all(u.startswith("data:image/svg+xml;base64,") for u in urls(at))
    assert kb.illustrations["fluid_sign"].caption.strip() in texts(at)


def test_a_question_without_a_drawing_shows_nothing_extra(clean_env):
    """A finding none of whose values is illustrated adds no expander."""
    at = page("gallery.py", OSSDX_FINDING="region")
    assert not at.exception and list(at.expander) == []
