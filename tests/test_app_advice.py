"""Advice that follows the differential, in the app (AppTest): every pitfall and
recommendation that serves diagnoses says for which diagnoses and at what probability it
applies (the engine's wording, as in the text output and the Markdown export), with the band
in which it applies; advice that serves none says nothing of the kind. The knowledge-base
page says whom each one serves."""

from __future__ import annotations

import re
from pathlib import Path

from apptest import APP, run
from streamlit.testing.v1 import AppTest

from ossdx.advice.report import served_text
from ossdx.kb import KnowledgeBase
from ossdx.reasoning.cases import load_case
from ossdx.reasoning.diagnosis import Differential, Notice, Reasoner

from conftest import KB_DIR

CASES = KB_DIR / "cases"


def shown(value: object) -> str:
    return re.sub(r"\\(.)", r"\1", str(value))


def first_case(kb: KnowledgeBase, reasoner: Reasoner, wanted) -> tuple[Path, Differential]:
    """The first seed, then literature, case file whose differential satisfies ``wanted``."""
    for folder in ("seed", "literature"):
        for path in sorted((CASES / folder).glob("*.yaml")):
            differential = reasoner.diagnose(load_case(path, kb))
            if wanted(differential):
                return path, differential
    raise AssertionError("no seed or literature case gives such advice: choose another check")


def open_example(path: Path) -> AppTest:
    """Load the case file as an example; the work-up then shows its differential."""
    rel = path.relative_to(CASES).as_posix()
    at = run(AppTest.from_file(APP, default_timeout=60))
    at.switch_page("ui/screens/examples.py")
    run(at)
    at.button_group(key="examples.folder").set_value(rel.split("/")[0])
    run(at)
    at.button(key=f"example.{rel}").click()
    run(at)
    at.switch_page("ui/screens/workup.py")
    return run(at)


def band(notice: Notice) -> str:
    assert notice.band is not None
    low, high = notice.band
    return f"{low:.0%} to {high:.0%}"


def test_recommendations_say_for_which_diagnosis_and_at_what_probability(kb, reasoner):
    """Each recommendation that serves diagnoses carries, in its line, the engine's 'for
    ..., N% now' and its band; one that serves none carries neither."""
    path, differential = first_case(
        kb, reasoner, lambda d: any(n.serves and n.band for n in d.recommendations)
        and any(not n.serves for n in d.recommendations))
    at = open_example(path)
    texts = [shown(m.value) for m in at.markdown]
    block = texts[texts.index("##### Recommendations") + 1]  # the list under its heading
    items = block.split("\n- ")
    assert len(items) == len(differential.recommendations)
    for notice, line in zip(differential.recommendations, items, strict=True):
        assert notice.title in line
        if notice.serves:
            said = served_text(kb, notice)
            assert said[:1].upper() + said[1:] in line, line
            assert band(notice) in line, line
        else:
            assert " now" not in line and "applies while" not in line, line


def test_a_pitfall_that_serves_diagnoses_says_for_which_and_how_likely(kb, reasoner):
    """A pitfall conditioned on the differential shows for which diagnoses it is, what they
    hold now and its band, inside its warning."""
    path, differential = first_case(kb, reasoner,
                                    lambda d: any(n.serves for n in d.pitfalls))
    at = open_example(path)
    warnings = [shown(w.value) for w in at.warning]
    for notice in differential.pitfalls:
        (box,) = [w for w in warnings if w.startswith(f"**{notice.title}**")]
        said = served_text(kb, notice)
        if notice.serves:
            assert said[:1].upper() + said[1:] in box
            if notice.band:
                assert band(notice) in box
        else:
            assert " now" not in box


def test_the_unknown_case_reveal_says_whom_the_advice_serves(kb, reasoner, tmp_path,
                                                            monkeypatch):
    """After the commit, the system's recommendations on an unknown case carry the same
    'for ..., N% now' wording."""
    monkeypatch.delenv("OSSDX_DATABASE_URL", raising=False)
    monkeypatch.setenv("OSSDX_DB", str(tmp_path / "progress.sqlite3"))
    path, differential = first_case(
        kb, reasoner, lambda d: d.case.truth is not None
        and any(n.serves for n in d.recommendations))
    at = run(AppTest.from_file(APP, default_timeout=60))
    at.switch_page("ui/screens/trainee.py")
    run(at)
    at.text_input(key="learner.name.trainee").set_value("Ann")
    run(at)
    at.selectbox(key="trainee.pick").set_value(path.relative_to(CASES).as_posix())
    run(at)
    at.selectbox(key="trainee.choice.1").set_value("metastasis")
    run(at)
    at.button(key="trainee.commit").click()
    run(at)
    page = "\n".join(shown(m.value) for m in at.markdown)
    for notice in differential.recommendations:
        if notice.serves:
            said = served_text(kb, notice)
            assert said[:1].upper() + said[1:] in page


def test_the_knowledge_base_page_says_whom_a_recommendation_serves(kb):
    """Browsing a recommendation with 'for' and a band shows its diagnoses and band."""
    item = next(r for r in kb.recommendations.values() if r.for_ and r.band)
    at = run(AppTest.from_file(APP, default_timeout=60))
    at.switch_page("ui/screens/knowledge_base.py")
    run(at)
    at.button_group(key="kb_section").set_value("Browse")
    run(at)
    at.radio(key="kb_browse_kind").set_value("Recommendations")
    run(at)
    at.selectbox(key="kb_browse_recommendation").set_value(item.id)
    run(at)
    (line,) = [shown(m.value) for m in at.markdown if shown(m.value).startswith("**Serves:**")]
    assert " or ".join(kb.name_of(d) for d in item.for_) in line
    assert f"{item.band[0]:.0%} to {item.band[1]:.0%}" in line
