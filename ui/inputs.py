"""Input widgets built from the knowledge base's vocabulary: patient, modalities, findings.

Every label, value and help text comes from the knowledge base. Widgets are seeded from the
canonical case state (see :mod:`ui.state`) and write back through callbacks.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import streamlit as st

from ossdx.kb import KnowledgeBase
from ossdx.kb.schema import Variable

from . import state
from .boundary import callback
from .text import safe

NOT_ASSESSED = "not assessed"
UNSET = ""  # the "not assessed" option of a choice widget (no knowledge-base value is empty)


def widget_value(value: Any) -> Any:
    """The value a widget holds -> the case's value (None when not assessed)."""
    if value is None or value == UNSET or value == []:
        return None
    return list(value) if isinstance(value, list) else value


def seed_value(spec: Variable, value: Any) -> Any:
    """The case's value -> the state to seed the widget of ``spec`` with."""
    if spec.type in ("number", "integer"):
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if spec.type == "multi":
        return [v for v in (value or []) if v in spec.values]
    return value if value in spec.values else UNSET


def value_label(spec: Variable, value: Any) -> str:
    """The label of one value of a variable (numbers with their unit)."""
    if value is None or value == UNSET:
        return NOT_ASSESSED
    if spec.type in ("number", "integer"):
        return f"{value:g}{' ' + spec.unit if spec.unit else ''}"
    item = spec.values.get(value)
    return item.label if item is not None else str(value)


def _help(spec: Variable, kb: KnowledgeBase | None = None) -> str:
    text = spec.help
    if kb is not None and spec.needs:
        names = ", ".join(kb.vocabulary.modalities[m].name for m in spec.needs
                          if m in kb.vocabulary.modalities)
        text += f" Seen on: {names}."
    return safe(text)


def variable_widget(spec: Variable, key: str, label: str, *, kb: KnowledgeBase | None = None,
                    on_change: Any = None, args: tuple[Any, ...] = (),
                    label_visibility: str = "visible") -> Any:
    """One widget for a finding or patient field (its value, or None when not assessed)."""
    common: dict[str, Any] = {"key": key, "help": _help(spec, kb),
                              "label_visibility": label_visibility}
    if on_change is not None:
        common |= {"on_change": on_change, "args": args}
    if spec.type in ("number", "integer"):
        low, high = spec.range or (None, None)
        integer = spec.type == "integer"
        return st.number_input(
            safe(label), min_value=int(low) if integer and low is not None else low,
            max_value=int(high) if integer and high is not None else high,
            step=1 if integer else 0.1, placeholder=NOT_ASSESSED, **common)
    if spec.type == "multi":
        return st.multiselect(safe(label), list(spec.values),
                              format_func=lambda v: value_label(spec, v),
                              placeholder=NOT_ASSESSED, **common)
    return st.selectbox(safe(label), [UNSET, *spec.values],
                        format_func=lambda v: value_label(spec, v), **common)


@callback
def _patient_changed(var: str) -> None:
    state.set_patient(var, widget_value(st.session_state.get(f"patient.{var}")))


@callback
def _modalities_changed() -> None:
    state.set_modalities(st.session_state.get("context.modalities") or [])


def modality_picker(kb: KnowledgeBase) -> list[str]:
    """The modalities performed (multiselect of the knowledge base's modalities)."""
    modalities = kb.vocabulary.modalities
    state.seed("context.modalities", [m for m in state.modalities() if m in modalities])
    return st.multiselect(
        "Modalities performed", list(modalities),
        format_func=lambda m: modalities[m].name, key="context.modalities",
        on_change=_modalities_changed, placeholder="choose the studies done",
        help="Only findings these studies can show are asked.")


def patient_widget(kb: KnowledgeBase, var: str) -> None:
    """The widget of one patient field (``var`` as in the vocabulary: 'receptors.er')."""
    spec = kb.vocabulary.patient[var]
    group = kb.vocabulary.patient.get(var.rsplit(".", 1)[0]) if "." in var else None
    label = f"{group.name}: {spec.name}" if group is not None else spec.name
    state.seed(f"patient.{var}", seed_value(spec, state.patient().get(var)))
    variable_widget(spec, f"patient.{var}", label, on_change=_patient_changed, args=(var,))


def patient_form(kb: KnowledgeBase, columns: int = 4, skip: Collection[str] = ()) -> None:
    """The patient context, one widget per field of the knowledge base's patient vocabulary
    (but those in ``skip``)."""
    fields = [var for var, spec in kb.vocabulary.patient.items()
              if spec.type != "group" and var not in skip]
    cols = st.columns(columns)
    for i, var in enumerate(fields):
        with cols[i % columns]:
            patient_widget(kb, var)


def context_panel(kb: KnowledgeBase, *, expanded: bool) -> None:
    """Patient context and modalities, in one expander."""
    with st.expander("Patient and modalities", expanded=expanded, icon=":material/person:"):
        modality_picker(kb)
        patient_form(kb)


CONTEXT_FIELD_WIDTH = 155  # px: two fields side by side in the card at 1,400 px, one at 1,024


def context_card(kb: KnowledgeBase, fields: Sequence[str], *, key: str) -> None:
    """The studies performed and the patient fields the ranking reads, always in view and
    editable; every other patient field one click away."""
    with st.container(border=True, key=f"context_{key}"):
        st.markdown("**The patient and the studies**")
        modality_picker(kb)
        # fields of a fixed width in a wrapping row: two side by side where the card is wide
        # enough, one per line where it is not (columns would squeeze them instead)
        with st.container(horizontal=True, wrap=True, gap="small", key=f"fields_{key}"):
            for var in fields:
                with st.container(width=CONTEXT_FIELD_WIDTH):
                    patient_widget(kb, var)
        # a toggle, not an expander: the other fields are drawn only when asked for
        if st.toggle("More about the patient", key="context.more_patient"):
            patient_form(kb, columns=2, skip=fields)


@callback
def _undo() -> None:
    state.undo()


def undo_notice(key: str) -> None:
    """After a new case, an example or an upload replaced the case: offer it back."""
    label = state.undo_offer()
    if not label:
        return
    with st.container(key=f"undo_{key}", horizontal=True, vertical_alignment="center"):
        st.caption(f"{safe(label, line_start=False)}; the previous case is kept until you "
                   "change this one.")
        st.button("Undo", key=f"undo.{key}", on_click=_undo, icon=":material/undo:",
                  help="Bring back the case that was replaced")
