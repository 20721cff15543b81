"""Page script: treatment response (ui.response_page, loaded lazily)."""

from ui.boundary import run_page
from ui.optional_pages import render_response

run_page(render_response)
