"""The error boundary of every page and callback: no traceback ever reaches the user.

An input problem (a case that does not check) is shown as its problems, one line each; any
other exception is logged with its traceback and shown as one short message.
Streamlit's own control flow (rerun, stop, page switch) is not an ``Exception`` and passes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import streamlit as st

from ossdx.core.errors import InputError

from .resources import Context, current_context
from .text import problem_lines

logger = logging.getLogger("ossdx.ui")

CALLBACK_ERRORS = "ui.callback_errors"  # problems from the last callback, shown once
INTERNAL = "Something went wrong while doing that; the details are in the server log."


def callback(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a widget callback so that its failure becomes a message on the next page."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except InputError as exc:
            st.session_state[CALLBACK_ERRORS] = [str(p) for p in exc.problems]
        except Exception:
            logger.exception("callback %s failed", function.__name__)
            st.session_state[CALLBACK_ERRORS] = [INTERNAL]
        return None

    return wrapper


def show_callback_errors() -> None:
    """Show (once) the problems left by the last failed callback."""
    problems = st.session_state.pop(CALLBACK_ERRORS, None)
    if problems:
        st.error(problem_lines(problems))


PAGE_FAILED = "This page could not be drawn completely; the details are in the server log."


def fragment(function: Callable[..., None]) -> Callable[..., None]:
    """``st.fragment`` with the page's boundary: a fragment reruns on its own, outside the
    page that drew it, so its failures (and its callbacks') are caught and shown here."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            show_callback_errors()
            function(*args, **kwargs)
        except InputError as exc:
            st.error(problem_lines(exc.problems))
        except Exception:
            logger.exception("part %s failed", function.__qualname__)
            st.error(PAGE_FAILED)

    return st.fragment(guarded)


def run_page(render: Callable[[Context], None]) -> None:
    """Draw a page inside the boundary, with the current knowledge base and engines."""
    try:
        context, _ = current_context()
        if context is None:
            st.error("No valid knowledge base to serve yet; fix the problems listed above.")
            return
        show_callback_errors()
        render(context)
    except InputError as exc:
        st.error(problem_lines(exc.problems))
    except Exception:
        logger.exception("page %s failed", getattr(render, "__module__", "?"))
        st.error(PAGE_FAILED)
