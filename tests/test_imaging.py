"""Images in cases: DICOM series with windowing, the privacy check and `ossdx deidentify`,
the size caps, and the knowledge base's illustrations (every one named exists, every one
drawn is named)."""

from __future__ import annotations

import io
from pathlib import Path

import dicom_factory as df
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from ossdx.cli.main import main
from ossdx.core.errors import InputError, Severity
from ossdx.imaging.dicom import PRESETS, Window, read_series, series_files
from ossdx.imaging.limits import MIB, Limits
from ossdx.kb import KnowledgeBase, check_knowledge_base
from ossdx.reasoning.cases import load_case, parse_case

from conftest import KB_DIR

CASE = """\
id: imaging-test
patient: {{age: 60, sex: F, primary: breast_idc}}
modalities: [CT]
findings:
  region: spine
  density: lytic
images:
{entries}"""


def entry(file: str, modality: str = "CT", credit: str | None = "made in the test, CC0") -> str:
    text = f"  - file: {file}\n    modality: {modality}\n    caption: Axial CT\n"
    return text + (f"    credit: {credit}\n" if credit else "")


def write_case(folder: Path, *entries: str) -> Path:
    path = folder / "case.yaml"
    path.write_text(CASE.format(entries="".join(entries)), encoding="utf-8")
    return path


def line_of(path: Path, needle: str, nth: int = 0) -> int:
    """The 1-based line of the nth line containing ``needle``."""
    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return lines[nth]


def png(path: Path, size: tuple[int, int] = (8, 8)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, 128).save(path, format="PNG")
    return path


# ------------------------------------------------------------------ series and windowing
def test_a_dicom_series_case_shows_its_slices_in_order(tmp_path: Path, kb: KnowledgeBase):
    """A case naming a folder of one de-identified series loads; its slices come back
    sorted by position although the files are named in reverse."""
    df.write_series(tmp_path / "ct", count=3, identifying=False)
    case = load_case(write_case(tmp_path, entry("ct")), kb)
    (image,) = case.images
    assert (image.kind, image.modality, image.caption) == ("series", "CT", "Axial CT")
    series = read_series(series_files(image.path))
    assert len(series.slices) == 3
    # the bone square moves down one row per slice: row 14 is bone only in the first
    assert [s[14, 16] for s in series.slices] == [df.BONE, df.SOFT, df.SOFT]
    assert [s[18, 16] for s in series.slices] == [df.BONE, df.BONE, df.BONE]


def test_rescale_slope_and_intercept_are_honoured(tmp_path: Path):
    """Stored values (HU - intercept) / slope come back as Hounsfield units."""
    path = df.write_slice(tmp_path / "one.dcm", identifying=False)
    stored = pydicom.dcmread(path).pixel_array
    assert stored[df.BONE_AT] != df.BONE  # the file does not hold HU directly
    (values,) = read_series([path]).slices
    assert values[df.BONE_AT] == df.BONE
    assert values[df.SOFT_AT] == df.SOFT
    assert values[df.AIR_AT] == df.AIR


def grey(value: float, window: Window) -> float:
    """The standard's linear VOI function (PS3.3 C.11.2.1.2.1) onto 0..255."""
    c, w = window.level - 0.5, window.width - 1
    if value <= c - w / 2:
        return 0
    if value > c + w / 2:
        return 255
    return ((value - c) / w + 0.5) * 255


def test_a_window_preset_changes_the_pixels(tmp_path: Path):
    """The soft-tissue window saturates bone to white; the bone window keeps bone grey and
    darker soft tissue; each pixel follows the standard's linear window."""
    series = read_series([df.write_slice(tmp_path / "one.dcm", identifying=False)])
    soft = series.render(0, PRESETS["soft tissue"])
    bone = series.render(0, PRESETS["bone"])
    assert soft.dtype == np.uint8 and soft.shape == (df.SIZE, df.SIZE)
    assert (soft != bone).any()
    assert soft[df.BONE_AT] == 255 and soft[df.AIR_AT] == 0
    assert 0 < bone[df.SOFT_AT] < bone[df.BONE_AT] < 255
    for name in ("soft tissue", "bone", "brain"):
        shown = series.render(0, PRESETS[name])
        for at, hu in ((df.BONE_AT, df.BONE), (df.SOFT_AT, df.SOFT), (df.AIR_AT, df.AIR)):
            assert abs(int(shown[at]) - grey(hu, PRESETS[name])) <= 1, (name, hu)


def test_free_width_and_level_and_the_files_own_window(tmp_path: Path):
    """A free window of width 1 thresholds at its level; without a choice the file's own
    window is used."""
    path = df.write_slice(tmp_path / "one.dcm", identifying=False, window=(400, 40))
    series = read_series([path])
    assert series.default_window() == Window(400, 40)
    threshold = series.render(0, Window(1, 500))
    assert threshold[df.BONE_AT] == 255 and threshold[df.SOFT_AT] == 0
    assert (series.render(0) == series.render(0, Window(400, 40))).all()


def test_an_uploaded_series_is_read_from_memory_and_its_identifiers_never_shown(
        tmp_path: Path):
    """Uploads are read from bytes; their identifying attributes are named (not their
    values) instead of refused."""
    path = df.write_slice(tmp_path / "one.dcm", identifying=True)
    series = read_series([("upload.dcm", path.read_bytes())], refuse_identifying=False)
    assert series.slices[0][df.BONE_AT] == df.BONE
    assert "Patient's Name (0010,0010)" in series.identifying
    assert not any("Doe" in name for name in series.identifying)


# ------------------------------------------------------------------ privacy
def test_a_dicom_with_a_patient_name_is_refused_with_file_line(tmp_path: Path,
                                                               kb: KnowledgeBase):
    """The case file's line of the image, the attribute and the fix; never the name."""
    df.write_slice(tmp_path / "ct" / "one.dcm", identifying=True)
    path = write_case(tmp_path, entry("ct/one.dcm"))
    with pytest.raises(InputError) as caught:
        load_case(path, kb)
    message = str(caught.value)
    assert f"{path}:{line_of(path, 'file: ct/one.dcm')}:" in message
    for attribute in ("Patient's Name (0010,0010)", "Patient ID (0010,0020)",
                      "Patient's Birth Date (0010,0030)", "Institution Name (0008,0080)",
                      "Accession Number (0008,0050)", "Study Date (0008,0020)"):
        assert attribute in message
    assert "ossdx deidentify" in message
    assert "Doe" not in message and "MRN-0042" not in message


def test_deidentify_makes_a_refused_file_acceptable(tmp_path: Path, kb: KnowledgeBase,
                                                    capsys):
    """`ossdx deidentify IN OUT` writes a copy, lists what it removed (names only), and a
    case pointing at the copy loads."""
    source = df.write_slice(tmp_path / "ct" / "one.dcm", identifying=True)
    target = tmp_path / "ct" / "one-deid.dcm"
    assert main(["deidentify", str(source), str(target)]) == 0
    said = capsys.readouterr().out
    assert "Patient's Name (0010,0010)" in said and "Accession Number" in said
    assert "Doe" not in said
    copy = pydicom.dcmread(target)
    assert not copy.get("PatientName") and copy.PatientIdentityRemoved == "YES"
    assert copy.SOPInstanceUID != pydicom.dcmread(source).SOPInstanceUID
    case = load_case(write_case(tmp_path, entry("ct/one-deid.dcm")), kb)
    assert [image.kind for image in case.images] == ["dicom"]


def test_deidentify_a_series_folder_keeps_it_one_series(tmp_path: Path, kb: KnowledgeBase,
                                                        capsys):
    """Every slice gets the same new series UID, so the copy is still one series."""
    originals = df.write_series(tmp_path / "raw", count=3, identifying=True)
    assert main(["deidentify", str(tmp_path / "raw"), str(tmp_path / "clean")]) == 0
    assert "wrote" in capsys.readouterr().out
    uids = {pydicom.dcmread(p).SeriesInstanceUID for p in (tmp_path / "clean").iterdir()}
    assert len(uids) == 1 and uids != {pydicom.dcmread(originals[0]).SeriesInstanceUID}
    case = load_case(write_case(tmp_path, entry("clean")), kb)
    assert len(read_series(series_files(case.images[0].path)).slices) == 3


def test_pydicom_test_file_is_refused_then_accepted_after_deidentify(tmp_path: Path,
                                                                      kb: KnowledgeBase):
    """pydicom's own CT_small.dcm (a real scanner's header with private attributes) is
    refused; its de-identified copy loads and keeps the rescale to HU."""
    original = Path(get_testdata_file("CT_small.dcm", download=False))
    folder = tmp_path / "ct"
    folder.mkdir()
    (folder / "small.dcm").write_bytes(original.read_bytes())
    path = write_case(tmp_path, entry("ct/small.dcm"))
    with pytest.raises(InputError, match="private attribute"):
        load_case(path, kb)
    assert main(["deidentify", str(folder / "small.dcm"), str(folder / "clean.dcm")]) == 0
    case = load_case(write_case(tmp_path, entry("ct/clean.dcm")), kb)
    raw = pydicom.dcmread(original)
    expected = raw.pixel_array * float(raw.RescaleSlope) + float(raw.RescaleIntercept)
    (values,) = read_series([case.images[0].path]).slices
    assert np.array_equal(values, expected) and float(raw.RescaleIntercept) == -1024


def test_uids_without_the_removal_statement_and_private_attributes_are_refused(
        tmp_path: Path, kb: KnowledgeBase):
    """Scanner UIDs are identifying unless the file says its identity was removed; a private
    attribute always is."""
    ds = df.ct_slice(identifying=False)
    del ds.PatientIdentityRemoved
    ds.save_as(tmp_path / "uids.dcm", enforce_file_format=True)
    ds = df.ct_slice(identifying=False)
    ds.private_block(0x0009, "VENDOR", create=True).add_new(0x01, "LO", "secret")
    ds.save_as(tmp_path / "private.dcm", enforce_file_format=True)
    path = write_case(tmp_path, entry("uids.dcm"), entry("private.dcm"))
    with pytest.raises(InputError) as caught:
        load_case(path, kb)
    first, second = (str(p) for p in caught.value.problems)
    assert f":{line_of(path, 'file: uids.dcm')}:" in first and "SOP Instance UID" in first
    assert f":{line_of(path, 'file: private.dcm')}:" in second
    assert "2 private attribute(s)" in second and "secret" not in second  # creator + value


def test_burned_in_annotations_are_refused_and_deidentify_says_why(tmp_path: Path, capsys):
    """Text in the pixels cannot be removed from the header: both refuse, with the fix."""
    ds = df.ct_slice(identifying=False)
    ds.BurnedInAnnotation = "YES"
    ds.save_as(tmp_path / "burned.dcm", enforce_file_format=True)
    with pytest.raises(Exception, match="Burned In Annotation"):
        read_series([tmp_path / "burned.dcm"])
    assert main(["deidentify", str(tmp_path / "burned.dcm"), str(tmp_path / "out.dcm")]) == 2
    assert "mask or crop" in capsys.readouterr().err
    assert not (tmp_path / "out.dcm").exists()


def test_deidentify_refuses_to_overwrite_and_names_missing_input(tmp_path: Path, capsys):
    """Exit 2 with the path when IN is missing or OUT exists."""
    assert main(["deidentify", str(tmp_path / "none.dcm"), str(tmp_path / "o.dcm")]) == 2
    assert "no such file" in capsys.readouterr().err
    source = df.write_slice(tmp_path / "a.dcm")
    (tmp_path / "b.dcm").write_bytes(b"x")
    assert main(["deidentify", str(source), str(tmp_path / "b.dcm")]) == 2
    assert "already exists" in capsys.readouterr().err


# ------------------------------------------------------------------ size caps and entries
def test_a_file_over_the_per_file_cap_is_refused(tmp_path: Path, kb: KnowledgeBase):
    """A 17 MiB image (sparse: nothing is written) is refused naming the 16 MiB cap."""
    with (tmp_path / "big.png").open("wb") as handle:
        handle.truncate(17 * MIB)
    path = write_case(tmp_path, entry("big.png", modality="XR"))
    with pytest.raises(InputError) as caught:
        load_case(path, kb)
    assert f":{line_of(path, 'file: big.png')}:" in str(caught.value)
    assert "17.0 MiB; the limit is 16.0 MiB per file" in str(caught.value)


def test_the_per_case_cap_counts_all_images(tmp_path: Path, kb: KnowledgeBase):
    """Each image under the file cap, together over the case cap: the one that crosses it
    is named."""
    first, second = png(tmp_path / "a.png", (64, 64)), png(tmp_path / "b.png", (64, 64))
    limits = Limits(case_bytes=first.stat().st_size + second.stat().st_size - 1)
    path = write_case(tmp_path, entry("a.png", "XR"), entry("b.png", "XR"))
    with pytest.raises(InputError) as caught:
        load_case(path, kb, limits=limits)
    (problem,) = caught.value.problems
    assert problem.location.line == line_of(path, "file: b.png")
    assert "per case" in problem.message
    assert len(load_case(path, kb).images) == 2  # the default cap lets both through


def test_a_series_over_the_slice_cap_is_refused(tmp_path: Path, kb: KnowledgeBase):
    """More files than the slice cap in a series folder is an error naming the cap."""
    df.write_series(tmp_path / "ct", count=3, identifying=False)
    path = write_case(tmp_path, entry("ct"))
    with pytest.raises(InputError, match="at most 2"):
        load_case(path, kb, limits=Limits(slices=2))


def test_an_image_entry_needs_credit_a_known_modality_and_a_relative_path(
        tmp_path: Path, kb: KnowledgeBase):
    """Each mistake is reported at its own line with what is allowed."""
    png(tmp_path / "a.png")
    path = write_case(tmp_path, entry("a.png", credit=None), entry("a.png", modality="PET"),
                      entry("/etc/passwd"))
    with pytest.raises(InputError) as caught:
        load_case(path, kb)
    messages = {p.location.line: p.message for p in caught.value.problems}
    assert "needs 'credit'" in messages[line_of(path, "- file: a.png")]
    assert "unknown modality 'PET'" in messages[line_of(path, "modality: PET")]
    assert "relative to the case file" in messages[line_of(path, "file: /etc/passwd")]


def test_content_that_does_not_match_its_name_is_refused(tmp_path: Path, kb: KnowledgeBase):
    """A PNG named .jpg, and a text file named .svg, are refused."""
    png(tmp_path / "x.png").rename(tmp_path / "x.jpg")
    (tmp_path / "x.svg").write_text("<html><script>alert(1)</script></html>")
    path = write_case(tmp_path, entry("x.jpg", "XR"), entry("x.svg", "XR"))
    with pytest.raises(InputError) as caught:
        load_case(path, kb)
    text = str(caught.value)
    assert "named .jpeg but holds PNG data" in text
    assert "does not start with an <svg> element" in text


def test_an_uploaded_case_lists_its_images_without_reading_files(kb: KnowledgeBase):
    """An upload has no folder: its images are listed (nothing is read from disk)."""
    raw = CASE.format(entries=entry("../../../etc/shadow.png", "XR")).encode()
    case = parse_case(raw, "upload.yaml", kb)
    assert [(i.file, i.path) for i in case.images] == [("../../../etc/shadow.png", None)]


def test_case_files_without_images_keep_working(kb: KnowledgeBase):
    """Every seed case without an images key loads with no images."""
    for path in sorted((KB_DIR / "cases" / "seed").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if "\nimages:" not in text:
            assert load_case(path, kb).images == ()


# ------------------------------------------------------------------ illustrations
def test_every_named_illustration_exists_and_every_drawn_one_is_named(kb: KnowledgeBase):
    """Each value's illustration is listed with a caption and known sources, its file
    exists, and each drawing in illustrations/ is listed and named by a value."""
    named = {spec.illustration for var in kb.vocabulary.findings.values()
             for spec in var.values.values() if spec.illustration}
    assert len(named) >= 12
    assert named == set(kb.illustrations)
    folder = KB_DIR / "illustrations"
    assert {p.name for p in folder.iterdir()} == {i.file for i in kb.illustrations.values()}
    for item in kb.illustrations.values():
        assert (folder / item.file).is_file()
        assert item.caption and all(ref in kb.references for ref in item.references)


def test_every_drawing_is_an_svg_with_a_title_and_no_script():
    """Drawings are SVG (a title for screen readers), with no script or external link."""
    for path in sorted((KB_DIR / "illustrations").glob("*.svg")):
        text = path.read_text(encoding="utf-8")
        assert text.lstrip().startswith("<svg") and "<title" in text, path.name
        for banned in ("<script", "href=\"http", "xlink:href", "<foreignObject", "on"
                       "load="):
            assert banned not in text, (path.name, banned)


def _mini_with_illustrations(kb_copy, files: dict[str, str], value_line: str) -> Path:
    root = kb_copy()
    (root / "illustrations").mkdir()
    for name, text in files.items():
        (root / "illustrations" / name).write_text(text)
    (root / "illustrations.yaml").write_text(
        "credit: test drawings, CC0\nillustrations:\n"
        "  - id: lytic_drawing\n    file: lytic.svg\n    title: Lytic\n"
        "    caption: A hole in the bone.\n    references: [ref_a]\n")
    findings = root / "findings" / "basic.yaml"
    text = findings.read_text()
    findings.write_text(text.replace("      lytic: {label: Lytic}", value_line, 1))
    return root


def test_validate_reports_a_missing_drawing_and_an_unknown_illustration(kb_copy):
    """A listed file that is missing and a value naming an unlisted id are errors with
    file:line."""
    root = _mini_with_illustrations(
        kb_copy, {}, "      lytic: {label: Lytic, illustration: lytik_drawing}")
    kb, problems = check_knowledge_base(root)
    errors = {(p.location.file, p.code): p for p in problems if p.severity is Severity.ERROR}
    assert kb is None
    missing = errors[("kb/illustrations.yaml", "missing-file")]
    assert missing.location.line == line_of(root / "illustrations.yaml", "file: lytic.svg")
    assert "illustrations/lytic.svg" in missing.message
    unknown = errors[("kb/findings/basic.yaml", "unknown-illustration")]
    assert "did you mean 'lytic_drawing'" in unknown.message
    assert unknown.location.line == line_of(root / "findings" / "basic.yaml", "lytik_drawing")


def test_validate_warns_about_a_drawing_nobody_names(kb_copy):
    """A drawing in the folder but not listed, and a listed one no value names, are
    warnings; correctly named drawings load into kb.illustrations."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><title>x</title></svg>'
    root = _mini_with_illustrations(kb_copy, {"lytic.svg": svg, "stray.svg": svg},
                                    "      lytic: {label: Lytic}")
    _, problems = check_knowledge_base(root)
    warnings = {p.code: p for p in problems if p.severity is Severity.WARNING}
    assert "unused-illustration" in warnings and "unlisted-illustration" in warnings
    assert warnings["unlisted-illustration"].location.file.endswith("stray.svg")
    root2 = _mini_with_illustrations(lambda: kb_copy(name="kb2"), {"lytic.svg": svg},
                                     "      lytic: {label: Lytic, illustration: lytic_drawing}")
    kb2, problems2 = check_knowledge_base(root2)
    assert kb2 is not None and list(kb2.illustrations) == ["lytic_drawing"]
    assert not [p for p in problems2 if "illustration" in p.code]


def test_raster_check_reads_only_the_header_size():
    """A PNG's pixel count is checked against the cap before decoding."""
    from ossdx.imaging.files import check_raster
    from ossdx.imaging.limits import ImageError

    buffer = io.BytesIO()
    Image.new("L", (100, 100)).save(buffer, format="PNG")
    check_raster(buffer.getvalue(), "ok.png", "png")
    with pytest.raises(ImageError, match="100 x 100 pixels"):
        check_raster(buffer.getvalue(), "big.png", "png", Limits(pixels=5000))


def test_every_seed_case_has_a_credited_image_and_every_case_drawing_is_used(kb):
    """Each seed case of the exhibit shows a schematic (credited); each drawing in
    cases/seed/images/ belongs to a seed case."""
    seed = KB_DIR / "cases" / "seed"
    used = set()
    for path in sorted(seed.glob("*.yaml")):
        case = load_case(path, kb)
        assert case.images, path.name
        for image in case.images:
            assert image.credit and image.kind == "svg" and image.path.is_file()
            used.add(image.path.resolve())
    drawn = {p.resolve() for p in (seed / "images").glob("*.svg")}
    assert drawn <= used
