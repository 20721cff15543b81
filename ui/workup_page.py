"""Work-up page: the patient and the studies first, then one question at a time, every answer
changeable, the differential live.

The context card (studies performed, the patient fields the ranking reads) stays in view and
editable. Until a study is chosen the question card is the context step, and the work-up
never says it is done while the advisor reports context missing. The case is written into
the page's address after every change (see :mod:`ui.state`), so a reload keeps it and a link
shares it.

Images sit above the work-up, outside its fragment, so that an answer does not redraw them:
a loaded example's images (blind in quiz mode until revealed), and the user's own images,
read in memory only. A question about an illustrated sign shows its drawing.
"""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st

from ossdx.advice.questions import Advice, Question, missing_reason
from ossdx.kb.case import Case
from ossdx.kb.model import MODALITIES, KnowledgeBase
from ossdx.reasoning.diagnosis import Differential

from . import state
from .boundary import callback, fragment
from .differential_view import analyse, headline, render_results
from .images import (
    drawings_note,
    show_case_images,
    show_question_illustrations,
    show_uploaded_images,
)
from .inputs import NOT_ASSESSED, context_card, undo_notice, value_label
from .resources import Context, case_entries
from .text import percent, problem_lines, safe

SKIP_CONTEXT = "workup.skip_context"  # the user chose to go on without the patient fields
REVEAL = "workup.reveal"  # quiz mode: the case and its proven diagnosis revealed
IMAGES_DRAWN = "ui.workup_images"  # what the images above the work-up were drawn for


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


@callback
def _skip_context() -> None:
    st.session_state[SKIP_CONTEXT] = True


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
        if (data.get("truth") or quiz) and st.toggle(label, key=REVEAL):
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
        origin = str(data.get("origin") or "").removeprefix(state.EXAMPLE)
        st.caption(f"Source: {safe(data['source'], line_start=False)} · loaded from "
                   f"{safe(origin, line_start=False)}")


def _missing_text(advice: Advice) -> str:
    names = [name for var, name in advice.missing if var != MODALITIES]
    parts = []
    if any(var == MODALITIES for var, _ in advice.missing):
        parts.append("the studies performed")
    parts += names
    return ", ".join(parts)


def _context_step(advice: Advice) -> bool:
    """The first step, while it is not complete: choose the studies (and give the patient
    fields that could change the leader, unless the user goes on without them)."""
    no_study = any(var == MODALITIES for var, _ in advice.missing)
    patient_missing = [name for var, name in advice.missing if var != MODALITIES]
    started = bool(state.findings() or state.skipped())  # later, missing fields are a note
    if not no_study and (not patient_missing or started or st.session_state.get(SKIP_CONTEXT)):
        return False
    with st.container(border=True, key="context_step"):
        st.markdown("**First, the patient and the studies**")
        if no_study:
            st.markdown("Choose the studies performed in the box above: the questions ask "
                        "only about what those studies can show.")
        if patient_missing and not no_study:
            st.markdown("Still to give (each could change the leading diagnosis): "
                        + safe(", ".join(patient_missing), line_start=False)
                        + ". 'Unknown' is an answer too.")
            st.button("Go on without them", key="workup.skip_context",
                      on_click=_skip_context, type="tertiary", icon=":material/arrow_forward:",
                      help="Ask about the findings now; the work-up will not be called done "
                           "while these are missing")
    return True


def _question_card(ctx: Context, advice: Advice) -> None:
    kb = ctx.kb
    if _context_step(advice):
        return
    keep = bool(st.session_state.get("workup.keep_asking"))
    question = next_question(advice, keep)
    if question is None:
        with st.container(key="question_done"):
            no_study = any(var == MODALITIES for var, _ in advice.missing)
            if no_study or (advice.missing
                            and advice.stop_reason == missing_reason(advice.missing)):
                st.warning(safe(advice.stop_reason or "Not finished: "
                                + _missing_text(advice) + " missing."),
                           icon=":material/pending:")
            elif advice.stop_reason:
                st.success(safe(advice.stop_reason), icon=":material/check_circle:")
                if advice.missing:
                    st.caption("Not given yet, and could change the leader: "
                               + safe(_missing_text(advice), line_start=False))
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
        if advice.missing:
            st.caption(":material/pending: Not given yet, and could change the leader: "
                       + safe(_missing_text(advice), line_start=False))
        st.caption(f"Question {number} · {safe(kb.topics.get(topic, topic), line_start=False)}")
        st.subheader(safe(question.text, line_start=False), anchor=False)
        if question.help:
            st.markdown(safe(question.help))
        show_question_illustrations(kb, finding)
        if spec.type in ("number", "integer"):
            low, high = spec.range or (None, None)
            st.number_input(safe(spec.name), min_value=low, max_value=high, value=None,
                            placeholder=spec.unit or "", key=f"ask.{finding}.number")
            st.button("Record", key=f"ask.{finding}.record", type="primary",
                      on_click=_answer_number, args=(finding, topic))
        else:
            for outcome in question.outcomes:
                item = spec.values[outcome.value]
                st.button(safe(item.label), key=f"ask.{finding}.{outcome.value}",
                          on_click=_answer, args=(finding, outcome.value, topic),
                          width="stretch", wrap=True,
                          help=safe(item.help) if item.help else None)
        st.button(NOT_ASSESSED.capitalize(), key=f"ask.{finding}.skip", type="tertiary",
                  on_click=_skip, args=(finding, topic), icon=":material/skip_next:")
        if spec.needs:
            names = ", ".join(kb.vocabulary.modalities[m].name for m in spec.needs
                              if m in kb.vocabulary.modalities)
            st.caption(f"Seen on: {safe(names, line_start=False)}")
        with st.expander("WHY this question?", icon=":material/help:"):
            st.markdown(safe(question.why(kb)))
            st.caption("A bit measures uncertainty: one bit is a toss-up between two equally "
                       "likely diagnoses, two bits four of them; the differential now holds "
                       f"{advice.entropy:.2f} bits.")
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
        name, row = st.columns([3, 8.6], vertical_alignment="center")
        name.markdown(f"~~{safe(finding, line_start=False)}~~" if spec is None
                      else f"**{safe(spec.name, line_start=False)}**")
        # the answer stretches and the button keeps its width: its label is never cut short
        with row.container(horizontal=True, gap="small", vertical_alignment="center"):
            if spec is not None:
                key = f"answer.{finding}"
                if spec.type in ("number", "integer"):
                    state.seed(key, value)
                    low, high = spec.range or (None, None)
                    st.number_input(safe(spec.name), min_value=low, max_value=high, key=key,
                                    on_change=_changed, args=(finding,),
                                    label_visibility="collapsed", width="stretch")
                else:
                    state.seed(key, value if value in spec.values else None)
                    st.selectbox(safe(spec.name), list(spec.values), key=key,
                                 format_func=functools.partial(value_label, spec),
                                 on_change=_changed, args=(finding,),
                                 label_visibility="collapsed", width="stretch")
            label = spec.name if spec is not None else finding
            st.button("Withdraw", key=f"withdraw.{finding}", on_click=_withdraw,
                      args=(finding,), type="tertiary", width="content",
                      help=f"Withdraw the answer to {safe(label, line_start=False)}")
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


def _leader_line(differential: Differential) -> None:
    """The leader in one line above the questions (on a phone the differential is below)."""
    with st.container(key="leader_summary"):
        if len(differential.tied_leaders) == 1:
            leader = differential.leader
            st.markdown(f"Leading: **{safe(leader.name, line_start=False)}** · "
                        f"{percent(leader.probability)}")
        else:
            st.markdown(f"**{headline(differential)}**")


CARD_FIELDS = 4  # patient fields in the context card; the rest are one click away


def _card_fields(ctx: Context) -> list[str]:
    """The patient fields the ranking reads most, and any given already (so that what was
    entered stays in view)."""
    ranked = [var.removeprefix("patient.") for var in ctx.advisor.context_fields()]
    given = set(state.patient())
    return [v for i, v in enumerate(ranked) if i < CARD_FIELDS or v in given]


def _url_problems() -> None:
    problems = st.session_state.pop(state.URL_PROBLEMS, None)
    if problems:
        st.warning("The link held what this knowledge base does not know; it was left out:  \n"
                   + problem_lines(problems), icon=":material/link_off:")


def render(ctx: Context) -> None:
    """The work-up page: the app's frame once, the images, then the work-up as a fragment,
    so that an answer redraws the work-up and not the navigation, the sidebar or the
    images."""
    st.title("Work-up")
    _images(ctx)
    _workup(ctx)


# ------------------------------------------------------------------ images
def loaded_example(kb: KnowledgeBase) -> Case | None:
    """The example the current case was loaded from (with its images), if any."""
    origin = str(state.meta().get("origin") or "")
    if not origin.startswith(state.EXAMPLE):
        return None
    name = origin.removeprefix(state.EXAMPLE)
    return next((e.case for e in case_entries(kb) if e.name == name and e.case), None)


def _images_view() -> tuple[str, bool]:
    """What the images depend on: the case's origin, and whether they are blind (a quiz
    case not yet revealed)."""
    data = state.meta()
    blind = bool(data.get("quiz")) and not st.session_state.get(REVEAL)
    return str(data.get("origin") or ""), blind


@fragment
def _images(ctx: Context) -> None:
    """The loaded example's images and the user's own (a fragment: windowing a series or
    adding a file redraws only this part)."""
    view = _images_view()
    st.session_state[IMAGES_DRAWN] = view
    case = loaded_example(ctx.kb)
    if case is not None and case.images:
        count = len(case.images)
        with st.container(key="workup_images"), \
                st.expander(f"Images of this case ({count})", expanded=True,
                            icon=":material/image:"):
            left_out = show_case_images(case, "workup.images", columns=3, blind=view[1])
            if left_out:
                st.caption(drawings_note(left_out, "once you reveal the case"))
    # a toggle, not an expander: the uploader is drawn only when asked for
    if st.toggle("View images of your own case (in memory, never stored)",
                 key="workup.own_images"):
        show_uploaded_images("workup.own")


def _images_stale() -> bool:
    """Whether the images above were drawn for another case (the work-up's undo or its
    quiz reveal changed it in a fragment run): then the whole page is drawn again."""
    return st.session_state.get(IMAGES_DRAWN) != _images_view()


@fragment
def _workup(ctx: Context) -> None:
    kb = ctx.kb
    if _images_stale():
        st.rerun()
    _url_problems()
    undo_notice("workup")
    _case_card(ctx)
    left, right = st.columns([5, 7], gap="large")
    with left:
        context_card(kb, _card_fields(ctx), key="workup")
        built = state.build_case(kb)
        if built.case is None:
            st.error(problem_lines(built.problems))
            state.sync_url()
            return
        case: Case = built.case
        differential, advice = analyse(ctx, case, state.topic(), state.skipped())
        _leader_line(differential)
        _question_card(ctx, advice)
        _answers(ctx, built.unused)
    with right:
        render_results(ctx, case, differential, advice, key="workup",
                       not_assessed=state.skipped())
    state.sync_url()
