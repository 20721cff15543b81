"""Trainee mode: an unknown case, the trainee's differential committed first, then the answer.

Before the trainee commits, the page shows only what a reader of the study would see: the
narrative (with the proven diagnosis's name blanked should it appear) and the findings, the
patient context, the studies done and the case's pictures (DICOM, PNG, JPEG), captioned only
'Image n'. Never the title (titles give the answer away), the source, the teaching points,
the images' own captions, the labelled drawings (their labels name the diagnosis) or the
system's ranking. On commit the attempt is scored and
written to the progress database in one transaction; only then is the truth revealed, with
the system's differential and its reasoning, the teaching points, and feedback on the
trainee's answer built from the rule trace.

Who is learning comes from :mod:`ui.auth` (the signed-in person, or a typed name when
sign-in is not configured); the progress database from :func:`ui.resources.progress_store`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from ossdx.kb import KnowledgeBase
from ossdx.kb.case import Case
from ossdx.reasoning.cases import load_case
from ossdx.reasoning.diagnosis import Differential, Reason
from ossdx.teaching.storage import ProgressStore, StorageError
from ossdx.teaching.trainee import (
    DIFFICULTIES,
    MAX_CHOICES,
    Answer,
    Attempt,
    Feedback,
    case_code,
    check_answer,
    difficulty_of,
    give_feedback,
    make_attempt,
    mask_names,
    totals,
)
from ossdx.ui.main import PAGE_DIR

from .auth import Learner, learner_panel, sign_in_configured
from .boundary import callback, fragment
from .differential_view import render_results
from .images import drawings_note, show_case_images
from .resources import Context, case_entries, case_subfolder, progress_store
from .text import percent, safe

PAGE = str(PAGE_DIR / "trainee.py")
CASE = "trainee.case"  # path (under cases/) of the case being worked
RESULT = "trainee.result"  # {path, attempt} once committed
SAVE_ERROR = "trainee.save_error"
WIDGETS = ("trainee.choice.", "trainee.confidence", "whynot.trainee", "trainee.images.")
ALL = "all"


# ------------------------------------------------------------------ the case catalogue
@dataclass(frozen=True)
class UnknownCase:
    """A case file with a proven diagnosis, as listed to a trainee (nothing that tells it)."""

    path: str
    case_id: str
    folder: str
    difficulty: str
    group: str
    code: str
    modalities: tuple[str, ...]

    def label(self, kb: KnowledgeBase, tried: bool = False) -> str:
        names = ", ".join(kb.vocabulary.modalities[m].name for m in self.modalities
                          if m in kb.vocabulary.modalities) or "no study"
        mark = " · tried before" if tried else ""
        return f"Case {self.code} · {self.folder or 'other'} · {self.difficulty} · {names}{mark}"


def unknown_cases(kb: KnowledgeBase) -> list[UnknownCase]:
    """Every case file with a truth, seed cases first (broken files: the examples page and
    `ossdx validate` report them)."""
    items = []
    for entry in case_entries(kb):
        case = entry.case
        if case is None or not case.truth or case.truth not in kb.diagnoses:
            continue
        items.append(UnknownCase(
            path=entry.name, case_id=case.name, folder=case_subfolder(entry),
            difficulty=difficulty_of(entry.path), group=kb.diagnoses[case.truth].group,
            code=case_code(case.name), modalities=tuple(sorted(case.modalities))))
    order = {"seed": 0}
    return sorted(items, key=lambda c: (order.get(c.folder, 1), c.folder, c.code))


def load_unknown(kb: KnowledgeBase, item: UnknownCase) -> Case:
    """The case of ``item``, from the shared read of the case folder (the file itself
    only if it changed since, so that its problems are reported)."""
    for entry in case_entries(kb):
        if entry.name == item.path and entry.case is not None:
            return entry.case
    return load_case(kb.root / "cases" / item.path, kb, name=item.path)


def group_label(group: str) -> str:
    return group.replace("_", " ")


# ------------------------------------------------------------------ callbacks
def _forget_answer() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(WIDGETS)]:
        del st.session_state[key]
    st.session_state.pop(RESULT, None)
    st.session_state.pop(SAVE_ERROR, None)


def open_case(path: str | None) -> None:
    """Work the case at ``path`` (under cases/) afresh: no answer, nothing revealed."""
    _forget_answer()
    st.session_state[CASE] = path
    st.session_state["trainee.pick"] = path


@callback
def _picked() -> None:
    open_case(st.session_state.get("trainee.pick"))


@callback
def _random(paths: Sequence[str], seen: Sequence[str]) -> None:
    fresh = [p for p in paths if p not in seen and p != st.session_state.get(CASE)] or \
        [p for p in paths if p != st.session_state.get(CASE)] or list(paths)
    if fresh:
        open_case(random.choice(fresh))


@callback
def _commit(ctx: Context, item: UnknownCase, learner: Learner) -> None:
    """Score the answer, save it in one transaction, and only then reveal."""
    kb = ctx.kb
    choices = [st.session_state.get(f"trainee.choice.{i}") for i in range(1, MAX_CHOICES + 1)]
    confidence = st.session_state.get("trainee.confidence", 50) / 100
    answer = check_answer(kb, choices, confidence, where="your answer")
    case = load_unknown(kb, item)
    differential = ctx.reasoner.diagnose(case)
    attempt = make_attempt(item.case_id, case.truth or "", case.acceptable, answer,
                           differential, datetime.now(UTC))
    try:
        store = progress_store()
        saved = store.record_attempt(learner.ensure(store), attempt)
    except StorageError as exc:
        st.session_state[SAVE_ERROR] = str(exc)
        return
    st.session_state.pop(SAVE_ERROR, None)
    st.session_state[RESULT] = {"path": item.path, "attempt": saved}


# ------------------------------------------------------------------ drawing
@fragment
def _images(case: Case, committed: bool) -> None:
    """The case's images, blind until the answer is committed (a fragment: windowing a
    series redraws only the images)."""
    left_out = show_case_images(case, "trainee.images", blind=not committed)
    if left_out:
        st.caption(drawings_note(left_out, "after you commit"))


def _case_card(kb: KnowledgeBase, item: UnknownCase, case: Case, committed: bool) -> None:
    """The case as a reader of the study sees it; its images beside the findings."""
    with st.container(border=True, key="unknown_case"):
        text, pictures = st.columns([3, 2], gap="medium") if case.images else \
            (st.container(), None)
        with text:
            _case_text(kb, item, case)
        if pictures is not None:
            with pictures:
                _images(case, committed)


def _case_text(kb: KnowledgeBase, item: UnknownCase, case: Case) -> None:
    st.markdown(f"#### Unknown case {safe(item.code, line_start=False)}")
    st.caption(f"{safe(item.folder or 'other', line_start=False)} · "
               f"{safe(item.difficulty, line_start=False)}")
    if case.narrative:
        hidden = [kb.name_of(d) for d in (case.truth, *case.acceptable) if d]
        st.markdown(safe(mask_names(case.narrative, hidden)))
    patient = []
    for var, value in case.patient.items():
        spec = kb.vocabulary.patient.get(var)
        if spec is None:
            continue
        group = kb.vocabulary.patient.get(var.rsplit(".", 1)[0]) if "." in var else None
        name = f"{group.name}: {spec.name}" if group is not None else spec.name
        shown = ", ".join(kb.label_of(f"patient.{var}", v) for v in sorted(value)) \
            if isinstance(value, frozenset) else kb.label_of(f"patient.{var}", value)
        patient.append(f"{safe(name, line_start=False)}: {safe(shown, line_start=False)}")
    if patient:
        st.markdown("**Patient** · " + " · ".join(patient))
    mods = ", ".join(kb.vocabulary.modalities[m].name for m in sorted(case.modalities))
    st.markdown(f"**Studies** · {safe(mods or 'none', line_start=False)}")
    lines = []
    for finding, value in case.findings.items():
        spec = kb.findings[finding]
        shown = kb.value_text(finding, value)
        lines.append(f"- **{safe(spec.name, line_start=False)}**: "
                     f"{safe(shown, line_start=False)}")
    st.markdown("**Findings**\n" + "\n".join(lines) if lines else "*no findings*")


def _answer_form(ctx: Context, item: UnknownCase, committed: bool,
                 learner: Learner | None) -> None:
    kb = ctx.kb
    ids = list(kb.diagnoses)
    st.markdown("##### Your differential")
    cols = st.columns(MAX_CHOICES)
    labels = ["First choice", "Second (optional)", "Third (optional)"]
    for i, col in enumerate(cols, 1):
        col.selectbox(labels[i - 1], ids, index=None, key=f"trainee.choice.{i}",
                      format_func=kb.name_of, disabled=committed,
                      placeholder="choose a diagnosis")
    st.slider("Confidence that your first choice is right (%)", min_value=1, max_value=99,
              value=50, step=1, key="trainee.confidence", disabled=committed,
              help="Scored with the Brier and log scores: stating what you really believe "
                   "scores best.")
    if committed:
        return
    if learner is None:
        how = "Sign in" if sign_in_configured() else "Type your name above"
        st.info(f"{how} to commit: every committed attempt is saved.")
    first = st.session_state.get("trainee.choice.1")
    st.button("Commit my answer", key="trainee.commit", type="primary", on_click=_commit,
              args=(ctx, item, learner), disabled=learner is None or first is None,
              icon=":material/lock:",
              help="Saves your answer; the proven diagnosis is shown only after this.")
    error = st.session_state.get(SAVE_ERROR)
    if error:
        st.error(f"Your answer could not be saved, so nothing was revealed: "
                 f"{safe(error, line_start=False)}")


def _reason_lines(reasons: Sequence[Reason]) -> str:
    """Fired rules as a Markdown list: text, likelihood ratio, the findings, the rule id."""
    lines = []
    for reason in reasons:
        used = "; ".join(safe(u.label, line_start=False) for u in reason.findings) \
            or "patient context"
        lines.append(f"- {safe(reason.text, line_start=False)} "
                     f"*(×{reason.lr:.3g})* ↳ {used} · `{reason.rule}`")
    return "\n".join(lines)


def _feedback(kb: KnowledgeBase, attempt: Attempt, feedback: Feedback) -> None:
    score = attempt.score
    cols = st.columns(4)
    cols[0].metric("Top-1", "right" if score.top1 else "missed")
    cols[1].metric("Top-3", "right" if score.top3 else "missed")
    cols[2].metric("Brier score", f"{score.brier:.3f}", help="(p − outcome)²: 0 is perfect")
    cols[3].metric("Log score", f"{score.log_score:.3f}", help="ln p if right, ln(1 − p) if "
                   "not: 0 is perfect")
    truth = safe(feedback.truth_name, line_start=False)
    st.caption(f"The system ranks {truth} number {feedback.truth_rank} "
               f"({percent(feedback.truth_probability)}).")
    if score.top1:
        st.markdown("Your first choice is right.")
    elif feedback.missed:
        st.markdown(f"{truth} was not in your differential.")
    for item in feedback.wrong:
        with st.container(border=True, key=f"feedback_{item.diagnosis}"):
            name = safe(item.name, line_start=False)
            st.markdown(f"**Your choice: {name}** — the system ranks it number "
                        f"{item.system_rank} ({percent(item.probability)}).")
            if item.findings:
                st.markdown("Findings that pointed elsewhere: " + "; ".join(
                    safe(u.label, line_start=False) for u in item.findings))
            if item.against:
                st.markdown(f"Against {name}:\n" + _reason_lines(item.against))
            else:
                st.markdown(f"*No entered finding speaks against {name}.*")
    if feedback.wrong:  # what spoke for the truth is the same for every wrong choice: once
        with st.container(border=True, key="feedback_truth"):
            if feedback.truth_for:
                st.markdown(f"**For {truth}**:\n" + _reason_lines(feedback.truth_for))
            else:
                st.markdown(f"*No entered finding speaks for {truth}: the prior decided.*")


def _reveal(ctx: Context, case: Case, differential: Differential, attempt: Attempt) -> None:
    kb = ctx.kb
    truth = kb.name_of(attempt.truth)
    st.divider()
    st.success(f"Proven diagnosis: **{safe(truth, line_start=False)}**",
               icon=":material/verified:")
    if case.acceptable:
        st.caption("Also counted as right: " + ", ".join(
            safe(kb.name_of(d), line_start=False) for d in case.acceptable))
    if case.title:
        st.markdown(f"### {safe(case.title, line_start=False)}")
    if case.source:
        st.caption(f"Source: {safe(case.source, line_start=False)}")
    feedback = give_feedback(differential, Answer(attempt.choices, attempt.confidence),
                             attempt.truth, case.acceptable)
    st.markdown("##### Your answer, scored")
    st.markdown("Your differential: " + " → ".join(
        safe(kb.name_of(d), line_start=False) for d in attempt.choices)
        + f" · confidence {attempt.confidence:.0%}")
    _feedback(kb, attempt, feedback)
    points = list(case.teaching_points)
    diagnosis = kb.diagnoses.get(attempt.truth)
    if diagnosis is not None:
        points += [tp.text for tp in diagnosis.teaching_points]
    if points:
        st.markdown("##### Teaching points")
        st.markdown("\n".join(f"- {safe(p, line_start=False)}" for p in dict.fromkeys(points)))
    st.markdown("##### The system's differential, with its reasoning")
    render_results(ctx, case, differential, None, key="trainee")


def _running_totals(store: ProgressStore, learner: Learner | None) -> None:
    trainee = learner.find(store) if learner else None
    if trainee is None:
        return
    summary = totals(store.attempts(trainee))
    if summary is None:
        return
    st.caption(f"{safe(trainee.name, line_start=False)}: {summary.attempts} attempt"
               f"{'' if summary.attempts == 1 else 's'} · top-1 {summary.top1:.0%} · top-3 "
               f"{summary.top3:.0%} · mean Brier {summary.brier:.3f} · mean log score "
               f"{summary.log_score:.3f}")


def _filters(kb: KnowledgeBase, items: Sequence[UnknownCase]) -> list[UnknownCase]:
    folders = sorted({i.folder for i in items}, key=lambda f: (f != "seed", f))
    groups = sorted({i.group for i in items})
    cols = st.columns(3)
    folder = cols[0].selectbox("Source", [ALL, *folders], key="trainee.folder",
                               format_func=lambda f: "all cases" if f == ALL else
                               f"{f or 'other'} cases")
    chosen_groups = cols[1].multiselect("Diagnosis group", groups, key="trainee.groups",
                                        format_func=group_label, placeholder="all groups")
    levels = cols[2].multiselect("Difficulty", list(DIFFICULTIES), key="trainee.difficulty",
                                 placeholder="any difficulty")
    return [i for i in items
            if (folder == ALL or i.folder == folder)
            and (not chosen_groups or i.group in chosen_groups)
            and (not levels or i.difficulty in levels)]


def render(ctx: Context) -> None:
    """The unknown-cases page."""
    kb = ctx.kb
    st.title("Unknown cases")
    st.caption("Read the case, commit your own differential and confidence, then see the "
               "proven diagnosis, the system's reasoning and feedback on your answer.")
    try:
        store = progress_store()
    except StorageError as exc:
        st.error(f"The progress database cannot be used, so attempts cannot be saved: "
                 f"{safe(exc, line_start=False)}")
        return
    if store.read_only:
        st.warning(safe(store.read_only, line_start=False), icon=":material/warning:")
    learner = learner_panel("trainee")
    _running_totals(store, learner)
    items = unknown_cases(kb)
    if not items:
        st.info("The knowledge base has no case files with a proven diagnosis.")
        return
    shown = _filters(kb, items)
    trainee = learner.find(store) if learner else None
    seen = {a.case_id for a in store.attempts(trainee)} if trainee else set()
    by_path = {i.path: i for i in items}
    current = st.session_state.get(CASE)
    if current not in by_path:
        current = None
        st.session_state[CASE] = None
    options = [i.path for i in shown]
    if current is not None and current not in options:
        options.insert(0, current)
    st.session_state["trainee.pick"] = current
    pick, button = st.columns([5, 1.3], vertical_alignment="bottom")
    pick.selectbox(f"Case ({len(shown)} match the filters)", options, index=None,
                   key="trainee.pick", on_change=_picked,
                   format_func=lambda p: by_path[p].label(kb, by_path[p].case_id in seen),
                   placeholder="choose a case")
    button.button("Random", key="trainee.random", on_click=_random,
                  args=([i.path for i in shown], [i.path for i in items if i.case_id in seen]),
                  icon=":material/casino:", width="stretch", disabled=not shown)
    if current is None:
        st.info("Choose a case, or press Random.")
        return
    item = by_path[current]
    case = load_unknown(kb, item)
    result: dict[str, Any] = st.session_state.get(RESULT) or {}
    committed = result.get("path") == item.path
    _case_card(kb, item, case, committed)
    _answer_form(ctx, item, committed, learner)
    if committed:
        differential = ctx.reasoner.diagnose(case)
        _reveal(ctx, case, differential, result["attempt"])
        st.button("Another case", key="trainee.next", on_click=_random,
                  args=([i.path for i in shown], [*seen, item.path]),
                  icon=":material/skip_next:", type="primary")
