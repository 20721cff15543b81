"""The knowledge graph: what the rules read and what they conclude, as a networkx DiGraph.

Nodes (attribute ``kind``, and a readable ``label``):

* ``finding:<id>`` an imaging finding, ``value:<finding>=<value>`` one of its values;
* ``patient:<field>`` a patient-context field, ``modality:<id>`` an imaging modality;
* ``concept:<id>`` a derived concept, ``rule:<id>`` a rule of any kind;
* ``diagnosis:<id>``, ``pitfall:<id>``, ``recommendation:<id>`` what rules conclude.

Edges run the way reasoning flows: a finding to its values (``has_value``); a value to a value
of another finding that it entails (``implies``: a compression fracture implies the spine, whose
own ratio then does not count again); a condition to the
rule that reads it (``condition``; ``negated`` for ``{not: ...}``, ``without_concept`` and
``without_modality``; numeric tests carry their ``test``); a rule to what it concludes
(``derives`` a concept, ``evidence`` for or against a diagnosis with ``lr`` and ``effect``,
``prior`` factors, ``warns`` of a pitfall, ``recommends`` a next step).

Filters cut the graph around one diagnosis (everything upstream of it), around one finding
(everything downstream of it), or to the explanation of one work-up (the rules that fired and
the facts and concepts that fired them). Exports: Graphviz DOT, GraphML and node-link JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import networkx as nx

from ossdx.core.errors import allowed
from ossdx.kb.model import MODALITIES, PATIENT, Atom, Kind, KnowledgeBase, Op, Rule

if TYPE_CHECKING:
    from ossdx.reasoning.diagnosis import Differential

FORMATS = ("dot", "graphml", "json")
STYLE = {  # kind: (shape, fill colour) for DOT
    "finding": ("box", "#dbe9f6"),
    "value": ("box", "#f3f8fc"),
    "patient": ("box", "#e8e2f4"),
    "modality": ("box", "#e6e6e6"),
    "concept": ("ellipse", "#fdf1c7"),
    "rule": ("note", "#ffffff"),
    "diagnosis": ("doubleoctagon", "#f9d3d0"),
    "pitfall": ("hexagon", "#ffe1bd"),
    "recommendation": ("cds", "#d9f0d3"),
}
CONCLUSION = {
    Kind.CONCEPT: ("concept", "derives"),
    Kind.EVIDENCE: ("diagnosis", "evidence"),
    Kind.PRIOR: ("diagnosis", "prior"),
    Kind.PITFALL: ("pitfall", "warns"),
    Kind.RECOMMENDATION: ("recommendation", "recommends"),
}


# ============================================================================ node ids
def node_id(kind: str, item: str) -> str:
    return f"{kind}:{item}"


def value_id(var: str, value: str) -> str:
    return f"value:{var}={value}"


def variable_id(var: str) -> str:
    """The node of a case variable: a finding or a patient field."""
    if var.startswith(PATIENT):
        return node_id("patient", var[len(PATIENT):])
    return node_id("finding", var)


# ============================================================================ building
def build_graph(kb: KnowledgeBase) -> nx.DiGraph:
    """The whole knowledge graph of a knowledge base."""
    graph = nx.DiGraph(name=kb.manifest.name, version=kb.version)
    for finding, spec in kb.findings.items():
        graph.add_node(node_id("finding", finding), kind="finding", label=spec.name)
        for value, value_spec in spec.values.items():
            graph.add_node(value_id(finding, value), kind="value",
                           label=f"{spec.name}: {value_spec.label}")
            graph.add_edge(node_id("finding", finding), value_id(finding, value),
                           kind="has_value")
    for finding, spec in kb.findings.items():
        for value, value_spec in spec.values.items():
            for implied_var, implied in value_spec.implies.items():
                graph.add_edge(value_id(finding, value), value_id(implied_var, implied),
                               kind="implies")
    for concept, concept_spec in kb.concepts.items():
        graph.add_node(node_id("concept", concept), kind="concept", label=concept_spec.name)
    for dx, dx_spec in kb.diagnoses.items():
        graph.add_node(node_id("diagnosis", dx), kind="diagnosis", label=dx_spec.name)
    for pitfall, pitfall_spec in kb.pitfalls.items():
        graph.add_node(node_id("pitfall", pitfall), kind="pitfall", label=pitfall_spec.title)
    for rec, rec_spec in kb.recommendations.items():
        graph.add_node(node_id("recommendation", rec), kind="recommendation",
                       label=rec_spec.title)
    for rule in kb.rules:
        _add_rule(graph, kb, rule)
    return graph


def _add_rule(graph: nx.DiGraph, kb: KnowledgeBase, rule: Rule) -> None:
    rid = node_id("rule", rule.id)
    graph.add_node(rid, kind="rule", label=rule.id, rule_kind=rule.kind.value,
                   description=rule.description, references=", ".join(rule.references),
                   location=str(rule.location))
    for conj in rule.when:
        for atom in conj:
            if atom.guard:  # the value entailing this one is drawn as an 'implies' edge
                continue
            for source, condition_attrs in _conditions(kb, graph, atom):
                _add_condition(graph, source, rid, condition_attrs)
    kind, edge_kind = CONCLUSION[rule.kind]
    attrs: dict[str, Any] = {"kind": edge_kind}
    if rule.kind in (Kind.EVIDENCE, Kind.PRIOR):
        attrs["lr"] = round(rule.lr, 4)
        attrs["effect"] = rule.effect or ("for" if rule.lr > 1 else "against")
    graph.add_edge(rid, node_id(kind, rule.target), **attrs)


def _add_condition(graph: nx.DiGraph, source: str, rule: str, attrs: dict[str, Any]) -> None:
    if graph.has_edge(source, rule):  # read in several alternatives: negated if ever negated
        data = graph.edges[source, rule]
        data["negated"] = data["negated"] or attrs["negated"]
        return
    graph.add_edge(source, rule, **attrs)


def _ensure(graph: nx.DiGraph, node: str, kind: str, label: str) -> str:
    if node not in graph:
        graph.add_node(node, kind=kind, label=label)
    return node


def _conditions(kb: KnowledgeBase, graph: nx.DiGraph, atom: Atom,
                ) -> list[tuple[str, dict[str, Any]]]:
    """The nodes a condition atom reads, each with the edge attributes to its rule."""
    negated = atom.op in (Op.NOT_IN, Op.EXCLUDES, Op.NO_CONCEPT)
    base = {"kind": "condition", "negated": negated}
    if atom.is_concept:
        return [(node_id("concept", atom.var), base)]
    if atom.var == MODALITIES:
        return [(_ensure(graph, node_id("modality", m), "modality",
                         kb.vocabulary.modalities[m].name if m in kb.vocabulary.modalities
                         else m), base) for m in sorted(atom.values)]
    var_node = variable_id(atom.var)
    spec = kb.vocabulary.variable(atom.var)
    name = spec.name if spec is not None else atom.var
    kind = "patient" if atom.var.startswith(PATIENT) else "finding"
    _ensure(graph, var_node, kind, name)
    if atom.op is Op.UNKNOWN:
        return [(var_node, {**base, "test": "not assessed"})]
    if atom.op is Op.BETWEEN:
        test = " and ".join(part for part in (
            f">= {atom.low:g}" if atom.low is not None else "",
            f"< {atom.high:g}" if atom.high is not None else "") if part)
        return [(var_node, {**base, "test": test})]
    result = []
    for value in sorted(atom.values):
        node = value_id(atom.var, value)
        if node not in graph:
            graph.add_node(node, kind="value", label=f"{name}: {kb.label_of(atom.var, value)}")
            graph.add_edge(var_node, node, kind="has_value")
        result.append((node, base))
    return result


# ============================================================================ filters
def diagnosis_subgraph(graph: nx.DiGraph, diagnosis: str) -> nx.DiGraph:
    """A diagnosis, its rules, their conditions, and the concepts (with their rules) upstream."""
    target = node_id("diagnosis", diagnosis)
    return graph.subgraph({target, *nx.ancestors(graph, target)}).copy()


def _variable_node(graph: nx.DiGraph, finding: str) -> str:
    for candidate in (finding, node_id("finding", finding), node_id("patient", finding)):
        if candidate in graph:
            return candidate
    return node_id("finding", finding)


def finding_subgraph(graph: nx.DiGraph, finding: str) -> nx.DiGraph:
    """A finding (or patient field), its values, and everything its answer can reach."""
    source = _variable_node(graph, finding)
    if source not in graph:
        return nx.DiGraph()
    return graph.subgraph({source, *nx.descendants(graph, source)}).copy()


def explanation_subgraph(kb: KnowledgeBase, differential: Differential,
                         graph: nx.DiGraph | None = None) -> nx.DiGraph:
    """The rules that fired on a work-up, what they concluded, and the facts that fired them.

    For a rule with several alternatives only the ones that held are drawn; a value node
    is kept only when the case has that value (or, for ``{not: ...}``, the values it is not).
    """
    graph = graph if graph is not None else build_graph(kb)
    facts, concepts = differential.facts, differential.trace.concepts
    nodes: set[str] = set()
    for rule_id in differential.trace.fired:
        rule = kb.rule(rule_id)
        rid = node_id("rule", rule_id)
        nodes.add(rid)
        nodes.update(graph.successors(rid))
        for conj in rule.when:
            if not all(a.holds(facts, concepts) for a in conj):
                continue
            for atom in conj:
                held = _held(atom, facts)
                for source, _ in _conditions(kb, graph, atom):
                    if held is not None and source not in held:
                        continue  # a value or modality the case does not have
                    nodes.add(source)
                    nodes.update(p for p in graph.predecessors(source)
                                 if graph.nodes[p]["kind"] in ("finding", "patient"))
    sub = graph.subgraph(nodes).copy()
    for rule_id in differential.trace.fired:
        sub.nodes[node_id("rule", rule_id)]["fired"] = True
    return sub


def _held(atom: Atom, facts: Mapping[str, Any]) -> set[str] | None:
    """The value or modality nodes of ``atom`` the case actually has (None: keep them all)."""
    if atom.op not in (Op.IN, Op.CONTAINS):
        return None
    value = facts.get(atom.var)
    values = value if isinstance(value, frozenset) else {value}
    if atom.var == MODALITIES:
        return {node_id("modality", str(v)) for v in values}
    return {value_id(atom.var, str(v)) for v in values}


def filtered(graph: nx.DiGraph, *, diagnosis: str | None = None,
             finding: str | None = None) -> nx.DiGraph:
    """The graph cut by a diagnosis, by a finding, or both (the paths from one to the other)."""
    if diagnosis is not None:
        graph = diagnosis_subgraph(graph, diagnosis)
    if finding is not None:
        graph = finding_subgraph(graph, finding)
    return graph


# ============================================================================ export
def _quote(text: object) -> str:
    """A DOT double-quoted string: backslashes, quotes and line breaks escaped."""
    escaped = (str(text).replace("\\", "\\\\").replace('"', '\\"')
               .replace("\r", "").replace("\n", "\\n"))
    return f'"{escaped}"'


def _edge_label(data: Mapping[str, Any]) -> str:
    if data.get("kind") in ("evidence", "prior"):
        return f"{data.get('effect', '')} LR {data['lr']:g}".strip()
    if data.get("test"):
        return str(data["test"])
    return "not" if data.get("negated") else ""


def to_dot(graph: nx.DiGraph, name: str = "ossdx") -> str:
    """Graphviz DOT text of the graph (rules fired in a work-up are drawn bold)."""
    lines = [f"digraph {_quote(name)} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10, style=filled];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for node, data in sorted(graph.nodes(data=True)):
        shape, fill = STYLE.get(data.get("kind", ""), ("box", "#ffffff"))
        attrs = [f"label={_quote(data.get('label', node))}", f"shape={shape}",
                 f"fillcolor={_quote(fill)}"]
        if data.get("description"):
            attrs.append(f"tooltip={_quote(data['description'])}")
        if data.get("fired"):
            attrs.append("penwidth=2.5")
        lines.append(f"  {_quote(node)} [{', '.join(attrs)}];")
    for source, target, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        attrs = []
        label = _edge_label(data)
        if label:
            attrs.append(f"label={_quote(label)}")
        if data.get("negated"):
            attrs.append("style=dashed")
        if data.get("effect") == "against":
            attrs.append('color="#b03a2e"')
        elif data.get("effect") == "for":
            attrs.append('color="#1e8449"')
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_quote(source)} -> {_quote(target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(graph: nx.DiGraph) -> str:
    """GraphML text (readable back with ``networkx.read_graphml``)."""
    clean = nx.DiGraph()
    clean.graph.update({k: v for k, v in graph.graph.items() if v is not None})
    clean.add_nodes_from((n, {k: v for k, v in d.items() if v is not None})
                         for n, d in graph.nodes(data=True))
    clean.add_edges_from((u, v, {k: w for k, w in d.items() if w is not None})
                         for u, v, d in graph.edges(data=True))
    return "\n".join(nx.generate_graphml(clean)) + "\n"


def to_json(graph: nx.DiGraph) -> str:
    """Node-link JSON (``networkx.node_link_graph`` reads it back)."""
    data = nx.node_link_data(graph, edges="links")
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def export(graph: nx.DiGraph, fmt: str) -> str:
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "graphml":
        return to_graphml(graph)
    if fmt == "json":
        return to_json(graph)
    raise ValueError(f"unknown format {fmt!r}; {allowed(FORMATS)}")
