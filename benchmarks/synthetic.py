"""A synthetic knowledge base N times the shipped one, with the same shape.

Copy *k* of every finding, derived concept, diagnosis and rule is renamed with an ``_xk``
suffix (copy 0 keeps the original names), so the synthetic KB has N times the findings,
concepts, diagnoses and rules, and the same rules per diagnosis and chain depth. Cases are
mapped into every copy, so each copy's rules are exercised as in the original.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from ossdx.kb.case import Case
from ossdx.kb.model import MODALITIES, PATIENT, Atom, KnowledgeBase, Rule, Vocabulary


def _name(name: str, k: int) -> str:
    return name if k == 0 else f"{name}_x{k}"


def _atom(atom: Atom, k: int, findings: set[str]) -> Atom:
    if atom.is_concept or atom.var in findings:
        return replace(atom, var=_name(atom.var, k))
    return atom  # patient fields and modalities are shared by all copies


def _rule(rule: Rule, k: int, findings: set[str]) -> Rule:
    return replace(
        rule,
        id=_name(rule.id, k),
        target=_name(rule.target, k),
        when=tuple(tuple(_atom(a, k, findings) for a in conj) for conj in rule.when),
        examples=(),
    )


def scale_kb(kb: KnowledgeBase, factor: int) -> KnowledgeBase:
    """The KB with ``factor`` renamed copies of its findings, concepts, diagnoses and rules."""
    findings = set(kb.findings)
    new_findings = {}
    topics = {}
    relevance = {}
    for k in range(factor):
        for fid, spec in kb.findings.items():
            new_findings[_name(fid, k)] = spec.model_copy(update={"id": _name(fid, k)})
            topics[_name(fid, k)] = kb.finding_topics[fid]
            if fid in kb.relevance:
                relevance[_name(fid, k)] = tuple(
                    tuple(_atom(a, k, findings) for a in conj) for conj in kb.relevance[fid])
    rules = tuple(_rule(r, k, findings) for k in range(factor) for r in kb.rules)
    rules = tuple(sorted(rules, key=lambda r: r.stratum))
    diagnoses = {_name(d, k): spec.model_copy(update={"id": _name(d, k)})
                 for k in range(factor) for d, spec in kb.diagnoses.items()}
    priors = {_name(d, k): p for k in range(factor) for d, p in kb.base_priors.items()}
    concepts = {_name(c, k): spec.model_copy(update={"id": _name(c, k)})
                for k in range(factor) for c, spec in kb.concepts.items()}
    pitfalls = {_name(p, k): spec.model_copy(update={"id": _name(p, k)})
                for k in range(factor) for p, spec in kb.pitfalls.items()}
    recommendations = {_name(r, k): spec.model_copy(update={"id": _name(r, k)})
                       for k in range(factor) for r, spec in kb.recommendations.items()}
    vocabulary = Vocabulary(new_findings, kb.vocabulary.patient, kb.vocabulary.modalities)
    return replace(kb, vocabulary=vocabulary, finding_topics=MappingProxyType(topics),
                   rules=rules, diagnoses=MappingProxyType(diagnoses),
                   base_priors=MappingProxyType(priors), concepts=MappingProxyType(concepts),
                   relevance=MappingProxyType(relevance),
                   pitfalls=MappingProxyType(pitfalls),
                   recommendations=MappingProxyType(recommendations),
                   fingerprint=f"{kb.fingerprint}x{factor}")


def scale_findings(findings: Mapping[str, Any], factor: int) -> dict[str, Any]:
    """A case's findings copied into every copy of the synthetic KB."""
    return {_name(f, k): v for k in range(factor) for f, v in findings.items()}


def scale_case(case: Case, factor: int) -> Case:
    return case.with_findings(scale_findings(case.findings, factor))


def scale_facts(facts: Mapping[str, Any], factor: int) -> dict[str, Any]:
    shared = {k: v for k, v in facts.items() if k == MODALITIES or k.startswith(PATIENT)}
    own = {k: v for k, v in facts.items() if k not in shared}
    return {**shared, **scale_findings(own, factor)}
