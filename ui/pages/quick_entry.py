"""Page script: quick entry (see ui.quick_entry_page)."""

from ui.boundary import run_page
from ui.quick_entry_page import render

run_page(render)
