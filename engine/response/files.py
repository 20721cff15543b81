"""Response files: read and check a baseline / follow-up comparison of known bone lesions.

The format is in docs/RESPONSE.md, section 2. Checks, each naming file and line:
size cap, YAML safety (the loader), exactly the top-level keys of the contract, modalities,
every per-lesion finding and value (core findings plus the time-point extras of the response
criteria), that a finding's modality was performed at that time point, new lesions (site,
modality performed at follow-up, findings that modality can show), and truth values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import Field

from ossdx.core.errors import InputError, Location, allowed, did_you_mean
from ossdx.core.loader import Document, PathKey, parse_bytes, read_document
from ossdx.core.validation import validate_model
from ossdx.kb import schema
from ossdx.kb.case import VocabularyChecker, unmet_requirement
from ossdx.kb.model import KnowledgeBase, Vocabulary
from ossdx.response.criteria import ResponseCriteria

MAX_BYTES = 256_000
MAX_LESIONS = 100
NEW_LESION_KEYS = ("site", "modality", "adjacent_to")
NONE_WORDS = ("no", "none")


class TimePointEntry(schema.Model):
    """A study: the modalities performed (PET_CT includes its CT)."""

    modalities: list[str] = Field(min_length=1)


class LesionEntry(schema.Model):
    """A known lesion: where it is and what each study showed."""

    site: schema.Text
    baseline: dict[str, Any]
    followup: dict[str, Any]


class ResponseFile(schema.Model):
    """Top-level keys of a response file (exactly these)."""

    id: schema.Text | None = None
    title: schema.Text | None = None
    narrative: schema.Text | None = None
    source: schema.Text | None = None
    patient: dict[str, Any] = {}
    treatment: list[Any] | None = None
    weeks_since_treatment_start: Any = None
    baseline: TimePointEntry
    followup: TimePointEntry
    lesions: list[LesionEntry] = Field(min_length=1, max_length=MAX_LESIONS)
    new_lesions: Any = "no"
    truth: dict[str, Any] | None = None


@dataclass(frozen=True)
class Lesion:
    """A known lesion with its checked findings at each time point."""

    site: str
    baseline: Mapping[str, Any]
    followup: Mapping[str, Any]


@dataclass(frozen=True)
class NewLesion:
    """A lesion seen only at follow-up, on one modality."""

    site: str
    modality: str
    findings: Mapping[str, Any]
    adjacent_to: str | None = None


@dataclass(frozen=True)
class ResponseCase:
    """A checked response file: canonical values only."""

    baseline_modalities: frozenset[str]
    followup_modalities: frozenset[str]
    lesions: tuple[Lesion, ...]
    new_lesions: tuple[NewLesion, ...] = ()
    weeks_since_treatment_start: float | None = None
    patient: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    title: str | None = None
    narrative: str | None = None
    source: str | None = None
    truth: Mapping[str, str] = field(default_factory=dict)
    location: Location = Location("<response>")

    @property
    def name(self) -> str:
        return self.id or Path(self.location.file).stem


class _Checker(VocabularyChecker):
    """The case-file checks, plus time points, lesions, new lesions and truth."""

    def __init__(self, kb: KnowledgeBase, criteria: ResponseCriteria, doc: Document):
        vocab = Vocabulary(criteria.findings, kb.vocabulary.patient, kb.vocabulary.modalities)
        super().__init__(vocab, doc)
        self.kb = kb
        self.criteria = criteria

    def number(self, spec: schema.Variable, raw: Any, path: PathKey) -> float | None:
        if raw is None:
            return None
        return self.value(spec, raw, path, spec.id)

    def time_point(self, entry: TimePointEntry, path: PathKey) -> frozenset[str] | None:
        """The modalities of a study; None when one is unknown (its findings are not
        checked against them then, to avoid a cascade of follow-on errors)."""
        before = len(self.problems)
        modalities = self.modalities(entry.modalities, (*path, "modalities"))
        return modalities if len(self.problems) == before else None

    def lesion_findings(self, data: dict[str, Any], path: PathKey, when: str,
                        modalities: frozenset[str] | None) -> dict[str, Any]:
        findings = self.findings(data, path)
        if modalities is None:
            return findings
        performed = self.vocab.expand_modalities(modalities)
        label = "baseline" if when == "baseline" else "follow-up"
        for key in findings:
            spec = self.vocab.findings[key]
            if spec.needs and not performed & set(spec.needs):
                self._error((*path, key), f"'{key}' needs one of the modalities "
                            f"{', '.join(spec.needs)}; the {label} lists "
                            f"{', '.join(sorted(modalities)) or 'none'} (add the modality to "
                            f"{when}.modalities or remove the finding)", "needs-modality")
            if when == "baseline" and key in self.criteria.followup_only:
                self._error((*path, key), f"'{key}' describes the follow-up against the "
                            "baseline; give it under followup", "followup-only")
            problem = unmet_requirement(self.vocab, key, findings)
            if problem:
                self._error((*path, key), problem, "requirement")
        return findings

    def new_lesions(self, data: Any, followup: frozenset[str],
                    sites: Mapping[str, int]) -> tuple[NewLesion, ...]:
        path: PathKey = ("new_lesions",)
        if data is None or data in NONE_WORDS or data == []:
            return ()
        if not isinstance(data, list):
            self._error(path, f"'new_lesions' must be 'no' or a list such as [{{site: T12, "
                        f"modality: bone_scan, bone_scan_uptake: focal}}], got {data!r}",
                        "type")
            return ()
        if len(data) > MAX_LESIONS:
            self._error(path, f"at most {MAX_LESIONS} new lesions, got {len(data)}", "too-long")
            return ()
        result = []
        for i, item in enumerate(data):
            new = self._new_lesion(item, (*path, i), followup, sites)
            if new is not None:
                result.append(new)
        return tuple(result)

    def _new_lesion(self, item: Any, path: PathKey, followup: frozenset[str],
                    sites: Mapping[str, int]) -> NewLesion | None:
        if not isinstance(item, dict):
            self._error(path, "a new lesion must be a mapping such as {site: T12, modality: "
                        "bone_scan, bone_scan_uptake: focal}", "type")
            return None
        site, modality, adjacent = (item.get(k) for k in NEW_LESION_KEYS)
        findings_data = {k: v for k, v in item.items() if k not in NEW_LESION_KEYS}
        unknown = [k for k in findings_data if k not in self.vocab.findings]
        for key in unknown:
            choices = [*self.vocab.findings, *NEW_LESION_KEYS]
            self._error((*path, key), f"unknown key '{key}'{did_you_mean(key, choices)}; a new "
                        "lesion has site, modality, optionally adjacent_to, and findings",
                        "unknown-finding")
        findings = self.findings({k: v for k, v in findings_data.items() if k not in unknown},
                                 path)
        ok = True
        if not isinstance(site, str) or not site.strip():
            self._error(path if site is None else (*path, "site"),
                        "a new lesion needs 'site' (text, e.g. 'T12 vertebral body')",
                        "missing-key")
            ok = False
        if modality is None:
            self._error(path, "a new lesion needs 'modality': the study that showed it",
                        "missing-key")
            return None
        if not isinstance(modality, str) or modality not in self.vocab.modalities:
            self._error((*path, "modality"), f"unknown modality '{modality}'"
                        f"{did_you_mean(modality, self.vocab.modalities)}; "
                        f"{allowed(self.vocab.modalities)}", "unknown-modality")
            return None
        if modality not in followup:
            self._error((*path, "modality"), f"the new lesion was seen on '{modality}', which "
                        f"the follow-up does not list ({', '.join(sorted(followup)) or 'none'})",
                        "needs-modality")
            ok = False
        shown_by = self.vocab.expand_modalities({modality})
        for key in findings:
            spec = self.vocab.findings[key]
            if spec.needs and not shown_by & set(spec.needs):
                self._error((*path, key), f"'{key}' cannot be seen on {modality} (it needs "
                            f"{', '.join(spec.needs)})", "needs-modality")
                ok = False
            if key in self.criteria.followup_only:
                self._error((*path, key), f"'{key}' compares with a baseline; a new lesion has "
                            "none", "followup-only")
                ok = False
        if adjacent is not None and (not isinstance(adjacent, str) or adjacent not in sites):
            self._error((*path, "adjacent_to"), f"adjacent_to '{adjacent}' is not the site of a "
                        f"known lesion{did_you_mean(adjacent, sites)}; "
                        f"{allowed(sites)}", "unknown-site")
            ok = False
        if not ok:
            return None
        assert isinstance(site, str)  # else ok is False: a problem was reported above
        return NewLesion(site.strip(), modality, MappingProxyType(findings), adjacent)

    def truth(self, data: dict[str, Any] | None) -> dict[str, str]:
        result: dict[str, str] = {}
        if not data:
            return result
        set_ids = [s.id for s in self.criteria.sets]
        categories = self.criteria.category_ids
        for key, value in data.items():
            if key not in set_ids:
                self._error(("truth", key), f"unknown criteria set '{key}'"
                            f"{did_you_mean(key, set_ids)}; {allowed(set_ids)}",
                            "unknown-criteria")
            elif value not in categories:
                self._error(("truth", key), f"'{value}' is not a response category"
                            f"{did_you_mean(value, categories)}; {allowed(categories)}",
                            "bad-value")
            else:
                result[key] = value
        return result


def check_response_document(doc: Document, kb: KnowledgeBase,
                            criteria: ResponseCriteria) -> ResponseCase:
    """A :class:`ResponseCase` from a parsed document; raises :class:`InputError`."""
    raw, problems = validate_model(doc, ResponseFile)
    if raw is None:
        raise InputError(problems)
    checker = _Checker(kb, criteria, doc)
    patient = checker.patient(raw.patient, ("patient",)) if raw.patient else {}
    if raw.treatment is not None:
        spec = kb.vocabulary.patient["treatment"]
        treatment = checker.value(spec, raw.treatment, ("treatment",), "treatment")
        if treatment is not None:
            patient["treatment"] = frozenset(patient.get("treatment", frozenset()) | treatment)
    weeks_spec = criteria.lesion_vocabulary.findings["weeks_since_treatment_start"]
    weeks = checker.number(weeks_spec, raw.weeks_since_treatment_start,
                           ("weeks_since_treatment_start",))
    baseline = checker.time_point(raw.baseline, ("baseline",))
    followup = checker.time_point(raw.followup, ("followup",))
    lesions: list[Lesion] = []
    sites: dict[str, int] = {}
    for i, entry in enumerate(raw.lesions):
        path = ("lesions", i)
        site = entry.site.strip()
        if site in sites:
            checker._error((*path, "site"), f"site '{site}' is given twice (first on line "
                           f"{doc.line_of(('lesions', sites[site], 'site'))}); give each "
                           "lesion its own site", "duplicate-site")
        sites.setdefault(site, i)
        lesions.append(Lesion(
            site=site,
            baseline=MappingProxyType(checker.lesion_findings(
                entry.baseline, (*path, "baseline"), "baseline", baseline)),
            followup=MappingProxyType(checker.lesion_findings(
                entry.followup, (*path, "followup"), "followup", followup))))
    new_lesions = checker.new_lesions(raw.new_lesions, followup, sites) \
        if followup is not None else ()
    truth = checker.truth(raw.truth)
    if checker.problems:
        raise InputError(checker.problems)
    assert baseline is not None and followup is not None  # else a problem was reported
    return ResponseCase(
        baseline_modalities=baseline,
        followup_modalities=followup,
        lesions=tuple(lesions),
        new_lesions=new_lesions,
        weeks_since_treatment_start=weeks,
        patient=MappingProxyType(patient),
        id=raw.id,
        title=raw.title,
        narrative=raw.narrative,
        source=raw.source,
        truth=MappingProxyType(truth),
        location=Location(doc.name, 1),
    )


def load_response_file(path: str | os.PathLike[str], kb: KnowledgeBase,
                       criteria: ResponseCriteria, *, name: str | None = None) -> ResponseCase:
    """Read and check one response file; raises :class:`InputError` naming file and line."""
    return check_response_document(read_document(path, max_bytes=MAX_BYTES, name=name), kb,
                                   criteria)


def parse_response_bytes(raw: bytes, name: str, kb: KnowledgeBase,
                         criteria: ResponseCriteria) -> ResponseCase:
    """Check an uploaded response file's bytes (same rules and messages as a file)."""
    return check_response_document(parse_bytes(raw, name, MAX_BYTES), kb, criteria)


def make_response_case(data: Mapping[str, Any], kb: KnowledgeBase, criteria: ResponseCriteria,
                       name: str = "<entered>") -> ResponseCase:
    """A checked response case from plain data typed in a form (same checks as files)."""
    return check_response_document(Document(name, dict(data), {(): 1}), kb, criteria)
