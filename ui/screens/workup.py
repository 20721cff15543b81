"""Page script: the work-up (see ui.workup_page)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.workup_page import render

run_page(render)
