"""The knowledge graph: complete, without dangling edges, filterable, exportable, and drawn
on the app's Knowledge base page."""

from __future__ import annotations

import io
import json
import re

import networkx as nx
import pytest
from streamlit.testing.v1 import AppTest

from ossdx.authoring.graph import (
    STYLE,
    build_graph,
    diagnosis_subgraph,
    explanation_subgraph,
    filtered,
    finding_subgraph,
    to_dot,
    to_graphml,
    to_json,
)
from ossdx.cli.main import main
from ossdx.kb.model import Kind, Op
from ossdx.reasoning.cases import load_case
from ossdx.reasoning.diagnosis import Reasoner

from conftest import KB_DIR, MINI_KB, ROOT

# ============================================================================ a small DOT reader
_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|->|[{}\[\];=,]|[A-Za-z_][A-Za-z0-9_.]*|-?[0-9.]+)')


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), body)


def parse_dot(text: str) -> tuple[dict[str, dict[str, str]], set[tuple[str, str]]]:
    """Nodes (with attributes) and edges of a DOT digraph; fails on any stray text."""
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        assert match, f"unparsable DOT at: {text[pos:pos + 40]!r}"
        tokens.append(match.group(1))
        pos = match.end()
    assert tokens[0] == "digraph" and tokens[2] == "{" and tokens[-1] == "}"
    nodes: dict[str, dict[str, str]] = {}
    edges: set[tuple[str, str]] = set()
    statement: list[str] = []
    for token in tokens[3:-1]:
        if token != ";":
            statement.append(token)
            continue
        head = statement[0]
        if head.startswith('"'):
            attrs = {}
            if "[" in statement:
                body = statement[statement.index("[") + 1:-1]
                for i in range(0, len(body), 4):  # key = value ,
                    assert body[i + 1] == "=", statement
                    value = body[i + 2]
                    attrs[body[i]] = _unquote(value) if value.startswith('"') else value
            if len(statement) > 1 and statement[1] == "->":
                edges.add((_unquote(head), _unquote(statement[2])))
            else:
                nodes[_unquote(head)] = attrs
        statement = []
    return nodes, edges


# ============================================================================ structure
@pytest.fixture(scope="module")
def mini_graph(mini_kb):
    return build_graph(mini_kb)


@pytest.fixture(scope="module")
def graph(kb):
    return build_graph(kb)


@pytest.mark.parametrize("which", ["mini", "shipped"])
def test_a_node_per_diagnosis_finding_concept_and_rule(which, mini_kb, kb):
    """Every diagnosis, finding, concept, rule, pitfall and recommendation is a node."""
    knowledge = mini_kb if which == "mini" else kb
    g = build_graph(knowledge)
    expected = {**{f"diagnosis:{d}": "diagnosis" for d in knowledge.diagnoses},
                **{f"finding:{f}": "finding" for f in knowledge.findings},
                **{f"concept:{c}": "concept" for c in knowledge.concepts},
                **{f"rule:{r.id}": "rule" for r in knowledge.rules},
                **{f"pitfall:{p}": "pitfall" for p in knowledge.pitfalls},
                **{f"recommendation:{r}": "recommendation" for r in knowledge.recommendations}}
    for node, kind in expected.items():
        assert g.nodes[node]["kind"] == kind, node


@pytest.mark.parametrize("which", ["mini", "shipped"])
def test_no_dangling_edges(which, mini_graph, graph):
    """Every edge joins two nodes that exist and have a known kind and a label."""
    g = mini_graph if which == "mini" else graph
    assert g.number_of_edges() > 0
    for u, v in g.edges:
        for node in (u, v):
            assert node in g.nodes
            assert g.nodes[node]["kind"] in STYLE, node
            assert g.nodes[node]["label"], node


def test_conditions_and_conclusions_are_edges(mini_graph):
    """Values, concepts and numbers lead into rules; rules lead to what they conclude."""
    g = mini_graph
    assert g.edges["value:density=lytic", "rule:alpha.lytic"]["negated"] is False
    assert g.edges["concept:aggressive", "rule:alpha.aggressive"]["kind"] == "condition"
    assert g.edges["finding:size_cm", "rule:very_aggressive.large"]["test"] == ">= 5"
    assert g.edges["rule:aggressive.breach", "concept:aggressive"]["kind"] == "derives"
    assert g.has_edge("finding:density", "value:density=lytic")
    assert g.has_edge("patient:primary", "value:patient.primary=none")
    assert g.has_edge("value:patient.primary=none", "rule:other.none")
    # alpha.bright: sensitivity 0.8, specificity 0.9 -> LR+ 8, 'against' -> 1/8
    against = g.edges["rule:alpha.bright", "diagnosis:alpha"]
    assert (against["kind"], against["effect"], against["lr"]) == ("evidence", "against", 0.125)
    prior = g.edges["rule:alpha.prior.spine", "diagnosis:alpha"]
    assert (prior["kind"], prior["lr"]) == ("prior", 2.0)


def test_negations_are_marked(kb, graph):
    """{not: ...}, without_concept and without_modality give negated edges; a plain
    modality condition does not, and a pitfall rule warns of its pitfall."""
    checked = set()
    for rule in kb.rules:
        for conj in rule.when:
            for atom in conj:
                if atom.guard:  # drawn as an 'implies' edge between values instead
                    continue
                if atom.op is Op.NO_CONCEPT:
                    edge = (f"concept:{atom.var}", f"rule:{rule.id}")
                elif atom.op in (Op.NOT_IN, Op.EXCLUDES) and atom.var == "modalities":
                    edge = (f"modality:{sorted(atom.values)[0]}", f"rule:{rule.id}")
                elif atom.op is Op.NOT_IN and atom.var in kb.findings:
                    edge = (f"value:{atom.var}={sorted(atom.values)[0]}", f"rule:{rule.id}")
                else:
                    continue
                assert graph.edges[edge]["negated"] is True, edge
                checked.add(atom.op)
    assert {Op.NO_CONCEPT, Op.NOT_IN} <= checked
    pitfalls = [r for r in kb.rules if r.kind is Kind.PITFALL]
    assert all(graph.edges[f"rule:{r.id}", f"pitfall:{r.target}"]["kind"] == "warns"
               for r in pitfalls)
    plain = [(r, a) for r in kb.rules for conj in r.when for a in conj
             if a.var == "modalities" and a.op is Op.CONTAINS]
    for rule, atom in plain:
        negated_elsewhere = any(b.var == "modalities" and b.op is not Op.CONTAINS
                                for conj in rule.when for b in conj)
        if not negated_elsewhere:
            for value in atom.values:
                assert graph.edges[f"modality:{value}", f"rule:{rule.id}"]["negated"] is False



def test_an_entailment_is_an_edge_between_values_not_a_condition(kb, graph):
    """A compression fracture implies the spine: the graph draws that as an 'implies' edge
    from value to value, and the region rule it keeps from counting twice does not list the
    fracture among its conditions."""
    edge = graph.edges["value:fracture=compression", "value:region=spine"]
    assert edge["kind"] == "implies"
    region_rules = [r for r in kb.rules if r.id.endswith(".profile.region.spine")]
    assert region_rules
    for rule in region_rules:
        readers = set(graph.predecessors(f"rule:{rule.id}"))
        assert "value:region=spine" in readers
        assert not any(node.startswith(("finding:fracture", "value:fracture="))
                       for node in readers), rule.id


# ============================================================================ filters
def test_diagnosis_filter_holds_its_rules_and_the_concepts_upstream(mini_graph):
    """Around alpha: its rules, their conditions, and the concept rules they depend on."""
    sub = diagnosis_subgraph(mini_graph, "alpha")
    for node in ("diagnosis:alpha", "rule:alpha.prior.spine", "rule:alpha.aggressive",
                 "rule:alpha.lytic", "rule:alpha.very", "rule:alpha.bright",
                 "concept:very_aggressive", "rule:very_aggressive.large",
                 "concept:aggressive", "rule:aggressive.breach", "finding:cortical_breach",
                 "value:cortical_breach=yes", "finding:size_cm"):
        assert node in sub, node
    for node in ("diagnosis:beta", "rule:beta.sclerotic", "rule:beta.aggressive",
                 "value:density=sclerotic"):
        assert node not in sub, node


@pytest.mark.parametrize("diagnosis", ["metastasis", "hemangioma", "schmorl_node", "other"])
def test_diagnosis_filter_contains_every_rule_of_the_diagnosis(diagnosis, kb, graph):
    """Every evidence rule and prior factor of the diagnosis is in its subgraph."""
    sub = diagnosis_subgraph(graph, diagnosis)
    rules = [r.id for r in kb.rules if r.kind in (Kind.EVIDENCE, Kind.PRIOR)
             and r.target == diagnosis]
    assert rules
    assert all(f"rule:{r}" in sub for r in rules)
    others = {n for n, d in sub.nodes(data=True) if d["kind"] == "diagnosis"}
    assert others == {f"diagnosis:{diagnosis}"}


def test_finding_filter_holds_everything_downstream(mini_graph):
    """Around cortical_breach: the concepts it derives, and the rules and diagnoses after."""
    sub = finding_subgraph(mini_graph, "cortical_breach")
    for node in ("finding:cortical_breach", "value:cortical_breach=yes",
                 "rule:aggressive.breach", "concept:aggressive", "rule:very_aggressive.large",
                 "concept:very_aggressive", "rule:alpha.aggressive", "rule:alpha.very",
                 "rule:beta.aggressive", "diagnosis:alpha", "diagnosis:beta"):
        assert node in sub, node
    for node in ("finding:density", "rule:alpha.lytic", "rule:beta.sclerotic",
                 "finding:size_cm"):
        assert node not in sub, node


def test_both_filters_keep_the_paths_from_finding_to_diagnosis(mini_graph):
    """A finding and a diagnosis together: only what connects one to the other."""
    sub = filtered(mini_graph, diagnosis="beta", finding="cortical_breach")
    assert set(sub.nodes) == {"finding:cortical_breach", "value:cortical_breach=yes",
                              "rule:aggressive.breach", "concept:aggressive",
                              "rule:beta.aggressive", "diagnosis:beta"}


def test_explanation_subgraph_shows_what_fired_and_why(mini_kb, mini_graph):
    """The explanation holds the fired rules, marked, with the case's values behind them."""
    case = load_case(MINI_KB / "cases" / "alpha-case.yaml", mini_kb)
    differential = Reasoner(mini_kb).diagnose(case)
    sub = explanation_subgraph(mini_kb, differential, mini_graph)
    fired = {f"rule:{r}" for r in differential.trace.fired}
    assert fired == {"rule:aggressive.breach", "rule:alpha.prior.spine",
                     "rule:alpha.aggressive", "rule:alpha.lytic", "rule:beta.aggressive",
                     "rule:alpha.prior.population", "rule:beta.prior.population",
                     # the fixture's biopsy advice reads the aggressive concept
                     "rule:recommendation.biopsy_alpha"}
    rules = {n for n, d in sub.nodes(data=True) if d["kind"] == "rule"}
    assert rules == fired
    assert all(sub.nodes[r]["fired"] for r in rules)
    for node in ("value:density=lytic", "finding:density", "value:cortical_breach=yes",
                 "value:region=spine", "concept:aggressive", "diagnosis:alpha",
                 "diagnosis:beta"):
        assert node in sub, node
    for node in ("value:density=sclerotic", "concept:very_aggressive", "value:region=rib"):
        assert node not in sub, node


# ============================================================================ export
def test_dot_output_lists_every_node_and_edge(mini_graph, graph):
    """The DOT text parses, with exactly the graph's nodes and edges and their labels."""
    for g in (mini_graph, graph):
        nodes, edges = parse_dot(to_dot(g))
        assert set(nodes) == set(g.nodes)
        assert edges == set(g.edges)
        assert all(nodes[n]["label"] == d["label"] for n, d in g.nodes(data=True))


def test_dot_escapes_quotes_backslashes_and_line_breaks():
    """Labels with quotes, backslashes and newlines survive the round trip."""
    g = nx.DiGraph()
    g.add_node('rule:a"b', kind="rule", label='say "hi" \\ then\nnext line')
    g.add_node("diagnosis:x", kind="diagnosis", label="X")
    g.add_edge('rule:a"b', "diagnosis:x", kind="evidence", lr=2.0, effect="for")
    nodes, edges = parse_dot(to_dot(g))
    assert nodes['rule:a"b']["label"] == 'say "hi" \\ then\nnext line'
    assert edges == {('rule:a"b', "diagnosis:x")}


def test_graphml_loads_back_with_networkx(mini_graph):
    """GraphML export reads back with the same nodes, edges and attributes."""
    back = nx.read_graphml(io.BytesIO(to_graphml(mini_graph).encode("utf-8")))
    assert set(back.nodes) == set(mini_graph.nodes)
    assert set(back.edges) == set(mini_graph.edges)
    assert back.nodes["diagnosis:alpha"]["kind"] == "diagnosis"
    assert back.edges["rule:alpha.bright", "diagnosis:alpha"]["lr"] == 0.125


def test_json_is_node_link_data(mini_graph):
    """JSON export is networkx node-link data and reads back to the same graph."""
    back = nx.node_link_graph(json.loads(to_json(mini_graph)), edges="links")
    assert set(back.nodes) == set(mini_graph.nodes)
    assert set(back.edges) == set(mini_graph.edges)


# ============================================================================ command line
def test_graph_command_writes_a_filtered_file(tmp_path):
    """`ossdx graph --diagnosis alpha --format json -o FILE` writes that subgraph."""
    target = tmp_path / "alpha.json"
    out = io.StringIO()
    code = main(["--kb", str(MINI_KB), "graph", "--diagnosis", "alpha", "--format", "json",
                 "-o", str(target)], out)
    assert code == 0
    assert f"wrote {target}" in out.getvalue()
    data = json.loads(target.read_text())
    ids = {n["id"] for n in data["nodes"]}
    assert "diagnosis:alpha" in ids and "diagnosis:beta" not in ids


def test_graph_command_prints_dot_by_default():
    """Without options the whole graph is printed as DOT."""
    out = io.StringIO()
    assert main(["--kb", str(MINI_KB), "graph", "--finding", "density"], out) == 0
    nodes, _ = parse_dot(out.getvalue())
    assert "finding:density" in nodes and "finding:cortical_breach" not in nodes


def test_graph_command_rejects_an_unknown_id(capsys):
    """An unknown diagnosis id is an input error with a suggestion."""
    assert main(["--kb", str(MINI_KB), "graph", "--diagnosis", "alpah"]) == 2
    assert "unknown id 'alpah' (did you mean 'alpha'?)" in capsys.readouterr().err


# ============================================================================ the app page
PAGE = """
import sys
sys.path.insert(0, {root!r})
from ossdx.reasoning.cases import load_case
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.kb import load_knowledge_base
from ossdx.ui.kb_page import render
kb = load_knowledge_base({kb!r})
differential = None
if {case!r}:
    differential = Reasoner(kb).diagnose(load_case({case!r}, kb))
render(kb, differential)
"""


def page(kb_dir, case: str = "") -> AppTest:
    script = PAGE.format(root=str(ROOT), kb=str(kb_dir), case=case)
    return AppTest.from_string(script, default_timeout=60).run()


def charts(at: AppTest) -> list[str]:
    return [el.proto.spec for el in at.get("graphviz_chart")]


def graph_view(at: AppTest) -> dict:
    """The elements handed to the interactive graph (the Cytoscape component)."""
    views = [json.loads(el.proto.json_args) for el in at.get("component_instance")]
    assert views, "no interactive graph drawn"
    return views[0]["elements"]


def show(at: AppTest, section: str) -> AppTest:
    """Open one section of the page."""
    at.button_group(key="kb_section").set_value(section).run()
    return at


def test_page_draws_the_graph_filtered_by_diagnosis_then_by_finding():
    """The page draws a diagnosis's graph, then a finding's, as an interactive graph whose
    nodes carry their names; its DOT download has the same nodes."""
    at = page(MINI_KB)
    assert not at.exception
    chosen = at.selectbox(key="kb_graph_diagnosis").value
    nodes = {n["data"]["id"]: n["data"] for n in graph_view(at)["nodes"]}
    assert f"diagnosis:{chosen}" in nodes
    assert all(n["name"] for n in nodes.values())
    at.radio(key="kb_graph_focus").set_value("a finding").run()
    at.selectbox(key="kb_graph_finding").set_value("cortical_breach").run()
    at.slider(key="kb_graph_depth").set_value(3).run()  # finding, value, rule, concept
    nodes = {n["data"]["id"] for n in graph_view(at)["nodes"]}
    assert "finding:cortical_breach" in nodes and "concept:aggressive" in nodes


def test_graph_depth_and_search_choose_what_is_drawn():
    """Depth 1 around a diagnosis draws only its rules; searching a rule centres on it."""
    at = page(MINI_KB)
    at.slider(key="kb_graph_depth").set_value(1).run()
    nodes = {n["data"]["id"] for n in graph_view(at)["nodes"]}
    chosen = at.selectbox(key="kb_graph_diagnosis").value
    assert nodes - {f"diagnosis:{chosen}"} and all(
        n.startswith("rule:") for n in nodes - {f"diagnosis:{chosen}"})
    at.radio(key="kb_graph_focus").set_value("anything (search)").run()
    at.selectbox(key="kb_graph_search").set_value("rule:alpha.lytic").run()
    at.slider(key="kb_graph_depth").set_value(1).run()
    nodes = {n["data"]["id"] for n in graph_view(at)["nodes"]}
    assert "rule:alpha.lytic" in nodes and "diagnosis:alpha" in nodes


def test_page_shows_the_work_up_explanation():
    """With a differential, the page draws the rules that fired, marked."""
    at = page(MINI_KB, str(MINI_KB / "cases" / "alpha-case.yaml"))
    show(at, "Current work-up")
    assert not at.exception
    workup = [c for c in charts(at) if "work-up" in c]
    assert workup
    nodes, _ = parse_dot(workup[0])
    assert nodes["rule:alpha.lytic"]["penwidth"] == "2.5"
    assert "rule:alpha.bright" not in nodes


def test_page_browses_rules_with_sources_and_shows_coverage():
    """Browsing shows a rule's text and its citation; coverage shows the untested rules."""
    at = show(page(MINI_KB), "Browse")
    texts = "\n".join(m.value for m in at.markdown)
    assert "Aggressive features favour alpha." in texts
    assert "Author A. A test reference. Journal 2020." in texts
    show(at, "Coverage")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rules exercised"] == "9 of 15"  # tests/test_coverage.py's count
    show(at, "Browse")
    at.radio(key="kb_browse_kind").set_value("Derived concepts").run()
    assert not at.exception
    assert any("Read by:" in m.value and "alpha.aggressive" in m.value for m in at.markdown)


def test_page_widgets_are_prefixed_and_no_raw_html_is_used():
    """Every widget key starts with kb_, and no markdown allows raw HTML."""
    at = page(KB_DIR, str(KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"))
    assert not at.exception
    keys = [w.key for w in [*at.radio, *at.selectbox]]
    assert keys and all(k.startswith("kb_") for k in keys)
    assert not any(m.proto.allow_html for m in at.markdown)
    assert not at.get("html")


def test_browsing_a_diagnosis_shows_whether_it_leads_on_its_typical_picture(kb):
    """The Browse page gives each described diagnosis's verdict from ``ossdx typical``:
    for one that leads on its own picture, 'leads'; for one that does not, its rank and the
    leader by name; with the picture's findings in words."""
    from ossdx.authoring.typical import check_typical, picture_labels

    results = {r.diagnosis: r for r in check_typical(kb)}
    leading = next(r for r in results.values() if r.leads)
    trailing = next((r for r in results.values() if not r.leads), None)
    at = show(page(KB_DIR), "Browse")
    for result in filter(None, (leading, trailing)):
        at.selectbox(key="kb_browse_diagnosis").set_value(result.diagnosis).run()
        assert not at.exception
        texts = "\n".join(m.value for m in at.markdown).replace("\\", "")
        line = next(t for t in texts.splitlines() if "On its own typical picture" in t)
        if result.leads:
            assert "leads at" in line and "ranks" not in line
        else:
            assert f"ranks {result.rank}" in line and kb.name_of(result.leader) in line
        for label in picture_labels(kb, result.picture):
            assert label in texts
