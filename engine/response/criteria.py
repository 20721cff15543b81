"""Load the treatment-response criteria (``knowledge_base/response/``) into compiled rule sets.

The criteria are knowledge, so they are YAML: a shared file (``response.yaml``: categories,
extra per-lesion findings, computed features, signals, caveats and shared rules) and one file
per criteria set (``mda.yaml``, ``who.yaml``, ``uicc.yaml``: the modalities it reads, its
definitions and its own rules). This module checks them (every problem with file and line)
and turns each set into two stratified rule sets of :class:`~engine.kb.model.Rule`, one run per
known lesion and one run for the patient, over vocabularies built from the core findings.

Nothing here decides a category: the rules do. See docs/RESPONSE.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ossdx.core.errors import InputError, Location, Problem, Severity, allowed, did_you_mean
from ossdx.core.loader import Document, PathKey, iter_yaml_files, read_document
from ossdx.core.validation import validate_model
from ossdx.kb import schema
from ossdx.kb.build import concept_levels
from ossdx.kb.conditions import ConditionParser
from ossdx.kb.model import Kind, KnowledgeBase, Op, Rule, Vocabulary

FOLDER = "response"
COMMON_FILE = "response.yaml"
COMMON = "common"
STAGES = ("lesion", "overall")
TIMING = "timing"
BASELINE, FOLLOWUP, NEW = "baseline_", "followup_", "new_"
LESIONS = "lesions_"

ConceptId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]


# --------------------------------------------------------------------------- file shapes
class ResponseRuleSpec(schema.Model):
    """One production: when the condition holds, conclude a category, signal or caveat."""

    id: schema.DottedId
    conclude: ConceptId
    text: schema.Text
    when: schema.Condition
    references: list[schema.Id] = []
    note: schema.Text | None = None


class CategorySpec(schema.Model):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,4}$")]
    name: schema.Text
    description: schema.Text


class SignalSpec(schema.Model):
    id: schema.Id
    name: schema.Text
    description: schema.Text


class CaveatSpec(schema.Model):
    id: schema.Id
    title: schema.Text
    text: schema.Text
    references: list[schema.Id] = []


class FeatureSpec(schema.Model):
    """A fact the engine computes (arithmetic or bookkeeping) for the rules to read."""

    id: schema.Id
    name: schema.Text
    help: schema.Text
    type: Literal["number", "integer", "choice", "multi"]
    values: dict[str, schema.ValueSpec] = {}
    range: tuple[float, float] | None = None
    unit: str | None = None
    stages: list[Literal["lesion", "overall"]] = Field(min_length=1)


class CommonFile(schema.Model):
    title: schema.Text
    description: schema.Text
    references: list[schema.Id] = []
    criteria_sets: list[schema.Id] = Field(min_length=1)
    categories: list[CategorySpec] = Field(min_length=2)
    undecided: str
    time_point_findings: list[schema.Variable] = []
    followup_only: list[schema.Id] = []
    features: list[FeatureSpec] = []
    signals: list[SignalSpec] = []
    caveats: list[CaveatSpec] = []
    timing_rules: list[ResponseRuleSpec] = []
    lesion_rules: list[ResponseRuleSpec] = []
    overall_rules: list[ResponseRuleSpec] = []


class CriteriaSetFile(schema.Model):
    id: schema.Id
    name: schema.Text
    short_name: schema.Text
    description: schema.Text
    modalities: list[schema.ModalityId] = Field(min_length=1)
    scope_note: schema.Text | None = None
    references: list[schema.Id] = []
    definitions: dict[str, list[schema.Text]] = {}
    lesion_rules: list[ResponseRuleSpec] = []
    overall_rules: list[ResponseRuleSpec] = []


# --------------------------------------------------------------------------- loaded objects
@dataclass(frozen=True)
class CriteriaSet:
    """One criteria set: what it reads and its two compiled rule sets."""

    id: str
    name: str
    short_name: str
    description: str
    modalities: tuple[str, ...]  # in the order the YAML gives them
    scope_note: str | None
    references: tuple[str, ...]
    definitions: Mapping[str, tuple[str, ...]]
    lesion_rules: tuple[Rule, ...]
    overall_rules: tuple[Rule, ...]
    location: Location

    @property
    def scope(self) -> frozenset[str]:
        """The modalities this set reads."""
        return frozenset(self.modalities)

    def rules(self, stage: str) -> tuple[Rule, ...]:
        return self.lesion_rules if stage == "lesion" else self.overall_rules


@dataclass(frozen=True)
class ResponseCriteria:
    """The loaded, checked response criteria (build with :func:`load_response_criteria`)."""

    title: str
    description: str
    references: tuple[str, ...]
    sets: tuple[CriteriaSet, ...]
    categories: tuple[CategorySpec, ...]  # worst first
    undecided: str  # the category when no rule concludes one
    signals: Mapping[str, SignalSpec]
    caveats: Mapping[str, CaveatSpec]
    features: Mapping[str, FeatureSpec]
    findings: Mapping[str, schema.Variable]  # core findings + time-point extras
    followup_only: frozenset[str]
    lesion_vocabulary: Vocabulary
    overall_vocabulary: Vocabulary
    _sets: dict[str, CriteriaSet] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sets", {s.id: s for s in self.sets})

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories)

    def set(self, set_id: str) -> CriteriaSet:
        return self._sets[set_id]

    def category(self, category_id: str) -> CategorySpec:
        return next(c for c in self.categories if c.id == category_id)

    def concept_name(self, concept: str) -> str:
        if concept in self.signals:
            return self.signals[concept].name
        if concept in self.caveats:
            return self.caveats[concept].title
        if concept in self.category_ids:
            return self.category(concept).name
        return concept

    def rule_variables(self) -> frozenset[str]:
        """Time-point findings that some lesion rule of some set reads (for entry forms)."""
        names: set[str] = set()
        for criteria_set in self.sets:
            for rule in criteria_set.lesion_rules:
                for var in rule.variables:
                    for prefix in (BASELINE, FOLLOWUP):
                        if var.startswith(prefix) and var[len(prefix):] in self.findings:
                            names.add(var[len(prefix):])
        return frozenset(names)


# --------------------------------------------------------------------------- vocabularies
def _feature_variable(spec: FeatureSpec) -> schema.Variable:
    return schema.Variable(id=spec.id, name=spec.name, question=spec.name, help=spec.help,
                           type=spec.type, values=spec.values, range=spec.range, unit=spec.unit)


def time_point_findings(kb: KnowledgeBase,
                        extras: Iterable[schema.Variable]) -> dict[str, schema.Variable]:
    """The per-lesion findings of a response file: the core findings plus the extras."""
    findings = dict(kb.vocabulary.findings)
    for spec in extras:
        findings.setdefault(spec.id, spec)
    return findings


def lesion_vocabulary(kb: KnowledgeBase, findings: Mapping[str, schema.Variable],
                      features: Iterable[FeatureSpec]) -> Vocabulary:
    """baseline_<f> and followup_<f> for every time-point finding, plus lesion features."""
    variables: dict[str, schema.Variable] = {}
    for finding_id, spec in findings.items():
        if spec.type == "group":
            continue
        for prefix in (BASELINE, FOLLOWUP):
            variables[prefix + finding_id] = spec.model_copy(update={"id": prefix + finding_id})
    for feature in features:
        if "lesion" in feature.stages:
            variables[feature.id] = _feature_variable(feature)
    return Vocabulary(variables, kb.vocabulary.patient, kb.vocabulary.modalities)


def overall_vocabulary(kb: KnowledgeBase, findings: Mapping[str, schema.Variable],
                       features: Iterable[FeatureSpec],
                       lesion_concepts: Iterable[str]) -> Vocabulary:
    """lesions_<c> counts, new_<f> value sets, plus overall features."""
    variables: dict[str, schema.Variable] = {}
    for concept in lesion_concepts:
        var = LESIONS + concept.lower()
        variables[var] = schema.Variable(
            id=var, name=f"Lesions with {concept}", question=var,
            help=f"How many known lesions '{concept}' was concluded for.", type="integer",
            range=(0, 100000))
    for finding_id, spec in findings.items():
        if spec.type in ("choice", "multi"):
            var = NEW + finding_id
            variables[var] = spec.model_copy(update={"id": var, "type": "multi"})
    for feature in features:
        if "overall" in feature.stages:
            variables[feature.id] = _feature_variable(feature)
    return Vocabulary(variables, kb.vocabulary.patient, kb.vocabulary.modalities)


# --------------------------------------------------------------------------- loading
@dataclass
class _Source:
    doc: Document
    model: Any
    owner: str


class _Loader:
    """Reads and checks the response folder, collecting every problem."""

    def __init__(self, kb: KnowledgeBase, computed_features: Sequence[str]):
        self.kb = kb
        self.root = kb.root / FOLDER
        self.computed = tuple(computed_features)
        self.problems: list[Problem] = []

    # ------------------------------------------------------------ helpers
    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.kb.root.parent))
        except ValueError:
            return str(path)

    def error(self, doc: Document, path: PathKey, message: str, code: str) -> None:
        self.problems.append(doc.problem(path, message, code))

    def warn(self, doc: Document, path: PathKey, message: str, code: str) -> None:
        self.problems.append(Problem(doc.at(path), message, Severity.WARNING, code))

    def refs(self, refs: Sequence[str], doc: Document, path: PathKey, what: str,
             required: bool = True) -> tuple[str, ...]:
        if required and not refs:
            self.error(doc, path, f"{what} has no references; cite at least one id from "
                       "references.yaml", "missing-reference")
        for i, ref in enumerate(refs):
            if ref not in self.kb.references:
                self.error(doc, (*path, "references", i), f"unknown reference '{ref}'"
                           f"{did_you_mean(ref, self.kb.references)}", "unknown-reference")
        return tuple(refs)

    def read(self, path: Path, model: type[schema.Model]) -> tuple[Document, Any] | None:
        try:
            doc = read_document(path, name=self.name(path))
        except InputError as exc:
            self.problems.extend(exc.problems)
            return None
        parsed, problems = validate_model(doc, model)
        self.problems.extend(problems)
        return (doc, parsed) if parsed is not None else None

    # ------------------------------------------------------------ load
    def load(self) -> ResponseCriteria | None:
        common_path = self.root / COMMON_FILE
        if not common_path.is_file():
            self.problems.append(Problem(Location(self.name(common_path), 1),
                                         "the response criteria file is missing",
                                         code="missing"))
            return None
        read = self.read(common_path, CommonFile)
        if read is None:
            return None
        common_doc, common = read
        set_sources = self._set_files(common_doc, common)
        return self._assemble(_Source(common_doc, common, COMMON), set_sources)

    def _set_files(self, doc: Document, common: CommonFile) -> list[_Source]:
        sources = []
        expected = {f"{set_id}.yaml" for set_id in common.criteria_sets} | {COMMON_FILE}
        for path in iter_yaml_files(self.root):
            if path.name not in expected or path.parent != self.root:
                self.problems.append(Problem(
                    Location(self.name(path), 1), "not a response criteria file: list its id "
                    f"under criteria_sets in {COMMON_FILE}, or move it", Severity.WARNING,
                    "unknown-file"))
        for i, set_id in enumerate(common.criteria_sets):
            path = self.root / f"{set_id}.yaml"
            if not path.is_file():
                self.error(doc, ("criteria_sets", i), f"criteria set '{set_id}' has no file "
                           f"{self.name(path)}", "missing")
                continue
            read = self.read(path, CriteriaSetFile)
            if read is None:
                continue
            set_doc, model = read
            if model.id != set_id:
                self.error(set_doc, ("id",), f"id '{model.id}' must match the file name "
                           f"'{set_id}.yaml'", "file-name")
                continue
            sources.append(_Source(set_doc, model, set_id))
        return sources

    # ------------------------------------------------------------ meaning
    def _assemble(self, common: _Source, sets: list[_Source]) -> ResponseCriteria | None:
        model: CommonFile = common.model
        doc = common.doc
        self.refs(model.references, doc, (), "the response criteria", required=False)
        findings = time_point_findings(self.kb, model.time_point_findings)
        self._extras(doc, model)
        features = self._features(doc, model)
        concepts = self._concepts(doc, model)
        categories = [c.id for c in model.categories]
        if model.undecided not in categories:
            self.error(doc, ("undecided",), f"'{model.undecided}' is not a category"
                       f"{did_you_mean(model.undecided, categories)}; {allowed(categories)}",
                       "unknown-category")
        lesion_vocab = lesion_vocabulary(self.kb, findings, features.values())
        overall_vocab = overall_vocabulary(self.kb, findings, features.values(), concepts)
        vocab = {"lesion": lesion_vocab, "overall": overall_vocab}
        shared = {stage: self._rules(common, stage, vocab[stage], concepts)
                  for stage in STAGES}
        timing = {stage: self._rules(common, TIMING, vocab[stage], concepts)
                  for stage in STAGES}
        built = []
        for source in sets:
            own = {stage: self._rules(source, stage, vocab[stage], concepts) for stage in STAGES}
            rules = {stage: [*timing[stage], *shared[stage], *own[stage]] for stage in STAGES}
            built.append(self._criteria_set(source, rules, model))
        self._unreachable(common, sets, built)
        if any(p.severity is Severity.ERROR for p in self.problems):
            return None
        return ResponseCriteria(
            title=model.title,
            description=model.description,
            references=tuple(model.references),
            sets=tuple(built),
            categories=tuple(model.categories),
            undecided=model.undecided,
            signals=MappingProxyType({s.id: s for s in model.signals}),
            caveats=MappingProxyType({c.id: c for c in model.caveats}),
            features=MappingProxyType(features),
            findings=MappingProxyType(findings),
            followup_only=frozenset(model.followup_only),
            lesion_vocabulary=lesion_vocab,
            overall_vocabulary=overall_vocab,
        )

    def _extras(self, doc: Document, model: CommonFile) -> None:
        core = self.kb.vocabulary.findings
        for i, spec in enumerate(model.time_point_findings):
            path = ("time_point_findings", i)
            if spec.id in core:
                self.error(doc, (*path, "id"), f"'{spec.id}' is already a core finding",
                           "duplicate-id")
            for j, mod in enumerate(spec.needs):
                if mod not in self.kb.vocabulary.modalities:
                    self.error(doc, (*path, "needs", j), f"unknown modality '{mod}'"
                               f"{did_you_mean(mod, self.kb.vocabulary.modalities)}",
                               "unknown-modality")
            if spec.type in ("number", "integer") and spec.range is None:
                self.error(doc, path, f"'{spec.id}' is a number and needs 'range'",
                           "missing-range")
            if spec.type in ("choice", "multi") and len(spec.values) < 2:
                self.error(doc, (*path, "values"), f"'{spec.id}' needs at least two values",
                           "missing-values")
            self.refs(spec.references, doc, path, f"finding '{spec.id}'", required=False)
        extra_ids = {s.id for s in model.time_point_findings}
        for i, item in enumerate(model.followup_only):
            if item not in extra_ids and item not in core:
                self.error(doc, ("followup_only", i), f"unknown finding '{item}'"
                           f"{did_you_mean(item, extra_ids)}", "unknown-finding")

    def _features(self, doc: Document, model: CommonFile) -> dict[str, FeatureSpec]:
        features: dict[str, FeatureSpec] = {}
        for i, spec in enumerate(model.features):
            path = ("features", i)
            if spec.id in features:
                self.error(doc, (*path, "id"), f"duplicate feature '{spec.id}'", "duplicate-id")
                continue
            if spec.id not in self.computed:
                self.error(doc, (*path, "id"), f"the engine does not compute a feature "
                           f"'{spec.id}'{did_you_mean(spec.id, self.computed)}; "
                           f"{allowed(self.computed)}", "unknown-feature")
            if spec.type in ("number", "integer") and spec.range is None:
                self.error(doc, path, f"feature '{spec.id}' is a number and needs 'range'",
                           "missing-range")
            if spec.type in ("choice", "multi") and len(spec.values) < 2:
                self.error(doc, (*path, "values"), f"feature '{spec.id}' needs at least two "
                           "values", "missing-values")
            features[spec.id] = spec
        for feature in self.computed:
            if feature not in features:
                self.error(doc, ("features",), f"the engine computes the feature '{feature}' "
                           "but it is not declared here (give its name, help and type)",
                           "missing-feature")
        return features

    def _concepts(self, doc: Document, model: CommonFile) -> list[str]:
        seen: dict[str, PathKey] = {}
        groups: tuple[tuple[str, Sequence[CategorySpec | SignalSpec | CaveatSpec]], ...] = (
            ("categories", model.categories), ("signals", model.signals),
            ("caveats", model.caveats))
        for key, items in groups:
            for i, item in enumerate(items):
                path = (key, i, "id")
                twin = next((k for k in seen if k.lower() == item.id.lower()), None)
                if twin is not None:
                    self.error(doc, path, f"duplicate concept id '{item.id}' (first given as "
                               f"'{twin}' on line {doc.line_of(seen[twin])}; ids must differ "
                               f"in more than case, as '{LESIONS}{item.id.lower()}' counts "
                               "them)", "duplicate-id")
                    continue
                seen[item.id] = path
        for i, caveat in enumerate(model.caveats):
            self.refs(caveat.references, doc, ("caveats", i), f"caveat '{caveat.id}'")
        return list(seen)

    def _rules(self, source: _Source, stage: str, vocab: Vocabulary,
               concepts: list[str]) -> list[Rule]:
        """Parse one list of rules (``<stage>_rules``) of one file into :class:`Rule`.

        Timing rules are parsed once per stage; a problem found twice is reported once
        (problems are de-duplicated at the end).
        """
        key = f"{stage}_rules"
        specs: list[ResponseRuleSpec] = getattr(source.model, key, [])
        doc = source.doc
        parser = ConditionParser(doc, vocab, concepts)
        rules = []
        ids: set[str] = set()
        for i, spec in enumerate(specs):
            path = (key, i)
            prefix = f"{source.owner}.{stage}."
            if not spec.id.startswith(prefix):
                self.error(doc, (*path, "id"), f"rule id '{spec.id}' must start with "
                           f"'{prefix}'", "bad-id")
            if spec.id in ids:
                self.error(doc, (*path, "id"), f"duplicate rule id '{spec.id}'", "duplicate-id")
            ids.add(spec.id)
            if spec.conclude not in concepts:
                self.error(doc, (*path, "conclude"), f"unknown conclusion '{spec.conclude}'"
                           f"{did_you_mean(spec.conclude, concepts)}; a rule concludes a "
                           f"category, a signal or a caveat: {allowed(concepts, 40)}",
                           "unknown-concept")
            self.refs(spec.references, doc, path, "rule")
            when = parser.parse(spec.when, (*path, "when"))
            self.problems.extend(parser.problems)
            parser.problems.clear()
            rules.append(Rule(id=spec.id, kind=Kind.CONCEPT, target=spec.conclude,
                              description=spec.text, when=when,
                              references=tuple(spec.references), location=doc.at(path)))
        return rules

    def _criteria_set(self, source: _Source, rules: dict[str, list[Rule]],
                      common: CommonFile) -> CriteriaSet:
        model: CriteriaSetFile = source.model
        doc = source.doc
        for i, mod in enumerate(model.modalities):
            if mod not in self.kb.vocabulary.modalities:
                self.error(doc, ("modalities", i), f"unknown modality '{mod}'"
                           f"{did_you_mean(mod, self.kb.vocabulary.modalities)}; "
                           f"{allowed(self.kb.vocabulary.modalities)}", "unknown-modality")
        categories = [c.id for c in common.categories]
        for key in model.definitions:
            if key not in categories:
                self.error(doc, ("definitions", key), f"unknown category '{key}'"
                           f"{did_you_mean(key, categories)}; {allowed(categories)}",
                           "unknown-category")
        self.refs(model.references, doc, (), f"criteria set '{model.id}'")
        stratified = {stage: self._stratify(rules[stage], f"{model.id} {stage}")
                      for stage in STAGES}
        return CriteriaSet(
            id=model.id, name=model.name, short_name=model.short_name,
            description=model.description, modalities=tuple(model.modalities),
            scope_note=model.scope_note, references=tuple(model.references),
            definitions=MappingProxyType({k: tuple(v) for k, v in model.definitions.items()}),
            lesion_rules=stratified["lesion"], overall_rules=stratified["overall"],
            location=doc.at(()))

    def _stratify(self, rules: list[Rule], label: str) -> tuple[Rule, ...]:
        """Give each rule the stratum of its conclusion: after every concept it reads."""
        level, cycles = concept_levels(rules)
        for cycle in cycles:
            members = set(cycle)
            rule = next(r for r in rules if r.target in members and r.concepts & members)
            self.problems.append(Problem(
                rule.location, f"concepts form a cycle in the {label} rules: "
                + " -> ".join([*cycle, cycle[0]]) + "; a concept cannot depend on itself",
                code="concept-cycle"))
        if cycles:
            return tuple(rules)
        ordered = sorted(rules, key=lambda r: level[r.target])
        return tuple(replace(r, stratum=level[r.target]) for r in ordered)

    def _unreachable(self, common: _Source, sets: list[_Source],
                     built: list[CriteriaSet]) -> None:
        """A rule that reads a concept no rule of its stage concludes can never fire."""
        for criteria_set in built:
            for stage in STAGES:
                rules = criteria_set.rules(stage)
                concluded = {r.target for r in rules}
                for rule in rules:
                    if rule.id.startswith(COMMON + "."):
                        continue  # shared rules are checked against every set below
                    self._check_reads(rule, concluded, stage)
        for stage in STAGES:
            concluded_anywhere = {r.target for s in built for r in s.rules(stage)}
            for rule in (r for s in built[:1] for r in s.rules(stage)
                         if r.id.startswith(COMMON + ".")):
                self._check_reads(rule, concluded_anywhere, stage)

    def _check_reads(self, rule: Rule, concluded: set[str], stage: str) -> None:
        for conj in rule.when:
            for atom in conj:
                if atom.op is Op.CONCEPT and atom.var not in concluded:
                    hint = (f"; count lesions with '{LESIONS}{atom.var.lower()}' instead"
                            if stage == "overall" else "")
                    self.problems.append(Problem(
                        atom.location, f"rule '{rule.id}' can never fire: no {stage} rule "
                        f"concludes '{atom.var}'{hint}", code="never-fires"))
                    return


def check_response_criteria(kb: KnowledgeBase, computed_features: Sequence[str],
                            ) -> tuple[ResponseCriteria | None, list[Problem]]:
    """Load and check the response criteria of ``kb``; the criteria (None on error) and problems."""
    loader = _Loader(kb, computed_features)
    criteria = loader.load()
    return criteria, sorted(set(loader.problems))
