"""The installed app's Streamlit script (``ossdx app`` runs this file); ``app.py`` at the
top of a checkout does the same for ``streamlit run app.py``."""

from ossdx.ui.main import run

run()
