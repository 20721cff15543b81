"""Page script: treatment response (ui.response_page, loaded lazily)."""

from ossdx.ui.boundary import run_page
from ossdx.ui.optional_pages import render_response

run_page(render_response)
