"""Quick entry: every finding on one screen, or a case file uploaded; the result in one click."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ossdx.core.errors import InputError
from ossdx.core.loader import MAX_BYTES
from ossdx.kb import KnowledgeBase
from ossdx.reasoning.cases import parse_case

from . import state
from .boundary import callback
from .differential_view import analyse, render_results
from .inputs import context_card, seed_value, undo_notice, variable_widget, widget_value
from .resources import Context
from .text import problem_lines, safe

UPLOAD = "upload.file"
UPLOAD_PROBLEMS = "upload.problems"
UPLOAD_LOADED = "upload.loaded"


@callback
def _uploaded(kb: KnowledgeBase) -> None:
    """Check an uploaded case file like the CLI does; load it only if it is valid."""
    file = st.session_state.get(UPLOAD)
    if file is None:
        return
    try:
        case = parse_case(file.getvalue(), file.name, kb, max_bytes=MAX_BYTES)
    except InputError as exc:
        st.session_state[UPLOAD_PROBLEMS] = [str(p) for p in exc.problems]
        st.session_state[UPLOAD_LOADED] = None
        return
    state.load(case, origin=f"upload {file.name}")
    st.session_state[UPLOAD_PROBLEMS] = []
    st.session_state[UPLOAD_LOADED] = file.name


@callback
def _submitted(kb: KnowledgeBase, shown: list[str]) -> None:
    """Take every finding of the form (the ones not shown are kept as they were)."""
    values: dict[str, Any] = {f: v for f, v in state.findings().items() if f not in shown}
    for finding in shown:
        value = widget_value(st.session_state.get(f"quick.{finding}"))
        if value is not None:
            values[finding] = value
    state.replace_findings(values)
    if not state.modalities():
        built = state.build_case(kb, infer_modalities=True)
        if built.case is not None:
            state.set_modalities(sorted(built.case.modalities))
            state.forget_widgets("context.")


def _finding_form(kb: KnowledgeBase) -> None:
    mods = state.modalities()
    performed = kb.vocabulary.expand_modalities(frozenset(mods))
    shown: list[str] = []
    with st.form("quick.form", border=True):
        if not mods:
            st.caption("No modality chosen: every finding is offered, and the modalities are "
                       "inferred from what you enter.")
        for topic, title in kb.topics.items():
            ids = [f for f, t in kb.finding_topics.items() if t == topic
                   and (not mods or not kb.findings[f].needs
                        or performed & set(kb.findings[f].needs))]
            if not ids:
                continue
            st.markdown(f"**{safe(title, line_start=False)}**")
            cols = st.columns(4)
            for i, finding in enumerate(ids):
                spec = kb.findings[finding]
                state.seed(f"quick.{finding}", seed_value(spec, state.findings().get(finding)))
                with cols[i % 4]:
                    variable_widget(spec, f"quick.{finding}", spec.name, kb=kb)
            shown += ids
        st.form_submit_button("Show the differential", type="primary", key="quick.submit",
                              icon=":material/bolt:", on_click=_submitted, args=(kb, shown))


def _upload_panel(kb: KnowledgeBase) -> None:
    with st.container(border=True):
        st.markdown("**Or upload a case file**")
        st.file_uploader(
            "Case file (YAML, at most 1 MB)", type=["yaml", "yml"], key=UPLOAD,
            on_change=_uploaded, args=(kb,), max_upload_size=1,
            help="The same format and checks as `ossdx diagnose`: see the cases under "
                 "knowledge_base/cases.")
        problems = st.session_state.get(UPLOAD_PROBLEMS)
        if problems:
            st.error(problem_lines(problems), icon=":material/error:")
            st.caption("The file was not loaded; the case you were working on is unchanged.")
        elif st.session_state.get(UPLOAD_LOADED):
            st.success(f"Loaded {safe(st.session_state[UPLOAD_LOADED], line_start=False)}.")


def render(ctx: Context) -> None:
    """The quick-entry page."""
    kb = ctx.kb
    st.title("Quick entry")
    st.caption("All findings on one screen: fill in what you see, leave the rest as 'not "
               "assessed', and get the ranked differential in one click.")
    undo_notice("quick")
    fields = [var.removeprefix("patient.") for var in ctx.advisor.context_fields()[:4]]
    context_card(kb, fields, key="quick")
    form, upload = st.columns([3, 1], gap="medium")
    with upload:
        _upload_panel(kb)
    with form:
        _finding_form(kb)
    state.forget_widgets("answer.")
    state.sync_url()  # the case lives in the address here too: a reload keeps it
    if not state.findings():
        return
    built = state.build_case(kb, infer_modalities=True)
    if built.case is None:
        st.error(problem_lines(built.problems))
        return
    for finding, reason in built.unused.items():
        name = kb.findings[finding].name if finding in kb.findings else finding
        st.warning(f"{safe(name, line_start=False)}: not used ({safe(reason, line_start=False)})")
    case = built.case
    differential, advice = analyse(ctx, case, state.topic(), state.skipped())
    st.divider()
    render_results(ctx, case, differential, advice, key="quick",
                   not_assessed=state.skipped())
