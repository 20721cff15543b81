"""The case being worked on, kept in ``st.session_state`` under explicit keys.

The canonical state lives in plain keys (``case.*``) that no widget owns, so it survives page
changes (Streamlit drops the state of widgets a page does not draw). Widgets have their own
keys (``patient.*``, ``context.*``, ``answer.*``, ``quick.*``), are seeded from the canonical
state when they have no state yet, and write back through callbacks. Replacing the case
(an example, an upload, "new case") forgets every widget so each is seeded afresh, and keeps
the case it replaced for one undo (until the new case is changed).

The case also lives in the page's address (query parameters, :func:`url_params`): the work-up
and quick-entry pages write it after every change, and a new session (a reload, a shared
link) reads it back once (:func:`restore_from_url`), checked against the knowledge base.
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
from ossdx.kb.schema import Variable
from ossdx.reasoning.cases import make_case

PATIENT = "case.patient"  # {flattened patient field: value}; multi values as lists
MODALITIES = "case.modalities"  # [modality id]
FINDINGS = "case.findings"  # {finding: value}, in the order entered
SKIPPED = "case.skipped"  # [finding] answered "not assessed"
META = "case.meta"  # id, title, narrative, source, teaching_points, truth, origin
TOPIC = "workup.topic"  # topic of the last question answered
UNDO = "case.undo"  # {"state": the replaced case's keys, "label": what replaced it}
URL_READ = "case.url_read"  # the address was read once in this session
URL_PROBLEMS = "case.url_problems"  # what the address held that could not be used
WIDGET_PREFIXES = ("patient.", "context.", "answer.", "quick.", "whynot.", "workup.",
                   "reasons.")

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
def _edited() -> None:
    """The case was changed by hand: the undo of its replacement is no longer offered."""
    st.session_state.pop(UNDO, None)


def set_patient(var: str, value: Any) -> None:
    _edited()
    values = dict(patient())
    if value is None or value == []:
        values.pop(var, None)
    else:
        values[var] = value
    st.session_state[PATIENT] = values


def set_modalities(values: list[str]) -> None:
    _edited()
    st.session_state[MODALITIES] = list(values)


def answer(finding: str, value: Any, topic_id: str | None = None, *,
           from_widget: bool = False) -> None:
    """Record (or change) the answer to ``finding``."""
    _edited()
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
    _edited()
    st.session_state[FINDINGS] = {f: v for f, v in findings().items() if f != finding}
    st.session_state.pop(f"answer.{finding}", None)


def skip(finding: str, topic_id: str | None = None) -> None:
    """Mark ``finding`` as not assessed (it stays unknown and is not asked again)."""
    _edited()
    if finding not in skipped():
        st.session_state[SKIPPED] = [*skipped(), finding]
    if topic_id is not None:
        st.session_state[TOPIC] = topic_id


def unskip(finding: str) -> None:
    _edited()
    st.session_state[SKIPPED] = [f for f in skipped() if f != finding]


def replace_findings(values: Mapping[str, Any]) -> None:
    """Set all findings at once (quick entry)."""
    _edited()
    st.session_state[FINDINGS] = dict(values)
    st.session_state[SKIPPED] = []
    forget_widgets("answer.", "whynot.")


def _snapshot() -> dict[str, Any]:
    return {key: copy_value(st.session_state.get(key, value)) for key, value in _DEFAULTS.items()}


def copy_value(value: Any) -> Any:
    return value.copy() if isinstance(value, (dict, list)) else value


def is_empty() -> bool:
    """Whether the current case holds nothing yet."""
    return not (findings() or skipped() or modalities() or patient() or meta())


def _keep_for_undo(label: str) -> None:
    if not is_empty():
        st.session_state[UNDO] = {"state": _snapshot(), "label": label}


def _clear() -> None:
    forget_widgets()  # first: the topic's key shares the prefix of the work-up's widgets
    for key, value in _DEFAULTS.items():
        st.session_state[key] = copy_value(value)


def reset() -> None:
    """Start a new, empty case (the one it replaces can be brought back by :func:`undo`)."""
    _keep_for_undo("A new case was started")
    _clear()


def undo_offer() -> str | None:
    """What replaced the previous case, if it can still be brought back."""
    offer = st.session_state.get(UNDO)
    return offer["label"] if offer else None


def undo() -> None:
    """Bring back the case that the last new case, example or upload replaced."""
    offer = st.session_state.pop(UNDO, None)
    if offer is None:
        return
    forget_widgets()
    for key, value in offer["state"].items():
        st.session_state[key] = copy_value(value)


def load(case: Case, origin: str, *, quiz: bool = False) -> None:
    """Replace the case being worked on by ``case`` (an example or an upload)."""
    _keep_for_undo(f"Loaded {origin}")
    _clear()
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


# ------------------------------------------------------------------ the address
URL_KEYS = ("m", "na", "t", "case", "quiz")  # studies, not assessed, topic, example, quiz
URL_PREFIXES = ("p.", "f.")  # patient fields, findings


def _owned(key: str) -> bool:
    return key in URL_KEYS or key.startswith(URL_PREFIXES)


def _text(value: Any) -> str:
    """A value as it appears in the address (lists comma-joined)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(sorted(str(v) for v in value))
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def url_params() -> dict[str, str]:
    """The current case as query parameters: ``m`` the studies, ``p.<field>`` the patient,
    ``f.<finding>`` the answers (in the order given), ``na`` the findings not assessed,
    ``t`` the last topic, ``case`` the example it came from, ``quiz`` quiz mode."""
    params: dict[str, str] = {}
    if modalities():
        params["m"] = ",".join(modalities())
    for var, value in patient().items():
        params[f"p.{var}"] = _text(value)
    for finding, value in findings().items():
        params[f"f.{finding}"] = _text(value)
    if skipped():
        params["na"] = ",".join(skipped())
    if topic():
        params["t"] = str(topic())
    origin = str(meta().get("origin") or "")
    if origin.startswith(EXAMPLE):
        params["case"] = origin.removeprefix(EXAMPLE)
    if meta().get("quiz"):
        params["quiz"] = "1"
    return params


EXAMPLE = "example "  # the origin of a case loaded from the examples


def sync_url() -> None:
    """Write the current case into the page's address (only if it changed)."""
    current = st.query_params.to_dict()
    target = {**{k: v for k, v in current.items() if not _owned(k)}, **url_params()}
    if current != target:
        st.query_params.from_dict(target)


def parse_value(spec: Variable, text: str) -> Any:
    """The value ``text`` stands for (raises ValueError naming what is allowed)."""
    if spec.type in ("number", "integer"):
        number = float(text)
        low, high = spec.range or (float("-inf"), float("inf"))
        if not low <= number <= high:
            raise ValueError(f"{text} is outside {low:g}..{high:g}")
        if spec.type == "integer":
            if not number.is_integer():
                raise ValueError(f"{text} is not a whole number")
            return int(number)
        return number
    items = [t for t in text.split(",") if t] if spec.type == "multi" else [text]
    wrong = [t for t in items if t not in spec.values]
    if wrong:
        raise ValueError(f"'{wrong[0]}' is not one of {', '.join(spec.values)}")
    return items if spec.type == "multi" else items[0]


def apply_params(kb: KnowledgeBase, params: Mapping[str, str]) -> list[str]:
    """Make the case the one ``params`` describe (see :func:`url_params`); returns what
    could not be used, one line each (the rest is used)."""
    problems: list[str] = []
    _clear()
    vocabulary = kb.vocabulary
    mods = [m for m in params.get("m", "").split(",") if m]
    for m in mods:
        if m not in vocabulary.modalities:
            problems.append(f"study '{m}' is not in the knowledge base")
    st.session_state[MODALITIES] = [m for m in mods if m in vocabulary.modalities]
    values: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for key, text in params.items():
        kind, _, var = key.partition(".")
        if kind not in ("p", "f"):
            continue
        spec = (vocabulary.patient if kind == "p" else kb.findings).get(var)
        if spec is None or spec.type == "group":
            problems.append(f"{'patient field' if kind == 'p' else 'finding'} '{var}' is "
                            "not in the knowledge base")
            continue
        try:
            (values if kind == "p" else answers)[var] = parse_value(spec, text)
        except ValueError as exc:
            problems.append(f"{spec.name}: {exc}")
    st.session_state[PATIENT] = values
    st.session_state[FINDINGS] = answers
    skipped_ids = [f for f in params.get("na", "").split(",") if f]
    st.session_state[SKIPPED] = [f for f in skipped_ids if f in kb.findings and f not in answers]
    problems += [f"finding '{f}' is not in the knowledge base" for f in skipped_ids
                 if f not in kb.findings]
    if params.get("t") in kb.topics:
        st.session_state[TOPIC] = params["t"]
    name = params.get("case")
    if name:
        from .resources import case_entries  # here: the resources module needs streamlit's cache

        entry = next((e for e in case_entries(kb) if e.name == name and e.case), None)
        if entry is None or entry.case is None:
            problems.append(f"example '{name}' is not among the knowledge base's cases")
        else:
            case = entry.case
            st.session_state[META] = {
                "id": case.id, "title": case.title, "narrative": case.narrative,
                "source": case.source, "teaching_points": list(case.teaching_points),
                "truth": case.truth, "acceptable": list(case.acceptable),
                "origin": EXAMPLE + name, "quiz": params.get("quiz") == "1"}
    return problems


def restore_from_url() -> None:
    """Once per session (a reload, a shared link): take the case from the address."""
    if st.session_state.get(URL_READ):
        return
    st.session_state[URL_READ] = True
    params = {k: v for k, v in st.query_params.to_dict().items() if _owned(k)}
    if not params or not is_empty():
        return
    from .resources import current_context

    context, _ = current_context()
    if context is not None:
        st.session_state[URL_PROBLEMS] = apply_params(context.kb, params)
