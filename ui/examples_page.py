"""Examples: every case file of the knowledge base, loadable in one click (seed cases first).

A case with images can be previewed in place: its findings with its images beside them
(not in quiz mode, where captions and labelled drawings would give the answer away).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ossdx.kb import KnowledgeBase
from ossdx.kb.case import Case
from ossdx.reasoning.cases import load_case
from ossdx.ui.main import PAGE_DIR

from . import state
from .boundary import callback, fragment
from .images import show_case_images
from .resources import Context, case_entries, case_subfolder
from .text import problem_lines, safe

GOTO_WORKUP = "examples.goto_workup"
QUIZ = "ui.quiz"  # quiz mode: titles and narratives hidden until revealed
WORKUP_PAGE = str(PAGE_DIR / "workup.py")


@dataclass(frozen=True)
class Example:
    """One case file as listed: where it is, its title, and why it cannot load (if so)."""

    folder: str
    path: str
    title: str
    summary: str
    problem: str | None = None
    details: str = ""
    images: int = 0


def catalogue(kb: KnowledgeBase) -> list[Example]:
    """Every case file under the knowledge base's cases folder, seed cases first."""
    items = []
    for entry in case_entries(kb):
        rel, case, folder = entry.name, entry.case, case_subfolder(entry)
        if case is None:
            items.append(Example(folder, rel, rel, "", problem_lines(entry.problems)))
            continue
        mods = ", ".join(kb.vocabulary.modalities[m].name for m in sorted(case.modalities))
        details = f"{len(case.findings)} findings · {mods or 'no study'}"
        items.append(Example(folder, rel, case.title or case.name,
                             f"{case.id or entry.path.stem} · {details}", details=details,
                             images=len(case.images)))
    order = {"seed": 0}
    return sorted(items, key=lambda e: (order.get(e.folder, 1), e.folder, e.path))


def findings_text(kb: KnowledgeBase, case: Case) -> str:
    """The findings of a case as a Markdown list (names and values from the KB)."""
    lines = [f"- **{safe(kb.findings[f].name, line_start=False)}**: "
             f"{safe(kb.value_text(f, v), line_start=False)}"
             for f, v in case.findings.items() if f in kb.findings]
    return "\n".join(lines) if lines else "*no findings*"


@fragment
def _preview(kb: KnowledgeBase, item: Example) -> None:
    """A case's findings with its images beside them, on request (a fragment: opening one
    or windowing its series redraws only this row's preview)."""
    label = f"Images ({item.images})"
    if not st.toggle(label, key=f"examples.preview.{item.path}",
                     help="Show this case's findings with its images beside them"):
        return
    entry = next((e for e in case_entries(kb) if e.name == item.path and e.case), None)
    if entry is None or entry.case is None:
        return
    with st.container(border=True, key=f"preview_{item.path}"):
        findings, pictures = st.columns([2, 3], gap="medium")
        findings.markdown("**Findings**\n" + findings_text(kb, entry.case))
        with pictures:
            show_case_images(entry.case, f"examples.images.{item.path}")


@callback
def _load(kb: KnowledgeBase, rel: str) -> None:
    case = load_case(kb.root / "cases" / rel, kb, name=rel)
    state.load(case, origin=f"example {rel}", quiz=bool(st.session_state.get(QUIZ)))
    st.session_state[GOTO_WORKUP] = True


@callback
def _quiz_changed() -> None:
    st.session_state[QUIZ] = bool(st.session_state.get("examples.quiz"))


def render(ctx: Context) -> None:
    """The examples page."""
    kb = ctx.kb
    st.title("Examples")
    st.caption("Teaching cases of the knowledge base. Loading one replaces the current case "
               "and opens the work-up; the proven diagnosis stays hidden until you reveal it.")
    state.seed("examples.quiz", bool(st.session_state.get(QUIZ)))
    quiz = st.toggle("Quiz mode: hide titles and narratives until revealed",
                     key="examples.quiz", on_change=_quiz_changed)
    items = catalogue(kb)
    if not items:
        st.info("The knowledge base has no case files.")
        return
    groups: dict[str, list[Example]] = {}
    for item in items:
        groups.setdefault(item.folder, []).append(item)
    titles = {name: f"{(name or 'other').capitalize()} cases ({len(group)})"
              for name, group in groups.items()}
    if st.session_state.get("examples.folder") not in groups:
        st.session_state.pop("examples.folder", None)
    # one folder at a time: hundreds of cases drawn at once made the page slow to open
    chosen = st.segmented_control("Folder", list(groups), default=next(iter(groups)),
                                  format_func=titles.__getitem__, key="examples.folder")
    for name, group in groups.items():
        if name != (chosen if chosen is not None else next(iter(groups))):
            continue
        with st.container(border=True):
            for number, item in enumerate(group, 1):
                text, action = st.columns([6, 1], vertical_alignment="center")
                if quiz:
                    text.markdown(f"**Case {number}**  \n{safe(item.details, line_start=False)}")
                else:
                    text.markdown(f"**{safe(item.title, line_start=False)}**  \n"
                                  f"{safe(item.summary, line_start=False)}")
                if item.problem:
                    text.error(item.problem)
                action.button("Load", key=f"example.{item.path}", on_click=_load,
                              args=(kb, item.path), disabled=item.problem is not None,
                              width="stretch")
                if item.images and not quiz:
                    with text:
                        _preview(kb, item)
    if st.session_state.pop(GOTO_WORKUP, False):
        st.switch_page(WORKUP_PAGE)
