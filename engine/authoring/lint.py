"""``ossdx validate``: every problem of a knowledge base, beyond the schema.

The loader (:mod:`engine.kb.build`) reports what is wrong with the files themselves: keys
and types, unknown findings, values, concepts, diagnoses and references (with "did you
mean"), duplicate ids, likelihood ratios outside the sane range, missing references and
cycles among derived concepts. This module adds checks over the loaded rules and reports
each as ``file:line: message`` with a severity:

errors
    a rule, prior factor, pitfall or recommendation that can never fire (its condition
    contradicts itself, needs a modality it also excludes, or needs a concept that can never
    be derived); a rule example that does not behave as written; a diagnosis with no rule
    for it; a case file that does not load (an unknown finding, a truth the KB does not know)
warnings
    a rule duplicated or shadowed by another; one alternative of an ``any:`` that can never
    hold; a finding no rule uses; a derived concept no rule reads; a diagnosis with few
    rules or none against it

Every message says what is wrong and how to fix it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ossdx.advice.track_record import load_track_record
from ossdx.core.errors import InputError, Location, Problem, Severity
from ossdx.core.loader import iter_yaml_files, read_document
from ossdx.kb import check_knowledge_base, default_kb_path
from ossdx.kb.model import (
    MODALITIES,
    PATIENT,
    Atom,
    Conjunction,
    Kind,
    KnowledgeBase,
    Op,
    Rule,
    Vocabulary,
)
from ossdx.reasoning.cases import read_case_folder
from ossdx.reasoning.inference import PythonEngine

MIN_RULES = 4
MAX_EXPANSIONS = 256  # alternatives a condition may expand to when concepts are inlined
_FIX = "remove one of the clashing conditions, or list alternatives under 'any:'"


# ============================================================================ wording
def phrase(atom: Atom) -> str:
    """An atom as its author wrote it, e.g. ``density: lytic`` or ``without_concept: x``."""
    var = atom.var[len(PATIENT):] if atom.var.startswith(PATIENT) else atom.var
    values = sorted(atom.values)
    shown = values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"
    if atom.op is Op.CONCEPT:
        return f"concept: {var}"
    if atom.op is Op.NO_CONCEPT:
        return f"without_concept: {var}"
    if atom.op is Op.UNKNOWN:
        return f"unknown: {var}"
    if atom.var == MODALITIES:
        return f"{'modality' if atom.op is Op.CONTAINS else 'without_modality'}: {shown}"
    if atom.op is Op.BETWEEN:
        bounds = []
        if atom.low is not None:
            bounds.append(f"at_least: {atom.low:g}")
        if atom.high is not None:
            bounds.append(f"below: {atom.high:g}")
        return f"{var}: {{{', '.join(bounds)}}}"
    if atom.op in (Op.NOT_IN, Op.EXCLUDES):
        return f"{var}: {{not: {shown}}}"
    return f"{var}: {shown}"


def _with_line(atom: Atom) -> str:
    return f"'{phrase(atom)}' (line {atom.location.line})"


def describe(rule: Rule) -> str:
    """What a rule is called in a message: rule 'x', pitfall 'y', prior factor 'z'."""
    if rule.kind is Kind.PITFALL:
        return f"pitfall '{rule.target}'"
    if rule.kind is Kind.RECOMMENDATION:
        return f"recommendation '{rule.target}'"
    if rule.kind is Kind.PRIOR:
        return f"prior factor '{rule.id}'"
    return f"rule '{rule.id}'"


# ============================================================================ demands
@dataclass(frozen=True)
class Clash:
    """Why a conjunction can never hold, and the atom where that became clear."""

    atom: Atom
    reason: str


@dataclass
class Demands:
    """What one conjunction of atoms demands of a case, built atom by atom.

    ``add`` returns a :class:`Clash` as soon as the demands contradict each other;
    ``implies`` says whether every case meeting the demands also meets another atom.
    """

    vocab: Vocabulary
    values: dict[str, set[str]] = field(default_factory=dict)  # single choice: still possible
    low: dict[str, float] = field(default_factory=dict)
    high: dict[str, float] = field(default_factory=dict)
    numeric: set[str] = field(default_factory=set)
    unknown: dict[str, Atom] = field(default_factory=dict)
    known: dict[str, Atom] = field(default_factory=dict)
    contains: list[tuple[str, frozenset[str], Atom, bool]] = field(default_factory=list)
    excludes: dict[str, set[str]] = field(default_factory=dict)
    concepts: dict[str, Atom] = field(default_factory=dict)
    no_concepts: dict[str, Atom] = field(default_factory=dict)
    atoms: dict[str, list[Atom]] = field(default_factory=dict)
    requirements: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)

    # ------------------------------------------------------------------ building
    def add_all(self, atoms: Iterable[Atom]) -> Clash | None:
        for atom in atoms:
            clash = self.add(atom)
            if clash is not None:
                return clash
        return None

    def add(self, atom: Atom) -> Clash | None:
        var, op = atom.var, atom.op
        earlier = list(self.atoms.get(var, ()))
        self.atoms.setdefault(var, []).append(atom)
        if op is Op.CONCEPT:
            self.concepts.setdefault(var, atom)
            if var in self.no_concepts:
                return Clash(atom, f"it needs concept '{var}' and also "
                             f"{_with_line(self.no_concepts[var])}; {_FIX}")
            return None
        if op is Op.NO_CONCEPT:
            self.no_concepts.setdefault(var, atom)
            if var in self.concepts:
                return Clash(atom, f"it forbids concept '{var}' and also needs "
                             f"{_with_line(self.concepts[var])}; {_FIX}")
            return None
        if op is Op.UNKNOWN:
            self.unknown.setdefault(var, atom)
            if var in self.known:
                return Clash(atom, f"'{var}' cannot be both not assessed and "
                             f"{_with_line(self.known[var])}; {_FIX}")
            return None
        if var == MODALITIES:
            if op is Op.CONTAINS:
                self.contains.append((var, atom.values, atom, False))
            else:
                self.excludes.setdefault(var, set()).update(atom.values)
            return self._modalities(atom)
        return self._known(atom, earlier)

    def _known(self, atom: Atom, earlier: list[Atom]) -> Clash | None:
        var, op = atom.var, atom.op
        self.known.setdefault(var, atom)
        if var in self.unknown:
            return Clash(atom, f"'{var}' cannot be both {phrase(atom)} and not assessed "
                         f"({_with_line(self.unknown[var])}); {_FIX}")
        spec = self.vocab.variable(var)
        if spec is None:
            return None
        clash = None
        if op is Op.BETWEEN:
            self.numeric.add(var)
            clash = self._numeric(atom, spec.range, earlier)
        elif op in (Op.IN, Op.NOT_IN):
            possible = self.values.setdefault(var, set(spec.values))
            if op is Op.IN:
                possible &= atom.values
            else:
                possible -= atom.values
            if not possible:
                clash = self._no_value(atom, earlier)
        else:  # a set-valued variable: CONTAINS / EXCLUDES
            if op is Op.CONTAINS:
                self.contains.append((var, atom.values, atom, False))
            else:
                self.excludes.setdefault(var, set()).update(atom.values)
            clash = self._sets(atom, var)
        if clash is not None:
            return clash
        if not var.startswith(PATIENT):
            if spec.needs:
                self.contains.append((MODALITIES, frozenset(spec.needs), atom, True))
                clash = self._modalities(atom)
                if clash is not None:
                    return clash
            for other, wanted in spec.requires.items():
                items = wanted if isinstance(wanted, list) else [wanted]
                self.requirements.append((var, other, frozenset(map(str, items))))
        return self._requirements(atom)

    # ------------------------------------------------------------------ clashes
    def _no_value(self, atom: Atom, earlier: list[Atom]) -> Clash:
        name = atom.var[len(PATIENT):] if atom.var.startswith(PATIENT) else atom.var
        if not earlier:
            return Clash(atom, f"'{phrase(atom)}' excludes every value of '{name}'; "
                         "list only the values that should not match")
        others = ", ".join(_with_line(a) for a in earlier)
        return Clash(atom, f"no value of '{name}' meets both '{phrase(atom)}' and "
                     f"{others} (a finding has one value); {_FIX}")

    def _numeric(self, atom: Atom, bounds: tuple[float, float] | None,
                 earlier: list[Atom]) -> Clash | None:
        var = atom.var
        if atom.low is not None:
            self.low[var] = max(self.low.get(var, -math.inf), atom.low)
        if atom.high is not None:
            self.high[var] = min(self.high.get(var, math.inf), atom.high)
        low, high = self.low.get(var, -math.inf), self.high.get(var, math.inf)
        if bounds is not None:
            low, high = max(low, bounds[0]), min(high, math.nextafter(bounds[1], math.inf))
        if low < high or not earlier:
            return None  # a single atom's own range is checked by the loader
        others = ", ".join(_with_line(a) for a in earlier)
        name = var[len(PATIENT):] if var.startswith(PATIENT) else var
        return Clash(atom, f"no number meets both '{phrase(atom)}' and {others} for "
                     f"'{name}'; {_FIX}")

    def _sets(self, atom: Atom, var: str) -> Clash | None:
        excluded = self.excludes.get(var, set())
        for other_var, wanted, source, _ in self.contains:
            if other_var == var and wanted <= excluded:
                culprits = [a for a in self.atoms[var] if a.op is Op.EXCLUDES]
                return Clash(atom, f"it needs '{phrase(source)}' and also "
                             + ", ".join(_with_line(a) for a in culprits) + f"; {_FIX}")
        return None

    def performable(self) -> frozenset[str]:
        """Every modality a case meeting these demands may show (after expansion)."""
        excluded = self.excludes.get(MODALITIES, set())
        allowed = {m for m in self.vocab.modalities
                   if not self.vocab.expand_modalities({m}) & excluded}
        return self.vocab.expand_modalities(allowed)

    def _modalities(self, atom: Atom) -> Clash | None:
        possible = self.performable()
        excluders = [a for a in self.atoms.get(MODALITIES, ()) if a.op is Op.EXCLUDES]
        for var, wanted, source, from_needs in self.contains:
            if var != MODALITIES or wanted & possible:
                continue
            shown = ", ".join(_with_line(a) for a in excluders if a is not atom) \
                or f"'{phrase(atom)}'"
            if from_needs:
                return Clash(atom, f"'{source.var}' needs one of the modalities "
                             f"{', '.join(sorted(wanted))}, which the same condition "
                             f"excludes ({shown}); drop the finding or the "
                             "'without_modality'")
            return Clash(atom, f"it needs '{phrase(source)}' but also excludes it ({shown}); "
                         "a modality cannot be both performed and not performed; "
                         f"{_FIX}")
        return None

    def _requirements(self, atom: Atom) -> Clash | None:
        for finding, other, wanted in self.requirements:
            possible = self.values.get(other)
            if possible is not None and not possible & wanted:
                given = ", ".join(_with_line(a) for a in self.atoms[other])
                return Clash(atom, f"'{finding}' applies only when {other} is "
                             f"{' or '.join(sorted(wanted))}, but the condition needs {given}; "
                             f"no case can have both")
        return None

    # ------------------------------------------------------------------ implication
    def implies(self, atom: Atom) -> bool:
        """Whether every case that meets these demands also meets ``atom``."""
        var, op = atom.var, atom.op
        if op is Op.CONCEPT:
            return var in self.concepts
        if op is Op.NO_CONCEPT:
            return var in self.no_concepts
        if op is Op.UNKNOWN:
            return var in self.unknown
        if op is Op.EXCLUDES:
            return atom.values <= self.excludes.get(var, set())
        if op is Op.CONTAINS:
            return any(v == var and wanted <= atom.values for v, wanted, _, _ in self.contains)
        if op is Op.IN:
            return var in self.values and self.values[var] <= atom.values
        if op is Op.NOT_IN:
            return var in self.values and not self.values[var] & atom.values
        # BETWEEN
        if var not in self.numeric:
            return False
        spec = self.vocab.variable(var)
        lo, hi = spec.range if spec is not None and spec.range else (-math.inf, math.inf)
        low, high = max(self.low.get(var, -math.inf), lo), self.high.get(var, math.inf)
        high_ok = atom.high is None or high <= atom.high or (var not in self.high
                                                             and hi < atom.high)
        return (atom.low is None or low >= atom.low) and high_ok


def clash_of(atoms: Iterable[Atom], vocab: Vocabulary) -> Clash | None:
    """Why a conjunction can never hold (None if some case could meet it)."""
    return Demands(vocab).add_all(atoms)


def demands_of(atoms: Iterable[Atom], vocab: Vocabulary) -> Demands | None:
    demands = Demands(vocab)
    return None if demands.add_all(atoms) else demands


# ============================================================================ expansion
class Derivations:
    """Each derived concept as the alternatives of findings that derive it (concepts inlined).

    A concept maps to a list of atom tuples, one per way of deriving it (empty: it can never
    be derived), or to None when it has too many alternatives to inline.
    """

    def __init__(self, kb: KnowledgeBase):
        self.vocab = kb.vocabulary
        self.of: dict[str, list[tuple[Atom, ...]] | None] = {c: [] for c in kb.concepts}
        for rule in kb.rules:  # stratified: a concept's rules come before its readers
            ways = self.of.get(rule.target)
            if rule.kind is not Kind.CONCEPT or ways is None:
                continue
            for conj in rule.when:
                expanded = self.expand(conj)
                if expanded is None or len(ways) + len(expanded) > MAX_EXPANSIONS:
                    self.of[rule.target] = None
                    break
                ways.extend(x for x in expanded if clash_of(x, self.vocab) is None)

    def expand(self, conj: Conjunction) -> list[tuple[Atom, ...]] | None:
        """The conjunction with each concept replaced by its derivations (None: too many)."""
        combos: list[tuple[Atom, ...]] = [tuple(conj)]
        for atom in conj:
            if atom.op is not Op.CONCEPT:
                continue
            ways = self.of.get(atom.var)
            if ways is None:
                continue
            combos = [c + w for c in combos for w in ways]
            if len(combos) > MAX_EXPANSIONS:
                return None
        return combos


def _way(atoms: tuple[Atom, ...]) -> str:
    """One way of deriving a concept, in the author's words, with where it is written."""
    shown = [a for a in atoms if a.op is not Op.CONCEPT]
    if not shown:
        return "its concepts"
    return " and ".join(f"'{phrase(a)}'" for a in shown) + f" ({shown[0].location})"


def _dead_reason(conj: Conjunction, derivations: Derivations) -> Clash | None:
    """Why an alternative can never hold, following concepts to their findings."""
    vocab = derivations.vocab
    direct = clash_of(conj, vocab)
    if direct is not None:
        return direct
    expanded = derivations.expand(conj)
    if expanded is None or any(clash_of(x, vocab) is None for x in expanded):
        return None
    base = tuple(a for a in conj if a.op is not Op.CONCEPT)
    for atom in conj:
        if atom.op is not Op.CONCEPT:
            continue
        ways = derivations.of.get(atom.var)
        if ways is None:
            continue
        if not ways:
            return Clash(atom, f"it needs concept '{atom.var}', which can never be derived "
                         f"(every rule of '{atom.var}' can never fire); fix the rules of "
                         f"'{atom.var}'")
        if all(clash_of((*base, atom, *w), vocab) for w in ways):
            shown = " or ".join(_way(w) for w in ways[:3]) + (" or ..." if len(ways) > 3 else "")
            return Clash(atom, f"concept '{atom.var}' is derived only from {shown}, which "
                         "clashes with the rest of the condition; change the condition or the "
                         f"rules of '{atom.var}'")
    concepts = [a for a in conj if a.op is Op.CONCEPT]
    names = ", ".join(f"'{a.var}'" for a in concepts)
    return Clash(concepts[0], f"the concepts {names} can never hold together with the rest "
                 "of the condition; check their rules")


# ============================================================================ checks
def check_never_fires(kb: KnowledgeBase, derivations: Derivations | None = None,
                      ) -> list[Problem]:
    """Rules, prior factors, pitfalls and recommendations that can never fire."""
    derivations = derivations or Derivations(kb)
    problems = []
    for rule in kb.rules:
        clashes = [c for c in (_dead_reason(conj, derivations) for conj in rule.when) if c]
        if not clashes:
            continue
        if len(clashes) == len(rule.when):
            for clash in clashes:
                problems.append(Problem(clash.atom.location, f"{describe(rule)} can never "
                                        f"fire: {clash.reason}", code="never-fires"))
        else:
            for clash in clashes:
                problems.append(Problem(
                    clash.atom.location, f"one alternative of {describe(rule)} can never "
                    f"hold: {clash.reason}", Severity.WARNING, code="dead-alternative"))
    return problems


def _ways(rule: Rule, derivations: Derivations) -> list[Demands]:
    """What each way of meeting the rule's condition demands, with every concept followed to
    the findings that derive it (ways that can never hold left out)."""
    ways = [x for conj in rule.when for x in (derivations.expand(conj) or [tuple(conj)])]
    return [d for d in (demands_of(way, derivations.vocab) for way in ways) if d is not None]


def _implies(ways: list[Demands], b: Rule) -> bool:
    """Whether ``b`` fires on every case that meets one of ``ways`` (judged on the
    conditions)."""
    return bool(ways) and all(any(all(d.implies(x) for x in conj) for conj in b.when)
                              for d in ways)


def _sign(rule: Rule) -> int:
    return (rule.lr > 1) - (rule.lr < 1)


def _where(rule: Rule) -> str:
    return str(rule.location)


def check_redundant(kb: KnowledgeBase, derivations: Derivations | None = None,
                    ) -> list[Problem]:
    """Rules duplicated by another, or shadowed by a more general one of the same target."""
    derivations = derivations or Derivations(kb)
    by_target: dict[tuple[Kind, str], list[Rule]] = {}
    for rule in kb.rules:
        if rule.kind in (Kind.CONCEPT, Kind.EVIDENCE, Kind.PRIOR):
            by_target.setdefault((rule.kind, rule.target), []).append(rule)
    problems = []
    for (kind, target), rules in by_target.items():
        rules = sorted(rules, key=lambda r: (r.location.file, r.location.line or 0, r.id))
        ways = {r.id: _ways(r, derivations) for r in rules}
        for i, a in enumerate(rules):
            for b in rules[i + 1:]:
                ab, ba = _implies(ways[a.id], b), _implies(ways[b.id], a)
                if ab and ba:
                    problems.append(_duplicate(b, a, kind, target))
                elif ab:
                    problems.extend(_subsumed(a, b, kind, target))
                elif ba:
                    problems.extend(_subsumed(b, a, kind, target))
    return problems


def _duplicate(later: Rule, first: Rule, kind: Kind, target: str) -> Problem:
    if kind is not Kind.CONCEPT and _sign(later) != _sign(first):
        message = (f"{describe(later)} has the same condition as '{first.id}' "
                   f"({_where(first)}) but the opposite effect on '{target}', so the two "
                   "cancel out (in part or in full); remove one, or make their conditions "
                   "differ")
    else:
        message = (f"{describe(later)} duplicates '{first.id}' ({_where(first)}): same "
                   f"condition, same conclusion about '{target}'; remove one of them")
    return Problem(later.location, message, Severity.WARNING, code="duplicate-rule")


def _subsumed(narrow: Rule, broad: Rule, kind: Kind, target: str) -> list[Problem]:
    """``narrow`` fires only when ``broad`` fires too: report it if it can never matter."""
    where = f"'{broad.id}' ({_where(broad)})"
    if kind is Kind.CONCEPT:
        message = (f"{describe(narrow)} adds nothing: whenever it fires, {where} fires too and "
                   f"derives '{target}'; remove it, or make it cover cases {broad.id} does not")
    elif kind is Kind.EVIDENCE and narrow.group and narrow.group == broad.group:
        # A group counts its strongest member whichever way it points, so a weaker rule
        # that only fires with a stronger one is never counted, even one pulling the other way.
        if abs(math.log(narrow.lr)) > abs(math.log(broad.lr)):
            return []  # the specific form is stronger: it replaces the general one
        opposite = " although it points the other way" if _sign(narrow) != _sign(broad) else ""
        message = (f"{describe(narrow)} never counts{opposite}: whenever it fires, {where} "
                   f"fires too, and in group '{narrow.group}' only the strongest counts (LR "
                   f"{narrow.lr:.3g} against {broad.lr:.3g}); make it stronger than "
                   f"'{broad.id}' or remove it")
    else:
        # Outside a shared group a narrower rule is conditional evidence ("a breached cortex
        # in a cartilage lesion"), or an exception pulling the other way: both count on
        # purpose, so nothing is reported.
        return []
    return [Problem(narrow.location, message, Severity.WARNING, code="shadowed-rule")]


def _definition_lines(kb: KnowledgeBase, folder: str, key: str) -> dict[str, Location]:
    """Where each item of ``folder/*.yaml`` (under ``key``) is defined: the line of its id."""
    found: dict[str, Location] = {}
    for path in iter_yaml_files(kb.root / folder):
        try:
            doc = read_document(path, name=_shown(kb, path))
        except InputError:
            continue
        items = doc.data.get(key) if isinstance(doc.data, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                found.setdefault(item["id"], doc.at((key, i, "id")))
    return found


def _shown(kb: KnowledgeBase, path: Path) -> str:
    try:
        return str(path.relative_to(kb.root.parent))
    except ValueError:
        return str(path)


def check_unused(kb: KnowledgeBase) -> list[Problem]:
    """Findings no rule reads, and derived concepts no rule reads."""
    used = {a.var for rule in kb.rules for conj in rule.when for a in conj}
    problems = []
    lines = _definition_lines(kb, "findings", "findings")
    for finding in kb.findings:
        if finding not in used:
            problems.append(Problem(
                lines.get(finding, Location(_shown(kb, kb.root / "findings"))),
                f"finding '{finding}' is not used by any rule, pitfall or recommendation, so "
                "its answer can never change the differential; use it in a 'when:' or remove "
                "it", Severity.WARNING, code="unused-finding"))
    lines = _definition_lines(kb, "concepts", "concepts")
    for concept in kb.concepts:
        if concept not in used:
            problems.append(Problem(
                lines.get(concept, Location(_shown(kb, kb.root / "concepts"))),
                f"concept '{concept}' is derived but no rule reads it; use it in a rule's "
                "'when:' (concept: ...) or remove it", Severity.WARNING, code="unused-concept"))
    return problems


def _unmet(rule: Rule, facts: Mapping[str, Any], concepts: frozenset[str]) -> str:
    """The conditions an example misses, for the alternative closest to holding."""
    best: list[Atom] = []
    for conj in rule.when:
        missing = [a for a in conj if not a.holds(facts, concepts)]
        if not best or len(missing) < len(best):
            best = missing
    parts = []
    for atom in best:
        if atom.op is Op.CONCEPT:
            parts.append(f"'{phrase(atom)}' does not hold (no rule of '{atom.var}' fired on "
                         "the example)")
        elif atom.is_concept or atom.var == MODALITIES:
            parts.append(f"'{phrase(atom)}' does not hold")
        elif atom.var in facts:
            value = facts[atom.var]
            shown = ", ".join(sorted(value)) if isinstance(value, frozenset) else value
            parts.append(f"'{phrase(atom)}' does not hold (the example has {shown})")
        else:
            parts.append(f"'{phrase(atom)}' does not hold (the example does not give it)")
    return "; ".join(parts) or "nothing fits"


def _met(rule: Rule, facts: Mapping[str, Any], concepts: frozenset[str]) -> str:
    for conj in rule.when:
        if all(a.holds(facts, concepts) for a in conj):
            return ", ".join(f"'{phrase(a)}'" for a in conj)
    return "?"


def check_examples(kb: KnowledgeBase, engine: PythonEngine | None = None) -> list[Problem]:
    """Every rule example (``examples:``) must fire, or stay silent, as its author wrote; and
    a rule written by hand should have one of each (a warning)."""
    engine = engine or PythonEngine(kb)
    problems = []
    for rule in kb.rules:
        if rule.takes_examples:
            firing = {e.fires for e in rule.examples}
            missing = {frozenset(): "no examples: add one that fires and one that does not",
                       frozenset({True}): "no example that stays silent: add one",
                       frozenset({False}): "no example that fires: add one"}.get(
                           frozenset(firing))
            if missing:
                problems.append(Problem(rule.location, f"{describe(rule)} has {missing} "
                                        "under 'examples:' (docs/AUTHORING.md section 10)",
                                        Severity.WARNING, code="few-examples"))
        for i, example in enumerate(rule.examples, 1):
            trace = engine.run(example.facts)
            fired = rule.id in trace.fired
            if fired == example.fires:
                continue
            if example.fires:
                why = (f"expects it to fire, but it does not: "
                       f"{_unmet(rule, example.facts, trace.concepts)}")
            else:
                why = (f"expects it not to fire, but it does: the example meets "
                       f"{_met(rule, example.facts, trace.concepts)}")
            problems.append(Problem(example.location, f"example {i} of {describe(rule)} {why}; "
                                    "fix the example or the rule's 'when:'",
                                    code="example-fails"))
    return problems


def check_diagnoses(kb: KnowledgeBase) -> list[Problem]:
    """Each diagnosis needs rules for it (and should have rules against it, and enough)."""
    problems = []
    for dx_id in kb.diagnoses:
        rules = kb.rules_for(Kind.EVIDENCE, dx_id)
        location = _diagnosis_location(kb, dx_id)
        if len(rules) < MIN_RULES:
            problems.append(Problem(location, f"diagnosis '{dx_id}' has {len(rules)} evidence "
                            f"rule(s); {MIN_RULES} or more make a useful entry",
                            Severity.WARNING, code="few-rules"))
        if not any(r.lr < 1 for r in rules):
            problems.append(Problem(location, f"diagnosis '{dx_id}' has no rule against it; "
                                    "nothing can lower it: add a rule with 'effect: against'",
                                    Severity.WARNING, code="no-rule-against"))
        if not any(r.lr > 1 for r in rules):
            problems.append(Problem(location, f"diagnosis '{dx_id}' has no rule for it, so no "
                                    "finding can raise it: add a rule with 'effect: for'",
                                    code="no-rule-for"))
    return problems


def check_track_record(kb: KnowledgeBase) -> list[Problem]:
    """The measured track record quoted beside the leader (``track_record.json``): an error
    at its line when the file is there but broken. A record measured with other knowledge is
    not a fault of the knowledge (every edit makes it so): the app and ``ossdx diagnose`` say
    so beside it, and the project's tests keep the shipped one current."""
    try:
        load_track_record(kb.root)
    except InputError as exc:
        return list(exc.problems)
    return []


def lint(kb: KnowledgeBase) -> list[Problem]:
    """Every check over a loaded knowledge base (the loader's checks come first)."""
    derivations = Derivations(kb)
    return [*check_diagnoses(kb), *check_never_fires(kb, derivations),
            *check_redundant(kb, derivations), *check_unused(kb), *check_examples(kb),
            *check_track_record(kb)]


def _diagnosis_location(kb: KnowledgeBase, dx_id: str) -> Location:
    return Location(_shown(kb, kb.root / "diagnoses" / f"{dx_id}.yaml"), 1)


def check_cases(kb: KnowledgeBase) -> list[Problem]:
    """Every case file under ``cases/`` must load against the vocabulary and the diagnoses."""
    folder = kb.root / "cases"
    if not folder.is_dir():
        return []
    entries = read_case_folder(folder, kb, name=lambda path: _shown(kb, path))
    return [p for e in entries for p in e.problems]


def check_response(root: Path, kb: KnowledgeBase | None = None) -> list[Problem]:
    """The response criteria's own check; given the already loaded ``kb`` of ``root``, it is
    not loaded again."""
    from ossdx.response.assess import check_response_kb

    return list(check_response_kb(root) if kb is None else check_response_kb(root, kb=kb))


#: What ``ossdx validate`` cannot check until the files load as one knowledge base: the
#: checks of :func:`lint` and :func:`check_cases` (name a new one here too).
CHECKS_NEEDING_LOADED_KB = ("rules that can never fire", "rule examples", "duplicated rules",
                            "unused findings and concepts", "diagnoses with few rules",
                            "case files", "the track record")


@dataclass(frozen=True)
class Validation:
    """The outcome of ``ossdx validate``: every problem, sorted by file and line, and whether
    the files loaded, so that the checks over the loaded knowledge base
    (:data:`CHECKS_NEEDING_LOADED_KB`) ran. When they did not, a second run after the
    errors are mended may find more."""

    problems: list[Problem]
    loaded: bool


def validate(root: Path | None = None) -> Validation:
    """Run every check ``ossdx validate`` runs over the knowledge base at ``root``."""
    root = Path(root) if root is not None else default_kb_path()
    kb, problems = check_knowledge_base(root)
    if kb is not None:
        problems += lint(kb)
        problems += check_cases(kb)
    problems += check_response(root, kb)
    ordered = sorted(set(problems), key=lambda p: (p.location.file, p.location.line or 0,
                                                   p.severity != Severity.ERROR, p.message))
    return Validation(ordered, loaded=kb is not None)


def validate_folder(root: Path | None = None) -> list[Problem]:
    """Everything ``ossdx validate`` reports, sorted by file and line."""
    return validate(root).problems


def errors_of(problems: Sequence[Problem]) -> list[Problem]:
    """Only the errors."""
    return [p for p in problems if p.severity is Severity.ERROR]
