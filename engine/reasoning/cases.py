"""Case files: read, check against the knowledge base's vocabulary, and turn into cases.

A case is the patient context, the modalities performed and the findings seen. Anything not
given is unknown ("not assessed"), never "no". The case-file format: docs/CASE_FILES.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import Field

from ossdx.core.errors import InputError, Location, Problem, allowed, did_you_mean
from ossdx.core.loader import Document, iter_yaml_files, parse_bytes, read_document
from ossdx.core.validation import validate_model
from ossdx.imaging.limits import DEFAULT_LIMITS, Limits
from ossdx.kb import schema
from ossdx.kb.case import Case, CaseImage, VocabularyChecker
from ossdx.kb.model import KnowledgeBase


class ImageEntry(schema.Model):
    """One image of a case: a DICOM file or series folder, PNG, JPEG or SVG, relative to
    the case file."""

    file: schema.Text
    modality: str
    caption: schema.Text
    credit: schema.Text | None = None


class CaseFile(schema.Model):
    """Top-level keys of a case file (exactly these)."""

    id: schema.Text | None = None
    title: schema.Text | None = None
    narrative: schema.Text | None = None
    source: schema.Text | None = None
    teaching_points: list[schema.Text] = []
    patient: dict[str, Any] = {}
    modalities: list[str] | None = None
    findings: dict[str, Any] = Field(default_factory=dict)
    truth: str | None = None
    acceptable: list[str] = []
    images: list[ImageEntry] = []


def check_case_document(doc: Document, kb: KnowledgeBase, base: Path | None = None,
                        limits: Limits = DEFAULT_LIMITS) -> Case:
    """A :class:`Case` from a parsed case document; raises :class:`InputError`.

    ``base`` is the case file's folder, against which its images are found and checked;
    without it (an upload) the images are listed but not read."""
    raw, problems = validate_model(doc, CaseFile)
    if raw is None:
        raise InputError(problems)
    checker = VocabularyChecker(kb.vocabulary, doc)
    patient = checker.patient(raw.patient, ("patient",)) if raw.patient else {}
    findings = checker.findings(raw.findings, ("findings",))
    given = checker.modalities(raw.modalities, ("modalities",)) \
        if raw.modalities is not None else None
    modalities = checker.consistency(findings, given, ())
    for key, ids in (("truth", [raw.truth] if raw.truth else []), ("acceptable", raw.acceptable)):
        for i, item in enumerate(ids):
            known = {**kb.diagnoses, **kb.named_diagnoses}
            if item not in known:
                where = (key,) if key == "truth" else (key, i)
                checker._error(where, f"unknown diagnosis '{item}'"
                               f"{did_you_mean(item, known)}; {allowed(known)}",
                               "unknown-diagnosis")
    images = check_images(raw.images, checker, base, limits)
    if checker.problems:
        raise InputError(checker.problems)
    return Case(
        findings=MappingProxyType(findings),
        patient=MappingProxyType(patient),
        modalities=modalities,
        id=raw.id,
        title=raw.title,
        narrative=raw.narrative,
        source=raw.source,
        teaching_points=tuple(raw.teaching_points),
        truth=raw.truth,
        acceptable=tuple(raw.acceptable),
        location=Location(doc.name, 1),
        images=images,
    )


def check_images(entries: list[ImageEntry], checker: VocabularyChecker, base: Path | None,
                 limits: Limits = DEFAULT_LIMITS) -> tuple[CaseImage, ...]:
    """The case's images, each checked (kind, size caps, no identifying DICOM attribute);
    problems go to ``checker`` at the line of the entry."""
    if not entries:
        return ()
    from ossdx.imaging.files import RASTER, check_image
    from ossdx.imaging.limits import ImageError, size_text

    images = []
    total = 0
    for i, entry in enumerate(entries):
        where = ("images", i)
        ok = True
        if entry.modality not in checker.vocab.modalities:
            checker._error((*where, "modality"), f"unknown modality '{entry.modality}'"
                           f"{did_you_mean(entry.modality, checker.vocab.modalities)}; "
                           f"{allowed(checker.vocab.modalities)}", "unknown-modality")
            ok = False
        if not entry.credit:
            checker._error(where, f"image '{entry.file}' needs 'credit': who made it and "
                           "under which licence (for a drawing made for ossdx: 'ossdx "
                           "contributors, MIT licence')", "missing-credit")
            ok = False
        relative = Path(entry.file)
        if relative.is_absolute() or "://" in entry.file or entry.file.startswith("~"):
            checker._error((*where, "file"), f"'{entry.file}' must be a path relative to "
                           "the case file, such as 'images/l4-sagittal.dcm'", "image")
            continue
        if base is None:
            kind = RASTER.get(relative.suffix.lower()) or \
                ("svg" if relative.suffix.lower() == ".svg" else "dicom")
            path = None
        else:
            path = base / relative
            try:
                checked = check_image(path, limits)
            except ImageError as exc:
                checker._error((*where, "file"), f"image '{entry.file}': {exc}", "image")
                continue
            kind = checked.kind
            total += checked.bytes
            if total > limits.case_bytes:
                checker._error((*where, "file"), f"the case's images come to "
                               f"{size_text(total)} with '{entry.file}'; the limit is "
                               f"{size_text(limits.case_bytes)} per case", "image-size")
                continue
        if ok:
            images.append(CaseImage(file=entry.file, kind=kind, modality=entry.modality,
                                    caption=entry.caption, credit=entry.credit or "",
                                    path=path))
    return tuple(images)


def load_case(path: str | os.PathLike[str], kb: KnowledgeBase, *, name: str | None = None,
              limits: Limits = DEFAULT_LIMITS) -> Case:
    """Read and check one case file (and its images); raises :class:`InputError` naming
    file and line."""
    return check_case_document(read_document(path, name=name), kb, Path(path).parent,
                               limits)


def parse_case(raw: bytes, name: str, kb: KnowledgeBase, max_bytes: int | None = None) -> Case:
    """Check an uploaded case file's bytes (same rules and messages as :func:`load_case`)."""
    doc = parse_bytes(raw, name) if max_bytes is None else parse_bytes(raw, name, max_bytes)
    return check_case_document(doc, kb)


def patient_as_data(patient: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical (flattened) patient mapping back in case-file form (groups nested,
    sets as sorted lists)."""
    data: dict[str, Any] = {}
    for key, value in patient.items():
        target = data
        *groups, leaf = key.split(".")
        for group in groups:
            target = target.setdefault(group, {})
        target[leaf] = sorted(value) if isinstance(value, frozenset) else value
    return data


def case_as_data(case: Case) -> dict[str, Any]:
    """A case in case-file form (the contract's keys, in its order), for export."""
    data: dict[str, Any] = {}
    for key in ("id", "title", "narrative", "source"):
        if getattr(case, key):
            data[key] = getattr(case, key)
    if case.teaching_points:
        data["teaching_points"] = list(case.teaching_points)
    if case.patient:
        data["patient"] = patient_as_data(case.patient)
    data["modalities"] = sorted(case.modalities)
    data["findings"] = dict(case.findings)
    if case.truth:
        data["truth"] = case.truth
    if case.acceptable:
        data["acceptable"] = list(case.acceptable)
    return data


def make_case(kb: KnowledgeBase, findings: Mapping[str, Any],
              patient: Mapping[str, Any] | None = None,
              modalities: Iterable[str] | None = None, name: str = "<entered>") -> Case:
    """A checked case from values typed in a program or a form (same checks as files)."""
    data: dict[str, Any] = {"findings": dict(findings)}
    if patient:
        flat = any("." in k or isinstance(v, frozenset) for k, v in patient.items())
        data["patient"] = patient_as_data(patient) if flat else dict(patient)
    if modalities is not None:
        data["modalities"] = sorted(modalities)
    return check_case_document(Document(name, data, {(): 1}), kb)


@dataclass(frozen=True)
class CaseEntry:
    """One file of a case folder: its case, or the problems that kept it from loading."""

    path: Path
    name: str
    case: Case | None
    problems: tuple[Problem, ...] = ()


def read_case_folder(folder: str | os.PathLike[str], kb: KnowledgeBase, *,
                     name: Callable[[Path], str] | None = None,
                     keep: Callable[[Path], bool] | None = None) -> list[CaseEntry]:
    """Every case file under ``folder`` (or the one file it names), loaded or with its
    problems, in a stable order. ``name`` gives the name shown in messages (default: the
    path); ``keep`` selects files before they are read."""
    root = Path(folder)
    if not root.exists():
        return [CaseEntry(root, str(root), None,
                          (Problem(Location(str(root), 1), "no such file or folder",
                                   code="missing"),))]
    paths = [root] if root.is_file() else list(iter_yaml_files(root))
    entries = []
    for path in paths:
        if keep is not None and not keep(path):
            continue
        shown = name(path) if name else str(path)
        try:
            entries.append(CaseEntry(path, shown, load_case(path, kb, name=shown)))
        except InputError as exc:
            entries.append(CaseEntry(path, shown, None, exc.problems))
    return entries

