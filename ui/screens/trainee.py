"""Page script: unknown cases for trainees (see ui.trainee_page)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.trainee_page import render

run_page(render)
