"""Every operative fact of the seed exhibit changes an output when it is removed.

knowledge_base/seed_coverage.yaml lists the exhibit's facts, what carries each (rules,
prior factors, profile rules, pitfalls, recommendations) and a case. For each operative
fact, the carrying rules are removed from a copy of the knowledge base and the case is run
again: its probabilities, pitfalls or recommendations must change.
"""

from __future__ import annotations

import dataclasses

import pytest

from ossdx.kb.model import Kind, KnowledgeBase
from ossdx.reasoning.cases import load_case, make_case, read_case_folder
from ossdx.reasoning.diagnosis import Reasoner

from conftest import KB_DIR

CASE_FOLDERS = [KB_DIR / "cases" / "seed", KB_DIR / "cases" / "literature",
                KB_DIR / "cases" / "blind" / "tuning"]


@pytest.fixture(scope="module")
def cases_by_id(kb):
    return {e.case.name: e.case for folder in CASE_FOLDERS
            for e in read_case_folder(folder, kb) if e.case is not None}


def without(kb: KnowledgeBase, ids: set[str]) -> KnowledgeBase:
    """A copy of the knowledge base without the rules that carry ``ids``. A profile figure
    is one statement however many site situations it is compiled into (``x.profile.f.v``
    and, where a diagnosis states the finding by site, ``x.profile.f.v.elsewhere`` and
    ``x.profile.f.v.at_<sites>``): it is removed from all of them."""
    def carried(rule_id: str, kind: Kind, target: str) -> bool:
        stated, _, slug = rule_id.rpartition(".")
        situated = ".profile." in rule_id and (slug == "elsewhere" or slug.startswith("at_"))
        return (rule_id in ids or (situated and stated in ids)
                or (kind in (Kind.PITFALL, Kind.RECOMMENDATION) and target in ids))
    return dataclasses.replace(kb, rules=tuple(r for r in kb.rules
                                               if not carried(r.id, r.kind, r.target)))


def output(reasoner: Reasoner, case) -> tuple:
    differential = reasoner.diagnose(case, fast=True)
    return (tuple((e.id, round(e.probability, 6)) for e in differential.entries),
            tuple(n.id for n in differential.pitfalls),
            tuple(n.id for n in differential.recommendations))


def operative_facts():
    from ossdx.kb import load_knowledge_base

    return [f for f in load_knowledge_base(KB_DIR).seed_facts if f.operative == "yes"]


@pytest.mark.parametrize("fact", operative_facts(), ids=lambda f: f.id)
def test_removing_an_operative_fact_changes_its_case(fact, kb, reasoner, cases_by_id):
    """Without the rules that carry the fact, the named case comes out differently."""
    if fact.case is not None:
        assert fact.case in cases_by_id, f"{fact.id}: no case '{fact.case}'"
        case = cases_by_id[fact.case]
    else:
        sketch = fact.example
        case = make_case(kb, sketch.findings, sketch.patient, sketch.modalities)
    carried = set(fact.carried_by)
    assert any(r.id in carried or r.target in carried for r in kb.rules), \
        f"{fact.id}: nothing it names is a rule, pitfall or recommendation"
    assert output(Reasoner(without(kb, carried)), case) != output(reasoner, case), fact.id


def test_every_section_of_the_exhibit_has_its_facts(kb):
    """Each section with knowledge in it lists at least one fact, and most facts operate."""
    sections = {s.heading for s in kb.seed_coverage}
    with_facts = {f.section for f in kb.seed_facts}
    assert len(with_facts) >= len(sections) - 4  # objectives, quizzes and conclusion aside
    operative = [f for f in kb.seed_facts if f.operative == "yes"]
    assert len(operative) >= 0.8 * len(kb.seed_facts)


def test_a_seed_case_file_is_found_by_its_id(kb):
    """The ids that facts name resolve to case files (the fixture reads them by id)."""
    case = load_case(KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml", kb)
    assert case.name == "seed-schmorl-l4"
