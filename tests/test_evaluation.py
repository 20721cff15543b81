"""The blind evaluation set keeps its integrity: its split follows the fixed rule."""

from __future__ import annotations

from benchmarks.blind_split import BLIND, PARTS, assign, check


def test_the_blind_split_follows_its_fixed_rule():
    """Every blind case file sits in the part its rule assigns (nothing moved by hand)."""
    assert check() == []


def test_each_diagnosis_is_in_both_parts_of_the_blind_set():
    """The rule splits every truth half and half, so both parts hold every diagnosis."""
    parts = assign(sorted(BLIND.glob("*/*.yaml")))
    assert set(parts.values()) == set(PARTS)
    assert abs(sum(p == "test" for p in parts.values())
               - sum(p == "tuning" for p in parts.values())) <= 21
