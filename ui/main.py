"""The app shell: page set-up, navigation, the sidebar, and knowledge-base errors.

Each page is a small script under ``ui/screens/`` that draws itself inside the error boundary
(:func:`ui.boundary.run_page`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st

# Streamlit registers a custom component only while a script runs; this module is imported
# by the first script run, while the pages' modules may be imported by the warm-up thread
# (resources.WARM_MODULES), where the graph component would never be registered.
import streamlit_cytoscape  # noqa: F401

from . import auth, state
from .boundary import callback
from .resources import current_context, warm_up
from .text import problem_lines, safe

logger = logging.getLogger("ossdx.ui")

# The page scripts. Not called "pages": next to the installed streamlit_app.py Streamlit
# would take a "pages/" folder for its old automatic multipage navigation.
PAGE_DIR = Path(__file__).resolve().parent / "screens"  # works from app.py and from the wheel
PAGES = {
    "Diagnose": [
        ("workup.py", "Work-up", ":material/stethoscope:", "workup"),
        ("quick_entry.py", "Quick entry", ":material/bolt:", "quick"),
        ("examples.py", "Examples", ":material/menu_book:", "examples"),
    ],
    "Learn": [
        ("trainee.py", "Unknown cases", ":material/school:", "trainee"),
        ("quiz.py", "Quiz", ":material/quiz:", "quiz"),
        ("progress.py", "Progress", ":material/trending_up:", "progress"),
    ],
    "More": [
        ("response.py", "Treatment response", ":material/monitoring:", "response"),
        ("knowledge_base.py", "Knowledge base", ":material/account_tree:", "kb"),
    ],
}


@callback
def _new_case() -> None:
    state.reset()


@callback
def _undo() -> None:
    state.undo()


def _sidebar() -> None:
    context, errors = current_context()
    with st.sidebar:
        auth.sidebar()
        if context is not None:
            kb = context.kb
            st.caption(f"{safe(kb.manifest.name, line_start=False)} · "
                       f"version {safe(kb.version, line_start=False)}")
            title = None if state.meta().get("quiz") else state.meta().get("title")
            # no count of findings here: answers redraw only the work-up (a fragment)
            st.markdown(f"**Current case**  \n{safe(title, line_start=False) if title else 'new'}")
            st.button("New case", key="sidebar.new_case", on_click=_new_case,
                      icon=":material/add:", width="stretch")
            if state.undo_offer():  # a new case never loses the last one: one undo
                st.button("Undo: bring back the previous case", key="sidebar.undo",
                          on_click=_undo, icon=":material/undo:", width="stretch")
            st.info(safe(kb.manifest.disclaimer), icon=":material/info:")
    if errors:
        where = f"; still serving version {context.kb.version}" if context is not None else ""
        st.error(f"**The knowledge base has {len(errors)} problem"
                 f"{'' if len(errors) == 1 else 's'}{safe(where, line_start=False)}**  \n"
                 + problem_lines(errors), icon=":material/error:")


def run(loading: Any = None) -> None:
    """Set up the page, the navigation and the sidebar, then draw the chosen page
    (``loading``: a placeholder already saying that a new server is starting)."""
    st.set_page_config(page_title="ossdx · bone lesions in breast cancer",
                       page_icon="🦴", layout="wide")
    pages = {section: [st.Page(PAGE_DIR / path, title=title, icon=icon, url_path=url, default=i == 0
                               and section == "Diagnose")
                       for i, (path, title, icon, url) in enumerate(items)]
             for section, items in PAGES.items()}
    user = auth.signed_in_user()
    if user is not None and user.educator:  # the cohort page exists for educators only
        pages["Learn"].append(st.Page(PAGE_DIR / "cohort.py", title="Cohort",
                                      icon=":material/groups:", url_path="cohort"))
    page = st.navigation(pages)
    if loading is None:
        loading = st.empty()
    if not _WARM:  # a new server's first page loads and compiles the knowledge base
        loading.info("Loading the knowledge base and compiling its rules…",
                     icon=":material/hourglass_top:")
    try:
        state.init()
        state.restore_from_url()  # a reload or a shared link: the case from the address
        _sidebar()
        _WARM.append(True)
    except Exception:
        logger.exception("the app shell failed")
        st.error("The app could not start completely; the details are in the server log.")
    loading.empty()
    page.run()
    warm_up()  # after the page: the other pages' first visit, prepared


_WARM: list[bool] = []  # non-empty once a page of this server has loaded the knowledge base
