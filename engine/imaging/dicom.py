"""A DICOM file or series as slices of modality values, and windowing them for display.

Reading goes through pydicom. The modality LUT (rescale slope and intercept, e.g. to
Hounsfield units in CT) is applied by :func:`pydicom.pixels.apply_modality_lut`; a window
(width and level, in the same units) maps the values to 0-255 grey levels with pydicom's
:func:`~pydicom.pixels.apply_windowing` (the standard's linear function, PS3.3 C.11.2.1.2).

Before any pixel is decoded every file is checked: its size, its transfer syntax (deflated
files are refused: they inflate without bound), its identifying attributes
(:mod:`ossdx.imaging.privacy`), its dimensions. Nothing here returns an attribute's value
except the modality, the window and the slice order.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ossdx.imaging import privacy
from ossdx.imaging.limits import DEFAULT_LIMITS, ImageError, Limits, size_text

if TYPE_CHECKING:
    from pydicom.dataset import Dataset


@dataclass(frozen=True)
class Window:
    """A display window in modality units (Hounsfield units for CT)."""

    width: float
    level: float


# The usual presets of CT viewers (W/L in HU, as on Radiopaedia's "Windowing (CT)").
PRESETS: dict[str, Window] = {
    "bone": Window(1800, 400),
    "soft tissue": Window(400, 40),
    "brain": Window(80, 40),
}
DEFLATED = "1.2.840.10008.1.2.1.99"

Source = Path | tuple[str, bytes]  # a file on disk, or (name, bytes) of an upload


@dataclass(frozen=True)
class Series:
    """Slices ready to window: modality values (2-D float) or RGB pixels (H x W x 3)."""

    slices: tuple[np.ndarray, ...]
    modality: str
    window: Window | None      # the file's own window, if it gives one
    monochrome1: bool = False  # low values are white
    rgb: bool = False
    identifying: tuple[str, ...] = ()  # names only; filled when not refused (uploads)

    @property
    def value_range(self) -> tuple[float, float]:
        low = min(float(s.min()) for s in self.slices)
        high = max(float(s.max()) for s in self.slices)
        return low, max(high, low + 1)

    def default_window(self) -> Window:
        """The file's window, else one spanning the values of the series."""
        if self.window is not None:
            return self.window
        low, high = self.value_range
        return Window(high - low, (high + low) / 2)

    def render(self, index: int, window: Window | None = None) -> np.ndarray:
        """Slice ``index`` as 8-bit grey levels (or RGB) through ``window``."""
        pixels = self.slices[index]
        if self.rgb:
            return pixels
        return apply_window(pixels, window or self.default_window(), self.monochrome1)


def apply_window(values: np.ndarray, window: Window, invert: bool = False) -> np.ndarray:
    """Modality values -> 0..255 (uint8) through a linear window of ``width`` x ``level``."""
    from pydicom.dataset import Dataset
    from pydicom.pixels import apply_windowing

    if window.width < 1:
        raise ImageError(f"window width must be at least 1, got {window.width:g}")
    display = Dataset()  # the output range: 8 unsigned bits
    display.PhotometricInterpretation = "MONOCHROME2"
    display.BitsStored = 8
    display.PixelRepresentation = 0
    display.WindowWidth = window.width
    display.WindowCenter = window.level
    grey = np.clip(np.rint(apply_windowing(values, display)), 0, 255).astype(np.uint8)
    return 255 - grey if invert else grey


def _name(source: Source) -> str:
    return str(source) if isinstance(source, Path) else source[0]


def _size(source: Source) -> int:
    return source.stat().st_size if isinstance(source, Path) else len(source[1])


def _read(source: Source, header_only: bool) -> Dataset:
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError
    from pydicom.filereader import _read_file_meta_info, read_preamble

    raw = source.read_bytes() if isinstance(source, Path) else source[1]
    try:
        handle = io.BytesIO(raw)
        read_preamble(handle, False)
        # the file meta group alone (pydicom's public reader of it takes only a path)
        meta = _read_file_meta_info(handle)
        if str(meta.get("TransferSyntaxUID", "")) == DEFLATED:
            raise ImageError(f"{_name(source)} is a deflated DICOM file, which is not "
                             "accepted; save it uncompressed")
        return dcmread(io.BytesIO(raw), stop_before_pixels=header_only)
    except InvalidDicomError:
        raise ImageError(f"{_name(source)} is not a DICOM file (no 'DICM' marker after the "
                         "128-byte preamble)") from None
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, ImageError):
            raise
        raise ImageError(f"{_name(source)} cannot be read as DICOM: {exc}") from None


def check_sources(sources: Sequence[Source], limits: Limits = DEFAULT_LIMITS, *,
                  refuse_identifying: bool = True) -> tuple[list[Dataset], tuple[str, ...]]:
    """Headers of the files of one series, checked; and the identifying attributes seen
    (names) when they are not refused. Raises :class:`ImageError`."""
    if not sources:
        raise ImageError("no DICOM file found")
    if len(sources) > limits.slices:
        raise ImageError(f"{len(sources)} files; a series may have at most "
                         f"{limits.slices} ({limits.describe()})")
    headers = []
    seen: dict[str, None] = {}
    for source in sources:
        size = _size(source)
        if size > limits.file_bytes:
            raise ImageError(f"{_name(source)} is {size_text(size)}; the limit is "
                             f"{size_text(limits.file_bytes)} per file")
        ds = _read(source, header_only=True)
        if refuse_identifying:
            privacy.refuse_identifying(ds, _name(source))
        else:
            seen.update(dict.fromkeys(privacy.identifying_attributes(ds)))
        if "PixelData" not in ds and "Rows" not in ds:
            raise ImageError(f"{_name(source)} holds no image (no pixel data)")
        samples = int(ds.get("Rows", 0)) * int(ds.get("Columns", 0)) \
            * int(ds.get("NumberOfFrames", 1) or 1) * int(ds.get("SamplesPerPixel", 1) or 1)
        if samples > limits.pixels:
            raise ImageError(f"{_name(source)} has {samples:,} pixel samples; the limit is "
                             f"{limits.pixels:,}")
        headers.append(ds)
    series = {str(ds.get("SeriesInstanceUID", "")) for ds in headers} - {""}
    if len(series) > 1:
        raise ImageError(f"the files belong to {len(series)} different series; put one "
                         "series in each folder")
    shapes = {(int(ds.get("Rows", 0)), int(ds.get("Columns", 0))) for ds in headers}
    if len(shapes) > 1:
        raise ImageError("the slices differ in size; a series needs slices of one size")
    return headers, tuple(seen)


def _order(ds: Dataset) -> tuple[float, float]:
    position = ds.get("ImagePositionPatient")
    z = float(position[2]) if position is not None and len(position) == 3 else 0.0
    return float(ds.get("InstanceNumber", 0) or 0), z


def read_series(sources: Sequence[Source], limits: Limits = DEFAULT_LIMITS, *,
                refuse_identifying: bool = True) -> Series:
    """Read, check and decode a series (one file, a folder's files, or uploads)."""
    from pydicom.pixels import apply_modality_lut

    _, identifying = check_sources(sources, limits, refuse_identifying=refuse_identifying)
    datasets = sorted((_read(s, header_only=False) for s in sources), key=_order)
    slices: list[np.ndarray] = []
    first = datasets[0]
    photometric = str(first.get("PhotometricInterpretation", "MONOCHROME2"))
    rgb = int(first.get("SamplesPerPixel", 1) or 1) == 3
    for ds in datasets:
        try:
            pixels = ds.pixel_array
        except Exception as exc:  # pydicom's decoders raise several kinds; name the cause
            syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
            shown = getattr(syntax, "name", None) or str(syntax or "unknown")
            raise ImageError(f"the pixel data cannot be decoded (transfer syntax {shown}): "
                             f"{exc.__class__.__name__}; save the file uncompressed") from None
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        if rgb:
            stack = pixels if frames > 1 else pixels[np.newaxis]
            slices.extend(np.asarray(frame, dtype=np.uint8) for frame in stack)
            continue
        values = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
        stack = values if frames > 1 else values[np.newaxis]
        slices.extend(stack)
    if len(slices) > limits.slices:
        raise ImageError(f"{len(slices)} slices; a series may have at most {limits.slices}")
    return Series(
        slices=tuple(slices),
        modality=str(first.get("Modality", "") or ""),
        window=_file_window(first),
        monochrome1=photometric == "MONOCHROME1",
        rgb=rgb,
        identifying=identifying,
    )


def _file_window(ds: Dataset) -> Window | None:
    width, level = ds.get("WindowWidth"), ds.get("WindowCenter")
    if width is None or level is None:
        return None
    width = width[0] if isinstance(width, Sequence) and not isinstance(width, str) else width
    level = level[0] if isinstance(level, Sequence) and not isinstance(level, str) else level
    try:
        return Window(float(width), float(level)) if float(width) >= 1 else None
    except (TypeError, ValueError):
        return None


def series_files(folder: Path) -> list[Path]:
    """The files of a series folder (hidden files and sub-folders left out), sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


@dataclass(frozen=True)
class Deidentified:
    """What ``ossdx deidentify`` wrote and removed (attribute names, never values)."""

    written: tuple[Path, ...]
    removal: privacy.Removal


def deidentify_path(source: Path, target: Path, limits: Limits = DEFAULT_LIMITS
                    ) -> Deidentified:
    """Write a de-identified copy of a DICOM file, or of every file of a series folder
    (one UID map for the whole folder, so the copy is still one series)."""
    if not source.exists():
        raise ImageError(f"no such file or folder: {source}")
    if target.exists():
        raise ImageError(f"{target} already exists; give a new name for the copy")
    files = series_files(source) if source.is_dir() else [source]
    if not files:
        raise ImageError(f"{source} holds no file")
    datasets = []
    for path in files:
        size = path.stat().st_size
        if size > limits.file_bytes:
            raise ImageError(f"{path} is {size_text(size)}; the limit is "
                             f"{size_text(limits.file_bytes)} per file")
        datasets.append(_read(path, header_only=False))
    uids, removal = privacy.UidMap(), privacy.Removal()
    for path, ds in zip(files, datasets, strict=True):
        try:
            privacy.deidentify(ds, uids, removal)
        except ImageError as exc:
            raise ImageError(f"{path}: {exc}") from None
    outputs = [target / path.name for path in files] if source.is_dir() else [target]
    if source.is_dir():
        target.mkdir(parents=True)
    for out, ds in zip(outputs, datasets, strict=True):
        ds.save_as(out)
    return Deidentified(tuple(outputs), removal)
