"""Pages written in their own modules, loaded lazily: the app runs even when one is missing.

``ui.response_page.render(kb_root)`` (treatment response) and ``ui.kb_page.render(kb,
differential)`` (the knowledge base explorer) are imported only when their page is opened;
if the import fails the page says it is not available and the rest of the app is unaffected.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

import streamlit as st

from . import state
from .resources import Context

logger = logging.getLogger("ossdx.ui")
NOT_AVAILABLE = "not available yet"


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except Exception:  # a missing or broken page must not take the app down
        logger.warning("page module %s could not be imported", name, exc_info=True)
        st.info(NOT_AVAILABLE)
        return None


def render_response(ctx: Context) -> None:
    """The treatment-response page (ui.response_page)."""
    module = _module("ossdx.ui.response_page")
    if module is not None:
        module.render(ctx.kb.root)


def render_knowledge_base(ctx: Context) -> None:
    """The knowledge-base page (ui.kb_page), given the current differential if any."""
    module = _module("ossdx.ui.kb_page")
    if module is None:
        return
    differential = None
    if state.findings():
        built = state.build_case(ctx.kb, infer_modalities=True)
        if built.case is not None:
            differential = ctx.reasoner.diagnose(built.case)
    module.render(ctx.kb, differential)
