"""Work-up page: one question at a time, every answer changeable, the differential live."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ossdx.advice.questions import Advice, Question
from ossdx.kb.case import Case

from . import state
from .boundary import callback
from .differential_view import render_results
from .inputs import NOT_ASSESSED, context_panel, value_label
from .resources import Context
from .text import percent, problem_lines, safe


def next_question(advice: Advice, keep_asking: bool) -> Question | None:
    """The question to show: the advisor's (it never repeats one marked 'not assessed');
    when it stops, the best remaining one only on request."""
    if advice.question is not None:
        return advice.question
    return advice.ranked[0] if keep_asking and advice.ranked else None


@callback
def _answer(finding: str, value: object, topic: str) -> None:
    state.answer(finding, value, topic)


@callback
def _answer_number(finding: str, topic: str) -> None:
    value = st.session_state.get(f"ask.{finding}.number")
    if value is not None:
        state.answer(finding, value, topic)


@callback
def _skip(finding: str, topic: str) -> None:
    state.skip(finding, topic)


@callback
def _changed(finding: str) -> None:
    value = st.session_state.get(f"answer.{finding}")
    if value is None:
        state.withdraw(finding)
    else:
        state.answer(finding, value, from_widget=True)


@callback
def _withdraw(finding: str) -> None:
    state.withdraw(finding)


@callback
def _unskip(finding: str) -> None:
    state.unskip(finding)


def _case_card(ctx: Context) -> None:
    data = state.meta()
    if not (data.get("title") or data.get("narrative")):
        return
    quiz = bool(data.get("quiz"))
    title = "quiz case" if quiz else (data.get("title") or data.get("id"))
    with st.expander(f"Case: {safe(title, line_start=False)}", icon=":material/folder_open:"):
        if not quiz:
            _case_story(data)
        label = "Reveal the case and its proven diagnosis" if quiz else \
            "Reveal the proven diagnosis"
        if (data.get("truth") or quiz) and st.toggle(label, key="workup.reveal"):
            if quiz:
                name = data.get("title") or data.get("id") or ""
                st.markdown(f"**{safe(name, line_start=False)}**")
                _case_story(data)
            if data.get("truth"):
                truth = ctx.kb.name_of(data["truth"])
                st.success(f"Proven: **{safe(truth, line_start=False)}**")
            points = data.get("teaching_points") or []
            if points:
                st.markdown("\n".join(f"- {safe(p, line_start=False)}" for p in points))


def _case_story(data: dict[str, Any]) -> None:
    if data.get("narrative"):
        st.markdown(safe(data["narrative"]))
    if data.get("source"):
        st.caption(f"Source: {safe(data['source'], line_start=False)} · loaded from "
                   f"{safe(data.get('origin', ''), line_start=False)}")


def _question_card(ctx: Context, case: Case, advice: Advice) -> None:
    kb = ctx.kb
    keep = bool(st.session_state.get("workup.keep_asking"))
    question = next_question(advice, keep)
    if question is None:
        with st.container(key="question_done"):
            if advice.stop_reason:
                st.success(safe(advice.stop_reason), icon=":material/check_circle:")
            else:
                st.info("No further question: every relevant finding has been answered or "
                        "marked not assessed, or none can change the differential.")
            if advice.ranked or keep:
                st.toggle("Keep asking anyway", key="workup.keep_asking")
        return
    spec = kb.findings[question.finding]
    finding, topic = question.finding, question.topic
    number = len(state.findings()) + len(state.skipped()) + 1
    with st.container(border=True, key="question"):
        st.caption(f"Question {number} · {safe(kb.topics.get(topic, topic), line_start=False)}")
        st.markdown(f"#### {safe(question.text, line_start=False)}")
        st.markdown(safe(question.help))
        if spec.needs:
            names = ", ".join(kb.vocabulary.modalities[m].name for m in spec.needs
                              if m in kb.vocabulary.modalities)
            st.caption(f"Seen on: {safe(names, line_start=False)}")
        if spec.type in ("number", "integer"):
            low, high = spec.range or (None, None)
            st.number_input(safe(spec.name), min_value=low, max_value=high, value=None,
                            placeholder=spec.unit or "", key=f"ask.{finding}.number")
            st.button("Record", key=f"ask.{finding}.record", type="primary",
                      on_click=_answer_number, args=(finding, topic))
        else:
            values = [o.value for o in question.outcomes]
            cols = st.columns(min(2, len(values)))
            for i, value in enumerate(values):
                item = spec.values[value]
                cols[i % len(cols)].button(
                    safe(item.label), key=f"ask.{finding}.{value}", on_click=_answer,
                    args=(finding, value, topic), width="stretch",
                    help=safe(item.help) if item.help else None)
        st.button(NOT_ASSESSED.capitalize(), key=f"ask.{finding}.skip", type="tertiary",
                  on_click=_skip, args=(finding, topic), icon=":material/skip_next:")
        with st.expander("WHY this question?", icon=":material/help:"):
            st.markdown(safe(question.why(kb)))
            lines = []
            for outcome in question.outcomes:
                lines.append(f"- If **{safe(outcome.label, line_start=False)}** "
                             f"(expected {percent(outcome.probability)}): "
                             f"{safe(kb.name_of(outcome.leader), line_start=False)} leads with "
                             f"{percent(outcome.leader_probability)}")
            st.markdown("\n".join(lines))


def _answers(ctx: Context, unused: dict[str, str]) -> None:
    kb = ctx.kb
    st.markdown("##### Your answers")
    answered = state.findings()
    if not answered and not state.skipped():
        st.caption("None yet: answer the question above, or load an example.")
    for finding, value in answered.items():
        spec = kb.findings.get(finding)
        name, control, action = st.columns([4, 5, 1], vertical_alignment="center")
        if spec is None:
            name.markdown(f"~~{safe(finding, line_start=False)}~~")
        else:
            name.markdown(f"**{safe(spec.name, line_start=False)}**")
            with control:
                key = f"answer.{finding}"
                if spec.type in ("number", "integer"):
                    state.seed(key, value)
                    low, high = spec.range or (None, None)
                    st.number_input(safe(spec.name), min_value=low, max_value=high, key=key,
                                    on_change=_changed, args=(finding,),
                                    label_visibility="collapsed")
                else:
                    state.seed(key, value if value in spec.values else None)
                    st.selectbox(safe(spec.name), list(spec.values), key=key,
                                 format_func=lambda v, s=spec: value_label(s, v),
                                 on_change=_changed, args=(finding,),
                                 label_visibility="collapsed")
        action.button("", key=f"withdraw.{finding}", on_click=_withdraw, args=(finding,),
                      type="tertiary", icon=":material/close:", help="Withdraw this answer")
        if finding in unused:
            st.caption(f"↳ not used: {safe(unused[finding], line_start=False)}")
    if state.skipped():
        st.markdown("**Not assessed** · click one to be asked again")
        with st.container(horizontal=True, gap="small"):
            for finding in state.skipped():
                spec = kb.findings.get(finding)
                st.button(safe(spec.name if spec else finding), key=f"unskip.{finding}",
                          on_click=_unskip, args=(finding,), icon=":material/replay:",
                          help="Ask this question again")


def render(ctx: Context) -> None:
    """The work-up page."""
    kb = ctx.kb
    st.title("Work-up")
    st.caption("Set the patient and the studies done, then answer one question at a time; "
               "the differential updates after each answer.")
    _case_card(ctx)
    context_panel(kb, expanded=not state.findings())
    built = state.build_case(kb)
    if built.case is None:
        st.error(problem_lines(built.problems))
        return
    case = built.case
    differential = ctx.reasoner.diagnose(case)
    advice = ctx.advisor.advise(case, state.topic(), state.skipped())
    left, right = st.columns([5, 7], gap="large")
    with left:
        _question_card(ctx, case, advice)
        _answers(ctx, built.unused)
    with right:
        render_results(ctx, case, differential, advice, key="workup",
                       not_assessed=state.skipped())
