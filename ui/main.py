"""Minimal page: the differential of an example case (the full app is built in ui/pages)."""

from __future__ import annotations

import streamlit as st

from engine.cases import load_case
from engine.diagnosis import Reasoner
from engine.kb import default_kb_path, load_knowledge_base


@st.cache_resource
def _reasoner(fingerprint_path: str) -> Reasoner:
    return Reasoner(load_knowledge_base(fingerprint_path))


def run() -> None:
    st.set_page_config(page_title="ossdx", layout="wide")
    st.title("ossdx: bone lesions in breast cancer")
    reasoner = _reasoner(str(default_kb_path()))
    kb = reasoner.kb
    st.caption(kb.manifest.disclaimer)
    cases = sorted((kb.root / "cases" / "seed").glob("*.yaml"))
    chosen = st.selectbox("Example case", cases, format_func=lambda p: p.stem, key="example")
    case = load_case(chosen, kb)
    differential = reasoner.diagnose(case)
    for entry in differential.entries[:5]:
        st.write(f"{entry.name}: {entry.probability:.1%}")
