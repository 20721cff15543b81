"""Test page: the SVG file named by $OSSDX_SVG_FILE, shown the way the app shows drawings."""

import os
from pathlib import Path

import streamlit as st

from ossdx.ui.images import show_svg

show_svg(Path(os.environ["OSSDX_SVG_FILE"]).read_bytes(), "an untrusted drawing")
st.write("page ready")
