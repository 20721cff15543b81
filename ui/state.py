"""The case being worked on, kept in ``st.session_state`` under explicit keys.

The canonical state lives in plain keys (``case.*``) that no widget owns, so it survives page
changes (Streamlit drops the state of widgets a page does not draw). Widgets have their own
keys (``patient.*``, ``context.*``, ``answer.*``, ``quick.*``), are seeded from the canonical
state when they have no state yet, and write back through callbacks. Replacing the case
(an example, an upload, "new case") forgets every widget so each is seeded afresh.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ossdx.advice.whynot import consistent_findings
from ossdx.core.errors import InputError, Problem
from ossdx.kb import KnowledgeBase
from ossdx.kb.case import Case
from ossdx.reasoning.cases import make_case

PATIENT = "case.patient"  # {flattened patient field: value}; multi values as lists
MODALITIES = "case.modalities"  # [modality id]
FINDINGS = "case.findings"  # {finding: value}, in the order entered
SKIPPED = "case.skipped"  # [finding] answered "not assessed"
META = "case.meta"  # id, title, narrative, source, teaching_points, truth, origin
TOPIC = "workup.topic"  # topic of the last question answered
WIDGET_PREFIXES = ("patient.", "context.", "answer.", "quick.", "whynot.", "workup.")

_DEFAULTS: dict[str, Any] = {PATIENT: {}, MODALITIES: [], FINDINGS: {}, SKIPPED: [], META: {},
                             TOPIC: None}


def init() -> None:
    """Create the canonical keys on a session's first run."""
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, (dict, list)) else value


def patient() -> dict[str, Any]:
    return st.session_state[PATIENT]


def modalities() -> list[str]:
    return st.session_state[MODALITIES]


def findings() -> dict[str, Any]:
    return st.session_state[FINDINGS]


def skipped() -> list[str]:
    return st.session_state[SKIPPED]


def meta() -> dict[str, Any]:
    return st.session_state[META]


def topic() -> str | None:
    return st.session_state[TOPIC]


def seed(key: str, value: Any) -> None:
    """Give widget ``key`` the canonical ``value`` unless it already has state."""
    if key not in st.session_state:
        st.session_state[key] = value


def forget_widgets(*prefixes: str) -> None:
    """Drop widget state with these key prefixes (default: all), so widgets reseed."""
    prefixes = prefixes or WIDGET_PREFIXES
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
        del st.session_state[key]


# ------------------------------------------------------------------ changes
def set_patient(var: str, value: Any) -> None:
    values = dict(patient())
    if value is None or value == []:
        values.pop(var, None)
    else:
        values[var] = value
    st.session_state[PATIENT] = values


def set_modalities(values: list[str]) -> None:
    st.session_state[MODALITIES] = list(values)


def answer(finding: str, value: Any, topic_id: str | None = None, *,
           from_widget: bool = False) -> None:
    """Record (or change) the answer to ``finding``."""
    values = dict(findings())
    values[finding] = value
    st.session_state[FINDINGS] = values
    st.session_state[SKIPPED] = [f for f in skipped() if f != finding]
    if topic_id is not None:
        st.session_state[TOPIC] = topic_id
    if not from_widget:
        st.session_state.pop(f"answer.{finding}", None)


def withdraw(finding: str) -> None:
    """Forget the answer to ``finding`` (it becomes unknown again)."""
    st.session_state[FINDINGS] = {f: v for f, v in findings().items() if f != finding}
    st.session_state.pop(f"answer.{finding}", None)


def skip(finding: str, topic_id: str | None = None) -> None:
    """Mark ``finding`` as not assessed (it stays unknown and is not asked again)."""
    if finding not in skipped():
        st.session_state[SKIPPED] = [*skipped(), finding]
    if topic_id is not None:
        st.session_state[TOPIC] = topic_id


def unskip(finding: str) -> None:
    st.session_state[SKIPPED] = [f for f in skipped() if f != finding]


def replace_findings(values: Mapping[str, Any]) -> None:
    """Set all findings at once (quick entry)."""
    st.session_state[FINDINGS] = dict(values)
    st.session_state[SKIPPED] = []
    forget_widgets("answer.", "whynot.")


def reset() -> None:
    """Start a new, empty case."""
    for key, value in _DEFAULTS.items():
        st.session_state[key] = value.copy() if isinstance(value, (dict, list)) else value
    forget_widgets()


def load(case: Case, origin: str, *, quiz: bool = False) -> None:
    """Replace the case being worked on by ``case`` (an example or an upload)."""
    reset()
    st.session_state[PATIENT] = {k: sorted(v) if isinstance(v, frozenset) else v
                                 for k, v in case.patient.items()}
    st.session_state[MODALITIES] = sorted(case.modalities)
    st.session_state[FINDINGS] = dict(case.findings)
    st.session_state[META] = {
        "id": case.id, "title": case.title, "narrative": case.narrative,
        "source": case.source, "teaching_points": list(case.teaching_points),
        "truth": case.truth, "acceptable": list(case.acceptable), "origin": origin,
        "quiz": quiz,
    }


# ------------------------------------------------------------------ the case
@dataclass(frozen=True)
class Built:
    """The checked case built from the state, the answers it cannot use, and any problems."""

    case: Case | None
    unused: dict[str, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


def nested_patient(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{'receptors.er': 'pos'}`` -> ``{'receptors': {'er': 'pos'}}`` (the case-file shape)."""
    result: dict[str, Any] = {}
    for key, value in values.items():
        *groups, last = key.split(".")
        target = result
        for group in groups:
            target = target.setdefault(group, {})
        target[last] = value
    return result


def build_case(kb: KnowledgeBase, *, infer_modalities: bool = False) -> Built:
    """The case of the current state, checked like a case file.

    Answers the case cannot use (a finding whose modality is not among those performed, or
    whose prerequisite no longer holds, or that the knowledge base no longer has) are left
    out and reported in ``unused``; they come back when the reason goes away.
    """
    mods = [m for m in modalities() if m in kb.vocabulary.modalities]
    performed = kb.vocabulary.expand_modalities(frozenset(mods))
    usable: dict[str, Any] = {}
    unused: dict[str, str] = {}
    for finding, value in findings().items():
        spec = kb.findings.get(finding)
        if spec is None:
            unused[finding] = "not in the current knowledge base"
        elif spec.needs and mods and not performed & set(spec.needs):
            names = ", ".join(kb.vocabulary.modalities[m].name for m in spec.needs
                              if m in kb.vocabulary.modalities)
            unused[finding] = f"needs one of: {names}"
        elif spec.needs and not mods and not infer_modalities:
            unused[finding] = "no modality performed has been selected"
        else:
            usable[finding] = value
    kept = consistent_findings(kb, usable)
    for finding in usable:
        if finding not in kept:
            unused[finding] = "its prerequisite no longer holds"
    given = None if infer_modalities and not mods else mods
    patient_values = {k: v for k, v in patient().items() if kb.vocabulary.patient.get(k)}
    try:
        case = make_case(kb, kept, nested_patient(patient_values), given,
                         name=meta().get("id") or "work-up")
    except InputError as exc:
        return Built(None, unused, exc.problems)
    if meta().get("title") or meta().get("id"):
        case = _with_meta(case)
    return Built(case, unused)


def _with_meta(case: Case) -> Case:
    data = meta()
    return dataclasses.replace(case, id=data.get("id"), title=data.get("title"),
                               narrative=data.get("narrative"), source=data.get("source"),
                               truth=data.get("truth"))
