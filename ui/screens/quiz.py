"""Page script: quizzes (see ui.quiz_page)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.quiz_page import render

run_page(render)
