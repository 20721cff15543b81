"""Treatment response of bone metastases: MD Anderson criteria, with WHO and UICC alongside.

``ossdx response FILE [--json]``. For each criteria set (YAML in ``knowledge_base/response``)
the engine

1. restricts each known lesion to the modalities the set reads, and computes generic facts:
   ``baseline_<finding>`` / ``followup_<finding>`` for findings compared on a modality both
   studies share, the percent change of size and of size squared, the interval, whether the
   lesion was followed on modalities outside the set;
2. runs the set's lesion rules (experta, the engine of record) once per lesion;
3. counts, for every concept concluded, the lesions it holds for (``lesions_<concept>``),
   collects what the set can see of the new lesions (``new_lesions``, ``new_<finding>``), and
   runs the set's overall rules once.

The category of a lesion and of the patient is the category the rules concluded; the
criteria that decided it are read back from the rule trace. This module holds no threshold
and no category decision.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ossdx.core.errors import InputError, KnowledgeBaseError, Location, Problem, Severity
from ossdx.core.loader import iter_yaml_files
from ossdx.kb import check_knowledge_base
from ossdx.kb.model import MODALITIES, PATIENT, KnowledgeBase, Op, Rule, Vocabulary
from ossdx.reasoning.inference import ExpertaEngine, PythonEngine, Trace
from ossdx.response.criteria import (
    BASELINE,
    FOLLOWUP,
    LESIONS,
    NEW,
    CriteriaSet,
    ResponseCriteria,
    check_response_criteria,
)
from ossdx.response.files import Lesion, ResponseCase, load_response_file

CASES_FOLDER = "response_cases"
WEEKS = "weeks_since_treatment_start"
SIZE_CHANGE = "size_change_percent"
# The facts computed here, beyond the finding families; each is declared in response.yaml.
COMPUTED_FEATURES = (
    WEEKS,
    SIZE_CHANGE,
    "product_change_percent",
    "product_decrease_percent",
    "followed_outside_scope",
    "lesions_known",
    "new_lesions",
    "new_lesions_outside_scope",
    "new_lesions_adjacent",
    "new_lesion_modalities",
)
SIZE = "size_mm"


# --------------------------------------------------------------------------- facts
def _bone_modalities(vocab: Vocabulary, performed: Iterable[str]) -> frozenset[str]:
    expanded = vocab.expand_modalities(frozenset(performed))
    return frozenset(m for m in expanded
                     if m in vocab.modalities and vocab.modalities[m].bone_imaging == "yes")


def _shown_on(needs: Iterable[str], modalities: frozenset[str]) -> bool:
    needs = tuple(needs)
    return bool(modalities) if not needs else bool(modalities & set(needs))


def _percent(before: float, after: float) -> float:
    return round((after - before) / before * 100.0, 4)


def _common_facts(case: ResponseCase) -> dict[str, Any]:
    facts: dict[str, Any] = {PATIENT + k: v for k, v in case.patient.items()}
    if case.weeks_since_treatment_start is not None:
        facts[WEEKS] = case.weeks_since_treatment_start
    return facts


def lesion_facts(case: ResponseCase, lesion: Lesion, criteria_set: CriteriaSet,
                 criteria: ResponseCriteria) -> dict[str, Any]:
    """What one criteria set can compare of one lesion (see the module docstring)."""
    vocab = criteria.lesion_vocabulary
    shared = (_bone_modalities(vocab, case.baseline_modalities)
              & _bone_modalities(vocab, case.followup_modalities))
    in_scope = shared & criteria_set.scope
    facts = _common_facts(case)
    facts[MODALITIES] = in_scope
    facts["followed_outside_scope"] = "yes" if shared - criteria_set.scope else "no"
    for prefix, findings in ((BASELINE, lesion.baseline), (FOLLOWUP, lesion.followup)):
        for key, value in findings.items():
            if _shown_on(criteria.findings[key].needs, in_scope):
                facts[prefix + key] = value
    before, after = facts.get(BASELINE + SIZE), facts.get(FOLLOWUP + SIZE)
    if before and after is not None:
        facts[SIZE_CHANGE] = _percent(before, after)
        facts["product_change_percent"] = _percent(before * before, after * after)
        facts["product_decrease_percent"] = -facts["product_change_percent"]
    return facts


def overall_facts(case: ResponseCase, criteria_set: CriteriaSet, criteria: ResponseCriteria,
                  lesion_concepts: Iterable[frozenset[str]]) -> dict[str, Any]:
    """Lesion counts per concept and what the set can see of the new lesions."""
    vocab = criteria.overall_vocabulary
    facts = _common_facts(case)
    counts: Counter[str] = Counter()
    for concepts in lesion_concepts:
        counts.update(concepts)
    for var in vocab.findings:
        if var.startswith(LESIONS):
            facts[var] = 0
    for concept, count in counts.items():
        facts[LESIONS + concept.lower()] = count
    facts["lesions_known"] = len(case.lesions)
    shared = (_bone_modalities(vocab, case.baseline_modalities)
              & _bone_modalities(vocab, case.followup_modalities))
    facts[MODALITIES] = shared & criteria_set.scope
    seen = outside = adjacent = 0
    shown_on: set[str] = set()
    values: dict[str, set[str]] = {key: set() for key in criteria.findings
                                   if NEW + key in vocab.findings}
    for new in case.new_lesions:
        visible = _bone_modalities(vocab, {new.modality}) & criteria_set.scope
        if not visible:
            outside += bool(_bone_modalities(vocab, {new.modality}))
            continue
        seen += 1
        shown_on |= visible
        adjacent += new.adjacent_to is not None
        for key, value in new.findings.items():
            if key in values and _shown_on(criteria.findings[key].needs, visible):
                values[key].add(value)
    facts["new_lesions"] = seen
    facts["new_lesions_outside_scope"] = outside
    facts["new_lesions_adjacent"] = adjacent
    facts["new_lesion_modalities"] = frozenset(shown_on)
    for key, found in values.items():
        facts[NEW + key] = frozenset(found)
    return facts


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Reason:
    """A rule that decided a category, with the lesions it decided it for."""

    rule: str
    text: str
    references: tuple[str, ...] = ()
    lesions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.rule, "text": self.text,
                                "references": list(self.references)}
        if self.lesions:
            data["lesions"] = list(self.lesions)
        return data


@dataclass(frozen=True)
class Verdict:
    """One category under one criteria set, with the rules that decided it."""

    category: str
    criteria: tuple[Reason, ...]
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True)
class LesionResult:
    site: str
    verdicts: Mapping[str, Verdict]
    compared_on: Mapping[str, tuple[str, ...]]
    features: Mapping[str, float]


@dataclass(frozen=True)
class Caveat:
    id: str
    title: str
    text: str
    criteria: tuple[str, ...]
    lesions: tuple[str, ...]
    references: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text,
                "criteria": list(self.criteria), "lesions": list(self.lesions),
                "references": list(self.references)}


@dataclass(frozen=True)
class Assessment:
    """The response of one case under every criteria set."""

    case: ResponseCase
    overall: Mapping[str, Verdict]
    lesions: tuple[LesionResult, ...]
    new_lesions: tuple[Mapping[str, Any], ...]
    caveats: tuple[Caveat, ...]
    criteria: ResponseCriteria = field(repr=False)
    traces: Mapping[str, tuple[tuple[Mapping[str, Any], Trace], ...]] = field(
        default_factory=dict, repr=False, compare=False)

    def category(self, set_id: str) -> str:
        return self.overall[set_id].category

    def as_dict(self) -> dict[str, Any]:
        """The ``ossdx response --json`` object."""
        criteria = self.criteria
        data: dict[str, Any] = {
            "file": self.case.location.file,
            "id": self.case.id,
            "title": self.case.title,
            WEEKS: self.case.weeks_since_treatment_start,
            "baseline_modalities": sorted(self.case.baseline_modalities),
            "followup_modalities": sorted(self.case.followup_modalities),
        }
        for criteria_set in criteria.sets:
            verdict = self.overall[criteria_set.id]
            data[criteria_set.id] = {
                "category": verdict.category,
                "name": criteria.category(verdict.category).name,
                "criteria_set": criteria_set.name,
                "modalities": list(criteria_set.modalities),
                "criteria": [r.as_dict() for r in verdict.criteria],
                "caveats": list(verdict.caveats),
            }
        data["lesions"] = [
            {"site": lesion.site,
             "features": dict(lesion.features),
             **{set_id: {"category": v.category,
                         "criteria": [r.as_dict() for r in v.criteria],
                         "caveats": list(v.caveats),
                         "compared_on": list(lesion.compared_on[set_id])}
                for set_id, v in lesion.verdicts.items()}}
            for lesion in self.lesions]
        data["new_lesions"] = [dict(n) for n in self.new_lesions]
        data["caveats"] = [c.as_dict() for c in self.caveats]
        data["truth"] = dict(self.case.truth) or None
        if self.case.truth:
            data["matches_truth"] = {k: self.overall[k].category == v
                                     for k, v in self.case.truth.items()}
        return data


# --------------------------------------------------------------------------- assessor
def _holding(rule: Rule, facts: Mapping[str, Any], concepts: frozenset[str]) -> list[Any]:
    return [conj for conj in rule.when if all(a.holds(facts, concepts) for a in conj)]


def _chain(concept: str, facts: Mapping[str, Any], trace: Trace, rules: Mapping[str, Rule],
           seen: set[str] | None = None) -> list[Rule]:
    """The fired rules that concluded ``concept``, then those that concluded what they read."""
    seen = set() if seen is None else seen
    result: list[Rule] = []
    for rule_id in trace.fired:
        rule = rules[rule_id]
        if rule.target != concept or rule.id in seen:
            continue
        seen.add(rule.id)
        result.append(rule)
        for conj in _holding(rule, facts, trace.concepts):
            for atom in conj:
                if atom.op is Op.CONCEPT:
                    result.extend(_chain(atom.var, facts, trace, rules, seen))
    return result


def _lesion_counts_read(rule: Rule, facts: Mapping[str, Any],
                        concepts: frozenset[str]) -> set[str]:
    """Lesion concepts whose counts a fired overall rule read in a holding branch."""
    return {atom.var[len(LESIONS):] for conj in _holding(rule, facts, concepts) for atom in conj
            if atom.var.startswith(LESIONS) and atom.op is Op.BETWEEN and atom.low}


class ResponseAssessor:
    """Compiled response criteria: build once, assess many response cases."""

    def __init__(self, kb: KnowledgeBase, criteria: ResponseCriteria, engine: str = "experta"):
        self.kb = kb
        self.criteria = criteria
        make = ExpertaEngine if engine == "experta" else PythonEngine
        self.engines = {(s.id, stage): make(s.rules(stage)) for s in criteria.sets
                        for stage in ("lesion", "overall")}
        self.rules = {(s.id, stage): {r.id: r for r in s.rules(stage)} for s in criteria.sets
                      for stage in ("lesion", "overall")}

    def _category(self, concepts: frozenset[str]) -> str:
        """The category the rules concluded (worst first if several; see response.yaml)."""
        found = [c for c in self.criteria.category_ids if c in concepts]
        return found[0] if found else self.criteria.undecided

    def _caveats(self, trace: Trace) -> tuple[str, ...]:
        return tuple(c for c in self.criteria.caveats if c in trace.concepts)

    def assess(self, case: ResponseCase) -> Assessment:
        criteria = self.criteria
        overall: dict[str, Verdict] = {}
        per_lesion: list[dict[str, Verdict]] = [{} for _ in case.lesions]
        compared: list[dict[str, tuple[str, ...]]] = [{} for _ in case.lesions]
        features: list[dict[str, float]] = [{} for _ in case.lesions]
        caveat_hits: dict[str, dict[str, list[str]]] = {}
        traces: dict[str, list[tuple[Mapping[str, Any], Trace]]] = {}
        counted: list[list[str]] = [[] for _ in case.new_lesions]
        for criteria_set in criteria.sets:
            sid = criteria_set.id
            engine, rules = self.engines[(sid, "lesion")], self.rules[(sid, "lesion")]
            lesion_runs = []
            for i, lesion in enumerate(case.lesions):
                facts = lesion_facts(case, lesion, criteria_set, criteria)
                trace = engine.run(facts)
                traces.setdefault(sid, []).append((facts, trace))
                lesion_runs.append((facts, trace))
                category = self._category(trace.concepts)
                reasons = [Reason(r.id, r.description, r.references)
                           for r in _chain(category, facts, trace, rules)]
                caveats = self._caveats(trace)
                per_lesion[i][sid] = Verdict(category, tuple(reasons), caveats)
                compared[i][sid] = tuple(sorted(facts[MODALITIES]))
                for key in COMPUTED_FEATURES:
                    if key in facts and isinstance(facts[key], float) and key != WEEKS:
                        features[i][key] = facts[key]
                for caveat in caveats:
                    caveat_hits.setdefault(caveat, {}).setdefault(sid, []).append(lesion.site)
            facts = overall_facts(case, criteria_set, criteria,
                                  (t.concepts for _, t in lesion_runs))
            trace = self.engines[(sid, "overall")].run(facts)
            traces[sid].append((facts, trace))
            overall[sid] = self._overall_verdict(case, sid, facts, trace, per_lesion)
            for caveat in self._caveats(trace):
                caveat_hits.setdefault(caveat, {}).setdefault(sid, [])
            for j, new in enumerate(case.new_lesions):
                if _bone_modalities(criteria.overall_vocabulary, {new.modality}) \
                        & criteria_set.scope:
                    counted[j].append(sid)
        lesions = tuple(LesionResult(lesion.site, per_lesion[i], compared[i], features[i])
                        for i, lesion in enumerate(case.lesions))
        new_lesions = tuple(
            {"site": n.site, "modality": n.modality, "findings": dict(n.findings),
             "adjacent_to": n.adjacent_to, "seen_by": counted[j]}
            for j, n in enumerate(case.new_lesions))
        return Assessment(case, overall, lesions, new_lesions, self._caveat_list(caveat_hits),
                          criteria, {k: tuple(v) for k, v in traces.items()})

    def _overall_verdict(self, case: ResponseCase, sid: str, facts: Mapping[str, Any],
                         trace: Trace, per_lesion: list[dict[str, Verdict]]) -> Verdict:
        rules = self.rules[(sid, "overall")]
        category = self._category(trace.concepts)
        chain = _chain(category, facts, trace, rules)
        reasons = [Reason(r.id, r.description, r.references) for r in chain]
        for concept in sorted({c for r in chain
                               for c in _lesion_counts_read(r, facts, trace.concepts)}):
            grouped: dict[str, Reason] = {}
            for i, lesion in enumerate(case.lesions):
                verdict = per_lesion[i][sid]
                if verdict.category.lower() != concept:
                    continue
                for reason in verdict.criteria:
                    known = grouped.get(reason.rule)
                    sites = (*known.lesions, lesion.site) if known else (lesion.site,)
                    grouped[reason.rule] = Reason(reason.rule, reason.text, reason.references,
                                                  sites)
            reasons.extend(grouped.values())
        caveats = set(self._caveats(trace))
        caveats.update(c for lesion in per_lesion for c in lesion[sid].caveats)
        ordered = tuple(c for c in self.criteria.caveats if c in caveats)
        return Verdict(category, tuple(reasons), ordered)

    def _caveat_list(self, hits: Mapping[str, Mapping[str, list[str]]]) -> tuple[Caveat, ...]:
        result = []
        order = [s.id for s in self.criteria.sets]
        for caveat_id, by_set in hits.items():
            spec = self.criteria.caveats[caveat_id]
            sites: list[str] = []
            for set_id in order:
                for site in by_set.get(set_id, []):
                    if site not in sites:
                        sites.append(site)
            result.append(Caveat(caveat_id, spec.title, spec.text,
                                 tuple(s for s in order if s in by_set), tuple(sites),
                                 tuple(spec.references)))
        return tuple(result)


# --------------------------------------------------------------------------- loading
def load_response_criteria(kb: KnowledgeBase) -> ResponseCriteria:
    """The response criteria of ``kb``; raises :class:`KnowledgeBaseError` listing errors."""
    criteria, problems = check_response_criteria(kb, COMPUTED_FEATURES)
    if criteria is None:
        errors = [p for p in problems if p.severity is Severity.ERROR]
        raise KnowledgeBaseError(errors or problems)
    return criteria


def build_assessor(kb: KnowledgeBase, engine: str = "experta") -> ResponseAssessor:
    """Load the criteria of ``kb`` and compile them."""
    return ResponseAssessor(kb, load_response_criteria(kb), engine)


def _shown_name(path: Path, kb: KnowledgeBase) -> str:
    try:
        return str(path.relative_to(kb.root.parent))
    except ValueError:
        return str(path)


def check_response_kb(kb_root: str | Path | None = None, *,
                      kb: KnowledgeBase | None = None) -> list[Problem]:
    """Every problem of the response criteria and response cases (for ``ossdx validate``).

    Criteria errors are errors; a response case that does not load is an error; a case whose
    ``truth`` the criteria do not reproduce is a warning. Problems of the core knowledge base
    are left to the other checks (without a core KB nothing here can be checked). Pass the
    already loaded ``kb`` of ``kb_root`` to save loading it again.
    """
    if kb is None:
        kb, _ = check_knowledge_base(kb_root)
    if kb is None or not (kb.root / "response").is_dir():
        return []  # a knowledge base without response criteria is valid
    criteria, problems = check_response_criteria(kb, COMPUTED_FEATURES)
    if criteria is None:
        return problems
    assessor = ResponseAssessor(kb, criteria)
    folder = kb.root / CASES_FOLDER
    if folder.is_dir():
        for path in iter_yaml_files(folder):
            name = _shown_name(path, kb)
            try:
                case = load_response_file(path, kb, criteria, name=name)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            result = assessor.assess(case)
            for set_id, expected in case.truth.items():
                got = result.category(set_id)
                if got != expected:
                    problems.append(Problem(
                        Location(name, 1), f"truth says {set_id} {expected}, the criteria "
                        f"give {got}", Severity.WARNING, "truth-mismatch"))
    return problems


# --------------------------------------------------------------------------- text report
def _wrap(text: str, indent: str, width: int = 96) -> str:
    return textwrap.fill(" ".join(text.split()), width=width, initial_indent=indent,
                         subsequent_indent=indent + "  ")


def _set_caveats(result: Assessment, set_id: str) -> list[Caveat]:
    return [c for c in result.caveats if set_id in c.criteria]


def format_assessment(result: Assessment, disclaimer: str | None = None) -> str:
    """The plain-text report of ``ossdx response``."""
    criteria = result.criteria
    case = result.case
    sets = criteria.sets
    lines = [f"Treatment response: {case.title or case.name}", f"  file: {case.location.file}"]
    weeks = case.weeks_since_treatment_start
    lines.append(f"  weeks since the start of treatment: "
                 f"{'not given' if weeks is None else f'{weeks:g}'}; baseline: "
                 f"{', '.join(sorted(case.baseline_modalities))}; follow-up: "
                 f"{', '.join(sorted(case.followup_modalities))}")
    lines.append("")
    width = max([len("Overall"), *(min(len(les.site), 40) for les in result.lesions)]) + 2
    header = " " * (width + 2) + "".join(f"{s.short_name:<7}" for s in sets)
    lines.append(header.rstrip())
    lines.append(f"  {'Overall':<{width}}" + "".join(
        f"{result.overall[s.id].category:<7}" for s in sets).rstrip())
    for lesion in result.lesions:
        lines.append(f"  {lesion.site[:40]:<{width}}" + "".join(
            f"{lesion.verdicts[s.id].category:<7}" for s in sets).rstrip())
    for new in result.new_lesions:
        seen = ", ".join(criteria.set(s).short_name for s in new["seen_by"]) or "none"
        lines.append(f"  new: {new['site']} ({new['modality']}; counted by {seen})")
    for criteria_set in sets:
        verdict = result.overall[criteria_set.id]
        name = criteria.category(verdict.category).name
        lines.append("")
        lines.append(f"{criteria_set.short_name}: {verdict.category}, {name.lower()} "
                     f"({criteria_set.name}; reads {', '.join(criteria_set.modalities)})")
        for reason in verdict.criteria:
            where = f" [{'; '.join(reason.lesions)}]" if reason.lesions else ""
            lines.append(_wrap(f"- {reason.rule}: {reason.text}{where}", "  "))
        for caveat in _set_caveats(result, criteria_set.id):
            lines.append(_wrap(f"! {caveat.title} (see caveats)", "  "))
    if result.caveats:
        lines.append("")
        lines.append("Caveats")
        for caveat in result.caveats:
            who = ", ".join(criteria.set(s).short_name for s in caveat.criteria)
            where = f"; {'; '.join(caveat.lesions)}" if caveat.lesions else ""
            lines.append(_wrap(f"! {caveat.title} ({who}{where}). {caveat.text}", "  "))
    if case.truth:
        lines.append("")
        lines.append("Expected (truth): " + ", ".join(
            f"{criteria.set(k).short_name} {v}"
            f"{'' if result.category(k) == v else ' (differs)'}" for k, v in case.truth.items()))
    if disclaimer:
        lines.append("")
        lines.append(textwrap.fill(" ".join(disclaimer.split()), width=96))
    return "\n".join(lines)
