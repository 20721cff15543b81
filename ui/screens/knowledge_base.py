"""Page script: the knowledge base (ui.kb_page, loaded lazily)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.optional_pages import render_knowledge_base

run_page(render_knowledge_base)
