"""experta (the engine of record) and the plain-Python twin fire exactly the same rules,
and the differential does not depend on the order in which findings are given."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ossdx.core.loader import iter_yaml_files
from ossdx.reasoning.cases import load_case, make_case

from conftest import KB_DIR
from strategies import cases

CASE_FILES = sorted(iter_yaml_files(KB_DIR / "cases"))


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_engines_agree_on_every_case_file(path, kb, reasoner):
    """On each case file in the KB the two engines give the same trace."""
    case = load_case(path, kb)
    facts = reasoner.facts(case)
    assert reasoner.experta.run(facts) == reasoner.python.run(facts)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_engines_agree_on_generated_cases(data, kb, reasoner):
    """On generated cases (any findings, any values) the two engines give the same trace."""
    case = data.draw(cases(kb))
    facts = reasoner.facts(case)
    assert reasoner.experta.run(facts) == reasoner.python.run(facts)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(min_value=0, max_value=10**6))
def test_order_of_findings_does_not_matter(data, seed, kb, reasoner):
    """Entering the same findings in any order, with the modalities left to be inferred from
    them, gives the same modalities and byte-identical JSON."""
    case = data.draw(cases(kb))
    items = list(case.findings.items())
    random.Random(seed).shuffle(items)
    given = make_case(kb, case.findings, case.patient)
    shuffled = make_case(kb, dict(items), case.patient)
    assert given.modalities == shuffled.modalities
    first = json.dumps(reasoner.diagnose(given).as_dict(), sort_keys=True)
    second = json.dumps(reasoner.diagnose(shuffled).as_dict(), sort_keys=True)
    assert first == second


def test_inferred_modalities_do_not_depend_on_the_order_of_findings(kb):
    """Two findings that two studies could each show infer the same study in either order."""
    pair = {"enhancement": "present", "posterior_cortex": "convex_bulge"}
    forward = make_case(kb, {"region": "spine", **pair})
    backward = make_case(kb, {"region": "spine", **dict(reversed(pair.items()))})
    assert forward.modalities == backward.modalities


def test_running_twice_gives_the_same_answer(kb, reasoner):
    """The engine keeps no state between cases: the same case twice, same JSON."""
    case = load_case(CASE_FILES[0], kb)
    other = load_case(CASE_FILES[-1], kb)
    first = json.dumps(reasoner.diagnose(case).as_dict())
    reasoner.diagnose(other)
    assert json.dumps(reasoner.diagnose(case).as_dict()) == first
