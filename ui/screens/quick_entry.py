"""Page script: quick entry (see ui.quick_entry_page)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.quick_entry_page import render

run_page(render)
