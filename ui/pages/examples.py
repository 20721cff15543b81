"""Page script: the examples (see ui.examples_page)."""

from ui.boundary import run_page
from ui.examples_page import render

run_page(render)
