"""Page script: the examples (see ui.examples_page)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.examples_page import render

run_page(render)
