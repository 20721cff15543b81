"""Explanations built from the rule trace: which findings fired a rule, what is still missing.

Nothing here is written per case: every sentence is assembled from the knowledge base's own
texts (rule descriptions, finding names, value labels) and from which atoms held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ossdx.kb.conditions import describe_atom
from ossdx.kb.model import MODALITIES, PATIENT, Atom, Kind, KnowledgeBase, Op, Rule
from ossdx.reasoning.inference import Trace


@dataclass(frozen=True, order=True)
class Used:
    """One case fact a rule used: a finding, a patient field or the modalities."""

    variable: str
    value: str
    label: str

    def as_dict(self) -> dict[str, str]:
        return {"finding": self.variable, "value": self.value, "label": self.label}


def _value_text(value: Any) -> str:
    if isinstance(value, frozenset):
        return ", ".join(sorted(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _used(kb: KnowledgeBase, atom: Atom, facts: Mapping[str, Any]) -> Used:
    name = kb.vocabulary.variable(atom.var)
    shown = name.name if name is not None else ("Modalities" if atom.var == MODALITIES
                                                else atom.var)
    if atom.op is Op.UNKNOWN:
        return Used(atom.var, "not assessed", f"{shown}: not assessed")
    value = facts.get(atom.var)
    if atom.var == MODALITIES:
        if atom.op is Op.CONTAINS:
            assert value is not None  # the atom held, so the case lists its modalities
            modalities = sorted(value & atom.values)
        else:
            modalities = sorted(value or ())
        text = ", ".join(modalities) or "none"
        bone = {m for m, spec in kb.vocabulary.modalities.items() if spec.bone_imaging == "yes"}
        if atom.op is Op.CONTAINS and len(atom.values) > 1 and atom.values == bone:
            # Any bone-imaging study will do (the population's base rate): name it so,
            # lest the study read as the reason.
            return Used(atom.var, text, f"any bone-imaging study (here {text})")
        return Used(atom.var, text, f"{shown}: {text}")
    if isinstance(value, frozenset):
        hits = value & atom.values if atom.op is Op.CONTAINS else value
        text = ", ".join(kb.label_of(atom.var, v) for v in sorted(hits))
        return Used(atom.var, _value_text(hits), f"{shown}: {text}")
    return Used(atom.var, _value_text(value), f"{shown}: {kb.label_of(atom.var, value)}")


def support(kb: KnowledgeBase, rule: Rule, facts: Mapping[str, Any], trace: Trace,
            _seen: frozenset[str] = frozenset()) -> tuple[Used, ...]:
    """The case facts that made ``rule`` fire, following concepts back to their findings."""
    concepts = trace.concepts
    found: set[Used] = set()
    for conjunction in rule.when:
        if not all(a.holds(facts, concepts) for a in conjunction):
            continue
        for atom in conjunction:
            if atom.op is Op.CONCEPT and atom.var not in _seen:
                for rule_id in trace.fired:
                    derived = kb.rule(rule_id)
                    if derived.kind is Kind.CONCEPT and derived.target == atom.var:
                        found.update(support(kb, derived, facts, trace, _seen | {atom.var}))
            elif not atom.is_concept and not atom.guard:
                found.add(_used(kb, atom, facts))
        break  # the first conjunction that holds is the reason given
    return tuple(sorted(found, key=lambda u: (u.variable.startswith(PATIENT), u)))


def describe_rule(kb: KnowledgeBase, rule: Rule) -> str:
    """The rule's condition in words, e.g. 'Density: Lytic (lucent); Aggressive features'."""
    alternatives = list(dict.fromkeys(
        "; ".join(describe_atom(a, kb.label_of, lambda v: _var_name(kb, v))
                  for a in conj if not a.guard) for conj in rule.when))
    if len(alternatives) == 1:
        return alternatives[0]
    return " OR ".join(f"({a})" for a in alternatives)


def _var_name(kb: KnowledgeBase, var: str) -> str:
    spec = kb.vocabulary.variable(var)
    if spec is not None:  # a number is read with its unit ('Size (cm) < 1')
        unit = getattr(spec, "unit", None)
        return f"{spec.name} ({unit})" if unit and unit not in spec.name else spec.name
    return kb.name_of(var)


@dataclass(frozen=True)
class Expected:
    """A finding not yet entered that would support a diagnosis, and how strongly."""

    finding: str
    values: tuple[str, ...]
    rule: str
    lr: float
    label: str

    def as_dict(self) -> dict[str, Any]:
        return {"finding": self.finding, "values": list(self.values), "rule": self.rule,
                "lr": round(self.lr, 3), "label": self.label}


def expected_findings(kb: KnowledgeBase, diagnosis: str, facts: Mapping[str, Any],
                      trace: Trace, limit: int = 5) -> tuple[Expected, ...]:
    """Unentered findings that would let a not-yet-fired rule for ``diagnosis`` fire.

    A rule qualifies when one of its alternatives has every atom either true or about a
    finding not yet entered; the finding atoms still open are the expected findings.
    """
    best: dict[str, tuple[float, str, Any]] = {}  # finding -> (LR, rule, atom): the best
    fired = set(trace.fired)
    relevant: dict[str, bool] = {}

    def is_open(atom: Any) -> bool:
        var = atom.var
        if atom.is_concept or var not in kb.findings or var in facts \
                or atom.op not in (Op.IN, Op.BETWEEN):
            return False
        if var not in relevant:
            relevant[var] = kb.is_relevant(var, facts)
        return relevant[var]

    for rule in kb.rules_for(Kind.EVIDENCE, diagnosis):
        if rule.lr <= 1 or rule.id in fired:
            continue
        for conjunction in rule.when:
            open_atoms = [a for a in conjunction if is_open(a)]
            closed = [a for a in conjunction if a not in open_atoms]
            if not open_atoms or not all(a.holds(facts, trace.concepts) for a in closed):
                continue
            for atom in open_atoms:
                current = best.get(atom.var)
                if current is None or (rule.lr, current[1]) > (current[0], rule.id):
                    best[atom.var] = (rule.lr, rule.id, atom)
            break
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    # the text only of what is shown
    return tuple(Expected(var, tuple(sorted(atom.values)) if atom.op is Op.IN else (), rule_id,
                          lr, describe_atom(atom, kb.label_of, lambda v: _var_name(kb, v)))
                 for var, (lr, rule_id, atom) in ranked)
