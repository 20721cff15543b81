"""Page script: a trainee's progress (see ui.progress_page)."""

from ui.boundary import run_page
from ui.progress_page import render

run_page(render)
