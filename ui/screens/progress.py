"""Page script: a trainee's progress (see ui.progress_page)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.progress_page import render

run_page(render)
