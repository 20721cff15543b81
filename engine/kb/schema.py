"""The shape of each kind of knowledge-base file, as pydantic models.

These models check structure only (keys, types, id patterns). Meaning (does this finding
exist? is this value one of its values?) is checked afterwards, over the objects, in
:mod:`engine.kb.build`, where the whole vocabulary is known. Conditions (``when:``) stay
plain mappings here and are parsed by :mod:`engine.kb.conditions`.

Every model forbids unknown keys, so a misspelt key is reported with its line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
DottedId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$",
                                            max_length=128)]
ModalityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=32)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Probability = Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Condition = dict[str, Any]
YesNo = Literal["yes", "no"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --------------------------------------------------------------------------- manifest
class StrengthScale(Model):
    """Qualitative strength -> likelihood ratio (the 'against' ratios are the inverses)."""

    strong: Annotated[float, Field(gt=1.0, allow_inf_nan=False)]
    moderate: Annotated[float, Field(gt=1.0, allow_inf_nan=False)]
    weak: Annotated[float, Field(gt=1.0, allow_inf_nan=False)]
    references: list[Id] = Field(min_length=1)
    note: Text | None = None


class Settings(Model):
    confidence_threshold: Probability = 0.9
    # Likelihood profiles (engine/kb/profiles.py): a stated P(value | d) is shrunk towards
    # the reference with this many pseudo-observations; an expert estimate counts as
    # expert_n observations; ratios within uninformative_band of 1 are not compiled.
    profile_pseudo_count: Annotated[float, Field(ge=0.0, le=1000.0)] = 10.0
    expert_n: Annotated[int, Field(ge=1, le=10000)] = 30
    uninformative_band: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.05
    evidence_weight: Annotated[float, Field(gt=0.0, le=2.0)] = 1.0
    # the posterior is softmax(score / temperature): above 1 less sure, below 1 surer
    temperature: Annotated[float, Field(ge=0.2, le=5.0)] = 1.0
    near_tie: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    max_pairs: Annotated[int, Field(ge=0, le=1000)] = 8
    lr_limits: tuple[Positive, Positive] = Field(default=(0.02, 50.0), description="[low, high]")
    show_at_least: Annotated[int, Field(ge=1, le=20)] = 3
    show_above: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.01


class Manifest(Model):
    name: Text
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    description: Text
    disclaimer: Text
    other_diagnosis: Id = "other"
    must_not_miss: list[Id] = []
    strength_scale: StrengthScale
    settings: Settings = Settings()
    answer_model: Text
    # Findings every described diagnosis should state in its profile: under 'any' for all,
    # under a region value for diagnoses seen there (ossdx validate warns when unstated).
    core_findings: dict[Id, list[Id]] = {}
    profile_model: Text | None = None
    # case folders (relative to the knowledge base) held out from whoever edits it:
    # authoring tools leave them out unless asked
    held_out_cases: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_./-]+$")]] = []


# --------------------------------------------------------------------------- references
class Reference(Model):
    id: Id
    citation: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    doi: Annotated[str, StringConstraints(pattern=r"^10\.\d{4,9}/\S+$")] | None = None
    pmid: Annotated[str, StringConstraints(pattern=r"^\d{1,9}$")] | None = None
    kind: Literal["exhibit", "article", "review", "book", "guideline", "website",
                  "meta_analysis", "consensus"] = "article"
    note: Text | None = None


class ReferencesFile(Model):
    references: list[Reference]


# --------------------------------------------------------------------------- modalities
class Modality(Model):
    id: ModalityId
    name: Text
    radiation: Literal["none", "low", "moderate", "high"]
    effective_dose_msv: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    includes: list[ModalityId] = []
    bone_imaging: YesNo = "yes"
    description: Text
    references: list[Id] = []


class ModalitiesFile(Model):
    modalities: list[Modality]


# --------------------------------------------------------------------------- variables
class Codes(Model):
    snomed_ct: Annotated[str, StringConstraints(pattern=r"^\d{6,18}$")] | None = None
    radlex: Annotated[str, StringConstraints(pattern=r"^RID\d{1,7}$")] | None = None


class ValueSpec(Model):
    label: Text
    help: Text | None = None
    codes: Codes | None = None
    illustration: Id | None = None  # an id from illustrations.yaml
    # Other findings' values this value entails ('compression' fracture -> region: spine).
    # A profile states P(this value | d), which already holds P(implied value | d): the
    # implied value's own evidence is then not counted again (engine/kb/profiles.py).
    implies: dict[Id, str] = {}


class Illustration(Model):
    """A schematic drawing of a sign, made for the project (a file in illustrations/)."""

    id: Id
    file: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+\.(svg|png)$")]
    title: Text
    caption: Text
    references: list[Id] = Field(min_length=1)


class IllustrationsFile(Model):
    credit: Text
    illustrations: list[Illustration]


class Variable(Model):
    """A finding (imaging sign) or a patient field: what can be asked, and its values."""

    id: Id
    name: Text
    question: Text
    help: Text
    type: Literal["choice", "number", "integer", "multi", "group"] = "choice"
    values: dict[str, ValueSpec] = {}
    aliases: dict[str, str] = {}
    range: tuple[float, float] | None = Field(default=None, description="[low, high]")
    unit: str | None = None
    bins: list[float] = []
    needs: list[ModalityId] = []
    requires: dict[str, str | list[str]] = {}
    ask_when: Condition = {}
    fields: list[Variable] = []
    codes: Codes | None = None
    references: list[Id] = []
    # The finding's distribution among bone lesions of this population in general: the
    # reference of its likelihood profiles (engine/kb/profiles.py). Without it, the
    # reference is the mixture of the diagnoses that state the finding.
    population: dict[str, float] | None = None


class FindingsFile(Model):
    topic: Id
    title: Text
    findings: list[Variable]


class PatientFile(Model):
    fields: list[Variable]


# --------------------------------------------------------------------------- rules
class Accuracy(Model):
    """Published accuracy of a sign, from which the rule's likelihood ratio is computed."""

    sensitivity: Probability
    specificity: Probability
    reference: Id
    use: Literal["positive", "negative"] = "positive"
    population: Text | None = None


class Example(Model):
    """A tiny case with the expected behaviour of one rule: an executable test as data."""

    findings: dict[str, Any] = {}
    patient: dict[str, Any] = {}
    modalities: list[ModalityId] | None = None
    fires: YesNo
    note: Text | None = None


class RuleSpec(Model):
    """Evidence for or against the diagnosis of the file it is in."""

    id: DottedId
    description: Text
    when: Condition
    effect: Literal["for", "against"]
    strength: Literal["strong", "moderate", "weak"] | None = None
    lr: Positive | None = None
    accuracy: Accuracy | None = None
    group: Id | None = None
    references: list[Id] = Field(default=[])
    teaching_point: Text | None = None
    examples: list[Example] = []


class ConceptRuleSpec(Model):
    id: DottedId
    description: Text
    when: Condition
    references: list[Id] = []
    examples: list[Example] = []


class ProfileEntry(Model):
    """P(value | diagnosis) for every value of one finding (or, with ``complete: no``, for
    some values, the rest sharing the remainder equally)."""

    finding: Id
    # with 'given: {region: [rib, skull]}' the figures hold at those sites only, and the
    # diagnosis's plain entry of the finding then states the other sites
    given: dict[Id, str | list[str]] = {}
    p: dict[str, float] = Field(min_length=1)
    complete: YesNo = "yes"
    # 'definition': the values follow from how the knowledge base defines the diagnosis
    # (with a stated remainder for mislabelled lesions); such a figure is not shrunk
    basis: Literal["study", "expert", "definition"] = "expert"
    n: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    references: list[Id] = []
    note: Text | None = None


class Pattern(Model):
    """Signs (and rules) of one diagnosis that express one process: they count once."""

    id: DottedId
    description: Text
    signs: list[dict[str, Any]] = Field(min_length=1)
    rules: list[DottedId] = []
    references: list[Id] = []


class PriorFactor(Model):
    id: DottedId
    description: Text
    when: Condition
    factor: Positive
    references: list[Id] = []


class Prior(Model):
    base: Probability
    references: list[Id] = []
    note: Text | None = None


class TeachingPoint(Model):
    id: DottedId | Id
    text: Text
    topic: Id | None = None
    references: list[Id] = []


class DiagnosisFile(Model):
    id: Id
    name: Text
    # 'named': in the vocabulary (a case's truth may use it) but not yet described by
    # knowledge; it is ranked and evaluated as the catch-all until it gets a prior and rules.
    status: Literal["described", "named"] = "described"
    group: Id
    description: Text
    codes: Codes | None = None
    mimics: list[Id] = []
    prior: Prior | None = None
    prior_factors: list[PriorFactor] = []
    profile: list[ProfileEntry] = []
    patterns: list[Pattern] = []
    teaching_points: list[TeachingPoint] = []
    rules: list[RuleSpec] = []


class Concept(Model):
    id: Id
    name: Text
    description: Text
    references: list[Id] = []
    rules: list[ConceptRuleSpec] = Field(min_length=1)


class ConceptsFile(Model):
    concepts: list[Concept]


class Served(Model):
    """The diagnoses a pitfall or recommendation serves, and when it applies.

    It applies only while the diagnoses of ``for`` together hold a probability within
    ``band`` (inclusive), and, with ``unless_leader``, while none of those leads. Evaluated
    after scoring.
    """

    for_: list[Id] = Field(default=[], alias="for")
    band: tuple[float, float] | None = Field(default=None, description="[low, high]")
    band_note: Text | None = None
    unless_leader: list[Id] = []


class Pitfall(Served):
    id: Id
    title: Text
    text: Text
    severity: Literal["caution", "warning"] = "warning"
    when: Condition
    references: list[Id] = []
    examples: list[Example] = []


class PitfallsFile(Model):
    pitfalls: list[Pitfall]


class Recommendation(Served):
    id: Id
    title: Text
    text: Text
    category: Literal["next_imaging", "biopsy", "management", "treatment", "clinical"]
    modality: ModalityId | None = None
    when: Condition
    references: list[Id] = []
    examples: list[Example] = []


class RecommendationsFile(Model):
    recommendations: list[Recommendation]


class TeachingFile(Model):
    topic: Id
    title: Text
    teaching_points: list[TeachingPoint]


class Quiz(Model):
    id: DottedId | Id
    question: Text
    options: dict[str, Text] = Field(min_length=2)
    answer: str
    explanation: Text
    topic: Id | None = None
    references: list[Id] = []


class QuizzesFile(Model):
    quizzes: list[Quiz]


class ReportRate(Model):
    overall: Annotated[float, Field(gt=0.0, le=1.0)]
    by_diagnosis: dict[Id, Annotated[float, Field(gt=0.0, le=1.0)]] = {}


class ReportingFile(Model):
    """How often each finding is reported (answerable) when its modality was performed."""

    description: Text
    method: Text
    measured: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    rates: dict[Id, ReportRate]


class SeedSection(Model):
    heading: Text
    covered_by: list[str] = Field(min_length=1)


class CaseSketch(Model):
    """A small case written inside a knowledge-base file (findings, patient, modalities)."""

    findings: dict[str, Any] = {}
    patient: dict[str, Any] = {}
    modalities: list[ModalityId] | None = None


class SeedFact(Model):
    """One fact of the seed exhibit: where it lives and whether it changes any output."""

    id: Id
    fact: Text
    section: Text
    operative: YesNo
    # knowledge-base ids that carry it: rules (profile rules included), prior factors,
    # pitfalls, recommendations, teaching points, quizzes
    carried_by: list[str] = Field(min_length=1)
    # an operative fact names a case whose output changes when the fact is removed: a case
    # file's id under cases/, or a small case written here
    case: Id | Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")] | None = None
    example: CaseSketch | None = None
    note: Text | None = None


class CoverageFile(Model):
    source: Id
    sections: list[SeedSection]
    facts: list[SeedFact] = []


Variable.model_rebuild()
