"""Page script: the work-up (see ui.workup_page)."""

from ui.boundary import run_page
from ui.workup_page import render

run_page(render)
