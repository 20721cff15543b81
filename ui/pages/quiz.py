"""Page script: quizzes (see ui.quiz_page)."""

from ui.boundary import run_page
from ui.quiz_page import render

run_page(render)
