"""The "Knowledge base" page: see the rules as a graph, browse them with their sources, see
which rules explain the current work-up, which rules the case files exercise, the gallery of
illustrated signs, and how well the leader's probability is calibrated on the cases the
knowledge base was tuned on.

Thin: every fact shown comes from the knowledge base; every computation from engine/
(:mod:`ossdx.authoring.graph`, :mod:`ossdx.authoring.coverage`,
:mod:`ossdx.authoring.evaluate`, :mod:`ossdx.reasoning.explain`). Widget keys start with
``kb_``. No raw HTML: Streamlit's markdown escapes it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import networkx as nx
import streamlit as st
from streamlit_cytoscape import EdgeStyle, NodeStyle, streamlit_cytoscape

from ossdx.advice.track_record import load_track_record, wilson_interval
from ossdx.authoring.coverage import coverage_of_folder
from ossdx.authoring.evaluate import BINS, evaluate, load_cases
from ossdx.authoring.graph import (
    STYLE,
    build_graph,
    diagnosis_subgraph,
    explanation_subgraph,
    finding_subgraph,
    node_id,
    to_dot,
)
from ossdx.authoring.typical import DEFAULT_SIGNS, TypicalResult, check_typical, picture_labels
from ossdx.core.errors import InputError
from ossdx.kb.holder import snapshot
from ossdx.kb.model import Kind, KnowledgeBase, Rule
from ossdx.kb.schema import Served
from ossdx.reasoning.diagnosis import Differential
from ossdx.reasoning.explain import describe_rule
from ossdx.ui.charts import reliability_chart
from ossdx.ui.images import show_gallery
from ossdx.ui.text import safe

LEGEND = ("Colours: findings and their values (blue), patient context (purple), studies "
          "(grey), derived concepts (yellow), rules (white), diagnoses (red), pitfalls "
          "(orange), recommendations (green). Green arrows argue for, red against; dashed "
          "arrows are negated conditions.")


@st.cache_resource(show_spinner=False)
def _graph(fingerprint: str, _kb: KnowledgeBase) -> Any:
    """The knowledge graph, built once per KB version."""
    return build_graph(_kb)


@st.cache_data(show_spinner=False)
def _typical(fingerprint: str, _kb: KnowledgeBase, diagnosis: str) -> TypicalResult | None:
    """The diagnosis ranked on its own typical picture (None without a profile)."""
    if diagnosis not in _kb.profiles:
        return None
    return check_typical(_kb, DEFAULT_SIGNS, [diagnosis])[0]


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
    # one section at a time (tabs would draw all four on every visit)
    section = st.segmented_control("Section", list(SECTIONS), default="Graph",
                                   key="kb_section", label_visibility="collapsed")
    if section == "Browse":
        _browse_section(kb)
    elif section == "Current work-up":
        _workup_section(kb, differential)
    elif section == "Coverage":
        _coverage_section(kb)
    elif section == "Illustrations":
        _illustrations_section(kb)
    elif section == "Calibration":
        _calibration_section(kb)
    else:
        _graph_section(kb)


SECTIONS = ("Graph", "Browse", "Current work-up", "Coverage", "Illustrations", "Calibration")

# ============================================================================ graph
GRAPH_FONT_PX = 14  # node label size at zoom 1; the layout keeps the first view near zoom 1
COLUMN_PX = 300  # between the layers of the layout (label width LABEL_PX and a margin)
LABEL_PX = 220  # the widest a label line may grow before it wraps
CHAR_PX = 8.0  # a generous mean width of one character at GRAPH_FONT_PX
LINE_PX = 18  # the height of one label line
ROW_PX = 38  # between the nodes of one layer, at least (a one- or two-line label)
BREAK = "\u200b"  # a zero-width space: where an identifier may wrap (after . _ /)
MIN_HEIGHT_PX, MAX_HEIGHT_PX = 420, 1600
KIND_NAMES = {"finding": "Finding", "value": "Finding value", "patient": "Patient",
              "modality": "Study", "concept": "Concept", "rule": "Rule",
              "diagnosis": "Diagnosis", "pitfall": "Pitfall",
              "recommendation": "Recommendation"}
EDGE_COLOURS = {"for": "#2e7d32", "against": "#c62828"}


def neighbourhood(graph: Any, centre: str, depth: int, limit: int) -> tuple[Any, int]:
    """The nodes at most ``depth`` steps from ``centre`` (either direction) and their edges,
    keeping at each step at most ``limit`` new nodes: those joined by the strongest
    likelihood ratio first, then by kind and label. Also how many nodes were left out."""
    undirected = graph.to_undirected(as_view=True)
    kept, frontier, left_out = {centre}, [centre], 0
    for _ in range(depth):
        found: dict[str, float] = {}
        for node in frontier:
            for other in undirected.neighbors(node):
                if other in kept:
                    continue
                data = graph.get_edge_data(node, other) or graph.get_edge_data(other, node) or {}
                strength = abs(math.log(data["lr"])) if data.get("lr") else 0.0
                found[other] = max(found.get(other, 0.0), strength)
        ranked = sorted(found, key=lambda n: (-found[n], graph.nodes[n].get("kind", ""),
                                              str(graph.nodes[n].get("label"))))
        left_out += max(0, len(ranked) - limit)
        frontier = ranked[:limit]
        kept.update(frontier)
    return graph.subgraph(kept), left_out


def breakable(label: str) -> str:
    """``label`` with a zero-width space after each ``.``, ``_`` and ``/``, so that a rule
    id such as ``metastasis.profile.bulls_eye_sign.yes`` wraps inside its column instead
    of running over the next one (Cytoscape wraps at white space and zero-width spaces)."""
    for mark in "._/":
        label = label.replace(mark, mark + BREAK)
    return label


def label_lines(label: str) -> int:
    """How many lines ``label`` takes when wrapped at LABEL_PX (a word longer than a line
    is cut, as Cytoscape does)."""
    per_line = int(LABEL_PX // CHAR_PX)
    lines, used = 1, 0
    for word in re.split(f"[ {BREAK}]+", breakable(label).strip()):
        if used and used + 1 + len(word) > per_line:
            lines, used = lines + 1, 0
        used += len(word) + (1 if used else 0)
        while used > per_line:  # a word longer than a line is cut
            lines, used = lines + 1, used - per_line
    return lines


def graph_layout(sub: Any, centre: str) -> tuple[dict[str, tuple[float, float]], int]:
    """Columns by distance from the centre (the centre alone on the left), nodes of a column
    by kind and label, each given the height its wrapped label needs so that no two labels
    overlap; and the height (px) in which the first view shows them at about zoom 1, so that
    labels keep their size."""
    distance = nx.single_source_shortest_path_length(sub.to_undirected(as_view=True), centre)
    layers: dict[int, list[str]] = {}
    for node, d in distance.items():
        layers.setdefault(d, []).append(node)
    rows = {node: max(ROW_PX, label_lines(str(sub.nodes[node].get("label", node))) * LINE_PX
                      + 6) for node in distance}
    tallest = max(sum(rows[n] for n in nodes) for nodes in layers.values())
    height = max(MIN_HEIGHT_PX, min(MAX_HEIGHT_PX, int(tallest) + 80))
    positions: dict[str, tuple[float, float]] = {}
    for d, nodes in layers.items():
        nodes.sort(key=lambda n: (sub.nodes[n].get("kind", ""), str(sub.nodes[n].get("label"))))
        y = (height - 80 - sum(rows[n] for n in nodes)) / 2
        for node in nodes:
            positions[node] = (d * COLUMN_PX, y + rows[node] / 2)
            y += rows[node]
    return positions, height


def graph_elements(sub: Any, centre: str) -> tuple[dict[str, Any], int]:
    """The subgraph as Cytoscape elements (preset positions) and the canvas height."""
    positions, height = graph_layout(sub, centre)
    nodes = []
    for node, data in sub.nodes(data=True):
        x, y = positions.get(node, (0.0, 0.0))
        kind = data.get("kind", "")
        nodes.append({"data": {"id": node, "label": kind,
                               "name": breakable(str(data.get("label", node))),
                               "kind": KIND_NAMES.get(kind, kind),
                               **({"description": data["description"]}
                                  if data.get("description") else {})},
                      "position": {"x": x, "y": y}})
    edges = []
    for i, (source, target, data) in enumerate(sub.edges(data=True)):
        relation = data.get("effect") or ("negated" if data.get("negated") else
                                          data.get("kind", "condition"))
        edges.append({"data": {"id": f"e{i}", "source": source, "target": target,
                               "label": relation}})
    return {"nodes": nodes, "edges": edges}, height


def _node_styles() -> list[Any]:
    common = {"font-size": GRAPH_FONT_PX, "text-halign": "right", "text-valign": "center",
              "text-margin-x": 4, "text-wrap": "wrap", "text-max-width": f"{LABEL_PX}px",
              "width": 14, "height": 14, "color": "#1f2328", "border-width": 1,
              "border-color": "#57606a"}
    return [NodeStyle(kind, STYLE.get(kind, ("", "#dddddd"))[1], "name",
                      custom_styles=dict(common)) for kind in KIND_NAMES]


def _edge_styles() -> list[Any]:
    styles = [EdgeStyle(relation, colour, directed=True,
                        custom_styles={"width": 2, "arrow-scale": 0.8})
              for relation, colour in EDGE_COLOURS.items()]
    styles.append(EdgeStyle("negated", "#57606a", directed=True,
                            custom_styles={"line-style": "dashed", "width": 1.5}))
    for relation in ("condition", "has_value", "derives", "evidence", "prior", "warns",
                     "recommends"):
        styles.append(EdgeStyle(relation, "#8c959f", directed=True,
                                custom_styles={"width": 1.2, "arrow-scale": 0.7}))
    return styles


def _node_choice(graph: Any) -> list[str]:
    order = list(KIND_NAMES)
    return sorted(graph.nodes, key=lambda n: (order.index(graph.nodes[n].get("kind"))
                                              if graph.nodes[n].get("kind") in order else 99,
                                              str(graph.nodes[n].get("label")).lower()))


def _graph_section(kb: KnowledgeBase) -> None:
    graph = _graph(kb.fingerprint, kb)
    focus = st.radio("Show the graph around", ["a diagnosis", "a finding", "anything (search)"],
                     horizontal=True, key="kb_graph_focus")
    left, right = st.columns([3, 2])
    if focus == "a diagnosis":
        chosen = left.selectbox("Diagnosis", sorted(kb.diagnoses, key=kb.name_of),
                                format_func=kb.name_of, key="kb_graph_diagnosis")
        sub, centre = diagnosis_subgraph(graph, chosen), node_id("diagnosis", chosen)
        about = f"what can raise or lower {kb.name_of(chosen)}"
    elif focus == "a finding":
        chosen = left.selectbox("Finding", sorted(kb.findings, key=kb.name_of),
                                format_func=kb.name_of, key="kb_graph_finding")
        sub, centre = finding_subgraph(graph, chosen), node_id("finding", chosen)
        about = f"what the answer to '{kb.name_of(chosen)}' can reach"
    else:
        nodes = _node_choice(graph)
        centre = left.selectbox(
            "Search for a finding, a rule, a concept or a diagnosis", nodes,
            key="kb_graph_search", placeholder="type to search",
            format_func=lambda n: f"{KIND_NAMES.get(graph.nodes[n].get('kind'), '')}: "
                                  f"{graph.nodes[n].get('label')}")
        chosen = centre.split(":", 1)[-1]
        sub = graph
        about = f"the neighbourhood of {graph.nodes[centre].get('label')}"
    with right:
        depth = st.slider("Neighbourhood depth (steps from it)", 1, 5, 2, key="kb_graph_depth",
                          help="1: the rules that conclude or read it; 2: also their "
                               "conditions or conclusions; and so on")
        limit = st.select_slider("At most, new nodes per step", [10, 15, 20, 30, 50, 100],
                                 value=15, key="kb_graph_limit",
                                 help="The strongest rules first; more nodes, smaller labels")
    if centre not in sub:
        st.info("Nothing in the knowledge base reads or concludes this yet.")
        return
    near, left_out = neighbourhood(sub, centre, depth, limit)
    more = f" ({left_out} more left out: raise the limit to see them)" if left_out else ""
    st.caption(f"{safe(about, line_start=False)}: {near.number_of_nodes()} nodes within "
               f"{depth} step{'s' if depth > 1 else ''}{more}. Drag to pan, scroll or use the "
               "buttons to zoom, click a node for its details.")
    elements, height = graph_elements(near, centre)
    streamlit_cytoscape(elements, layout={"name": "preset", "fit": True, "padding": 24,
                                          "animate": False},
                        node_styles=_node_styles(), edge_styles=_edge_styles(), height=height,
                        key=f"kb_graph_view_{centre}_{depth}_{limit}")
    st.caption(LEGEND)
    dot = to_dot(near, name=chosen)
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
        prior = dx.prior
        assert prior is not None  # every diagnosis of kb.diagnoses is described
        st.markdown(f"**Base prior:** {prior.base:.1%}"
                    + (f" ({prior.note})" if prior.note else ""))
        _sources(kb, prior.references)
        _typical_picture(kb, dx_id)
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
        served = served_description(kb, item)
        if served:
            st.markdown(f"**Serves:** {safe(served, line_start=False)}")
        rule = kb.rule(f"{kind_of.value}.{item_id}")
        st.markdown(f"**When:** {describe_rule(kb, rule)}")
        st.caption(f"Defined at {rule.location}")
        _sources(kb, rule.references)


def _typical_picture(kb: KnowledgeBase, dx_id: str) -> None:
    """Whether the diagnosis leads on the picture its own profile calls typical."""
    result = _typical(kb.fingerprint, kb, dx_id)
    if result is None:
        return
    st.markdown(f"**On its own typical picture:** {result.verdict(kb.name_of)}")
    st.markdown("\n".join(f"- {safe(text)}" for text in picture_labels(kb, result.picture)))
    st.caption(f"The {DEFAULT_SIGNS} findings its profile says most about, ranked with no "
               "patient context (`ossdx typical`). If it does not lead, its base rate "
               "outweighs these signs against the leader, or the leader's profile leaves "
               "them unstated.")


def served_description(kb: KnowledgeBase, item: Served) -> str:
    """For which diagnoses a pitfall or recommendation is, and in which band it applies
    (from the knowledge base; '' when it serves none)."""
    if not item.for_:
        return ""
    names = " or ".join(kb.name_of(d) for d in item.for_)
    text = names
    if item.band is not None:
        low, high = item.band
        holds = "together hold" if len(item.for_) > 1 else "holds"
        text += f"; applies while {'they ' if len(item.for_) > 1 else 'it '}{holds} " \
                f"{low:.0%} to {high:.0%}"
    if item.unless_leader:
        text += "; not while " + " or ".join(kb.name_of(d) for d in item.unless_leader) \
            + " leads"
    if item.band_note:
        text += f" ({item.band_note.strip()})"
    return text


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


# ============================================================================ illustrations
def _illustrations_section(kb: KnowledgeBase) -> None:
    st.caption("Schematic drawings of the signs the questions ask about, drawn for this "
               "project; each with the sources that describe the sign. A question about a "
               "sign shows its drawing under 'What it looks like'.")
    show_gallery(kb)


# ============================================================================ calibration
# The case sets the knowledge base was tuned on (docs/EVALUATION.md). Never a held-out folder
# of kb.yaml: those stay an evaluation set, and this page leaves them out even if listed here.
TUNED_SETS = ("seed", "literature", "blind/tuning")
TUNED_LABEL = "cases the knowledge base was tuned on"


def tuned_folders(kb: KnowledgeBase) -> dict[str, Path]:
    """The tuning sets this knowledge base has (name -> folder), held-out folders left out."""
    found = {}
    for name in TUNED_SETS:
        folder = (kb.root / "cases" / name).resolve()
        if folder.is_dir() and not kb.is_held_out(folder):
            found[name] = folder
    return found


@st.cache_data(show_spinner=f"Running the {TUNED_LABEL} ...", max_entries=4)
def _calibration(fingerprint: str, signature: tuple[object, ...],
                 _kb: KnowledgeBase) -> dict[str, Any]:
    # its own engine: the app's shared one stays free for the work-ups meanwhile
    cases, problems, sets = [], [], {}
    for name, folder in tuned_folders(_kb).items():
        found, trouble = load_cases(folder, _kb)
        cases += found
        problems += [str(p) for p in trouble]
        sets[name] = len(found)
    report = evaluate(_kb, cases)
    return {"n": report["n"], "sets": sets, "problems": problems,
            "ece": report.get("ece"), "top1": report.get("top1"),
            "reliability": report.get("reliability", [])}


def calibration_report(kb: KnowledgeBase) -> dict[str, Any]:
    """The leader's reliability diagram and ECE over the tuning sets, with the number of
    cases of each set and the files that could not be read: computed once per knowledge-base
    version and state of the tuning folders."""
    signature = tuple(snapshot(folder) for folder in tuned_folders(kb).values())
    return _calibration(kb.fingerprint, signature, kb)


def _track_record_section(kb: KnowledgeBase) -> None:
    """The measured track record quoted beside every leader (knowledge_base/track_record.json)."""
    st.markdown("**Track record on held-out cases**")
    try:
        record = load_track_record(kb.root)
    except InputError as exc:
        st.error(f"The track record cannot be shown: {safe(str(exc), line_start=False)}")
        return
    if record is None:
        st.info("This knowledge base has no measured track record "
                "(`python -m benchmarks.track_record --write` measures one).")
        return
    rows = ["| Leader held at | Cases | Right | Share | 95% interval |", "|---|---:|---:|---:|---|"]
    for band in record.bands:
        if band.n:
            low, high = wilson_interval(band.right, band.n)
            share, interval = f"{band.right / band.n:.0%}", f"{low:.0%} to {high:.0%}"
        else:
            share, interval = "-", "-"
        rows.append(f"| {band.label()} | {band.n} | {band.right} | {share} | {interval} |")
    st.markdown("\n".join(rows))
    stale = ("" if record.knowledge_base == kb.version else
             f" This knowledge base is {kb.version}: the knowledge has changed since, so "
             "measure it again.")
    st.caption(safe(f"How often the leader was right, by the probability it was held at, on "
                    f"{record.n} {record.cases} ({record.source}); measured on "
                    f"{record.measured} with knowledge base {record.knowledge_base}. The work-up "
                    f"quotes the line for its leader.{stale}", line_start=False))
    short = record.short_list
    if short is not None:
        st.caption(safe(
            f"Short list: the leader and every diagnosis at {short.threshold:.1%} or more, the "
            f"threshold set (split-conformal) so that such lists held the truth in at least "
            f"{short.coverage:.0%} of these cases; it held it in {short.covered} of {short.n}. "
            f"The work-up shows the list under the track record.", line_start=False))


def _calibration_section(kb: KnowledgeBase) -> None:
    _track_record_section(kb)
    st.markdown(f"**Calibration of the leader on the {TUNED_LABEL}**")
    report = calibration_report(kb)
    if not report["n"]:
        st.info("This knowledge base has no tuning cases with a proven diagnosis "
                f"(looked for: {', '.join('cases/' + s for s in TUNED_SETS)}).")
        return
    sets = ", ".join(f"{name} {count}" for name, count in report["sets"].items())
    st.caption(f"These are {TUNED_LABEL}, so the figures are optimistic: a knowledge base "
               "looks better calibrated on the cases it was adjusted to fit than on new "
               "ones. The held-out test cases are never used here. Cases: "
               f"{safe(sets, line_start=False)}.")
    left, middle, right = st.columns(3)
    left.metric(f"ECE ({BINS} bins)", f"{report['ece']:.3f}",
                help="Expected calibration error: the case-weighted mean gap between the "
                     "leader's probability and how often it was right (0 is perfect)")
    middle.metric("Cases", report["n"])
    right.metric("Leader right (top-1)", f"{report['top1']:.0%}")
    st.altair_chart(reliability_chart(report["reliability"]), width="stretch",
                    key="kb_calibration_chart")
    st.caption("Points above the dashed diagonal: the leader was right more often than its "
               "probability said (under-confident); below it, over-confident. The number on "
               "each point is its count of cases.")
    st.dataframe([{"leader's probability": r["bin"], "cases": r["n"],
                   "mean probability": round(r["confidence"], 3),
                   "share right": round(r["accuracy"], 3)} for r in report["reliability"]],
                 hide_index=True, key="kb_calibration_table")
    if report["problems"]:
        st.warning(f"{len(report['problems'])} case files could not be read and were left "
                   "out; `ossdx validate` lists them.")
