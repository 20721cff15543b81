"""The "Knowledge base" page: see the rules as a graph, browse them with their sources, see
which rules explain the current work-up, and which rules the case files exercise.

Thin: every fact shown comes from the knowledge base; every computation from engine/
(:mod:`ossdx.authoring.graph`, :mod:`ossdx.authoring.coverage`,
:mod:`ossdx.reasoning.explain`). Widget keys start with ``kb_``. No raw HTML: Streamlit's
markdown escapes it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ossdx.authoring.coverage import coverage_of_folder
from ossdx.authoring.graph import (
    build_graph,
    diagnosis_subgraph,
    explanation_subgraph,
    finding_subgraph,
    to_dot,
)
from ossdx.kb.model import Kind, KnowledgeBase, Rule
from ossdx.reasoning.diagnosis import Differential
from ossdx.reasoning.explain import describe_rule

LEGEND = ("Boxes: findings and their values (blue), patient context (purple), modalities "
          "(grey). Ellipses: derived concepts. Notes: rules. Octagons: diagnoses. Green "
          "arrows argue for, red against; dashed arrows are negated conditions.")


@st.cache_resource(show_spinner=False)
def _graph(fingerprint: str, _kb: KnowledgeBase) -> Any:
    """The knowledge graph, built once per KB version."""
    return build_graph(_kb)


@st.cache_data(show_spinner="Running every case file ...")
def _coverage(fingerprint: str, _kb: KnowledgeBase) -> dict[str, Any]:
    """Coverage of the KB's cases/, computed once per KB version."""
    return coverage_of_folder(_kb, fast=True).as_dict()


def render(kb: KnowledgeBase, differential: Differential | None = None) -> None:
    """Draw the page for ``kb``; with a ``differential``, also its explanation graph."""
    st.header("Knowledge base")
    rules = kb.rules
    st.caption(f"{kb.manifest.name}, version {kb.version}: {len(kb.diagnoses)} diagnoses, "
               f"{len(kb.findings)} findings, {len(kb.concepts)} derived concepts, "
               f"{len(rules)} rules, {len(kb.references)} references.")
    graph_tab, browse_tab, workup_tab, coverage_tab = st.tabs(
        ["Graph", "Browse", "Current work-up", "Coverage"])
    with graph_tab:
        _graph_section(kb)
    with browse_tab:
        _browse_section(kb)
    with workup_tab:
        _workup_section(kb, differential)
    with coverage_tab:
        _coverage_section(kb)


# ============================================================================ graph
def _graph_section(kb: KnowledgeBase) -> None:
    graph = _graph(kb.fingerprint, kb)
    focus = st.radio("Show the graph around", ["a diagnosis", "a finding"], horizontal=True,
                     key="kb_graph_focus")
    if focus == "a diagnosis":
        chosen = st.selectbox("Diagnosis", sorted(kb.diagnoses, key=kb.name_of),
                              format_func=kb.name_of, key="kb_graph_diagnosis")
        sub = diagnosis_subgraph(graph, chosen)
        st.caption(f"Everything that can raise or lower {kb.name_of(chosen)}: its rules, "
                   "their conditions, and the concepts upstream with their own rules.")
    else:
        chosen = st.selectbox("Finding", sorted(kb.findings, key=kb.name_of),
                              format_func=kb.name_of, key="kb_graph_finding")
        sub = finding_subgraph(graph, chosen)
        st.caption(f"Everything the answer to '{kb.name_of(chosen)}' can reach.")
    dot = to_dot(sub, name=chosen)
    st.graphviz_chart(dot, width="stretch")
    st.caption(LEGEND)
    st.download_button("Download this graph (DOT)", dot, file_name=f"{chosen}.dot",
                       mime="text/vnd.graphviz", key="kb_graph_download")


# ============================================================================ browse
def _sources(kb: KnowledgeBase, refs: tuple[str, ...] | list[str]) -> None:
    for ref_id in refs:
        ref = kb.references.get(ref_id)
        if ref is None:
            continue
        link = ref.url or (f"https://doi.org/{ref.doi}" if ref.doi else None)
        text = f"- **{ref_id}**: {ref.citation}"
        if link:
            text += f" ([link]({link}))"
        st.markdown(text)


def _rule(kb: KnowledgeBase, rule: Rule) -> None:
    conclusion = {Kind.EVIDENCE: f"{rule.effect} {kb.name_of(rule.target)}",
                  Kind.PRIOR: f"prior of {kb.name_of(rule.target)}",
                  Kind.CONCEPT: f"derives {kb.name_of(rule.target)}"}.get(rule.kind, "")
    title = f"{rule.id}: {conclusion}" + (f", {rule.strength}" if rule.strength else "")
    with st.expander(title):
        st.markdown(rule.description)
        st.markdown(f"**When:** {describe_rule(kb, rule)}")
        if rule.group:
            st.markdown(f"**Group:** {rule.group} (only the strongest rule of a group counts)")
        if rule.teaching_point:
            st.markdown(f"**Teaching point:** {rule.teaching_point}")
        if rule.examples:
            st.markdown(f"**Examples:** {len(rule.examples)} (run by `ossdx validate`)")
        st.caption(f"Defined at {rule.location}")
        _sources(kb, rule.references)


def _browse_section(kb: KnowledgeBase) -> None:
    kind = st.radio("Browse", ["Diagnoses", "Derived concepts", "Pitfalls",
                               "Recommendations"], horizontal=True, key="kb_browse_kind")
    if kind == "Diagnoses":
        dx_id = st.selectbox("Diagnosis", sorted(kb.diagnoses, key=kb.name_of),
                             format_func=kb.name_of, key="kb_browse_diagnosis")
        dx = kb.diagnoses[dx_id]
        st.subheader(dx.name)
        st.markdown(dx.description)
        st.markdown(f"**Base prior:** {dx.prior.base:.1%}"
                    + (f" ({dx.prior.note})" if dx.prior.note else ""))
        _sources(kb, dx.prior.references)
        if dx.teaching_points:
            st.markdown("**Teaching points**")
            for tp in dx.teaching_points:
                st.markdown(f"- {tp.text}")
        for title, kinds in (("Prior factors", Kind.PRIOR), ("Evidence rules", Kind.EVIDENCE)):
            chosen = [r for r in kb.rules if r.kind is kinds and r.target == dx_id]
            st.markdown(f"**{title}** ({len(chosen)})")
            for rule in sorted(chosen, key=lambda r: r.location.line or 0):
                _rule(kb, rule)
    elif kind == "Derived concepts":
        concept_id = st.selectbox("Concept", sorted(kb.concepts, key=kb.name_of),
                                  format_func=kb.name_of, key="kb_browse_concept")
        concept = kb.concepts[concept_id]
        st.subheader(concept.name)
        st.markdown(concept.description)
        for rule in kb.rules:
            if rule.kind is Kind.CONCEPT and rule.target == concept_id:
                _rule(kb, rule)
        readers = [r.id for r in kb.rules if concept_id in r.concepts]
        st.markdown("**Read by:** " + (", ".join(readers) or "no rule"))
    else:
        kind_of = Kind.PITFALL if kind == "Pitfalls" else Kind.RECOMMENDATION
        table = kb.pitfalls if kind_of is Kind.PITFALL else kb.recommendations
        item_id = st.selectbox(kind[:-1], sorted(table), format_func=kb.name_of,
                               key=f"kb_browse_{kind_of.value}")
        item = table[item_id]
        st.subheader(item.title)
        st.markdown(item.text)
        rule = kb.rule(f"{kind_of.value}.{item_id}")
        st.markdown(f"**When:** {describe_rule(kb, rule)}")
        st.caption(f"Defined at {rule.location}")
        _sources(kb, rule.references)


# ============================================================================ work-up
def _workup_section(kb: KnowledgeBase, differential: Differential | None) -> None:
    if differential is None:
        st.info("Work up a case to see here the rules that fired on it and the findings "
                "that fired them.")
        return
    graph = _graph(kb.fingerprint, kb)
    sub = explanation_subgraph(kb, differential, graph)
    fired = differential.trace.fired
    st.markdown(f"**{differential.case.name}**: {len(fired)} rule(s) fired; the leader is "
                f"{differential.leader.name} ({differential.leader.probability:.0%}).")
    if fired:
        st.graphviz_chart(to_dot(sub, name="work-up"), width="stretch")
        st.caption("Bold rules fired on this case. " + LEGEND)
    for rule_id in fired:
        rule = kb.rule(rule_id)
        st.markdown(f"- `{rule_id}`: {rule.description}")


# ============================================================================ coverage
def _coverage_section(kb: KnowledgeBase) -> None:
    data = _coverage(kb.fingerprint, kb)
    left, middle, right = st.columns(3)
    left.metric("Case files", data["cases"])
    middle.metric("Rules exercised", f"{data['exercised']} of {data['rules']}")
    right.metric("Diagnoses with few cases", len(data["diagnoses_with_few_cases"]))
    st.markdown("**Rules no case exercises**")
    if data["unexercised"]:
        st.dataframe(data["unexercised"], hide_index=True, key="kb_coverage_unexercised")
    else:
        st.markdown("Every rule fires on at least one case.")
    thin = data["diagnoses_with_few_cases"]
    st.markdown(f"**Diagnoses with fewer than {data['min_cases']} cases as truth**")
    if thin:
        st.dataframe([{"diagnosis": kb.name_of(dx), "cases": n} for dx, n in thin.items()],
                     hide_index=True, key="kb_coverage_thin")
    else:
        st.markdown("Every diagnosis has enough cases.")
    counts = [{"rule": rule, "cases": len(cases)} for rule, cases in data["fired"].items()]
    with st.expander("How often each rule fires"):
        st.dataframe(sorted(counts, key=lambda c: -c["cases"]), hide_index=True,
                     key="kb_coverage_counts")
    if data["invalid_files"]:
        st.warning("Case files that could not be read: " + ", ".join(data["invalid_files"]))
