"""The educator's cohort page: how every trainee is doing, from the shared progress database.

Only for a signed-in educator (``[ossdx] educators`` or ``educator_groups``, see ui.auth):
without sign-in nobody can be told apart from anyone else, so the page explains how to set
it up instead. Shows accuracy by case and by declared mimic pair, the commonest wrong calls,
who has not started, a table per trainee, and CSV exports of the attempts and the table.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from ossdx.kb import KnowledgeBase
from ossdx.teaching.cohort import (
    Cohort,
    accuracy_by_case,
    accuracy_by_mimic_pair,
    attempts_csv,
    kind_of,
    not_started,
    summary_csv,
    trainee_summaries,
    wrong_calls,
)
from ossdx.teaching.storage import StorageError

from .auth import cohort_roster, configuration_problem, sign_in_configured, signed_in_user
from .resources import Context, case_entries, progress_store
from .text import safe

ROWS = 15  # rows shown per table (the CSV has everything)


def _case_titles(kb: KnowledgeBase) -> dict[str, str]:
    return {e.case.name: e.case.title or e.name for e in case_entries(kb) if e.case is not None}


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _by_case(kb: KnowledgeBase, cohort: Cohort) -> None:
    st.markdown("##### Accuracy by case")
    rows = accuracy_by_case(cohort)
    if not rows:
        st.caption("No attempt yet.")
        return
    titles = _case_titles(kb)
    st.dataframe({
        "Case": [titles.get(r.case_id, r.case_id) for r in rows[:ROWS]],
        "Proven diagnosis": [kb.name_of(r.truth) for r in rows[:ROWS]],
        "Attempts": [r.attempts for r in rows[:ROWS]],
        "Trainees": [r.trainees for r in rows[:ROWS]],
        "Top-1": [_percent(r.top1) for r in rows[:ROWS]],
        "Top-3": [_percent(r.top3) for r in rows[:ROWS]],
        "Mean Brier": [round(r.brier, 3) for r in rows[:ROWS]],
    }, hide_index=True, key="cohort.by_case")


def _by_pair(kb: KnowledgeBase, cohort: Cohort) -> None:
    st.markdown("##### Accuracy by mimic pair")
    rows = accuracy_by_mimic_pair(kb, cohort)
    if not rows:
        st.caption("No attempt at a case whose proven diagnosis is part of a declared mimic "
                   "pair yet.")
        return
    st.dataframe({
        "Mimic pair": [f"{kb.name_of(r.first)} / {kb.name_of(r.second)}" for r in rows],
        "Attempts": [r.attempts for r in rows],
        "Trainees": [r.trainees for r in rows],
        "Top-1": [_percent(r.top1) for r in rows],
        "Called the other": [r.confused for r in rows],
    }, hide_index=True, key="cohort.by_pair")


def _wrong_calls(kb: KnowledgeBase, cohort: Cohort) -> None:
    st.markdown("##### Commonest wrong calls")
    rows = wrong_calls(kb, cohort)
    if not rows:
        st.caption("No missed first choice yet.")
        return
    lines = []
    for row in rows[:10]:
        pair = " · a declared mimic pair" if row.declared_mimic else ""
        who = f"{row.trainees} trainee{'' if row.trainees == 1 else 's'}"
        lines.append(f"- **{safe(kb.name_of(row.truth), line_start=False)}** called "
                     f"**{safe(kb.name_of(row.answer), line_start=False)}**: {row.count}× "
                     f"({who}){pair}")
    st.markdown("\n".join(lines))


def _not_started(cohort: Cohort, roster: list[str]) -> None:
    st.markdown("##### Not started")
    waiting = not_started(cohort, roster)
    if not waiting:
        st.caption("Everyone has committed at least one attempt.")
        return
    st.markdown("\n".join(f"- {safe(w.label(), line_start=False)}" for w in waiting))


def _trainees(cohort: Cohort) -> None:
    st.markdown("##### Trainees")
    rows = [s for s in trainee_summaries(cohort) if s.attempts]
    if not rows:
        st.caption("No attempt yet.")
        return
    st.dataframe({
        "Trainee": [s.trainee.name for s in rows],
        "E-mail": [s.trainee.email or "" for s in rows],
        "Identity": [kind_of(s.trainee) for s in rows],
        "Attempts": [s.attempts for s in rows],
        "Cases": [s.cases for s in rows],
        "Top-1": [_percent(s.top1) for s in rows],
        "Top-3": [_percent(s.top3) for s in rows],
        "Mean Brier": [round(s.brier, 3) for s in rows],
        "Last attempt (UTC)": [s.last.strftime("%Y-%m-%d %H:%M") if s.last else ""
                               for s in rows],
    }, hide_index=True, key="cohort.trainees")


def _refused() -> bool:
    """Explain and return True unless a signed-in educator is here."""
    problem = configuration_problem()
    if problem:
        st.error(safe(problem, line_start=False))
        return True
    if not sign_in_configured():
        st.info("The cohort view needs sign-in: with free-text names nobody can be told "
                "apart, so it is not shown. docs/DEPLOY.md explains how to configure sign-in "
                "and the educator role.", icon=":material/lock:")
        return True
    user = signed_in_user()
    if user is None:
        st.info("Sign in as an educator to see the cohort.", icon=":material/lock:")
        return True
    if not user.educator:
        st.warning("The cohort view is for educators. You can see your own progress on the "
                   "Progress page.", icon=":material/lock:")
        return True
    return False


def render(ctx: Context) -> None:
    """The cohort page."""
    kb = ctx.kb
    st.title("Cohort")
    if _refused():
        return
    try:
        store = progress_store()
        cohort = store.cohort()
    except StorageError as exc:
        st.error(f"The progress database cannot be read: {safe(exc, line_start=False)}")
        return
    roster = cohort_roster()
    started = sum(1 for _, attempts in cohort if attempts)
    attempts = sum(len(items) for _, items in cohort)
    top1 = sum(a.score.top1 for _, items in cohort for a in items)
    cols = st.columns(4)
    cols[0].metric("Trainees", len(cohort))
    cols[1].metric("Started", started)
    cols[2].metric("Attempts", attempts)
    cols[3].metric("Top-1", _percent(top1 / attempts) if attempts else "–")
    st.caption(f"From {safe(store.shown_url, line_start=False)}; every attempt counts, "
               f"retries included.")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    left, right = st.columns(2)
    left.download_button("Attempts (CSV)", attempts_csv(cohort), key="cohort.csv.attempts",
                         file_name=f"ossdx-attempts-{stamp}.csv", mime="text/csv",
                         icon=":material/download:", width="stretch")
    right.download_button("Trainees (CSV)", summary_csv(cohort, roster),
                          key="cohort.csv.trainees", file_name=f"ossdx-trainees-{stamp}.csv",
                          mime="text/csv", icon=":material/download:", width="stretch")
    _by_case(kb, cohort)
    _by_pair(kb, cohort)
    _wrong_calls(kb, cohort)
    _not_started(cohort, roster)
    _trainees(cohort)
