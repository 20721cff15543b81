"""Load a knowledge-base folder: read every file, check it, and build a KnowledgeBase.

Every problem in every file is collected and reported together, each as ``file:line:
message`` with a suggestion where one exists. Loading stops only after all files are read.

Folder layout (see docs/AUTHORING.md)::

    kb.yaml                manifest: name, version, strength scale, settings
    references.yaml        the bibliography every other file cites by id
    references/*.yaml      more of the bibliography, one file per topic
    modalities.yaml        imaging modalities, what they include, their radiation
    patient.yaml           the patient-context fields
    findings/*.yaml        imaging findings (questions), one topic per file
    concepts/*.yaml        derived concepts and the rules that derive them
    diagnoses/<id>.yaml    one diagnosis per file: prior, teaching points, evidence rules
    pitfalls/*.yaml        warnings that fire on the case
    recommendations/*.yaml next steps that fire on the case
    teaching/*.yaml        teaching points not tied to one diagnosis
    quizzes/*.yaml         multiple-choice questions with answers and explanations
    seed_coverage.yaml     where each section of the seed exhibit lives in the KB
    cases/, response_cases/, response/   read by their own modules, not here
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import networkx as nx
from pydantic import BaseModel

from ossdx.core.errors import (
    InputError,
    KnowledgeBaseError,
    Location,
    Problem,
    Severity,
    allowed,
    did_you_mean,
)
from ossdx.core.loader import Document, PathKey, iter_yaml_files, read_document
from ossdx.core.validation import validate_model
from ossdx.kb import profiles as prof
from ossdx.kb import schema
from ossdx.kb.conditions import ConditionParser, new_finding_hint
from ossdx.kb.model import MODALITIES, Atom, Kind, KnowledgeBase, Op, Rule, RuleExample, Vocabulary

SINGLE_FILES: dict[str, type[BaseModel]] = {
    "kb.yaml": schema.Manifest,
    "references.yaml": schema.ReferencesFile,
    "modalities.yaml": schema.ModalitiesFile,
    "patient.yaml": schema.PatientFile,
    "seed_coverage.yaml": schema.CoverageFile,
    "reporting.yaml": schema.ReportingFile,
    "illustrations.yaml": schema.IllustrationsFile,
}
FOLDERS: dict[str, type[BaseModel]] = {
    "references": schema.ReferencesFile,  # more bibliography, one file per topic
    "findings": schema.FindingsFile,
    "concepts": schema.ConceptsFile,
    "diagnoses": schema.DiagnosisFile,
    "pitfalls": schema.PitfallsFile,
    "recommendations": schema.RecommendationsFile,
    "teaching": schema.TeachingFile,
    "quizzes": schema.QuizzesFile,
}
OTHER_FOLDERS = ("cases", "response_cases", "response")
VOCABULARY_FILES = {"kb.yaml", "references.yaml", "references", "modalities.yaml", "patient.yaml",
                    "findings", "concepts"}
REQUIRED = ("kb.yaml", "references.yaml", "modalities.yaml", "patient.yaml")
ILLUSTRATIONS = "illustrations"  # the drawings that illustrations.yaml describes
# (finding, value) -> {finding: its values that imply it}, from the vocabulary's 'implies'
ImpliedBy = Mapping[tuple[str, str], Mapping[str, tuple[str, ...]]]


def default_kb_path() -> Path:
    """``$OSSDX_KB``, else the knowledge base shipped with the package.

    The shipped one is the package data ``ossdx.knowledge_base``: the checkout's
    ``knowledge_base/`` folder in an editable install (edits show at once), the copy in
    site-packages in a wheel.
    """
    env = os.environ.get("OSSDX_KB")
    if env:
        return Path(env)
    return Path(str(resources.files("ossdx.knowledge_base")))


@dataclass
class _Parsed:
    doc: Document
    model: Any


def _ids_in(data: Any) -> set[str]:
    """Every string value of an ``id`` key anywhere in a file's raw data."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "id" and isinstance(value, str):
                found.add(value)
            else:
                found |= _ids_in(value)
    elif isinstance(data, list):
        for item in data:
            found |= _ids_in(item)
    return found


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def _work_signatures(ref: schema.Reference) -> list[str]:
    """What identifies the work a reference cites: its DOI, its PMID, and its first
    author's surname with the year and the title (the text after the authors' list, up
    to its full stop; companion papers share a title's start, not the whole)."""
    signatures = [f"doi:{ref.doi.lower()}"] if ref.doi else []
    if ref.pmid:
        signatures.append(f"pmid:{ref.pmid}")
    parts = ref.citation.split(". ")
    year = _YEAR.search(ref.citation)
    if len(parts) > 1 and year:
        surname = parts[0].split(" ")[0].lower()
        title = " ".join(re.findall(r"[a-z0-9]+", parts[1].lower()))
        signatures.append(f"cite:{surname}|{year.group()}|{title}")
    return signatures


@dataclass
class _Builder:
    root: Path
    problems: list[Problem] = field(default_factory=list)
    contents: dict[str, str] = field(default_factory=dict)
    docs: dict[str, list[_Parsed]] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    # What files that could not be read or validated would have defined (their stems, the
    # ids written in them) and diagnoses left out for an error of their own: their problems
    # are reported once, and uses of these ids elsewhere are not reported again as unknown.
    unloaded: set[str] = field(default_factory=set)

    # ---------------------------------------------------------------- reporting
    def error(self, doc: Document, path: PathKey, message: str, code: str) -> None:
        self.problems.append(doc.problem(path, message, code))

    def warn(self, doc: Document, path: PathKey, message: str, code: str) -> None:
        self.problems.append(Problem(doc.at(path), message, Severity.WARNING, code))

    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    # ---------------------------------------------------------------- reading
    def read(self) -> None:
        if not self.root.is_dir():
            self.problems.append(Problem(Location(str(self.root), 1),
                                         "knowledge base folder not found", code="missing"))
            return
        for path in iter_yaml_files(self.root):
            rel = path.relative_to(self.root)
            top = rel.parts[0]
            if top in OTHER_FOLDERS:
                continue
            if len(rel.parts) == 1:
                model = SINGLE_FILES.get(top)
                key = top
            else:
                model = FOLDERS.get(top)
                key = top
            if model is None:
                self.problems.append(Problem(
                    Location(self.name(path), 1),
                    f"not a known kind of knowledge-base file; files go in "
                    f"{', '.join([*SINGLE_FILES, *(f + '/' for f in FOLDERS)])}, or "
                    f"{', '.join(f + '/' for f in OTHER_FOLDERS)} (read by their own "
                    "commands)",
                    Severity.WARNING, "unknown-file"))
                continue
            self._read_one(path, key, model)
        for required in REQUIRED:
            if required not in self.docs and required not in self.failed:  # failed: reported
                self.problems.append(Problem(Location(self.name(self.root / required), 1),
                                             "required file is missing", code="missing"))

    def _read_one(self, path: Path, key: str, model: type[BaseModel]) -> None:
        try:
            doc = read_document(path, name=self.name(path))
        except InputError as exc:
            self.problems.extend(exc.problems)
            self.failed.add(key)
            self.unloaded.add(path.stem)
            return
        self.contents[path.relative_to(self.root).as_posix()] = repr(doc.data)
        parsed, problems = validate_model(doc, model)
        self.problems.extend(problems)
        if parsed is None:
            self.failed.add(key)
            self.unloaded |= {path.stem, *_ids_in(doc.data)}
        else:
            self.docs.setdefault(key, []).append(_Parsed(doc, parsed))

    def fingerprint(self) -> str:
        """A hash of every file's content, independent of the order files were read in."""
        digest = hashlib.sha256()
        for name in sorted(self.contents):
            digest.update(name.encode() + b"\0" + self.contents[name].encode() + b"\0")
        return digest.hexdigest()

    def single(self, key: str) -> _Parsed | None:
        found = self.docs.get(key)
        return found[0] if found else None

    # ---------------------------------------------------------------- building
    def build(self) -> KnowledgeBase | None:
        self.read()
        if self.single("kb.yaml") is None or self.failed & VOCABULARY_FILES:
            # Without the vocabulary every later check would cascade into false alarms.
            return None
        return _Assembler(self).assemble()


class _Assembler:
    """Second pass: the meaning of the parsed files, once the whole vocabulary is known."""

    def __init__(self, builder: _Builder):
        self.b = builder
        self.manifest: schema.Manifest = builder.single("kb.yaml").model  # type: ignore[union-attr]
        self.references: dict[str, schema.Reference] = {}
        self.ref_locations: dict[str, Location] = {}
        self.item_ids: dict[str, Location] = {}
        self.rule_ids: dict[str, Location] = {}
        self.rules: list[Rule] = []
        self.teaching: dict[str, schema.TeachingPoint] = {}
        self.seed_facts: tuple[schema.SeedFact, ...] = ()
        self.lr_limits = self._checked_lr_limits()

    # ---------------------------------------------------------------- helpers
    def _checked_lr_limits(self) -> tuple[float, float]:
        """``settings.lr_limits``; when its bounds are reversed or equal, the error is reported
        at kb.yaml and no ratio is checked against them (they would all be out of range)."""
        low, high = self.manifest.settings.lr_limits
        if low < high:
            return low, high
        doc = self.b.single("kb.yaml").doc  # type: ignore[union-attr]
        fix = f"write [{high:g}, {low:g}]" if low > high else "give a low bound below the high"
        self.b.error(doc, ("settings", "lr_limits"), f"lr_limits [{low:g}, {high:g}] must be "
                     f"[low, high] with low below high; {fix}", "bad-setting")
        return 0.0, math.inf

    def unique(self, table: dict[str, Location], item_id: str, doc: Document, path: PathKey,
               what: str) -> bool:
        if item_id in table:
            self.b.error(doc, path, f"duplicate {what} id '{item_id}' (first defined at "
                         f"{table[item_id]})", "duplicate-id")
            return False
        table[item_id] = doc.at(path)
        return True

    def check_refs(self, refs: Iterable[str], doc: Document, path: PathKey, *,
                   required: bool = True, what: str = "rule") -> tuple[str, ...]:
        refs = tuple(refs)
        if not refs and required:
            self.b.error(doc, (*path, "references"), f"{what} has no references; cite at "
                         "least one id from "
                         "references.yaml", "missing-reference")
        for i, ref in enumerate(refs):
            if ref not in self.references:
                self.b.error(doc, (*path, "references", i) if path else path,
                             f"unknown reference '{ref}'{did_you_mean(ref, self.references)}",
                             "unknown-reference")
        return refs

    def docs(self, key: str) -> list[_Parsed]:
        return self.b.docs.get(key, [])

    def lost(self, item_id: str) -> bool:
        """Whether ``item_id`` is defined in a file that is there but could not be loaded:
        an id written in it, or a rule of a diagnosis left out (rule ids start with the
        diagnosis id), or a population prior, when the catch-all it is stated against could
        not be loaded."""
        unloaded = self.b.unloaded
        if self.manifest.other_diagnosis in unloaded and item_id.endswith(".prior.population"):
            return True  # every population prior is stated against the catch-all's base
        return any(item_id == x or item_id.startswith(x + ".") for x in unloaded)

    def unknown_diagnosis(self, doc: Document, path: PathKey, dx_id: str,
                          known: Mapping[str, object], *, list_allowed: bool = False) -> None:
        """Report a use of a diagnosis id that is not defined, unless its own file is there
        but broken: that file's problem is the one to mend, and one typo in a diagnosis
        file must not bury it under an error at every place that names the diagnosis."""
        if self.lost(dx_id):
            return
        also = f"; {allowed(known)}" if list_allowed else ""
        self.b.error(doc, path, f"unknown diagnosis '{dx_id}'{did_you_mean(dx_id, known)}{also}",
                     "unknown-diagnosis")

    # ---------------------------------------------------------------- assemble
    def assemble(self) -> KnowledgeBase | None:
        self._references()
        vocab, topics, finding_topics = self._vocabulary()
        concepts = self._concept_table()
        diagnoses, named = self._diagnosis_table()
        parser_for = lambda doc, allow=True: ConditionParser(  # noqa: E731
            doc, vocab, concepts, allow_concepts=allow)
        self._variables_meaning(vocab)
        relevance = self._relevance(vocab)
        self._concept_rules(concepts, parser_for, vocab)
        priors = self._diagnoses(diagnoses, parser_for, vocab)
        profiles, reference = self._profiles(diagnoses, priors, vocab)
        pitfalls = self._conditional_items("pitfalls", Kind.PITFALL, parser_for, vocab)
        recommendations = self._conditional_items("recommendations", Kind.RECOMMENDATION,
                                                  parser_for, vocab)
        self._served("pitfalls", {**diagnoses, **named})
        self._served("recommendations", {**diagnoses, **named})
        for rec in recommendations.values():
            if rec.modality and rec.modality not in vocab.modalities:
                parsed = self._find_doc("recommendations", rec.id)
                if parsed:
                    self.b.error(parsed[0], parsed[1], f"unknown modality '{rec.modality}'",
                                 "unknown-modality")
        self._teaching_files()
        quizzes = self._quizzes()
        self._population_rules(diagnoses, vocab)
        coverage = self._coverage(vocab)
        report_rates = self._report_rates(vocab, diagnoses)
        illustrations = self._illustrations()
        self._stratify(concepts)
        manifest_doc = self.b.single("kb.yaml").doc  # type: ignore[union-attr]
        for i, dx_id in enumerate(self.manifest.must_not_miss):
            if dx_id not in diagnoses:
                self.unknown_diagnosis(manifest_doc, ("must_not_miss", i), dx_id, diagnoses)
        if self.manifest.other_diagnosis not in diagnoses and not self.lost(
                self.manifest.other_diagnosis):
            doc = self.b.single("kb.yaml").doc  # type: ignore[union-attr]
            self.b.error(doc, ("other_diagnosis",), f"the catch-all diagnosis "
                         f"'{self.manifest.other_diagnosis}' has no file in diagnoses/",
                         "missing-diagnosis")
        if any(p.severity is Severity.ERROR for p in self.b.problems):
            return None
        rules = sorted(self.rules, key=lambda r: (r.stratum, list(Kind).index(r.kind), r.id))
        return KnowledgeBase(
            root=self.b.root,
            manifest=self.manifest,
            fingerprint=self.b.fingerprint(),
            references=MappingProxyType(self.references),
            vocabulary=vocab,
            finding_topics=MappingProxyType(finding_topics),
            topics=MappingProxyType(topics),
            concepts=MappingProxyType({c.id: c for c, _ in concepts.values()}),
            diagnoses=MappingProxyType(diagnoses),
            pitfalls=MappingProxyType(pitfalls),
            recommendations=MappingProxyType(recommendations),
            teaching_points=MappingProxyType(self.teaching),
            quizzes=MappingProxyType(quizzes),
            seed_coverage=coverage,
            seed_facts=self.seed_facts,
            rules=tuple(rules),
            base_priors=MappingProxyType(priors),
            relevance=MappingProxyType(relevance),
            report_rates=MappingProxyType(report_rates),
            named_diagnoses=MappingProxyType(named),
            illustrations=MappingProxyType(illustrations),
            profiles=MappingProxyType(profiles),
            reference=MappingProxyType(reference),
        )

    def _find_doc(self, key: str, item_id: str) -> tuple[Document, PathKey] | None:
        for parsed in self.docs(key):
            for i, item in enumerate(getattr(parsed.model, key)):
                if item.id == item_id:
                    return parsed.doc, (key, i)
        return None

    # ---------------------------------------------------------------- references
    def _references(self) -> None:
        works: dict[str, str] = {}  # a work's signature -> the first id that cites it
        for parsed in [*self.docs("references.yaml"), *self.docs("references")]:
            for i, ref in enumerate(parsed.model.references):
                if self.unique(self.ref_locations, ref.id, parsed.doc, ("references", i, "id"),
                               "reference"):
                    self.references[ref.id] = ref
                    self._same_work(works, ref, parsed.doc, ("references", i, "id"))
        manifest_doc = self.b.single("kb.yaml").doc  # type: ignore[union-attr]
        self.check_refs(self.manifest.strength_scale.references, manifest_doc,
                        ("strength_scale",), what="the strength scale")

    def _same_work(self, works: dict[str, str], ref: schema.Reference, doc: Document,
                   path: PathKey) -> None:
        """Warn when a reference cites a work already listed under another id (the same DOI
        or PMID, or the same first author, year and title): its figures would be quoted
        twice under two names, and a correction made to one would miss the other."""
        for signature in _work_signatures(ref):
            first = works.setdefault(signature, ref.id)
            if first != ref.id:
                self.b.warn(doc, path, f"reference '{ref.id}' cites the same work as '{first}' "
                            f"(first defined at {self.ref_locations[first]}); keep one id and "
                            "cite it everywhere", "duplicate-reference")
                return

    # ---------------------------------------------------------------- vocabulary
    def _vocabulary(self) -> tuple[Vocabulary, dict[str, str], dict[str, str]]:
        modalities: dict[str, schema.Modality] = {}
        for parsed in self.docs("modalities.yaml"):
            for i, mod in enumerate(parsed.model.modalities):
                if self.unique(self.item_ids, mod.id, parsed.doc, ("modalities", i, "id"),
                               "modality"):
                    modalities[mod.id] = mod
        for parsed in self.docs("modalities.yaml"):
            for i, mod in enumerate(parsed.model.modalities):
                for j, inc in enumerate(mod.includes):
                    if inc not in modalities:
                        self.b.error(parsed.doc, ("modalities", i, "includes", j),
                                     f"unknown modality '{inc}'"
                                     f"{did_you_mean(inc, modalities)}", "unknown-modality")
        patient: dict[str, schema.Variable] = {}
        for parsed in self.docs("patient.yaml"):
            for i, var in enumerate(parsed.model.fields):
                self._flatten_patient(var, "", patient, parsed.doc, ("fields", i))
        findings: dict[str, schema.Variable] = {}
        topics: dict[str, str] = {}
        finding_topics: dict[str, str] = {}
        for parsed in self.docs("findings"):
            model: schema.FindingsFile = parsed.model
            topics[model.topic] = model.title
            for i, var in enumerate(model.findings):
                if self.unique(self.item_ids, var.id, parsed.doc, ("findings", i, "id"),
                               "finding"):
                    findings[var.id] = var
                    finding_topics[var.id] = model.topic
        return Vocabulary(findings, patient, modalities), topics, finding_topics

    def _flatten_patient(self, var: schema.Variable, prefix: str,
                         out: dict[str, schema.Variable], doc: Document, path: PathKey) -> None:
        key = prefix + var.id
        if key in out:
            self.b.error(doc, (*path, "id"), f"duplicate patient field '{key}'", "duplicate-id")
            return
        out[key] = var
        if var.type == "group":
            if not var.fields:
                self.b.error(doc, path, f"group '{var.id}' needs 'fields'", "missing-key")
            for j, sub in enumerate(var.fields):
                self._flatten_patient(sub, key + ".", out, doc, (*path, "fields", j))

    def _variables_meaning(self, vocab: Vocabulary) -> None:
        groups = [(p, ("findings",), p.model.findings) for p in self.docs("findings")]
        groups += [(p, ("fields",), p.model.fields) for p in self.docs("patient.yaml")]
        for parsed, base, variables in groups:
            for i, var in enumerate(variables):
                self._variable_meaning(var, parsed.doc, (*base, i), vocab)

    def _variable_meaning(self, var: schema.Variable, doc: Document, path: PathKey,
                          vocab: Vocabulary) -> None:
        if var.type in ("choice", "multi"):
            if len(var.values) < 2:
                self.b.error(doc, (*path, "values"), f"'{var.id}' is a {var.type} and needs "
                             "at least two values", "missing-values")
            for alias, target in var.aliases.items():
                if target not in var.values:
                    self.b.error(doc, (*path, "aliases", alias), f"alias '{alias}' points to "
                                 f"'{target}', which is not a value of '{var.id}'"
                                 f"{did_you_mean(target, var.values)}", "unknown-value")
                if alias in var.values:
                    self.b.error(doc, (*path, "aliases", alias), f"alias '{alias}' is "
                                 "already a value", "duplicate-id")
        elif var.type in ("number", "integer"):
            if var.range is None or var.range[0] >= var.range[1]:
                self.b.error(doc, (*path, "range"), f"'{var.id}' is a number and needs "
                             "'range: [low, high]' with low < high", "missing-range")
            if var.values:
                self.b.error(doc, (*path, "values"), f"'{var.id}' is a number; remove "
                             "'values' (use 'bins' to group answers)", "bad-spec")
            if var.range and any(not var.range[0] < b < var.range[1] for b in var.bins):
                self.b.error(doc, (*path, "bins"), "every bin edge must lie inside 'range'",
                             "out-of-range")
        for j, mod in enumerate(var.needs):
            if mod not in vocab.modalities:
                self.b.error(doc, (*path, "needs", j), f"unknown modality '{mod}'"
                             f"{did_you_mean(mod, vocab.modalities)}; "
                             f"{allowed(vocab.modalities)}", "unknown-modality")
        for req_var, req in var.requires.items():
            required = vocab.findings.get(req_var)
            if required is None:
                self.b.error(doc, (*path, "requires", req_var), f"unknown finding "
                             f"'{req_var}'{did_you_mean(req_var, vocab.findings)}",
                             "unknown-finding")
                continue
            for value in req if isinstance(req, list) else [req]:
                if value not in required.values:
                    self.b.error(doc, (*path, "requires", req_var), f"'{value}' is not a value "
                                 f"of '{req_var}'{did_you_mean(value, required.values)}",
                                 "unknown-value")
        for value, spec in var.values.items():
            for implied_var, implied in spec.implies.items():
                where = (*path, "values", value, "implies", implied_var)
                entailed = vocab.findings.get(implied_var)
                if implied_var == var.id:
                    self.b.error(doc, where, f"'{var.id}: {value}' cannot imply a value of its "
                                 "own finding; 'implies' names another finding", "bad-spec")
                elif entailed is None:
                    self.b.error(doc, where, f"'{var.id}: {value}' implies unknown finding "
                                 f"'{implied_var}'{did_you_mean(implied_var, vocab.findings)}",
                                 "unknown-finding")
                elif implied not in entailed.values:
                    self.b.error(doc, where, f"'{implied}' is not a value of '{implied_var}'"
                                 f"{did_you_mean(implied, entailed.values)}; "
                                 f"{allowed(entailed.values)}", "unknown-value")
        for where, message in _population_problems(var):
            self.b.error(doc, (*path, *where), message, "bad-population")
        self.check_refs(var.references, doc, path, required=False)

    def _relevance(self, vocab: Vocabulary) -> dict[str, Any]:
        relevance = {}
        for parsed in self.docs("findings"):
            parser = ConditionParser(parsed.doc, vocab, (), allow_concepts=False)
            for i, var in enumerate(parsed.model.findings):
                if var.ask_when:
                    relevance[var.id] = parser.parse(var.ask_when, ("findings", i, "ask_when"))
            self.b.problems.extend(parser.problems)
        return relevance

    # ---------------------------------------------------------------- tables
    def _concept_table(self) -> dict[str, tuple[schema.Concept, tuple[Document, PathKey]]]:
        table: dict[str, tuple[schema.Concept, tuple[Document, PathKey]]] = {}
        for parsed in self.docs("concepts"):
            for i, concept in enumerate(parsed.model.concepts):
                if self.unique(self.item_ids, concept.id, parsed.doc, ("concepts", i, "id"),
                               "concept"):
                    table[concept.id] = (concept, (parsed.doc, ("concepts", i)))
        return table

    def _diagnosis_table(self) -> tuple[dict[str, schema.DiagnosisFile],
                                        dict[str, schema.DiagnosisFile]]:
        """The described diagnoses (ranked) and the only-named ones (ranked as 'other')."""
        table, named = {}, {}
        for parsed in self.docs("diagnoses"):
            dx: schema.DiagnosisFile = parsed.model
            stem = Path(parsed.doc.name).stem
            if stem != dx.id:
                self.b.error(parsed.doc, ("id",), f"diagnosis id '{dx.id}' must match its file "
                             f"name '{stem}.yaml' (one diagnosis per file)", "file-name")
            if not self.unique(self.item_ids, dx.id, parsed.doc, ("id",), "diagnosis"):
                continue
            if dx.status == "named":
                if dx.rules or dx.prior_factors:
                    self.b.error(parsed.doc, ("status",), f"'{dx.id}' is only named "
                                 "(status: named) but has rules; describe it (remove "
                                 "'status: named') or remove its rules", "named-with-rules")
                named[dx.id] = dx
            elif dx.prior is None:
                self.b.error(parsed.doc, ("id",), f"diagnosis '{dx.id}' needs a 'prior' "
                             "(or 'status: named' until it is described)", "missing-key")
                self.b.unloaded.add(dx.id)  # reported here, not again where it is named
            else:
                table[dx.id] = dx
        known = {**table, **named}
        for parsed in self.docs("diagnoses"):
            for i, mimic in enumerate(parsed.model.mimics):
                if mimic not in known:
                    self.unknown_diagnosis(parsed.doc, ("mimics", i), mimic, known)
        return table, named

    # ---------------------------------------------------------------- rules
    def _rule_id(self, rule_id: str, owner: str, doc: Document, path: PathKey) -> bool:
        if not rule_id.startswith(owner + "."):
            self.b.error(doc, (*path, "id"), f"rule id '{rule_id}' must start with "
                         f"'{owner}.'", "bad-id")
            return False
        return self.unique(self.rule_ids, rule_id, doc, (*path, "id"), "rule")

    def _examples(self, examples: list[schema.Example], doc: Document, path: PathKey,
                  vocab: Vocabulary) -> tuple[RuleExample, ...]:
        from ossdx.kb.case import Case, VocabularyChecker, case_facts

        result = []
        for i, ex in enumerate(examples):
            sub = (*path, "examples", i)
            checker = VocabularyChecker(vocab, doc)
            findings = checker.findings(ex.findings, (*sub, "findings"))
            patient = checker.patient(ex.patient, (*sub, "patient")) if ex.patient else {}
            given = (checker.modalities(ex.modalities, (*sub, "modalities"))
                     if ex.modalities is not None else None)
            modalities = checker.consistency(findings, given, sub)
            self.b.problems.extend(checker.problems)
            case = Case(findings=findings, patient=patient, modalities=modalities)
            result.append(RuleExample(MappingProxyType(case_facts(case, vocab)),
                                      ex.fires == "yes", ex.note, doc.at(sub)))
        return tuple(result)

    def _add_rule(self, parser: ConditionParser, spec: Any, path: PathKey, *, kind: Kind,
                  target: str, vocab: Vocabulary, lr: float = 1.0, effect: str | None = None,
                  strength: str | None = None, group: str | None = None,
                  teaching_point: str | None = None, rule_id: str | None = None) -> None:
        when = parser.parse(spec.when, (*path, "when"))
        self.b.problems.extend(parser.problems)
        parser.problems.clear()
        what = {Kind.PITFALL: "pitfall", Kind.RECOMMENDATION: "recommendation"}.get(kind, "rule")
        refs = self.check_refs(spec.references, parser.doc, path, what=what)
        examples = self._examples(getattr(spec, "examples", []), parser.doc, path, vocab)
        self.rules.append(Rule(
            id=rule_id or spec.id, kind=kind, target=target, description=getattr(
                spec, "description", "") or getattr(spec, "title", ""),
            when=when, lr=lr, effect=effect, strength=strength, group=group, references=refs,
            teaching_point=teaching_point, examples=examples,
            takes_examples=hasattr(spec, "examples"), location=parser.doc.at(path)))

    def _concept_rules(self, concepts: dict[str, Any], parser_for: Any,
                       vocab: Vocabulary) -> None:
        for concept_id, (concept, (doc, path)) in concepts.items():
            self.check_refs(concept.references, doc, path, required=False)
            parser = parser_for(doc)
            for j, spec in enumerate(concept.rules):
                sub = (*path, "rules", j)
                if self._rule_id(spec.id, concept_id, doc, sub):
                    self._add_rule(parser, spec, sub, kind=Kind.CONCEPT, target=concept_id,
                                   vocab=vocab)

    def _lr(self, spec: schema.RuleSpec, doc: Document, path: PathKey) -> tuple[float, str]:
        scale = self.manifest.strength_scale
        given = [k for k in ("strength", "lr", "accuracy") if getattr(spec, k) is not None]
        if len(given) != 1:
            self.b.error(doc, path, "give exactly one of 'strength' (strong, moderate, weak), "
                         f"'lr' or 'accuracy'; found {', '.join(given) or 'none'}",
                         "strength")
            return 1.0, "?"
        if spec.strength is not None:
            ratio = getattr(scale, spec.strength)
            lr = ratio if spec.effect == "for" else 1.0 / ratio
            label = f"{spec.strength} (LR {lr:.3g})"
        elif spec.lr is not None:
            lr = spec.lr
            label = f"LR {lr:.3g}"
        else:
            acc = spec.accuracy
            assert acc is not None
            sens, spec_ = acc.sensitivity, acc.specificity
            lr = sens / (1 - spec_) if acc.use == "positive" else (1 - sens) / spec_
            if spec.effect == "against" and lr > 1:
                lr = 1.0 / lr
            label = (f"LR {lr:.3g} (sensitivity {sens:g}, specificity {spec_:g}; "
                     f"{acc.reference})")
            self.check_refs([acc.reference], doc, (*path, "accuracy"), what="accuracy")
        where = (*path, given[0])
        if (spec.effect == "for") != (lr > 1):
            self.b.error(doc, where, f"effect is '{spec.effect}' but the likelihood ratio is "
                         f"{lr:.3g}; a rule for a diagnosis needs LR > 1, against needs LR < 1",
                         "lr-direction")
        low, high = self.lr_limits
        if not low <= lr <= high:
            self.b.error(doc, where, f"likelihood ratio {lr:.3g} is outside the sane range "
                         f"{low:g} to {high:g} (settings.lr_limits)", "lr-range")
        return lr, label

    def _diagnoses(self, diagnoses: dict[str, schema.DiagnosisFile], parser_for: Any,
                   vocab: Vocabulary) -> dict[str, float]:
        priors = {}
        low, high = self.lr_limits
        for parsed in self.docs("diagnoses"):
            dx: schema.DiagnosisFile = parsed.model
            doc = parsed.doc
            if dx.id not in diagnoses or diagnoses[dx.id] is not dx:
                continue
            # The table holds described diagnoses only; _diagnosis_table ensured a prior.
            assert dx.prior is not None
            priors[dx.id] = dx.prior.base
            self.check_refs(dx.prior.references, doc, ("prior",), what="the prior")
            parser = parser_for(doc)
            for i, factor in enumerate(dx.prior_factors):
                path = ("prior_factors", i)
                if not low <= factor.factor <= high:
                    self.b.error(doc, (*path, "factor"), f"prior factor {factor.factor:g} is "
                                 f"outside the sane range {low:g} to {high:g}", "lr-range")
                if self._rule_id(factor.id, dx.id, doc, path):
                    self._add_rule(parser, factor, path, kind=Kind.PRIOR, target=dx.id,
                                   vocab=vocab, lr=factor.factor, effect="for"
                                   if factor.factor > 1 else "against",
                                   strength=f"prior x{factor.factor:g}")
                    findings = sorted(v for v in self.rules[-1].variables
                                      if v in vocab.findings)
                    if findings:
                        self.b.warn(doc, (*path, "when"), f"prior factor '{factor.id}' reads "
                                    f"the finding(s) {', '.join(findings)}; the patient context "
                                    "is the prior and findings are evidence, so state them in "
                                    "the profile (each piece of information counts once)",
                                    "context-once")
            for i, tp in enumerate(dx.teaching_points):
                self._teaching_point(tp, doc, ("teaching_points", i))
            for i, spec in enumerate(dx.rules):
                path = ("rules", i)
                lr, label = self._lr(spec, doc, path)
                if self._rule_id(spec.id, dx.id, doc, path):
                    self._add_rule(parser, spec, path, kind=Kind.EVIDENCE, target=dx.id,
                                   vocab=vocab, lr=lr, effect=spec.effect, strength=label,
                                   group=spec.group, teaching_point=spec.teaching_point)
        return priors

    # ---------------------------------------------------------------- likelihood profiles
    def _profiles(self, diagnoses: dict[str, schema.DiagnosisFile], priors: dict[str, float],
                  vocab: Vocabulary) -> tuple[dict[str, dict[str, dict[str, float]]],
                                              dict[str, dict[str, float]]]:
        """Check every profile, compute the references and compile the profile rules
        (:mod:`ossdx.kb.profiles` states the model). Returns the shrunk profiles
        (diagnosis -> finding -> value -> P') and the references (finding -> value -> R);
        for a site-dependent finding, the marginals (the site not given)."""
        stated: dict[str, dict[str, dict[str, float]]] = {}  # finding -> dx -> distribution
        entries: dict[tuple[str, str], Entry] = {}
        sited: dict[tuple[str, str, Cell], Entry] = {}  # entries with 'given'
        keys_of: dict[str, list[prof.ValueKey]] = {}
        rejected: set[tuple[str, str]] = set()  # (diagnosis, finding) of entries in error
        for parsed in self.docs("diagnoses"):
            dx: schema.DiagnosisFile = parsed.model
            if dx.id not in diagnoses or diagnoses[dx.id] is not dx:
                continue
            for i, entry in enumerate(dx.profile):
                path: PathKey = ("profile", i)
                distribution = self._profile_entry(entry, parsed.doc, path, vocab, keys_of)
                cell = self._given_cell(entry, parsed.doc, path, vocab)
                if distribution is None or cell is None:
                    rejected.add((dx.id, entry.finding))
                    continue
                found = Entry(entry, parsed.doc, path, distribution)
                if cell[1]:
                    if (dx.id, entry.finding, cell) in sited:
                        self.b.error(parsed.doc, (*path, "given"), f"'{entry.finding}' is "
                                     "stated twice for these sites", "duplicate-id")
                    sited[(dx.id, entry.finding, cell)] = found
                elif (dx.id, entry.finding) in entries:
                    self.b.error(parsed.doc, (*path, "finding"), f"'{entry.finding}' is "
                                 "stated twice in this profile", "duplicate-id")
                else:
                    stated.setdefault(entry.finding, {})[dx.id] = distribution
                    entries[(dx.id, entry.finding)] = found
        reference = {f: self._population(f, vocab, keys_of) or prof.reference(dists, priors)
                     for f, dists in stated.items()}
        situations = self._situations(sited, entries, stated, reference, priors, vocab,
                                      rejected)
        shrunk: dict[str, dict[str, dict[str, float]]] = {}
        implied_by = _implied_by(vocab)
        for (dx_id, finding), found in entries.items():
            by_site = situations.get(finding)
            if by_site is None:
                shrunk.setdefault(dx_id, {})[finding] = self._profile_rules(
                    dx_id, finding, found, stated[finding][dx_id], reference[finding],
                    prof.Situation(None), vocab, keys_of, implied_by)
                continue
            for situation, (dists, ref) in by_site.items():
                cell = (situation.site, situation.cell) if situation.cell else None
                used = sited.get((dx_id, finding, cell), found) if cell else found
                dist = self._profile_rules(dx_id, finding, used, dists[dx_id], ref, situation,
                                           vocab, keys_of, implied_by)
                if cell is None:
                    shrunk.setdefault(dx_id, {})[finding] = dist
                    reference[finding] = ref
        self._patterns(diagnoses, entries, keys_of, rejected, vocab)
        self._core_findings(diagnoses, stated, vocab)
        marginal = {f: next(dists for k, (dists, _) in by_site.items() if k.cell is None)
                    for f, by_site in situations.items()}
        self._entailments({f: marginal.get(f, dists) for f, dists in stated.items()},
                          entries, implied_by, vocab)
        return shrunk, reference

    def _given_cell(self, entry: schema.ProfileEntry, doc: Document, path: PathKey,
                    vocab: Vocabulary) -> Cell | None:
        """The finding and values of the entry's ``given`` (no values: a plain entry), or
        None after an error."""
        if not entry.given:
            return ("", frozenset())
        where = (*path, "given")
        if len(entry.given) != 1:
            self.b.error(doc, where, "'given' names one finding, such as "
                         "'{region: [rib, skull]}'", "bad-given")
            return None
        ((name, values),) = entry.given.items()
        spec = vocab.findings.get(name)
        if spec is None or spec.type != "choice" or name == entry.finding:
            self.b.error(doc, (*where, name), f"'given' must name another one-choice finding "
                         f"(such as region), not '{name}'"
                         f"{did_you_mean(name, vocab.findings) if spec is None else ''}",
                         "bad-given")
            return None
        items = values if isinstance(values, list) else [values]
        bad = [v for v in items if v not in spec.values]
        if bad or not items:
            self.b.error(doc, (*where, name), f"'{bad[0] if bad else ''}' is not a value of "
                         f"'{name}'{did_you_mean(bad[0], spec.values) if bad else ''}; "
                         f"{allowed(list(spec.values))}", "unknown-value")
            return None
        if len(set(items)) == len(spec.values):
            self.b.error(doc, (*where, name), "'given' names every value of "
                         f"'{name}': state the plain entry instead", "bad-given")
            return None
        return (name, frozenset(items))

    def _situations(self, sited: Mapping[tuple[str, str, Cell], Entry],
                    entries: Mapping[tuple[str, str], Entry],
                    stated: Mapping[str, Mapping[str, Mapping[str, float]]],
                    reference: Mapping[str, Mapping[str, float]], priors: Mapping[str, float],
                    vocab: Vocabulary, rejected: set[tuple[str, str]],
                    ) -> dict[str, dict[prof.Situation, tuple[
                        dict[str, dict[str, float]], dict[str, float]]]]:
        """For each finding stated per site: its cells checked, and every situation's
        distributions and reference (:func:`ossdx.kb.profiles.situated`)."""
        cells_of: dict[str, list[Cell]] = {}
        for (dx_id, finding, cell), found in sited.items():
            if (dx_id, finding) not in entries:
                if (dx_id, finding) not in rejected:  # else its plain entry's error is shown
                    self.b.error(found.doc, found.path, f"'{dx_id}' states '{finding}' for "
                                 "some sites but has no plain entry of it for the other "
                                 "sites; add one (without 'given')", "bad-given")
                continue
            if vocab.findings[finding].population:
                self.b.error(found.doc, (*found.path, "given"), f"'{finding}' declares a "
                             "population, which holds at every site: it cannot be stated per "
                             "site", "bad-given")
                continue
            cells = cells_of.setdefault(finding, [])
            names = {name for name, _ in [*cells, cell]}
            clash = next((c for c in cells if c != cell and c[1] & cell[1]), None)
            if len(names) > 1 or clash is not None:
                self.b.error(found.doc, (*found.path, "given"), f"the sites of '{finding}' "
                             "must be the same or disjoint in every profile that states it per "
                             f"site, over one finding ({', '.join(sorted(names))} here)",
                             "bad-given")
            elif cell not in cells:
                cells.append(cell)
        result = {}
        for finding, cells in cells_of.items():
            site = cells[0][0]
            dists = stated[finding]
            default = reference.get(site) or {v: 1 / len(vocab.findings[site].values)
                                              for v in vocab.findings[site].values}
            share = {d: stated.get(site, {}).get(d, default) for d in dists}
            given = {(d, c[1]): found.distribution for (d, f, c), found in sited.items()
                     if f == finding and (d, f) in entries}
            result[finding] = prof.situated(dists, given, share, priors,
                                            [values for _, values in cells], site)
        return result

    def _profile_rules(self, dx_id: str, finding: str, found: Entry, raw: Mapping[str, float],
                       ref: Mapping[str, float], situation: prof.Situation,
                       vocab: Vocabulary, keys_of: Mapping[str, list[prof.ValueKey]],
                       implied_by: ImpliedBy,
                       ) -> dict[str, float]:
        """Compile one diagnosis's rules of one finding in one situation; returns P'."""
        settings = self.manifest.settings
        low, high = self.lr_limits
        entry = found.entry
        if entry.basis == "definition":
            dist = dict(raw)
        else:
            n = entry.n if entry.basis == "study" and entry.n else settings.expert_n
            dist = {k: prof.shrunk(p, ref[k], n, settings.profile_pseudo_count)
                    for k, p in raw.items()}
        for key in keys_of[finding]:
            lr = dist[key.key] / ref[key.key]
            if not prof.informative(lr, settings.uninformative_band):
                continue
            if not low <= lr <= high:
                self.b.warn(found.doc, (*found.path, "p"), f"the ratio of '{finding}: "
                            f"{key.key}' for '{dx_id}' is {lr:.3g}, outside {low:g} to "
                            f"{high:g} (settings.lr_limits): it was clipped; cite a larger "
                            "study or temper the figure", "lr-range")
                lr = min(max(lr, low), high)
            self.rules.append(self._profile_rule(dx_id, finding, vocab.findings[finding], key,
                                                 lr, dist[key.key], ref[key.key], entry,
                                                 found.doc, found.path, vocab, implied_by,
                                                 situation))
        return dist

    def _entailments(self, stated: Mapping[str, Mapping[str, Mapping[str, float]]],
                     entries: Mapping[tuple[str, str], Entry],
                     implied_by: ImpliedBy,
                     vocab: Vocabulary) -> None:
        """Warn where a profile makes an implying value likelier than what it implies.

        If ``a`` implies ``b``, every lesion with ``a`` has ``b``, so ``P(a | d) <= P(b | d)``;
        several values of one finding that imply ``b`` exclude each other, so their sum is
        bounded so. Only findings asked under the same ``ask_when`` are compared: their
        probabilities are over the same lesions."""
        for (implied, value), impliers in implied_by.items():
            for finding, givens in impliers.items():
                if implied not in vocab.findings or \
                        vocab.findings[finding].ask_when != vocab.findings[implied].ask_when:
                    continue  # an unknown finding is reported where 'implies' names it
                for dx_id, dist in stated.get(finding, {}).items():
                    target = stated.get(implied, {}).get(dx_id)
                    total = sum(dist[g] for g in givens)
                    if target is None or value not in target or total <= target[value] + 1e-9:
                        continue
                    found = entries[(dx_id, finding)]
                    named = " or ".join(givens)
                    self.b.warn(found.doc, found.path, f"P({finding}: {named} | {dx_id}) = "
                                f"{total:.3g} exceeds P({implied}: {value}) = "
                                f"{target[value]:.3g}, yet "
                                f"{'each implies' if len(givens) > 1 else 'it implies'} "
                                f"'{value}' (findings/*.yaml implies): raise the second or "
                                "lower the first", "implies-inconsistent")

    def _population(self, finding: str, vocab: Vocabulary,
                    keys_of: Mapping[str, list[prof.ValueKey]]) -> dict[str, float] | None:
        """The finding's declared population distribution (checked), or None."""
        spec = vocab.findings[finding]
        if not spec.population:
            return None
        names = [k.key for k in keys_of[finding]]
        if _population_problems(spec):
            return None  # reported with the finding (_variable_meaning)
        return prof.completed(spec.population, names, True)

    def _profile_entry(self, entry: schema.ProfileEntry, doc: Document, path: PathKey,
                       vocab: Vocabulary, keys_of: dict[str, list[prof.ValueKey]],
                       ) -> dict[str, float] | None:
        """The entry's full raw distribution, or None after reporting what is wrong."""
        spec = vocab.findings.get(entry.finding)
        if spec is None:
            self.b.error(doc, (*path, "finding"), f"unknown finding '{entry.finding}'"
                         f"{new_finding_hint(entry.finding, vocab.findings)}",
                         "unknown-finding")
            return None
        keys = keys_of.setdefault(entry.finding, prof.value_keys(spec))
        if not keys:
            self.b.error(doc, (*path, "finding"), f"'{entry.finding}' cannot have a profile: "
                         "only one-choice findings and numbers with bins can", "bad-profile")
            return None
        names = [k.key for k in keys]
        ok = True
        for value, p in entry.p.items():
            if value not in names:
                self.b.error(doc, (*path, "p", value), f"'{value}' is not a value of "
                             f"'{entry.finding}'{did_you_mean(value, names)}; {allowed(names)}",
                             "unknown-value")
                ok = False
            elif not (isinstance(p, (int, float)) and 0.0 < p < 1.0):
                self.b.error(doc, (*path, "p", value), f"P({value} | diagnosis) is {p!r}; a "
                             "probability in a profile must lie strictly between 0 and 1 (no "
                             "value is impossible: write a small figure such as 0.01)",
                             "bad-probability")
                ok = False
        if not ok:
            return None
        complete = entry.complete == "yes"
        wrong_sum = _profile_sum_problem(entry, names)
        if wrong_sum is not None:
            where, message, code = wrong_sum
            self.b.error(doc, (*path, *where), message, code)
            return None
        if entry.basis == "study" and not entry.n:
            self.b.error(doc, (*path, "basis"), "a figure from a study needs 'n' (the number "
                         "of lesions behind it), or write 'basis: expert'", "missing-key")
            return None
        if entry.basis == "definition" and not entry.note:
            self.b.error(doc, (*path, "basis"), "a figure stated by definition is not shrunk: "
                         "its 'note' must say which definition fixes it and what the remainder "
                         "allows for (a mislabelled or borderline lesion)", "missing-key")
            return None
        self.check_refs(entry.references, doc, path, required=entry.basis == "study",
                        what="a profile from a study")
        return prof.completed(entry.p, names, complete)

    def _profile_rule(self, dx_id: str, finding: str, spec: schema.Variable,
                      key: prof.ValueKey, lr: float, p: float, ref: float,
                      entry: schema.ProfileEntry, doc: Document, path: PathKey,
                      vocab: Vocabulary,
                      implied_by: ImpliedBy,
                      situation: prof.Situation) -> Rule:
        location = doc.at((*path, "p", key.key)) if key.key in entry.p else doc.at(path)
        if key.low is None and key.high is None:
            atom = Atom(finding, Op.IN, frozenset({key.key}), location=location)
            shown = spec.values[key.key].label
        else:
            atom = Atom(finding, Op.BETWEEN, low=key.low, high=key.high, location=location)
            shown = f"{key.key}{' ' + spec.unit if spec.unit else ''}"
        when: tuple[tuple[Atom, ...], ...] = ((atom,),)
        where, of_lesions = "", "lesions of this diagnosis"
        if situation.site:
            site = vocab.findings[situation.site]
            if situation.cell is None:  # the marginal: the site was not given
                extra = Atom(situation.site, Op.UNKNOWN, location=location, guard=True)
            elif situation.cell:
                extra = Atom(situation.site, Op.IN, situation.cell, location=location)
                of_lesions = f"{of_lesions} in the {_labels(site, situation.cell)}"
                where = " there"
            else:
                extra = Atom(situation.site, Op.NOT_IN, situation.others, location=location,
                             guard=True)
                of_lesions = f"{of_lesions} outside the {_labels(site, situation.others)}"
                where = " there"
            when = tuple((*conj, extra) for conj in when)
        for other, values in implied_by.get((finding, key.key), {}).items():
            # counted once: with 'other' given one of these values, its own ratio already
            # holds this one (several values of one finding make one guard, not a product)
            when = tuple((*conj, extra) for conj in when
                         for extra in (Atom(other, Op.UNKNOWN, location=location,
                                            guard=True),
                                       Atom(other, Op.NOT_IN, frozenset(values),
                                            location=location, guard=True)))
        implied = ", ".join(f"{vocab.findings[v].name}: {vocab.findings[v].values[x].label}"
                            for v, x in spec.values[key.key].implies.items()
                            if v in vocab.findings and x in vocab.findings[v].values) \
            if key.key in spec.values else ""
        also = f" It implies {implied}, which is not counted again." if implied else ""
        basis = {"study": f"n={entry.n}", "definition": "by definition"}.get(entry.basis,
                                                                              "expert estimate")
        suffix = f".{situation.slug}" if situation.slug else ""
        return Rule(
            id=f"{dx_id}.profile.{finding}.{key.slug}{suffix}", kind=Kind.EVIDENCE,
            target=dx_id,
            description=(f"{spec.name}: {shown}. Seen in about {p:.0%} of {of_lesions} "
                         f"against {ref:.0%} of the reference mix{where}.{also}"),
            when=when, lr=lr, effect="for" if lr > 1 else "against",
            strength=f"P {p:.2f} vs {ref:.2f}, LR {lr:.3g} ({basis})",
            references=tuple(entry.references), location=location)

    def _patterns(self, diagnoses: dict[str, schema.DiagnosisFile],
                  entries: Mapping[tuple[str, str], Entry],
                  keys_of: Mapping[str, list[prof.ValueKey]],
                  rejected: set[tuple[str, str]], vocab: Vocabulary) -> None:
        """Each pattern's signs and rules count once: they become one group. A sign over a
        profile entry that was itself in error is not reported again."""
        group_of: dict[str, str] = {}
        for parsed in self.docs("diagnoses"):
            dx: schema.DiagnosisFile = parsed.model
            if dx.id not in diagnoses or diagnoses[dx.id] is not dx:
                continue
            own = {r.id: r for r in self.rules if r.target == dx.id and r.kind is Kind.EVIDENCE}
            for i, pattern in enumerate(dx.patterns):
                path: PathKey = ("patterns", i)
                if not self._rule_id(pattern.id, dx.id, parsed.doc, path):
                    continue
                self.check_refs(pattern.references, parsed.doc, path, required=False)
                members: list[str] = []
                for j, sign in enumerate(pattern.signs):
                    where = (*path, "signs", j)
                    if not (isinstance(sign, dict) and len(sign) == 1):
                        self.b.error(parsed.doc, where, "a sign is one 'finding: value' pair, "
                                     "such as '{trabecular_pattern: coarse_disorganized}'",
                                     "type")
                        continue
                    ((finding, value),) = sign.items()
                    value = str(value)
                    if (dx.id, finding) not in entries:
                        problem = _unstated_sign(pattern.id, dx.id, finding, entries,
                                                 rejected, vocab)
                        if problem:
                            self.b.error(parsed.doc, where, *problem)
                        continue
                    key = next((k for k in keys_of[finding] if k.key == value), None)
                    if key is None:
                        names = [k.key for k in keys_of[finding]]
                        self.b.error(parsed.doc, where, f"'{value}' is not a value of "
                                     f"'{finding}'{did_you_mean(value, names)}; "
                                     f"{allowed(names)}", "unknown-value")
                        continue
                    base = f"{dx.id}.profile.{finding}.{key.slug}"
                    if group_of.get(base, pattern.id) != pattern.id:
                        self.b.error(parsed.doc, where, f"'{finding}: {value}' already counts "
                                     f"once in pattern '{group_of[base]}'; a sign belongs to "
                                     "one pattern only (merge the two patterns if they are one "
                                     "process)", "pattern-sign")
                        continue
                    members += [base, *(r for r in own if r.startswith(base + "."))]
                for j, rule_id in enumerate(pattern.rules):
                    rule = own.get(rule_id)
                    if rule is None:
                        self.b.error(parsed.doc, (*path, "rules", j), f"pattern "
                                     f"'{pattern.id}' names rule '{rule_id}', which is not an "
                                     f"evidence rule of '{dx.id}'{did_you_mean(rule_id, own)}",
                                     "unknown-rule")
                    elif rule.group is not None:
                        self.b.error(parsed.doc, (*path, "rules", j), f"rule '{rule_id}' "
                                     f"already counts once in group '{rule.group}'; put it in "
                                     "one pattern or group only", "pattern-rule")
                    else:
                        members.append(rule_id)
                for member in members:
                    group_of.setdefault(member, pattern.id)
        if group_of:
            self.rules = [_with_group(r, group_of[r.id]) if r.id in group_of else r
                          for r in self.rules]

    def _check_core_findings(self, core: Mapping[str, list[str]], vocab: Vocabulary) -> None:
        """kb.yaml ``core_findings``: its keys are 'any' or region values, its lists
        findings."""
        manifest_doc = self.b.single("kb.yaml").doc  # type: ignore[union-attr]
        region = vocab.findings.get("region")
        areas = ["any", *(region.values if region else ())]
        for area, findings in core.items():
            if area not in areas:
                self.b.error(manifest_doc, ("core_findings", area), f"unknown area "
                             f"'{area}' in core_findings{did_you_mean(area, areas)}; a key is "
                             f"'any' or a value of 'region'; {allowed(areas, 40)}",
                             "unknown-value")
            for j, finding in enumerate(findings):
                if finding not in vocab.findings:
                    self.b.error(manifest_doc, ("core_findings", area, j), f"unknown finding "
                                 f"'{finding}'{did_you_mean(finding, vocab.findings)}",
                                 "unknown-finding")

    def _core_findings(self, diagnoses: dict[str, schema.DiagnosisFile],
                       stated: Mapping[str, Mapping[str, Mapping[str, float]]],
                       vocab: Vocabulary) -> None:
        """Warn where a described diagnosis leaves a core finding of its regions unstated."""
        core = self.manifest.core_findings
        if not core:
            return
        self._check_core_findings(core, vocab)
        regions = stated.get("region", {})
        for parsed in self.docs("diagnoses"):
            dx: schema.DiagnosisFile = parsed.model
            if dx.id not in diagnoses or diagnoses[dx.id] is not dx or not dx.profile \
                    or dx.id == self.manifest.other_diagnosis:
                continue
            areas = ["any", *(r for r, p in regions.get(dx.id, {}).items() if p >= 0.1)]
            unstated = [f for a in areas for f in core.get(a, ())
                        if f in vocab.findings and dx.id not in stated.get(f, {})]
            if unstated:
                self.b.warn(parsed.doc, ("profile",), f"the profile of '{dx.id}' leaves core "
                            f"finding(s) unstated: {', '.join(dict.fromkeys(unstated))} "
                            "(kb.yaml core_findings); state them, even as expert estimates",
                            "core-finding")

    def _population_rules(self, diagnoses: dict[str, schema.DiagnosisFile],
                          vocab: Vocabulary) -> None:
        """Each base prior as a rule: it fires when a bone-imaging study shows the lesion.

        The population the base priors describe is 'a bone lesion seen on imaging'; the rule
        carries the ratio of the diagnosis's base rate to that of the catch-all diagnosis,
        so every diagnosis starts at the catch-all's rate and the rule cites the epidemiology.
        Without any bone imaging all diagnoses are equally likely (and 'other' leads ties).
        """
        other = diagnoses.get(self.manifest.other_diagnosis)
        if other is None:
            return
        # The table holds described diagnoses only; _diagnosis_table ensured their priors.
        assert other.prior is not None
        other_base = other.prior.base
        bone = frozenset(m for m, spec in vocab.modalities.items() if spec.bone_imaging == "yes")
        for dx_id, dx in diagnoses.items():
            if dx_id == other.id:
                continue
            prior = dx.prior
            assert prior is not None
            rule_id = f"{dx_id}.prior.population"
            parsed = next(p for p in self.docs("diagnoses") if p.model is dx)
            if not self._rule_id(rule_id, dx_id, parsed.doc, ("prior",)):
                continue
            self.rules.append(Rule(
                id=rule_id, kind=Kind.PRIOR, target=dx_id,
                description=(f"Base rate among bone lesions seen on imaging in this "
                             f"population: {prior.base:.1%} (lesions outside this knowledge "
                             f"base: {other_base:.1%})."),
                when=((Atom(MODALITIES, Op.CONTAINS, bone, location=parsed.doc.at(("prior",))),),),
                lr=prior.base / other_base, effect="for",
                strength=f"base rate {prior.base:g}", references=tuple(prior.references),
                location=parsed.doc.at(("prior",))))

    def _conditional_items(self, key: str, kind: Kind, parser_for: Any,
                           vocab: Vocabulary) -> dict[str, Any]:
        items = {}
        for parsed in self.docs(key):
            parser = parser_for(parsed.doc)
            for i, item in enumerate(getattr(parsed.model, key)):
                path = (key, i)
                if not self.unique(self.item_ids, item.id, parsed.doc, (*path, "id"),
                                   kind.value):
                    continue
                items[item.id] = item
                rule_id = f"{kind.value}.{item.id}"
                self.rule_ids[rule_id] = parsed.doc.at(path)
                self._add_rule(parser, item, path, kind=kind, target=item.id, vocab=vocab,
                               rule_id=rule_id)
        return items

    def _served(self, key: str, diagnoses: Mapping[str, schema.DiagnosisFile]) -> None:
        """``for``, ``band`` and ``unless_leader`` of pitfalls or recommendations."""
        must_serve = {"biopsy", "treatment", "management"}
        for parsed in self.docs(key):
            for i, item in enumerate(getattr(parsed.model, key)):
                path: PathKey = (key, i)
                doc = parsed.doc
                for field_name, ids in (("for", item.for_), ("unless_leader", item.unless_leader)):
                    for j, dx_id in enumerate(ids):
                        if dx_id not in diagnoses:
                            self.unknown_diagnosis(doc, (*path, field_name, j), dx_id,
                                                   diagnoses, list_allowed=True)
                if item.band is not None:
                    low, high = item.band
                    if not (0.0 <= low <= 1.0 and 0.0 <= high <= 1.0):
                        self.b.error(doc, (*path, "band"), f"band [{low:g}, {high:g}] must lie "
                                     "within [0, 1]: it bounds the probability the diagnoses "
                                     "of 'for' hold together", "bad-band")
                    elif low > high:
                        self.b.error(doc, (*path, "band"), f"band [{low:g}, {high:g}] has its "
                                     f"bounds reversed; write [{high:g}, {low:g}]", "bad-band")
                    if not item.for_:
                        self.b.error(doc, (*path, "band"), "a band needs 'for': the "
                                     "diagnoses whose probability it bounds", "missing-key")
                category = getattr(item, "category", None)
                if category in must_serve and (not item.for_ or item.band is None):
                    self.b.error(doc, path, f"a {category} recommendation declares the "
                                 "diagnoses it serves ('for: [ids]') and the band of their "
                                 "probability in which it applies ('band: [low, high]')",
                                 "missing-key")

    # ---------------------------------------------------------------- teaching & quizzes
    def _teaching_point(self, tp: schema.TeachingPoint, doc: Document, path: PathKey) -> None:
        teaching_ids = {k: Location("?") for k in self.teaching}
        if self.unique(teaching_ids, tp.id, doc, (*path, "id"), "teaching point"):
            self.teaching[tp.id] = tp
        if not tp.references:
            self.b.warn(doc, path, "teaching point has no references", "missing-reference")
        self.check_refs(tp.references, doc, path, required=False)

    def _teaching_files(self) -> None:
        for parsed in self.docs("teaching"):
            for i, tp in enumerate(parsed.model.teaching_points):
                self._teaching_point(tp, parsed.doc, ("teaching_points", i))

    def _quizzes(self) -> dict[str, schema.Quiz]:
        quizzes: dict[str, schema.Quiz] = {}
        locations: dict[str, Location] = {}
        for parsed in self.docs("quizzes"):
            for i, quiz in enumerate(parsed.model.quizzes):
                path = ("quizzes", i)
                if not self.unique(locations, quiz.id, parsed.doc, (*path, "id"), "quiz"):
                    continue
                if quiz.answer not in quiz.options:
                    self.b.error(parsed.doc, (*path, "answer"), f"answer '{quiz.answer}' is "
                                 f"not one of the options{did_you_mean(quiz.answer, quiz.options)}"
                                 f"; {allowed(quiz.options)}", "bad-value")
                self.check_refs(quiz.references, parsed.doc, path, what="quiz")
                quizzes[quiz.id] = quiz
        return quizzes

    def _coverage(self, vocab: Vocabulary) -> tuple[schema.SeedSection, ...]:
        parsed = self.b.single("seed_coverage.yaml")
        if parsed is None:
            return ()
        known = {*self.teaching, *self.item_ids, *self.rule_ids, *(r.id for r in self.rules)}
        quiz_ids = {q.id for p in self.docs("quizzes") for q in p.model.quizzes}
        known |= quiz_ids
        for i, section in enumerate(parsed.model.sections):
            for j, item in enumerate(section.covered_by):
                if item not in known and not self.lost(item):
                    self.b.error(parsed.doc, ("sections", i, "covered_by", j),
                                 f"unknown knowledge-base id '{item}'"
                                 f"{did_you_mean(item, known)}", "unknown-id")
        headings = [section.heading for section in parsed.model.sections]
        fact_ids: dict[str, Location] = {}
        for i, fact in enumerate(parsed.model.facts):
            path: PathKey = ("facts", i)
            self.unique(fact_ids, fact.id, parsed.doc, (*path, "id"), "seed fact")
            if fact.section not in headings:
                self.b.error(parsed.doc, (*path, "section"), f"unknown section "
                             f"'{fact.section}'{did_you_mean(fact.section, headings)}",
                             "unknown-id")
            for j, item in enumerate(fact.carried_by):
                if item not in known and not self.lost(item):
                    self.b.error(parsed.doc, (*path, "carried_by", j), f"unknown "
                                 f"knowledge-base id '{item}'{did_you_mean(item, known)}",
                                 "unknown-id")
            if fact.operative == "yes" and (fact.case is None) == (fact.example is None):
                self.b.error(parsed.doc, path, "an operative fact names one case whose "
                             "output changes without it: 'case: <case id>' or 'example:'",
                             "missing-key")
            if fact.example is not None:
                from ossdx.kb.case import VocabularyChecker

                checker = VocabularyChecker(vocab, parsed.doc)
                sub = (*path, "example")
                findings = checker.findings(fact.example.findings, (*sub, "findings"))
                if fact.example.patient:
                    checker.patient(fact.example.patient, (*sub, "patient"))
                given = (checker.modalities(fact.example.modalities, (*sub, "modalities"))
                         if fact.example.modalities is not None else None)
                checker.consistency(findings, given, sub)
                self.b.problems.extend(checker.problems)
            if fact.operative == "no" and not fact.note:
                self.b.error(parsed.doc, path, "a fact that is not operative says why in "
                             "'note'", "missing-key")
        self.seed_facts = tuple(parsed.model.facts)
        return tuple(parsed.model.sections)

    def _illustrations(self) -> dict[str, schema.Illustration]:
        """illustrations.yaml: every drawing it lists is a file in illustrations/ and is
        named by a finding value; every value names a listed drawing; every drawing in the
        folder is listed (with its caption and sources)."""
        table: dict[str, schema.Illustration] = {}
        listed: dict[str, tuple[Document, PathKey]] = {}
        folder = self.b.root / ILLUSTRATIONS
        for parsed in self.docs("illustrations.yaml"):
            for i, item in enumerate(parsed.model.illustrations):
                path: PathKey = ("illustrations", i)
                if item.id in table:
                    self.b.error(parsed.doc, (*path, "id"), f"duplicate illustration id "
                                 f"'{item.id}'", "duplicate-id")
                    continue
                table[item.id] = item
                listed[item.file] = (parsed.doc, path)
                self.check_refs(item.references, parsed.doc, path, what="an illustration")
                if not (folder / item.file).is_file():
                    self.b.error(parsed.doc, (*path, "file"), f"no file '{ILLUSTRATIONS}/"
                                 f"{item.file}' in the knowledge base", "missing-file")
        used: set[str] = set()
        for parsed in self.docs("findings"):
            for i, var in enumerate(parsed.model.findings):
                for value, spec in var.values.items():
                    if spec.illustration is None:
                        continue
                    used.add(spec.illustration)
                    if spec.illustration not in table:
                        self.b.error(parsed.doc, ("findings", i, "values", value,
                                                  "illustration"),
                                     f"unknown illustration '{spec.illustration}'"
                                     f"{did_you_mean(spec.illustration, table)}; list it in "
                                     "illustrations.yaml", "unknown-illustration")
        for item_id, item in table.items():
            if item_id not in used:
                doc, path = listed[item.file]
                self.b.warn(doc, path, f"illustration '{item_id}' is not named by any finding "
                            "value (add 'illustration: " + item_id + "' to the value it "
                            "shows)", "unused-illustration")
        drawn = sorted(folder.glob("*")) if folder.is_dir() else []
        for drawing in drawn:
            if drawing.suffix in (".svg", ".png") and drawing.name not in listed:
                self.b.problems.append(Problem(
                    Location(self.b.name(drawing), 1), "drawing not listed in illustrations.yaml "
                    "(it needs a caption and the source that describes the sign)",
                    Severity.WARNING, "unlisted-illustration"))
        return table

    def _report_rates(self, vocab: Vocabulary, diagnoses: dict[str, Any],
                      ) -> dict[str, dict[str, float]]:
        """finding -> {diagnosis or '*': rate}; findings not listed count as always answered."""
        parsed = self.b.single("reporting.yaml")
        if parsed is None:
            return {}
        rates: dict[str, dict[str, float]] = {}
        for finding, rate in parsed.model.rates.items():
            path = ("rates", finding)
            if finding not in vocab.findings:
                self.b.error(parsed.doc, path, f"unknown finding '{finding}'"
                             f"{did_you_mean(finding, vocab.findings)}", "unknown-finding")
                continue
            for dx in rate.by_diagnosis:
                if dx not in diagnoses:
                    self.unknown_diagnosis(parsed.doc, (*path, "by_diagnosis", dx), dx, diagnoses)
            rates[finding] = {"*": rate.overall, **rate.by_diagnosis}
        return rates

    # ---------------------------------------------------------------- stratification
    def _stratify(self, concepts: dict[str, Any]) -> None:
        """Order concepts so a concept is derived before any rule reads it; refuse cycles."""
        by_target: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if rule.kind is Kind.CONCEPT:
                by_target.setdefault(rule.target, []).append(rule)
        level, found = concept_levels(r for rules in by_target.values() for r in rules)
        order = {c: i for i, c in enumerate(concepts)}
        cycles = []
        for cycle in found:  # rotate to start at the first concept in KB order
            start = min(range(len(cycle)), key=lambda i: order[cycle[i]])
            cycles.append(cycle[start:] + cycle[:start])
        cycles.sort(key=lambda c: [order[x] for x in c])
        for cycle in cycles:
            members = set(cycle)
            rule = next(r for r in by_target[cycle[0]] if r.concepts & members)
            atom = next(a for conj in rule.when for a in conj
                        if a.is_concept and a.var in members)
            self.b.problems.append(Problem(
                atom.location, "derived concepts form a cycle: "
                + " -> ".join([*cycle, cycle[0]]) + "; a concept cannot depend on itself",
                code="concept-cycle"))
        if cycles:
            return
        top = max(level.values(), default=0) + 1
        self.rules = [
            _with_stratum(r, level[r.target] if r.kind is Kind.CONCEPT else top)
            for r in self.rules
        ]


def _with_group(rule: Rule, group: str) -> Rule:
    from dataclasses import replace

    return replace(rule, group=group)


def _with_stratum(rule: Rule, stratum: int) -> Rule:
    from dataclasses import replace

    return replace(rule, stratum=stratum)


def check_knowledge_base(root: str | os.PathLike[str] | None = None,
                         ) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Load and check a KB; return it (None if it has errors) and every problem found."""
    builder = _Builder(Path(root) if root is not None else default_kb_path())
    kb = builder.build()
    return kb, sorted(set(builder.problems))


def load_knowledge_base(root: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """Load a KB or raise :class:`KnowledgeBaseError` listing every error."""
    kb, problems = check_knowledge_base(root)
    if kb is None:
        errors = [p for p in problems if p.severity is Severity.ERROR]
        raise KnowledgeBaseError(errors or problems)
    return kb


def concept_levels(rules: Iterable[Rule]) -> tuple[dict[str, int], list[list[str]]]:
    """The level of each rule's conclusion (1 + the highest level of the concepts its rules
    read; a concept no rule concludes is level 1) and the cycles among them. With a cycle
    there are no levels: the cycles are returned for the caller to report."""
    graph = nx.DiGraph()
    for rule in rules:
        graph.add_node(rule.target)
        for used in rule.concepts:
            graph.add_edge(used, rule.target)
    cycles = list(nx.simple_cycles(graph))
    if cycles:
        return {}, cycles
    level: dict[str, int] = {}
    for node in nx.topological_sort(graph):
        level[node] = 1 + max((level[p] for p in graph.predecessors(node)), default=0)
    return level, []


def _labels(spec: schema.Variable, values: frozenset[str]) -> str:
    """'rib, sternum or skull': the labels of these values, in the finding's order."""
    names = [re.sub(r"\s*\(.*?\)", "", meaning.label).lower()
             for value, meaning in spec.values.items() if value in values]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


Cell = tuple[str, frozenset[str]]  # a 'given': the finding ('region') and its values


@dataclass(frozen=True)
class Entry:
    """One checked profile entry, where it is written, and its full raw distribution."""

    entry: schema.ProfileEntry
    doc: Document
    path: PathKey
    distribution: dict[str, float]


def _unstated_sign(pattern_id: str, dx_id: str, finding: object,
                   entries: Mapping[tuple[str, str], Entry], rejected: set[tuple[str, str]],
                   vocab: Vocabulary) -> tuple[str, str] | None:
    """The message (and code) for a pattern sign over a finding the diagnosis's profile does
    not state, or None when the cause is already reported: the profile entry of that finding
    was in error, or an entry names an unknown finding (likely this one, misspelt)."""
    if (dx_id, finding) in rejected or any(d == dx_id and f not in vocab.findings
                                           for d, f in rejected):
        return None
    if finding not in vocab.findings:
        return (f"unknown finding '{finding}'{new_finding_hint(finding, vocab.findings)}; a "
                "pattern sign is one 'finding: value' pair of the diagnosis's own profile",
                "pattern-sign")
    stated = sorted(f for d, f in entries if d == dx_id)
    return (f"pattern '{pattern_id}' names '{finding}', which the profile of '{dx_id}' does "
            "not state; a pattern groups signs of its own profile (it states "
            f"{', '.join(stated) or 'no finding'})", "pattern-sign")


def _profile_sum_problem(entry: schema.ProfileEntry, names: list[str],
                         ) -> tuple[PathKey, str, str] | None:
    """What is wrong with the figures of a profile entry as a whole (path below the entry,
    message, code): a complete one must give every value and sum to 1; an incomplete one
    must leave a remainder for the values it does not give."""
    total = sum(entry.p.values())
    tolerance = prof.COMPLETE_TOLERANCE
    missing = [n for n in names if n not in entry.p]
    if entry.complete == "yes":
        if missing:
            return (("p",), f"the profile of '{entry.finding}' is complete but gives no "
                    f"probability for {', '.join(missing)}; give every value, or write "
                    "'complete: no' to share the remainder among the values not given",
                    "incomplete-profile")
        if abs(total - 1.0) > tolerance:
            return (("p",), f"the probabilities of '{entry.finding}' sum to {total:.3g}, not 1 "
                    f"(a complete profile gives every value, summing to 1 within {tolerance:g}; "
                    "if only some values are known, give those and write 'complete: no')",
                    "profile-sum")
        return None
    if not missing:
        if abs(total - 1.0) > tolerance:
            return (("complete",), "'complete: no' shares the remainder among the values not "
                    f"given, but every value of '{entry.finding}' is given (they sum to "
                    f"{total:.3g}, and would be rescaled to 1); make them sum to 1 and remove "
                    "'complete: no'", "profile-sum")
        return None
    if total >= 1.0:
        return (("p",), f"the probabilities given for '{entry.finding}' already sum to "
                f"{total:.3g}; with 'complete: no' they must leave a remainder (below 1) for "
                "the values not given", "profile-sum")
    return None


def _population_problems(var: schema.Variable) -> list[tuple[PathKey, str]]:
    """What is wrong with a variable's declared ``population`` (path below the variable,
    message); checked whether or not a profile states the finding."""
    if var.population is None:
        return []
    names = [k.key for k in prof.value_keys(var)]
    if not names:
        return [(("population",), f"'{var.id}' cannot declare a population: only one-choice "
                 "findings and numbers with bins can (it is the reference of their profiles)")]
    problems: list[tuple[PathKey, str]] = []
    for value, p in var.population.items():
        where: PathKey = ("population", value)
        if value not in names:
            problems.append((where, f"'{value}' is not a value of '{var.id}'"
                             f"{did_you_mean(value, names)}; {allowed(names)}"))
        elif not 0.0 < p < 1.0:
            problems.append((where, f"the population share of '{value}' is {p:g}; a "
                             "probability in a population must lie strictly between 0 and 1 "
                             "(no value is impossible: write a small figure such as 0.01)"))
    missing = [n for n in names if n not in var.population]
    if missing:
        problems.append((("population",), f"the population of '{var.id}' gives no probability "
                         f"for {', '.join(missing)}; a population gives every value "
                         f"({', '.join(names)})"))
    total = sum(var.population.values())
    if not problems and abs(total - 1.0) > prof.COMPLETE_TOLERANCE:
        problems.append((("population",), f"the population of '{var.id}' sums to {total:.3g}, "
                         f"not 1 (within {prof.COMPLETE_TOLERANCE:g}); give every value "
                         f"({', '.join(names)}) a probability, summing to 1"))
    return problems


def _implied_by(vocab: Vocabulary) -> ImpliedBy:
    """For each ``(finding, value)``, the answers that entail it (their ``implies``), by
    finding: the values of one finding exclude each other, so they are taken together."""
    result: dict[tuple[str, str], dict[str, list[str]]] = {}
    for other, spec in vocab.findings.items():
        for given, meaning in spec.values.items():
            for finding, value in meaning.implies.items():
                result.setdefault((finding, value), {}).setdefault(other, []).append(given)
    return {key: {other: tuple(sorted(givens)) for other, givens in sorted(found.items())}
            for key, found in result.items()}
