"""Test page: a user's own images, in memory (ossdx.ui.images)."""

import streamlit as st

from ossdx.ui.images import show_uploaded_images

show_uploaded_images("own")
st.write("page ready")
