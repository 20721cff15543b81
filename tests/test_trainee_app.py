"""Trainee pages through AppTest: commit first, then the truth; progress kept in the database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apptest import run, start
from streamlit.testing.v1 import AppTest

from ossdx.reasoning.cases import load_case
from ossdx.teaching.storage import ProgressStore
from ossdx.ui.differential_view import TABLE_HEADER

from conftest import KB_DIR

TRAINEE = "ui/screens/trainee.py"
SCHMORL = "seed/seed-schmorl-l4.yaml"
TEXT_KINDS = ("title", "header", "subheader", "markdown", "caption", "text", "success", "info",
              "warning", "error", "code", "latex")


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    """The app's progress database, pointed at a file under tmp_path."""
    path = tmp_path / "progress.sqlite3"
    monkeypatch.delenv("OSSDX_DATABASE_URL", raising=False)
    monkeypatch.setenv("OSSDX_DB", str(path))
    return path


def page_text(at: AppTest) -> str:
    """Everything the page shows as text: elements, expander and widget labels, metrics
    (the option lists of the answer boxes, which name every diagnosis, are left out)."""
    parts = [str(e.value) for kind in TEXT_KINDS for e in getattr(at, kind)]
    parts += [e.label for e in at.expander]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("selectbox", "multiselect", "slider", "text_input", "button", "radio"):
        parts += [w.label for w in getattr(at, kind)]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


def name(at: AppTest, page: str, value: str) -> AppTest:
    at.text_input(key=f"learner.name.{page}").set_value(value)
    return run(at)


def open_schmorl(at: AppTest) -> AppTest:
    at.selectbox(key="trainee.pick").set_value(SCHMORL)
    return run(at)


def commit(at: AppTest, choices: list[str], confidence: int) -> AppTest:
    for i, choice in enumerate(choices, 1):
        at.selectbox(key=f"trainee.choice.{i}").set_value(choice)
        run(at)
    at.slider(key="trainee.confidence").set_value(confidence)
    run(at)
    at.button(key="trainee.commit").click()
    return run(at)


def test_the_truth_is_shown_only_after_committing(kb, db):
    """Before commit: the narrative and findings, no truth, title, teaching point or ranking;
    after commit: all of them, and the attempt is in the database."""
    case = load_case(KB_DIR / "cases" / SCHMORL, kb)
    truth = kb.diagnoses["schmorl_node"].name
    at = open_schmorl(name(start(TRAINEE), "trainee", "Ann"))
    before = page_text(at)
    assert case.narrative.split(".")[0] in before
    assert kb.findings["vertebral_location"].name in before
    assert truth not in before and case.title not in before
    assert case.teaching_points[0] not in before
    assert TABLE_HEADER not in before  # the system's ranking is not drawn
    assert not at.success

    commit(at, ["metastasis", "schmorl_node"], 70)
    after = page_text(at)
    assert f"Proven diagnosis: **{truth}**" in after
    assert case.title in after and case.teaching_points[0] in after
    assert TABLE_HEADER in after  # the system's differential, with its reasoning
    assert "Brier score 0.490" in after  # (0.7 - 0)^2: the first choice was wrong
    assert "Your choice: Osseous metastasis" in after
    assert "Findings that pointed elsewhere" in after
    store = ProgressStore(f"sqlite:///{db}")
    try:
        (saved,) = store.attempts(store.trainee("Ann"))
    finally:
        store.close()
    assert saved.case_id == case.id and saved.choices == ("metastasis", "schmorl_node")
    assert saved.confidence == pytest.approx(0.7) and saved.truth == "schmorl_node"


def test_without_a_name_nothing_can_be_committed(db):
    """The commit button stays disabled until a name is typed; the page says why."""
    at = open_schmorl(start(TRAINEE))
    at.selectbox(key="trainee.choice.1").set_value("metastasis")
    run(at)
    assert at.button(key="trainee.commit").disabled
    assert "Type your name above to commit" in page_text(at)
    assert "Not signed in: names are free text" in page_text(at)


def test_progress_survives_a_new_session_and_offers_a_retry(kb, db):
    """After a commit, a fresh session (a reload, a new browser) shows the attempt on the
    progress page, with the missed case to retry; retrying opens it unanswered."""
    at = open_schmorl(name(start(TRAINEE), "trainee", "Ann"))
    commit(at, ["metastasis"], 80)

    fresh = name(start("ui/screens/progress.py"), "progress", "Ann")
    shown = page_text(fresh)
    assert "Attempts 1" in shown and "Top-1 0%" in shown
    assert f"**{kb.diagnoses['schmorl_node'].name}** answered as " \
           f"**{kb.diagnoses['metastasis'].name}**: 1×" in shown
    assert len(fresh.get("vega_lite_chart")) == 2  # accuracy over time, and by diagnosis
    retry = [b for b in fresh.button if b.key and b.key.startswith("retry.")]
    assert len(retry) == 1
    retry[0].click()
    run(fresh)
    fresh.switch_page(TRAINEE)  # AppTest does not follow st.switch_page by itself
    run(fresh)
    assert fresh.session_state["trainee.case"] == SCHMORL
    assert not fresh.success and kb.diagnoses["schmorl_node"].name not in page_text(fresh)


def test_filters_narrow_the_cases_by_difficulty_and_group(kb, db):
    """Hard vignettes of the 'benign tumour' group: exactly those files are offered (the
    held-out folders of kb.yaml are never listed, nor opened here)."""
    folder = KB_DIR / "cases"
    held_out = [KB_DIR / h for h in kb.manifest.held_out_cases]
    expected = []
    for path in sorted(folder.rglob("*.yaml")):
        if any(h in path.parents for h in held_out):
            continue
        case = load_case(path, kb)
        first = path.read_text(encoding="utf-8").splitlines()[0]
        if case.truth and kb.diagnoses[case.truth].group == "benign_tumour" \
                and "Difficulty: hard" in first:
            expected.append(path.relative_to(folder).as_posix())
    assert expected
    at = start(TRAINEE)
    at.multiselect(key="trainee.difficulty").set_value(["hard"])
    run(at)
    at.multiselect(key="trainee.groups").set_value(["benign_tumour"])
    run(at)
    assert len(at.selectbox(key="trainee.pick").options) == len(expected)
    at.button(key="trainee.random").click()
    run(at)
    assert at.session_state["trainee.case"] in expected


def test_quiz_answers_are_explained_and_saved(kb, db):
    """Checking the seed's quick quizzes shows right or wrong, the explanation and the source;
    with a name each answer is saved."""
    at = name(start("ui/screens/quiz.py"), "quiz", "Ann")
    at.radio(key="quiz.1.kb:seed.quiz.destruction_pattern").set_value("D")
    run(at)
    at.button(key="quiz.check.kb:seed.quiz.destruction_pattern").click()
    run(at)
    at.radio(key="quiz.1.kb:seed.quiz.sre").set_value("A")
    run(at)
    at.button(key="quiz.check.kb:seed.quiz.sre").click()
    run(at)
    shown = page_text(at)
    assert "Right: you picked D. All of the above" in shown
    sre = kb.quizzes["seed.quiz.sre"]
    assert f"Not quite: you picked A. {sre.options['A']}; the answer is D. Bone pain" in shown
    assert kb.quizzes["seed.quiz.sre"].explanation.split(";")[0] in shown
    assert kb.references["seed"].citation.split(":")[0] in shown
    store = ProgressStore(f"sqlite:///{db}")
    try:
        answers = store.quiz_answers(store.trainee("Ann"))
    finally:
        store.close()
    assert [(a.question_id, a.correct) for a in answers] == [
        ("kb:seed.quiz.destruction_pattern", True), ("kb:seed.quiz.sre", False)]


def test_an_unusable_database_is_reported_not_crashed(monkeypatch):
    """With a database URL that cannot be opened, each learning page says so, in one line."""
    monkeypatch.setenv("OSSDX_DATABASE_URL", "nosuchdb://nowhere/x")
    for page in (TRAINEE, "ui/screens/progress.py"):
        at = start(page)
        assert at.error and "nosuchdb://nowhere/x" in page_text(at), page
    at = start("ui/screens/quiz.py")
    assert [e.value for e in at.error if "cannot be saved" in e.value]
    assert at.radio  # the quiz itself still works


@pytest.mark.parametrize(("url", "expected"), [
    ("ann:secret@nowhere", "$OSSDX_DATABASE_URL: not a database URL"),
    ("postgresql://ann:secret@127.0.0.1:9/ossdx", "cannot connect to the progress database"),
], ids=["malformed", "unreachable"])
def test_a_bad_database_url_is_one_error_and_the_workup_still_works(monkeypatch, url,
                                                                     expected):
    """A malformed URL or a server that does not answer: the learning page shows one error
    line saying what is wrong (no password, no traceback), and the work-up still runs."""
    monkeypatch.setenv("OSSDX_DATABASE_URL", url)
    at = start(TRAINEE)
    (error,) = [str(e.value) for e in at.error]
    assert expected in error.replace("\\", "") and "secret" not in error
    assert "\n" not in error.strip() and "Traceback" not in error
    workup = start("ui/screens/workup.py")  # needs no database: drawn, with nothing wrong
    assert not workup.error and not workup.warning
    assert [t.value for t in workup.title] and (workup.radio or workup.multiselect)


# ------------------------------------------------------------------ polish (issue 17)
NESTED_BULLET = re.compile(r"^\s*[-*+]\s+[-*+](\s|$)", re.M)


def test_feedback_shows_the_truth_once_and_no_nested_bullets(kb, db):
    """Two wrong choices: a block per wrong choice, the evidence for the truth once (not once
    per choice), and no list item that Markdown would nest ('- + ...')."""
    at = open_schmorl(name(start(TRAINEE), "trainee", "Ann"))
    commit(at, ["metastasis", "degenerative"], 60)
    truth = kb.diagnoses["schmorl_node"].name
    texts = [str(m.value) for m in at.markdown]
    assert sum(t.startswith("**Your choice: ") for t in texts) == 2
    assert sum(f"For {truth}" in t for t in texts) == 1
    assert [t for t in texts if NESTED_BULLET.search(t)] == []


def test_quiz_sources_are_citations_without_internal_paths(kb, db):
    """The quiz's source is the citation a reader can look up: no reference id in code
    format and no path into the project's files."""
    at = name(start("ui/screens/quiz.py"), "quiz", "Ann")
    at.radio(key="quiz.1.kb:seed.quiz.sre").set_value("D")
    run(at)
    at.button(key="quiz.check.kb:seed.quiz.sre").click()
    run(at)
    (source,) = [str(m.value) for m in at.markdown if str(m.value).startswith("**Source**")]
    assert kb.references["seed"].citation.split(":")[0] in source
    assert "`" not in source
    assert not re.search(r"[\w.-]+/[\w./-]+\.(txt|ya?ml|md|py)\b", source), source


def test_progress_charts_read_right_with_one_attempt_and_a_zero_rate(kb):
    """One attempt: the time axis shows whole attempt numbers from 1 (not '1.000000'); a
    diagnosis never got right still shows a labelled row ('0% of 1') on a 0-100 % track."""
    from test_storage import make_attempt

    from ossdx.ui.progress_page import diagnosis_chart, timeline_chart

    missed = [make_attempt("seed-a", ("metastasis",), "schmorl_node")]
    x = timeline_chart(missed).to_dict()["encoding"]["x"]
    assert x["axis"]["format"] == "d" and x["axis"]["values"] == [1]
    assert x["scale"]["domain"] == [1, 2]
    spec = diagnosis_chart(kb, missed).to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
             for layer in spec["layer"]]
    assert marks == ["bar", "bar", "text"]
    assert spec["layer"][2]["encoding"]["text"]["field"] == "label"
    rows = next(iter(spec["datasets"].values()))
    assert [r["label"] for r in rows] == ["0% of 1"]
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, 1]
