"""The Streamlit user interface (the only package, with app.py, that imports streamlit)."""
