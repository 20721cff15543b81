"""Test page: a question's illustrations and the gallery (ossdx.ui.images)."""

import os

import streamlit as st

from ossdx.kb import load_knowledge_base
from ossdx.ui.images import show_gallery, show_question_illustrations


@st.cache_resource
def _kb():
    return load_knowledge_base()


show_question_illustrations(_kb(), os.environ.get("OSSDX_FINDING", "sacral_uptake_pattern"))
show_gallery(_kb())
