"""Quizzes: the knowledge base's own questions and questions generated from its rules.

Each answer, once checked, says what was picked and is explained with its source (the rules
or pitfall behind it and their references, as citations: never an internal id or file).
Signed in (or, without sign-in, with a typed name), every checked answer is saved (one
transaction). The same seed gives the same quiz.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

import streamlit as st

from ossdx.kb import KnowledgeBase
from ossdx.teaching.quiz import QuizQuestion, answer_question, make_quiz
from ossdx.teaching.storage import StorageError

from .auth import Learner, learner_panel
from .boundary import callback
from .resources import Context, progress_store
from .text import safe

CHECKED = "quiz.checked"  # {"<seed>:<question id>": chosen key}
SAVE_ERROR = "quiz.save_error"
SIZE = 10
KIND_LABELS = {"kb": "from the teaching file", "separates": "generated: which sign separates",
               "favours": "generated: which diagnosis", "modality": "generated: which study"}


@st.cache_data(show_spinner=False, max_entries=16)
def quiz(fingerprint: str, seed: int, size: int, _kb: KnowledgeBase) -> list[QuizQuestion]:
    """The quiz of one knowledge-base version and seed (deterministic)."""
    return make_quiz(_kb, seed=seed, size=size)


# A parenthesised note that points into the project's files, e.g. "(… shared/seed/x.txt)".
_INTERNAL_NOTE = re.compile(r"\s*\([^()]*\b[\w.-]+/[\w./-]+\.(?:txt|ya?ml|md|py)\)")


def source_lines(kb: KnowledgeBase, ids: Iterable[str]) -> list[str]:
    """The references as a reader cites them: citation, then DOI or URL; no reference id,
    and no note pointing at one of the project's own files."""
    lines = []
    for ref_id in dict.fromkeys(ids):
        ref = kb.references.get(ref_id)
        if ref is None:
            continue
        citation = _INTERNAL_NOTE.sub("", ref.citation).strip()
        where = f" doi:{ref.doi}" if ref.doi else (f" {ref.url}" if ref.url else "")
        lines.append(f"- {safe(citation + where, line_start=False)}")
    return lines


@callback
def _check(kb: KnowledgeBase, seed: int, question: QuizQuestion,
           learner: Learner | None) -> None:
    chosen = st.session_state.get(f"quiz.{seed}.{question.id}")
    if chosen is None:
        return
    st.session_state.setdefault(CHECKED, {})[f"{seed}:{question.id}"] = chosen
    st.session_state.pop(SAVE_ERROR, None)
    if learner is None:
        return
    record = answer_question(question, chosen, kb.version, datetime.now(UTC))
    try:
        store = progress_store()
        store.record_quiz_answer(learner.ensure(store), record)
    except StorageError as exc:
        st.session_state[SAVE_ERROR] = str(exc)


def _question(ctx: Context, seed: int, number: int, question: QuizQuestion,
              learner: Learner | None) -> None:
    kb = ctx.kb
    checked = st.session_state.get(CHECKED, {}).get(f"{seed}:{question.id}")
    labels = dict(question.options)
    with st.container(border=True, key=f"quiz_q{number}"):
        st.caption(f"Question {number} · {KIND_LABELS.get(question.kind, question.kind)}")
        st.markdown(f"**{safe(question.question, line_start=False)}**")
        st.radio("Your answer", [k for k, _ in question.options], index=None,
                 key=f"quiz.{seed}.{question.id}", disabled=checked is not None,
                 format_func=lambda k: f"{k}. {labels[k]}", label_visibility="collapsed")
        if checked is None:
            st.button("Check", key=f"quiz.check.{question.id}", on_click=_check,
                      args=(kb, seed, question, learner),
                      disabled=st.session_state.get(f"quiz.{seed}.{question.id}") is None)
            return
        answer = f"{question.answer}. {question.answer_text}"
        picked = f"{checked}. {labels.get(checked, '?')}"
        if question.is_right(checked):
            st.success(f"Right: you picked {safe(answer, line_start=False)}",
                       icon=":material/check:")
        else:
            st.error(f"Not quite: you picked {safe(picked, line_start=False)}; the answer is "
                     f"{safe(answer, line_start=False)}", icon=":material/close:")
        st.markdown(safe(question.explanation))
        if question.reasons:
            st.markdown("\n".join(f"- {safe(r, line_start=False)}" for r in question.reasons))
        refs = source_lines(kb, question.references)
        if refs:
            st.markdown("**Source**\n" + "\n".join(refs))


def render(ctx: Context) -> None:
    """The quiz page."""
    kb = ctx.kb
    st.title("Quiz")
    st.caption("The teaching file's own quiz questions, then questions generated from the "
               "knowledge base's rules and pitfalls. Check each answer to see why, with its "
               "source. The same quiz number gives the same questions.")
    try:
        store = progress_store()
        store_ok = True
        if store.read_only:
            st.warning(safe(store.read_only, line_start=False), icon=":material/warning:")
    except StorageError as exc:
        st.error(f"Answers cannot be saved: {safe(exc, line_start=False)}")
        store_ok = False
    learner = learner_panel("quiz") if store_ok else None
    if learner is None:
        st.caption("Answers are checked but not saved.")
    seed = int(st.number_input("Quiz number", min_value=0, max_value=10**6, value=1, step=1,
                               key="quiz.seed",
                               help="Each number draws a different set of generated questions"))
    error = st.session_state.get(SAVE_ERROR)
    if error:
        st.error(f"Your last answer could not be saved: {safe(error, line_start=False)}")
    questions = quiz(kb.fingerprint, seed, SIZE, kb)
    done = [q for q in questions if f"{seed}:{q.id}" in st.session_state.get(CHECKED, {})]
    right = sum(q.is_right(st.session_state[CHECKED][f"{seed}:{q.id}"]) for q in done)
    st.caption(f"{len(questions)} questions · {len(done)} checked · {right} right")
    for number, question in enumerate(questions, 1):
        _question(ctx, seed, number, question, learner)
