"""Images in the app: a case's images, the user's own images (in memory only), a sign's
illustration next to its question, and the gallery of illustrations.

A DICOM image or series gets a slice slider, window presets (the file's own window, bone,
soft tissue, brain) and a free width and level. Every image, SVG above all, is shown
through ``st.image`` in an ``<img>`` element (an SVG as a ``data:image/svg+xml`` address),
never inlined as HTML or SVG markup, so a script in an SVG cannot run. Nothing uploaded is
written anywhere; decoded uploads live in the session's state only. No DICOM attribute is
shown except the modality. Widget keys start with the ``key`` the caller gives.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import streamlit as st

from ossdx.imaging.dicom import PRESETS, Series, Source, Window, read_series, series_files
from ossdx.imaging.files import check_raster, check_svg
from ossdx.imaging.limits import DEFAULT_LIMITS, ImageError, size_text
from ossdx.kb.case import Case, CaseImage
from ossdx.kb.model import KnowledgeBase
from ossdx.kb.schema import Illustration

FILE_WINDOW = "file's window"
FREE = "free width / level"
UPLOAD_TYPES = ["dcm", "dicom", "png", "jpg", "jpeg"]
ILLUSTRATIONS = "illustrations"


# ------------------------------------------------------------------ showing one image
def svg_address(raw: bytes) -> str:
    """A ``data:`` address for an SVG, so that it is shown as an image (scripts never run)."""
    return "data:image/svg+xml;base64," + base64.b64encode(raw).decode("ascii")


def show_svg(raw: bytes, caption: str | None = None,
             width: int | Literal["stretch", "content"] = "content") -> None:
    """An SVG drawing, as an image."""
    st.image(svg_address(raw), caption=caption, width=width)


def _raster(raw: bytes, name: str, kind: str, caption: str | None) -> None:
    """A PNG or JPEG, decoded and re-encoded (its metadata is not passed on)."""
    from PIL import Image

    check_raster(raw, name, kind)
    with Image.open(io.BytesIO(raw)) as image:
        pixels = image.convert("RGB") if image.mode not in ("L", "RGB") else image.copy()
    st.image(pixels, caption=caption, output_format="PNG")


@st.cache_data(show_spinner=False, max_entries=64)
def _png(ident: str, _series: Series, index: int, window: tuple[float, float] | None) -> bytes:
    """Slice ``index`` of the case series known as ``ident`` through ``window`` (width,
    level), as PNG bytes: windowed and encoded once, so that a rerun that changes nothing
    re-sends the same image. Never used for uploads (this cache is shared by sessions)."""
    from PIL import Image

    out = io.BytesIO()
    shown = Window(*window) if window is not None else None
    Image.fromarray(_series.render(index, shown)).save(out, format="PNG")
    return out.getvalue()


def dicom_viewer(series: Series, key: str, caption: str | None = None,
                 ident: str | None = None) -> None:
    """A series with a slice slider, window presets and a free width and level (``ident``:
    a name that stays the same as long as the series does, to reuse rendered slices)."""
    count = len(series.slices)
    index = 0
    if count > 1:
        index = st.slider("Slice", 1, count, (count + 1) // 2, key=f"{key}.slice") - 1
    window = None
    if not series.rgb:
        options = [FILE_WINDOW, *PRESETS, FREE]
        choice = st.radio("Window", options, horizontal=True, key=f"{key}.window",
                          help="Presets are width / level in Hounsfield units (CT); 'free' "
                               "sets both by hand.")
        if choice in PRESETS:
            window = PRESETS[choice]
        elif choice == FREE:
            low, high = series.value_range
            start = series.default_window()
            span = max(1.0, high - low)
            width = st.slider("Width", 1.0, float(span * 2), float(min(start.width, span * 2)),
                              key=f"{key}.width")
            level = st.slider("Level", float(low), float(high),
                              float(min(max(start.level, low), high)), key=f"{key}.level")
            window = Window(width, level)
        else:
            window = series.default_window()
    shown = window or series.default_window()
    text = f"slice {index + 1} of {count}" if count > 1 else ""
    if not series.rgb:
        text += ("; " if text else "") + f"W {shown.width:g} / L {shown.level:g}"
    shown_caption = " · ".join(t for t in (caption, text) if t)
    if ident is None:
        st.image(series.render(index, window), caption=shown_caption, output_format="PNG")
    else:
        pair = (window.width, window.level) if window is not None else None
        st.image(_png(ident, series, index, pair), caption=shown_caption)


# ------------------------------------------------------------------ a case's images
@st.cache_resource(show_spinner="Reading the images ...", max_entries=16)
def _series(files: tuple[str, ...], signature: tuple[tuple[int, int], ...]) -> Series:
    """A series read once per set of files (and their size and modification time)."""
    return read_series([Path(f) for f in files])


def _files_of(image: CaseImage) -> list[Path]:
    assert image.path is not None
    return series_files(image.path) if image.kind == "series" else [image.path]


def show_case_image(image: CaseImage, key: str, caption: str | None = None) -> None:
    """One image of a case with its caption (or ``caption`` instead) and credit."""
    label = f"{caption or image.caption} ({image.modality})"
    if image.path is None:
        st.info(f"{label}: the file '{image.file}' is not available here (the case came "
                "without its folder); view it with 'Your own images'.")
        return
    try:
        if image.kind in ("dicom", "series"):
            files = _files_of(image)
            signature = tuple((f.stat().st_size, f.stat().st_mtime_ns) for f in files)
            dicom_viewer(_series(tuple(map(str, files)), signature), key, label,
                         ident=repr((tuple(map(str, files)), signature)))
        elif image.kind == "svg":
            raw = image.path.read_bytes()
            check_svg(raw, image.file)
            show_svg(raw, label)
        else:
            _raster(image.path.read_bytes(), image.file, image.kind, label)
    except (ImageError, OSError) as exc:
        st.error(f"{image.file}: {exc}")
        return
    st.caption(f"Credit: {image.credit}")


DRAWING = "svg"  # the kind of a drawing: its labels say what it shows


def show_case_images(case: Case, key: str, *, columns: int = 1, blind: bool = False) -> int:
    """The images of a case, in up to ``columns`` columns (nothing when it has none).

    ``blind``, for a reader who has not committed to an answer: each picture is captioned
    only 'Image n' with its modality (captions interpret), and drawings (SVG), whose labels
    name what they show, are left out. Returns how many images were left out. Each image
    keeps its widget keys (``key``.n, n its place in the case file) whether blind or not.
    """
    shown = [(i, image) for i, image in enumerate(case.images)
             if not (blind and image.kind == DRAWING)]
    cells = st.columns(min(columns, len(shown))) if columns > 1 and len(shown) > 1 else None
    for place, (i, image) in enumerate(shown):
        caption = f"Image {i + 1}" if blind else None
        if cells is None:
            show_case_image(image, f"{key}.{i}", caption)
        else:
            with cells[place % len(cells)]:
                show_case_image(image, f"{key}.{i}", caption)
    return len(case.images) - len(shown)


def drawings_note(count: int, when: str) -> str:
    """What was left out of a blind view of a case's images, and when it shows."""
    plural = "s" if count > 1 else ""
    return (f"{count} labelled drawing{plural} of this case {'are' if plural else 'is'} "
            f"shown {when}: {'their' if plural else 'its'} labels name what "
            f"{'they show' if plural else 'it shows'}.")


# ------------------------------------------------------------------ the user's own images
def _upload_series(files: Sequence[tuple[str, bytes]], key: str) -> Series:
    """Decoded uploads, kept in this session's state only (never on disk or shared)."""
    digest = hashlib.sha256(b"".join(name.encode() + raw for name, raw in files)).hexdigest()
    slot = f"{key}.decoded"
    held = st.session_state.get(slot)
    if not held or held[0] != digest:
        sources: list[Source] = list(files)
        held = (digest, read_series(sources, refuse_identifying=False))
        st.session_state[slot] = held
    return held[1]


def upload_limit() -> int:
    """The largest file a user can upload here, in bytes: the image limit, or the server's
    own upload limit (``server.maxUploadSize``, MB) when that is lower."""
    server = int(st.get_option("server.maxUploadSize")) * 1024 * 1024
    return min(DEFAULT_LIMITS.file_bytes, server)


def show_uploaded_images(key: str) -> None:
    """Let a user look at their own DICOM, PNG or JPEG files, in memory only.

    DICOM files uploaded together are read as one series. Identifying attributes are never
    shown: the page only says that some are present.
    """
    uploads = st.file_uploader(
        "Your own images (DICOM, PNG or JPEG): read in memory, never stored",
        type=UPLOAD_TYPES, accept_multiple_files=True, key=f"{key}.files",
        help=f"At most {size_text(upload_limit())} per file. DICOM files uploaded "
             "together are shown as one series.")
    if not uploads:
        return
    dicom = [(u.name, u.getvalue()) for u in uploads
             if u.name.lower().endswith((".dcm", ".dicom"))]
    others = [u for u in uploads if not u.name.lower().endswith((".dcm", ".dicom"))]
    if dicom:
        try:
            series = _upload_series(dicom, key)
        except ImageError as exc:
            st.error(str(exc))
        else:
            if series.identifying:
                st.warning(f"These files carry {len(series.identifying)} kinds of "
                           "identifying attribute; none is shown or kept. Run 'ossdx "
                           "deidentify' before you share them.")
            dicom_viewer(series, f"{key}.dicom", "Your DICOM series")  # not in a shared cache
    for upload in others:
        kind = "png" if upload.name.lower().endswith(".png") else "jpeg"
        try:
            _raster(upload.getvalue(), upload.name, kind, upload.name)
        except ImageError as exc:
            st.error(str(exc))


# ------------------------------------------------------------------ illustrations
def illustration_file(kb: KnowledgeBase, item: Illustration) -> Path:
    return kb.root / ILLUSTRATIONS / item.file


def illustrations_of(kb: KnowledgeBase, finding_id: str) -> list[tuple[str, Illustration]]:
    """The illustrations of a finding's values, each once: (value label, illustration)."""
    spec = kb.vocabulary.findings.get(finding_id)
    found: dict[str, tuple[str, Illustration]] = {}
    for value in spec.values.values() if spec else ():
        item = kb.illustrations.get(value.illustration or "")
        if item is not None and item.id not in found:
            found[item.id] = (value.label, item)
    return list(found.values())


def sources_text(kb: KnowledgeBase, item: Illustration) -> str:
    """'Sources: first author, year; ...' from the reference ids."""
    names = [kb.references[r].citation.split(".")[0] for r in item.references
             if r in kb.references]
    return "Sources: " + "; ".join(names)


def show_illustration(kb: KnowledgeBase, item: Illustration,
                      width: int | Literal["stretch", "content"] = "content",
                      *, full: bool = True) -> None:
    """One drawing with its title (and, when ``full``, its caption and sources)."""
    try:
        show_svg(illustration_file(kb, item).read_bytes(), item.title, width)
    except OSError:
        st.error(f"illustration '{item.id}' is missing its file {item.file}")
        return
    if full:
        st.caption(item.caption)
        st.caption(sources_text(kb, item))


def show_question_illustrations(kb: KnowledgeBase, finding_id: str) -> None:
    """The drawings of the signs a question asks about, folded under 'What it looks like'."""
    items = illustrations_of(kb, finding_id)
    if not items:
        return
    with st.expander("What it looks like", expanded=False):
        for label, item in items:
            st.markdown(f"**{label}**")
            show_illustration(kb, item, 360)


def show_gallery(kb: KnowledgeBase, columns: int = 2) -> None:
    """Every illustration of the knowledge base, with caption, sources and the values that
    show it."""
    if not kb.illustrations:
        st.info("This knowledge base has no illustrations.")
        return
    shown_for: dict[str, list[str]] = {}
    for finding in kb.vocabulary.findings.values():
        for value in finding.values.values():
            if value.illustration:
                shown_for.setdefault(value.illustration, []).append(
                    f"{finding.name}: {value.label}")
    cells = st.columns(columns)
    for i, item in enumerate(kb.illustrations.values()):
        with cells[i % columns]:
            show_illustration(kb, item, "stretch")
            if item.id in shown_for:
                st.caption("Shown for " + "; ".join(shown_for[item.id]))
