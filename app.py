"""Streamlit entry point of a checkout: ``streamlit run app.py``. Thin: the app lives in
ui/ (installed as ``ossdx.ui``); ``ossdx app`` runs the same app from an installed package."""

from ossdx.ui.main import run

run()
