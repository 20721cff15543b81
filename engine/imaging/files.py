"""What kind of image a file is, and the checks an image of a case file must pass.

A case's image is a DICOM file, a folder holding one DICOM series, a PNG or JPEG, or an
SVG drawing. Checking reads headers only (DICOM without its pixels, PNG/JPEG dimensions,
the first bytes of an SVG); pixels are decoded when the image is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ossdx.imaging.limits import DEFAULT_LIMITS, ImageError, Limits, size_text

RASTER = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
KINDS = ("dicom", "series", "png", "jpeg", "svg")
DICM = b"DICM"


@dataclass(frozen=True)
class Checked:
    """An image that passed: its kind and its size on disk."""

    kind: str
    bytes: int


def kind_of(path: Path) -> str:
    """dicom, series, png, jpeg or svg; raises :class:`ImageError` for anything else."""
    if path.is_dir():
        return "series"
    suffix = path.suffix.lower()
    if suffix in RASTER:
        return RASTER[suffix]
    if suffix == ".svg":
        return "svg"
    with path.open("rb") as handle:
        head = handle.read(132)
    if head[128:132] == DICM:
        return "dicom"
    raise ImageError(f"{path.name} is not an image ossdx shows; allowed: a DICOM file, a "
                     "folder of one DICOM series, PNG, JPEG or SVG")


def check_image(path: Path, limits: Limits = DEFAULT_LIMITS) -> Checked:
    """Check one image of a case: kind, size caps, privacy (DICOM), readable header."""
    if not path.exists():
        raise ImageError(f"no such file or folder: {path}")
    kind = kind_of(path)
    if kind in ("dicom", "series"):
        from ossdx.imaging.dicom import check_sources, series_files

        files = series_files(path) if kind == "series" else [path]
        total = sum(f.stat().st_size for f in files)
        _cap(path, total, limits)
        check_sources(files, limits)
        return Checked(kind, total)
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise ImageError(f"{path.name} is {size_text(size)}; the limit is "
                         f"{size_text(limits.file_bytes)} per file")
    if kind == "svg":
        check_svg(path.read_bytes(), path.name)
    else:
        check_raster(path.read_bytes(), path.name, kind, limits)
    return Checked(kind, size)


def _cap(path: Path, total: int, limits: Limits) -> None:
    if total > limits.case_bytes:
        raise ImageError(f"{path.name} holds {size_text(total)}; the limit is "
                         f"{size_text(limits.case_bytes)} per case")


def check_svg(raw: bytes, name: str) -> None:
    """An SVG is UTF-8 text whose first element is <svg> (it is only ever shown as an
    image, so a script in it cannot run)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImageError(f"{name} is not UTF-8 text, so not an SVG drawing") from None
    head = text.lstrip()
    if head.startswith("<?xml"):
        head = head[head.find("?>") + 2:].lstrip()
    if not head.startswith("<svg"):
        raise ImageError(f"{name} does not start with an <svg> element")


def check_raster(raw: bytes, name: str, kind: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """A PNG or JPEG whose content matches its name and whose size is within the limit."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as image:
            found = (image.format or "").lower()
            width, height = image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ImageError(f"{name} is not a readable {kind.upper()} image") from None
    if found != kind:
        raise ImageError(f"{name} is named .{kind} but holds {found.upper() or 'no'} data")
    if width * height > limits.pixels:
        raise ImageError(f"{name} has {width} x {height} pixels; the limit is "
                         f"{limits.pixels:,} pixels")
