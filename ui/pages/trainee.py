"""Page script: unknown cases for trainees (see ui.trainee_page)."""

from ui.boundary import run_page
from ui.trainee_page import render

run_page(render)
