"""Parse a ``when:`` mapping into disjunctive normal form, checking it against the vocabulary.

The condition language (documented for authors in docs/AUTHORING.md):

``<finding>: value``                 the finding was seen with that value
``<finding>: [v1, v2]``              ... with any of these values
``<finding>: {not: v | [v1, v2]}``   the finding was assessed and is none of these
``<finding>: {at_least: a, below: b}``  a number with a <= x < b (either bound optional)
``patient: {<field>: spec, ...}``    the same, over the patient context (lists: any of)
``modality: X | [X, Y]``             any of these modalities was performed
``without_modality: X | [X, Y]``     none of these was performed
``concept: c | [c1, c2]``            all these derived concepts hold
``without_concept: c | [c1, c2]``    none of these derived concepts holds
``unknown: f | [f1, f2]``            these findings (or ``patient.<field>``) were not given
``any: [condition, ...]``            at least one of the sub-conditions holds
``all: [condition, ...]``            every sub-condition holds (to repeat a key)

All keys of one mapping must hold together.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from ossdx.core.errors import Problem, allowed, did_you_mean
from ossdx.core.loader import Document, PathKey
from ossdx.kb.model import MODALITIES, PATIENT, Atom, Conjunction, Op, Vocabulary

MAX_CONJUNCTIONS = 64
_SPECIAL = ("patient", "modality", "without_modality", "concept", "without_concept", "unknown",
            "any", "all")
_NUMERIC = ("number", "integer")


def new_finding_hint(word: object, choices: Iterable[str]) -> str:
    """The "did you mean" of an unknown finding, or, with no near match, where findings are
    defined (the usual case when an author writes a sign not yet in the vocabulary)."""
    return did_you_mean(word, choices) or ("; findings are defined in findings/*.yaml: add a "
                                           "new one there first")


class ConditionParser:
    """Parses conditions of one document, collecting problems instead of raising."""

    def __init__(self, doc: Document, vocabulary: Vocabulary,
                 concept_ids: Iterable[str], *, allow_concepts: bool = True):
        self.doc = doc
        self.vocab = vocabulary
        self.concept_ids = frozenset(concept_ids)
        self.allow_concepts = allow_concepts
        self.problems: list[Problem] = []

    # ------------------------------------------------------------------ public
    def parse(self, data: Any, path: PathKey) -> tuple[Conjunction, ...]:
        """The DNF of the condition at ``path``; ``()`` (never true) after an error."""
        before = len(self.problems)
        dnf = self._condition(data, path)
        if len(self.problems) > before:
            return ()
        if not dnf or any(len(c) == 0 for c in dnf):
            self._error(path, "a condition must test at least one thing", "empty-condition")
            return ()
        if len(dnf) > MAX_CONJUNCTIONS:
            self._error(path, f"condition expands to {len(dnf)} alternatives (limit "
                        f"{MAX_CONJUNCTIONS}); split it into several rules", "too-complex")
            return ()
        return tuple(dnf)

    # ------------------------------------------------------------------ helpers
    def _error(self, path: PathKey, message: str, code: str) -> None:
        self.problems.append(self.doc.problem(path, message, code))

    def _list_of_words(self, value: Any, path: PathKey, what: str) -> list[str] | None:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, str) for v in items):
            self._error(path, f"expected a {what} or a list of them, got {value!r}", "type")
            return None
        return items

    # ------------------------------------------------------------------ grammar
    def _condition(self, data: Any, path: PathKey) -> list[Conjunction]:
        if not isinstance(data, dict):
            self._error(path, "a condition must be a mapping such as "
                        "'{density: lytic, region: spine}'", "type")
            return []
        parts: list[list[Conjunction]] = []
        for key, value in data.items():
            sub = (*path, key)
            if key == "any" or key == "all":
                if not isinstance(value, list) or not value:
                    self._error(sub, f"'{key}' takes a non-empty list of conditions", "type")
                    continue
                branches = [self._condition(v, (*sub, i)) for i, v in enumerate(value)]
                if key == "any":
                    parts.append([c for b in branches for c in b])
                else:
                    parts.extend(branches)
            elif key == "patient":
                parts.append([self._patient(value, sub)])
            elif key in ("modality", "without_modality"):
                parts.append([self._modality(key, value, sub)])
            elif key in ("concept", "without_concept"):
                parts.append([self._concept(key, value, sub)])
            elif key == "unknown":
                parts.append([self._unknown(value, sub)])
            elif isinstance(key, str) and key in self.vocab.findings:
                parts.append([(self._atom(key, key, value, sub),)])
            else:
                choices = [*self.vocab.findings, *_SPECIAL]
                self._error(sub, f"unknown finding or condition key '{key}'"
                            f"{new_finding_hint(key, choices)}", "unknown-finding")
        conjunctions: list[Conjunction] = [()]
        for alternatives in parts:
            conjunctions = [a + b for a, b in itertools.product(conjunctions, alternatives)]
            if len(conjunctions) > 4 * MAX_CONJUNCTIONS:
                break
        return conjunctions

    def _patient(self, value: Any, path: PathKey, prefix: str = "") -> Conjunction:
        if not isinstance(value, dict):
            self._error(path, "'patient' takes a mapping such as '{primary: breast_ilc}'",
                        "type")
            return ()
        known = sorted({k[len(prefix):].split(".")[0] for k in self.vocab.patient
                        if k.startswith(prefix)})
        atoms: list[Atom] = []
        for key, spec in value.items():
            full = f"{prefix}{key}"
            variable = self.vocab.patient.get(full)
            if variable is None or key not in known:
                self._error((*path, key), f"unknown patient field '{key}'"
                            f"{did_you_mean(key, known)}; {allowed(known)}",
                            "unknown-patient-field")
                continue
            if variable.type == "group":
                atoms.extend(self._patient(spec, (*path, key), full + "."))
                continue
            atoms.append(self._atom(PATIENT + full, key, spec, (*path, key)))
        return tuple(atoms)

    def _modality(self, key: str, value: Any, path: PathKey) -> Conjunction:
        items = self._list_of_words(value, path, "modality")
        if items is None:
            return ()
        for item in items:
            if item not in self.vocab.modalities:
                self._error(path, f"unknown modality '{item}'"
                            f"{did_you_mean(item, self.vocab.modalities)}; "
                            f"{allowed(self.vocab.modalities)}", "unknown-modality")
        op = Op.CONTAINS if key == "modality" else Op.EXCLUDES
        return (Atom(MODALITIES, op, frozenset(items), location=self.doc.at(path)),)

    def _concept(self, key: str, value: Any, path: PathKey) -> Conjunction:
        items = self._list_of_words(value, path, "concept id")
        if items is None:
            return ()
        if not self.allow_concepts:
            self._error(path, f"'{key}' cannot be used here: derived concepts are not "
                        "known at this point", "concept-not-allowed")
            return ()
        atoms = []
        for item in items:
            if item not in self.concept_ids:
                self._error(path, f"unknown concept '{item}'"
                            f"{did_you_mean(item, self.concept_ids)}", "unknown-concept")
                continue
            op = Op.CONCEPT if key == "concept" else Op.NO_CONCEPT
            atoms.append(Atom(item, op, location=self.doc.at(path)))
        return tuple(atoms)

    def _unknown(self, value: Any, path: PathKey) -> Conjunction:
        items = self._list_of_words(value, path, "finding id")
        if items is None:
            return ()
        atoms = []
        for item in items:
            # a finding, or a patient field written 'patient.<field>'
            if item not in self.vocab.findings and (
                    not item.startswith(PATIENT) or self.vocab.variable(item) is None):
                choices = [*self.vocab.findings, *(PATIENT + f for f in self.vocab.patient)]
                self._error(path, f"unknown finding '{item}'"
                            f"{new_finding_hint(item, choices)}", "unknown-finding")
                continue
            atoms.append(Atom(item, Op.UNKNOWN, location=self.doc.at(path)))
        return tuple(atoms)

    def _atom(self, var: str, name: str, spec: Any, path: PathKey) -> Atom:
        variable = self.vocab.variable(var)
        assert variable is not None
        location = self.doc.at(path)
        if variable.type in _NUMERIC:
            return self._numeric(var, name, variable.range, spec, path)
        multi = variable.type == "multi"
        negate = False
        if isinstance(spec, dict):
            if set(spec) != {"not"}:
                self._error(path, f"'{name}' takes a value, a list of values, or "
                            f"{{not: ...}}; got keys {sorted(map(str, spec))}", "bad-spec")
                return Atom(var, Op.IN, location=location)
            negate, spec = True, spec["not"]
        items = self._list_of_words(spec, path, f"value of '{name}'")
        if items is None:
            return Atom(var, Op.IN, location=location)
        values = []
        for item in items:
            canonical = variable.aliases.get(item, item)
            if canonical not in variable.values:
                self._error(path, f"'{item}' is not a value of '{name}'"
                            f"{did_you_mean(item, variable.values)}; "
                            f"{allowed(variable.values)}", "unknown-value")
            values.append(canonical)
        if multi:
            op = Op.EXCLUDES if negate else Op.CONTAINS
        else:
            op = Op.NOT_IN if negate else Op.IN
        return Atom(var, op, frozenset(values), location=location)

    def _numeric(self, var: str, name: str, bounds: tuple[float, float] | None, spec: Any,
                 path: PathKey) -> Atom:
        location = self.doc.at(path)
        keys = {"at_least", "below"}
        if not isinstance(spec, dict) or not spec or not set(spec) <= keys:
            self._error(path, f"'{name}' is a number: write {{at_least: a}}, {{below: b}} "
                        "or both", "bad-spec")
            return Atom(var, Op.BETWEEN, location=location)
        numbers: dict[str, float] = {}
        for key in ("at_least", "below"):
            if key in spec:
                v = spec[key]
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    self._error((*path, key), f"'{key}' must be a number, got {v!r}", "type")
                    return Atom(var, Op.BETWEEN, location=location)
                numbers[key] = float(v)
        low, high = numbers.get("at_least"), numbers.get("below")
        if low is not None and high is not None and low >= high:
            self._error(path, f"'{name}' can never hold: at_least {low:g} is not below "
                        f"{high:g}", "never-fires")
        if bounds is not None:
            lo, hi = bounds
            for key, v in numbers.items():
                if not lo <= v <= hi:
                    self._error((*path, key), f"{v:g} is outside the range of '{name}' "
                                f"({lo:g} to {hi:g})", "out-of-range")
        return Atom(var, Op.BETWEEN, low=low, high=high, location=location)


def describe_atom(atom: Atom, label: Callable[[str, str], str],
                  name: Callable[[str], str]) -> str:
    """A readable phrase for an atom, e.g. 'density: lytic or mixed'."""
    if atom.op is Op.CONCEPT:
        return name(atom.var)
    if atom.op is Op.NO_CONCEPT:
        return f"not {name(atom.var)}"
    if atom.var == MODALITIES:
        mods = " or ".join(sorted(atom.values))
        return f"{mods} performed" if atom.op is Op.CONTAINS else f"no {mods}"
    shown = name(atom.var)
    if atom.op is Op.UNKNOWN:
        return f"{shown} not assessed"
    if atom.op is Op.BETWEEN:
        parts = []
        if atom.low is not None:
            parts.append(f">= {atom.low:g}")
        if atom.high is not None:
            parts.append(f"< {atom.high:g}")
        return f"{shown} {' and '.join(parts)}"
    values = " or ".join(label(atom.var, v) for v in sorted(atom.values))
    if atom.op in (Op.NOT_IN, Op.EXCLUDES):
        return f"{shown}: not {values}"
    return f"{shown}: {values}"
