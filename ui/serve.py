"""What ``ossdx app`` runs: Streamlit's own server (``st.App``) for ``streamlit_app.py``,
with :class:`~ossdx.ui.boot.BootIndicator`, so the page shows that the app is starting
before Streamlit's JavaScript has loaded. ``streamlit run`` finds ``app`` below and serves
it; sessions, settings and sign-in are Streamlit's, as with ``streamlit run app.py``."""

import streamlit as st
from starlette.middleware import Middleware

from ossdx.ui.boot import BootIndicator

app = st.App("streamlit_app.py", middleware=[Middleware(BootIndicator)])
