"""Identifying DICOM attributes: find them, and remove them.

The attributes are those of the DICOM Basic Application Level Confidentiality Profile
(PS3.15 Annex E, table E.1-1: names, IDs, birth date, addresses, institution, accession
number, dates and times, free-text descriptions, UIDs and some 650 more), as tabulated by
the dicom-anonymizer package (its ``dicomfields_2026c`` table), plus every private attribute
and a ``Burned In Annotation`` of YES.

A file is acceptable when none of these attributes carries a value, except UIDs in a file
that declares ``Patient Identity Removed`` = YES (its UIDs were replaced). :func:`deidentify`
makes such a copy. It is stricter than the profile's dummy values: what the profile may
empty (Z) is emptied, everything else is removed, UIDs are replaced by new ones (the same
new UID for the same old one within a run, so a series stays one series). Messages name
attributes, never their values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from ossdx.imaging.limits import ImageError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

PROFILE_TABLE = "dicomfields_2026c"
METHOD = "ossdx deidentify: PS3.15 basic profile, stricter"  # LO: at most 64 characters
_EMPTY_ACTIONS = ("Z_TAGS", "Z_D_TAGS", "X_Z_TAGS", "X_Z_D_TAGS")
_UID_ACTIONS = ("U_TAGS", "X_Z_U_STAR_TAGS")
_ACTIONS = ("D_TAGS", "Z_TAGS", "X_TAGS", "U_TAGS", "Z_D_TAGS", "X_Z_TAGS", "X_D_TAGS",
            "X_Z_D_TAGS", "X_Z_U_STAR_TAGS")
BURNED_IN = 0x00280301
IDENTITY_REMOVED = 0x00120062
METHOD_TAG = 0x00120063


@dataclass(frozen=True)
class Profile:
    """The profile's attributes, each with what de-identification does to it."""

    action: dict[int, str]                       # tag -> "empty" | "remove" | "uid"
    groups: tuple[tuple[int, int, int, int, str], ...]  # (group, element, masks, action)

    def action_of(self, tag: int) -> str | None:
        found = self.action.get(tag)
        if found is not None:
            return found
        group, element = tag >> 16, tag & 0xFFFF
        for g, e, gmask, emask, action in self.groups:
            if group & gmask == g & gmask and element & emask == e & emask:
                return action
        return None


@cache
def profile() -> Profile:
    """The basic profile's table (read once)."""
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    table = dicom_anonymization_database_selector(PROFILE_TABLE)
    action: dict[int, str] = {}
    groups: list[tuple[int, int, int, int, str]] = []
    for name in _ACTIONS:
        kind = "uid" if name in _UID_ACTIONS else "empty" if name in _EMPTY_ACTIONS \
            else "remove"
        for tag in table[name]:
            if len(tag) == 4:
                groups.append((*tag, kind))
            else:
                action[(tag[0] << 16) | tag[1]] = kind
    return Profile(action, tuple(groups))


def attribute_name(tag: int) -> str:
    """"Patient's Name (0010,0010)"; a private attribute is called so."""
    from pydicom.datadict import dictionary_description

    group, element = tag >> 16, tag & 0xFFFF
    where = f"({group:04X},{element:04X})"
    if group % 2:
        return f"private attribute {where}"
    try:
        return f"{dictionary_description(tag)} {where}"
    except KeyError:
        return f"attribute {where}"


def _has_value(elem: Any) -> bool:
    value = elem.value
    if value is None:
        return False
    if isinstance(value, bytes):
        return bool(value.strip(b"\0 "))
    if isinstance(value, str):
        return bool(value.strip("\0 "))
    try:
        return len(value) > 0
    except TypeError:
        return True


def _elements(ds: Dataset) -> Iterator[Any]:
    """Every element of ``ds`` and of its sequences' items (file meta included)."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        yield from meta
    stack = [ds]
    while stack:
        current = stack.pop()
        for elem in current:
            yield elem
            if elem.VR == "SQ" and elem.value:
                stack.extend(elem.value)


def identity_removed(ds: Dataset) -> bool:
    """Does the file declare that the patient's identity was removed?"""
    value = ds.get(IDENTITY_REMOVED)
    return value is not None and str(value.value).strip().upper() == "YES"


def identifying_attributes(ds: Dataset) -> list[str]:
    """The names of the identifying attributes ``ds`` carries (no values), sorted by tag."""
    table = profile()
    uids_ok = identity_removed(ds)
    found: dict[int, str] = {}
    private: set[int] = set()
    for elem in _elements(ds):
        tag = int(elem.tag)
        if tag in found:
            continue
        if elem.tag.is_private:
            private.add(tag)
            continue
        if tag == BURNED_IN and str(elem.value).strip().upper() == "YES":
            found[tag] = "Burned In Annotation (0028,0301) = YES: the pixels carry text"
            continue
        action = table.action_of(tag)
        if action is None or not _has_value(elem):
            continue
        if action == "uid" and uids_ok:
            continue
        found[tag] = attribute_name(tag)
    names = [found[tag] for tag in sorted(found)]
    if private:
        names.append(f"{len(private)} private attribute(s)")
    return names


@dataclass
class Removal:
    """What :func:`deidentify` did, by attribute name (never values)."""

    removed: set[str] = field(default_factory=set)
    emptied: set[str] = field(default_factory=set)
    uids: set[str] = field(default_factory=set)
    private: int = 0

    def lines(self) -> list[str]:
        out = []
        if self.removed:
            out.append(f"removed: {', '.join(sorted(self.removed))}")
        if self.emptied:
            out.append(f"emptied: {', '.join(sorted(self.emptied))}")
        if self.uids:
            out.append(f"replaced by new UIDs: {', '.join(sorted(self.uids))}")
        if self.private:
            out.append(f"removed {self.private} private attribute(s)")
        return out or ["nothing identifying was found"]


class UidMap:
    """Old UID -> new UID, the same within one run (so slices stay one series)."""

    def __init__(self) -> None:
        self._new: dict[str, str] = {}

    def __call__(self, old: str) -> str:
        from pydicom.uid import generate_uid

        if old not in self._new:
            self._new[old] = generate_uid()
        return self._new[old]


def deidentify(ds: Dataset, uids: UidMap, removal: Removal) -> None:
    """Remove, empty or replace every identifying attribute of ``ds`` in place.

    Raises :class:`ImageError` for burned-in annotations (text in the pixels cannot be
    removed from the header).
    """
    burned = ds.get(BURNED_IN)
    if burned is not None and str(burned.value).strip().upper() == "YES":
        raise ImageError("the file declares Burned In Annotation = YES: the pixels carry "
                         "text (often the patient's name); mask or crop it in an image "
                         "editor and export it without that text")
    table = profile()
    meta = getattr(ds, "file_meta", None)
    for dataset in ([meta] if meta is not None else []) + [ds]:
        _clean(dataset, table, uids, removal)
    ds.remove_private_tags()
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = METHOD


def _clean(ds: Dataset, table: Profile, uids: UidMap, removal: Removal) -> None:
    for elem in list(ds):
        tag = int(elem.tag)
        if elem.tag.is_private:
            removal.private += 1
            del ds[elem.tag]
            continue
        action = table.action_of(tag)
        if action is None:
            if elem.VR == "SQ" and elem.value:
                for item in elem.value:
                    _clean(item, table, uids, removal)
            continue
        if action == "uid" and elem.VR == "UI":
            if _has_value(elem):
                if elem.VM > 1:
                    elem.value = [uids(str(v)) for v in elem.value]
                else:
                    elem.value = uids(str(elem.value))
                removal.uids.add(attribute_name(tag))
        elif action == "empty" or action == "uid":
            if _has_value(elem):
                removal.emptied.add(attribute_name(tag))
            elem.value = [] if elem.VR == "SQ" else None
        else:
            removal.removed.add(attribute_name(tag))
            del ds[elem.tag]


def refuse_identifying(ds: Dataset, what: str) -> None:
    """Raise :class:`ImageError` naming the identifying attributes of ``ds``, with the fix."""
    found = identifying_attributes(ds)
    if not found:
        return
    raise ImageError(f"{what} carries identifying DICOM attributes: {', '.join(found)}; make a "
                     "de-identified copy with 'ossdx deidentify IN OUT' and use that copy")
