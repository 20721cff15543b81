"""Page script: the knowledge base (ui.kb_page, loaded lazily)."""

from ui.boundary import run_page
from ui.optional_pages import render_knowledge_base

run_page(render_knowledge_base)
