"""The installed app's Streamlit script (``ossdx app`` runs this file); ``app.py`` at the
top of a checkout does the same for ``streamlit run app.py``."""

import sys

import streamlit as st

# A new server's first page imports the app and compiles the knowledge base (seconds): say
# so at once, before those imports.
loading = None
if "ossdx.ui.main" not in sys.modules:
    st.set_page_config(page_title="ossdx", page_icon="🦴", layout="wide")
    loading = st.empty()
    loading.info("Starting ossdx: loading the knowledge base and compiling its rules…")

from ossdx.ui.main import run  # noqa: E402

run(loading)
