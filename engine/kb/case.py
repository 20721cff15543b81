"""The case model: a checked case (findings, patient context, modalities) and the checks
of its values against a knowledge base's vocabulary.

It lives with the knowledge base because the knowledge base's own rule examples are cases
too; reading case *files* is :mod:`ossdx.reasoning.cases`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ossdx.core.errors import Location, Problem, allowed, did_you_mean
from ossdx.core.loader import Document, PathKey
from ossdx.kb import schema
from ossdx.kb.model import MODALITIES, PATIENT, Vocabulary


@dataclass(frozen=True)
class CaseImage:
    """An image of a case, checked when the case was read; shown from ``path`` (None when
    the case came without its folder, as an upload does)."""

    file: str
    kind: str  # dicom, series, png, jpeg, svg
    modality: str
    caption: str
    credit: str
    path: Path | None = None


@dataclass(frozen=True)
class Case:
    """A checked case: canonical values only."""

    findings: Mapping[str, Any]
    patient: Mapping[str, Any] = field(default_factory=dict)
    modalities: frozenset[str] = frozenset()
    id: str | None = None
    title: str | None = None
    narrative: str | None = None
    source: str | None = None
    teaching_points: tuple[str, ...] = ()
    truth: str | None = None
    acceptable: tuple[str, ...] = ()
    location: Location = Location("<case>")
    images: tuple[CaseImage, ...] = ()

    @property
    def name(self) -> str:
        return self.id or Path(self.location.file).stem

    def with_findings(self, findings: Mapping[str, Any]) -> Case:
        return Case(**{**self.__dict__, "findings": MappingProxyType(dict(findings))})


def case_facts(case: Case, vocab: Vocabulary) -> dict[str, Any]:
    """The flat facts rules match: findings, ``patient.<field>``, and ``modalities``."""
    facts: dict[str, Any] = dict(case.findings)
    for key, value in case.patient.items():
        facts[PATIENT + key] = value
    facts[MODALITIES] = vocab.expand_modalities(case.modalities)
    return facts


def _number_text(raw: Any) -> Any:
    """A number YAML 1.1 reads as text (``1e308``, without a dot) is still a number."""
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def _shown(raw: Any) -> str:
    """A value as the user wrote it, for a message (never a Python repr of a container)."""
    if raw is None:
        return "an empty value"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "a mapping"
    return f"'{raw}'"


class VocabularyChecker:
    """Checks findings, patient context and modalities against a vocabulary."""

    def __init__(self, vocab: Vocabulary, doc: Document):
        self.vocab = vocab
        self.doc = doc
        self.problems: list[Problem] = []

    def _error(self, path: PathKey, message: str, code: str) -> None:
        self.problems.append(self.doc.problem(path, message, code))

    # ------------------------------------------------------------------ values
    def value(self, spec: schema.Variable, raw: Any, path: PathKey, name: str) -> Any:
        """The canonical value of ``raw`` for ``spec``, or None after reporting a problem."""
        if spec.type in ("number", "integer"):
            raw = _number_text(raw)
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                self._error(path, f"'{name}' must be a number, got {_shown(raw)}", "bad-value")
                return None
            if spec.type == "integer" and not float(raw).is_integer():
                self._error(path, f"'{name}' must be a whole number, got {raw!r}", "bad-value")
                return None
            if raw != raw or (spec.range and not spec.range[0] <= raw <= spec.range[1]):
                lo, hi = spec.range or (0, 0)
                self._error(path, f"'{name}' is {raw!r}; allowed: a number from {lo:g} "
                            f"to {hi:g}{' ' + spec.unit if spec.unit else ''}", "bad-value")
                return None
            return int(raw) if spec.type == "integer" else float(raw)
        if spec.type == "multi":
            items = raw if isinstance(raw, list) else [raw]
            values = [self._choice(spec, item, (*path, i) if isinstance(raw, list) else path,
                                   name) for i, item in enumerate(items)]
            if any(v is None for v in values):
                return None
            return frozenset(values)
        return self._choice(spec, raw, path, name)

    def _choice(self, spec: schema.Variable, raw: Any, path: PathKey, name: str) -> str | None:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            raw = str(raw)
        if isinstance(raw, str):
            canonical = spec.aliases.get(raw, raw)
            if canonical in spec.values:
                return canonical
        if raw is None:
            self._error(path, f"'{name}' is empty; leave it out if it was not assessed, or "
                        f"give one value ({allowed(spec.values)})", "bad-value")
            return None
        if isinstance(raw, (list, dict)):
            self._error(path, f"'{name}' takes one value, not {_shown(raw)}; "
                        f"{allowed(spec.values)}", "bad-value")
            return None
        self._error(path, f"{_shown(raw)} is not a value of '{name}'"
                    f"{did_you_mean(raw, [*spec.values, *spec.aliases])}; "
                    f"{allowed(spec.values)}", "bad-value")
        return None

    # ------------------------------------------------------------------ sections
    def patient(self, data: Any, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if not isinstance(data, dict):
            self._error(path, "'patient' must be a mapping such as '{age: 62, sex: F}'",
                        "type")
            return result
        self._patient_group(data, path, "", result)
        return result

    def _patient_group(self, data: dict[str, Any], path: PathKey, prefix: str,
                       result: dict[str, Any]) -> None:
        known = {k[len(prefix):].split(".")[0] for k in self.vocab.patient if k.startswith(prefix)}
        for key, raw in data.items():
            sub = (*path, key)
            full = prefix + str(key)
            spec = self.vocab.patient.get(full)
            if spec is None or key not in known:
                self._error(sub, f"unknown patient field '{key}'{did_you_mean(key, known)}; "
                            f"{allowed(sorted(known))}", "unknown-patient-field")
                continue
            if spec.type == "group":
                if not isinstance(raw, dict):
                    self._error(sub, f"'{key}' must be a mapping of "
                                f"{', '.join(f.id for f in spec.fields)}", "type")
                    continue
                self._patient_group(raw, sub, full + ".", result)
                continue
            value = self.value(spec, raw, sub, key)
            if value is not None:
                result[full] = value

    def findings(self, data: Any, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if not isinstance(data, dict):
            self._error(path, "'findings' must be a mapping of finding: value", "type")
            return result
        for key, raw in data.items():
            spec = self.vocab.findings.get(key) if isinstance(key, str) else None
            if spec is None:
                self._error((*path, key), f"unknown finding '{key}'"
                            f"{did_you_mean(key, self.vocab.findings)}", "unknown-finding")
                continue
            value = self.value(spec, raw, (*path, key), key)
            if value is not None:
                result[key] = value
        return result

    def modalities(self, data: Any, path: PathKey) -> frozenset[str]:
        if not isinstance(data, list):
            data = [data]
        result = set()
        for i, item in enumerate(data):
            if item not in self.vocab.modalities:
                self._error((*path, i), f"unknown modality '{item}'"
                            f"{did_you_mean(item, self.vocab.modalities)}; "
                            f"{allowed(self.vocab.modalities)}", "unknown-modality")
            else:
                result.add(item)
        return frozenset(result)

    def consistency(self, findings: Mapping[str, Any], given: frozenset[str] | None,
                    path: PathKey) -> frozenset[str]:
        """Check modality needs and prerequisites; return the modalities (inferred if None)."""
        modalities = infer_modalities(findings, self.vocab) if given is None else given
        performed = self.vocab.expand_modalities(modalities)
        for key in findings:
            spec = self.vocab.findings[key]
            if spec.needs and not performed & set(spec.needs):
                self._error((*path, "findings", key),
                            f"'{key}' needs one of the modalities {', '.join(spec.needs)}; "
                            f"the case lists {', '.join(sorted(modalities)) or 'none'} "
                            "(add the modality or remove the finding)", "needs-modality")
        for key in findings:
            problem = unmet_requirement(self.vocab, key, findings)
            if problem:
                self._error((*path, "findings", key), problem, "requirement")
        return modalities


def unmet_requirement(vocab: Vocabulary, key: str, findings: Mapping[str, Any]) -> str | None:
    """Why ``key`` cannot be given with these findings (its ``requires`` fails), or None.

    A requirement on a finding that was not given is not an error (it may simply not have
    been recorded).
    """
    spec = vocab.findings[key]
    for req_var, req in spec.requires.items():
        if req_var not in findings:
            continue
        wanted = req if isinstance(req, list) else [req]
        if findings[req_var] not in wanted:
            return (f"'{key}' applies only when {req_var} is {' or '.join(map(str, wanted))}"
                    f" (here {req_var} is {findings[req_var]})")
    return None


def infer_modalities(findings: Mapping[str, Any], vocab: Vocabulary) -> frozenset[str]:
    """The fewest modalities that can show all ``findings`` (most constrained first).

    The result depends only on which findings are given, never on their order: needs are
    taken by size, then by content, and each takes the first modality it lists.
    """
    chosen: set[str] = set()
    needs = sorted({tuple(vocab.findings[f].needs) for f in findings if vocab.findings[f].needs},
                   key=lambda options: (len(options), options))
    for options in needs:
        if vocab.expand_modalities(chosen) & set(options):
            continue
        chosen.add(options[0])
    return frozenset(chosen)
