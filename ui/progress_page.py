"""A trainee's progress: scores over time and by diagnosis, weakest mimic pairs, cases to retry.

Everything is read from the progress database, so it survives a reload, a closed browser
and a restarted server. With sign-in, a trainee sees only their own progress (educators see
the cohort on their own page).
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd
import streamlit as st

from ossdx.kb import KnowledgeBase
from ossdx.teaching.quiz import QuizAnswer
from ossdx.teaching.storage import StorageError
from ossdx.teaching.trainee import (
    Attempt,
    accuracy_by_diagnosis,
    cases_to_retry,
    confusions,
    running_totals,
    totals,
)

from .auth import learner_panel, sign_in_configured
from .boundary import callback
from .resources import Context, progress_store
from .text import safe
from .trainee_page import PAGE, open_case, unknown_cases

GOTO = "progress.goto_case"


def timeline_data(attempts: Sequence[Attempt]) -> pd.DataFrame:
    """Cumulative top-1 / top-3 accuracy after each attempt (long form, for the chart)."""
    rows = []
    for number, (attempt, running) in enumerate(zip(attempts, running_totals(attempts),
                                                    strict=True), 1):
        when = attempt.at.strftime("%Y-%m-%d %H:%M")
        rows.append({"attempt": number, "when": when, "measure": "top-1",
                     "accuracy": running.top1})
        rows.append({"attempt": number, "when": when, "measure": "top-3",
                     "accuracy": running.top3})
    return pd.DataFrame(rows)


def timeline_chart(attempts: Sequence[Attempt]) -> alt.Chart:
    """Accuracy so far, after each attempt: whole attempt numbers on the axis (one tick per
    attempt up to ten), from 1 to at least 2 so that one attempt is a point, not a fraction."""
    count = len(attempts)
    ticks = list(range(1, count + 1)) if count <= 10 else alt.Undefined
    return alt.Chart(timeline_data(attempts)).mark_line(point=True).encode(
        x=alt.X("attempt:Q", title="Attempt", scale=alt.Scale(domain=[1, max(count, 2)]),
                axis=alt.Axis(format="d", tickMinStep=1, values=ticks)),
        y=alt.Y("accuracy:Q", title="Accuracy so far", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        color=alt.Color("measure:N", title=None),
        tooltip=["attempt:Q", "when:N", "measure:N", alt.Tooltip("accuracy:Q", format=".0%")],
    ).properties(height=260)


def diagnosis_data(kb: KnowledgeBase, attempts: Sequence[Attempt]) -> pd.DataFrame:
    """Top-1 accuracy per true diagnosis, weakest first, with its label ("0% of 2")."""
    rows = accuracy_by_diagnosis(attempts)
    return pd.DataFrame({
        "diagnosis": [kb.name_of(r.diagnosis) for r in rows],
        "top1": [r.top1 for r in rows],
        "top3": [r.top3 for r in rows],
        "attempts": [r.attempts for r in rows],
        "label": [f"{r.top1:.0%} of {r.attempts}" for r in rows],
        "order": list(range(len(rows))),
    })


def diagnosis_chart(kb: KnowledgeBase, attempts: Sequence[Attempt]) -> alt.LayerChart:
    """A bar per true diagnosis (how often the first choice was right) on a light track
    showing the whole 0-100 % range, labelled with its rate and attempts, so that a 0 %
    bar still reads as a row with a value, not as an empty chart."""
    data = diagnosis_data(kb, attempts)
    base = alt.Chart(data).encode(
        y=alt.Y("diagnosis:N", sort=alt.SortField("order"), title=None,
                axis=alt.Axis(labelLimit=320)),
        tooltip=["diagnosis:N", "attempts:Q", alt.Tooltip("top1:Q", format=".0%"),
                 alt.Tooltip("top3:Q", format=".0%")])
    scale = alt.Scale(domain=[0, 1])
    track = base.mark_bar(color="#eef1f5").encode(
        x=alt.X("full:Q", title="Top-1 accuracy", scale=scale, axis=alt.Axis(format="%")),
    ).transform_calculate(full="1")
    bar = base.mark_bar(cornerRadiusEnd=3).encode(x=alt.X("top1:Q", scale=scale))
    label = base.mark_text(align="left", dx=4, color="#31333f").encode(
        x=alt.X("top1:Q", scale=scale), text="label:N")
    return (track + bar + label).properties(height=30 * len(data) + 20)


@callback
def _retry(path: str) -> None:
    open_case(path)
    st.session_state[GOTO] = True


def _summary(attempts: Sequence[Attempt]) -> None:
    summary = totals(attempts)
    if summary is None:
        return
    cols = st.columns(5)
    cols[0].metric("Attempts", summary.attempts)
    cols[1].metric("Top-1", f"{summary.top1:.0%}")
    cols[2].metric("Top-3", f"{summary.top3:.0%}")
    cols[3].metric("Mean Brier", f"{summary.brier:.3f}", help="0 is perfect; 0.25 = always 50%")
    cols[4].metric("Mean log score", f"{summary.log_score:.3f}", help="0 is perfect")
    gap = summary.calibration_gap
    trend = "over-confident" if gap > 0.05 else "under-confident" if gap < -0.05 else \
        "well calibrated"
    st.caption(f"Mean confidence {summary.confidence:.0%} against top-1 accuracy "
               f"{summary.top1:.0%}: {trend}.")


def _confusions(kb: KnowledgeBase, attempts: Sequence[Attempt]) -> None:
    st.markdown("##### Weakest mimic pairs")
    rows = confusions(kb, attempts)
    if not rows:
        st.caption("No missed first choice yet.")
        return
    lines = []
    for row in rows[:8]:
        pair = " · a declared mimic pair" if row.declared_mimic else ""
        lines.append(f"- **{safe(kb.name_of(row.truth), line_start=False)}** answered as "
                     f"**{safe(kb.name_of(row.answer), line_start=False)}**: {row.count}×{pair}")
    st.markdown("\n".join(lines))


def _retry_list(ctx: Context, attempts: Sequence[Attempt]) -> None:
    kb = ctx.kb
    st.markdown("##### Cases to retry")
    ids = cases_to_retry(attempts)
    items = {i.case_id: i for i in unknown_cases(kb)}
    listed = [items[c] for c in ids if c in items]
    if not listed:
        st.caption("None: your latest attempt at every case had the right first choice.")
        return
    tries = {c: sum(a.case_id == c for a in attempts) for c in ids}
    for item in listed[:12]:
        text, action = st.columns([8, 1], vertical_alignment="center")
        text.markdown(f"{safe(item.label(kb), line_start=False)} · "
                      f"{tries[item.case_id]} attempt{'' if tries[item.case_id] == 1 else 's'}")
        action.button("Retry", key=f"retry.{item.code}", on_click=_retry, args=(item.path,),
                      width="stretch")


def _quiz_summary(store_answers: Sequence[QuizAnswer]) -> None:
    if not store_answers:
        return
    right = sum(a.correct for a in store_answers)
    st.caption(f"Quiz: {len(store_answers)} answers, {right} right "
               f"({right / len(store_answers):.0%}).")


def render(ctx: Context) -> None:
    """The progress page."""
    kb = ctx.kb
    st.title("Progress")
    try:
        store = progress_store()
    except StorageError as exc:
        st.error(f"The progress database cannot be read: {safe(exc, line_start=False)}")
        return
    st.caption(f"Saved in {safe(store.shown_url, line_start=False)}")
    if store.read_only:
        st.warning(safe(store.read_only, line_start=False), icon=":material/warning:")
    learner = learner_panel("progress")
    if learner is None:
        if not sign_in_configured():
            st.info("Type the name you used on the unknown cases or the quiz to see its "
                    "progress.")
        return
    trainee = learner.find(store)
    if trainee is None:
        st.info("No attempt saved yet: try the unknown cases or the quiz.")
        return
    attempts = store.attempts(trainee)
    _quiz_summary(store.quiz_answers(trainee))
    if not attempts:
        st.info("No case attempted yet under this name: try the unknown cases.")
        return
    _summary(attempts)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("##### Accuracy over time")
        st.altair_chart(timeline_chart(attempts), key="progress.chart.time", width="stretch")
    with right:
        st.markdown("##### Accuracy by diagnosis")
        st.altair_chart(diagnosis_chart(kb, attempts), key="progress.chart.diagnosis",
                        width="stretch")
    _confusions(kb, attempts)
    _retry_list(ctx, attempts)
    if st.session_state.pop(GOTO, False):
        st.switch_page(PAGE)
