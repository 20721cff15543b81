"""The blind evaluation sets keep their integrity: each split follows its fixed rule, and
their held-out parts stay out of every tool the knowledge editor uses."""

from __future__ import annotations

import pytest

from benchmarks.blind_split import SETS
from ossdx.core.loader import read_document
from ossdx.kb import load_knowledge_base


@pytest.mark.parametrize("name", sorted(SETS))
def test_the_blind_split_follows_its_fixed_rule(name):
    """Every blind case file sits in the part its rule assigns (nothing moved by hand)."""
    blind = SETS[name]
    if not blind.folder.is_dir():
        pytest.fail(f"{blind.folder} is missing")
    assert blind.check() == []


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_diagnosis_is_in_both_parts_of_a_blind_set(name):
    """The rule splits every truth half and half, so both parts hold every diagnosis."""
    blind = SETS[name]
    placed = blind.assign(blind.files())
    first, second = blind.parts
    assert set(placed.values()) == {first, second}
    truths = len({str(read_document(p).data["truth"]) for p in placed})
    assert 0 <= sum(p == first for p in placed.values()) \
        - sum(p == second for p in placed.values()) <= truths


def test_the_held_out_parts_are_declared_held_out():
    """kb.yaml declares every part the knowledge editor must not read as held out."""
    kb = load_knowledge_base()
    assert kb.is_held_out(SETS["blind"].folder / "test" / "x.yaml")
    assert not kb.is_held_out(SETS["blind"].folder / "tuning" / "x.yaml")
    for part in SETS["blind2"].parts:
        assert kb.is_held_out(SETS["blind2"].folder / part / "x.yaml")
