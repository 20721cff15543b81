"""Streamlit entry point: ``streamlit run app.py``. Thin: widgets and calls into engine/."""

from ui.main import run

run()
