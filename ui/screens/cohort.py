"""Page script: the educator's cohort view (see ui.cohort_page)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.cohort_page import render

run_page(render)
