"""Test page: the images of the case file named by $OSSDX_IMAGE_CASE (ossdx.ui.images)."""

import os

import streamlit as st

from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import load_case
from ossdx.ui.images import show_case_images


@st.cache_resource
def _kb():
    return load_knowledge_base()


show_case_images(load_case(os.environ["OSSDX_IMAGE_CASE"], _kb()), "case")
st.write("page ready")
