"""The Streamlit app through AppTest: every page and path runs, and does what the user expects."""

from __future__ import annotations

import ast
import io
import re
import shutil
import sys
import tomllib
from contextlib import redirect_stderr
from pathlib import Path

import pytest
from apptest import APP, run, start
from streamlit.testing.v1 import AppTest

from ossdx.cli.main import main
from ossdx.core.loader import MAX_BYTES
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import load_case

from conftest import KB_DIR, ROOT

SCHMORL = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"
SCHMORL_KEY = "example.seed/seed-schmorl-l4.yaml"
PAGES = ["ui/screens/workup.py", "ui/screens/quick_entry.py", "ui/screens/examples.py",
         "ui/screens/response.py", "ui/screens/knowledge_base.py", "ui/screens/trainee.py",
         "ui/screens/quiz.py", "ui/screens/progress.py"]
XSS = "<img src=x onerror=alert(1)>"


# ------------------------------------------------------------------ helpers
def shown(markdown: str) -> str:
    """What a Markdown text displays (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def texts(at: AppTest, kind: str = "markdown") -> list[str]:
    return [shown(e.value) for e in getattr(at, kind)]


def leader(at: AppTest) -> str:
    """The leading diagnosis as displayed in the results headline."""
    heads = [t for t in texts(at) if t.startswith("### ")]
    assert heads, "no differential shown"
    return heads[0][4:].rsplit(" · ", 1)[0]


def chart_rows(at: AppTest) -> list[tuple[str, float]]:
    """(diagnosis, probability) rows of the probability table, in rank order."""
    tables = [e.value for e in at.markdown if e.value.startswith("| # | Diagnosis |")]
    assert tables, "no probability table shown"
    rows = []
    for line in tables[0].splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        name = shown(cells[1]).removeprefix("**").removesuffix("**")
        percent = re.search(r"([0-9.]+)%$", cells[2])
        assert percent, line
        rows.append((name, float(percent.group(1)) / 100))
    return rows


def load_example(at: AppTest, key: str = SCHMORL_KEY) -> AppTest:
    """Load an example; the app opens the work-up (AppTest is then kept on that page)."""
    at.switch_page("ui/screens/examples.py")
    run(at)
    at.button(key=key).click()
    run(at)
    assert [t.value for t in at.title] == ["Work-up"]
    at.switch_page("ui/screens/workup.py")  # AppTest does not follow st.switch_page by itself
    return run(at)


def set_context(at: AppTest, modalities: list[str], primary: str = "breast_idc") -> AppTest:
    """Complete the work-up's first step: the studies performed and the primary tumour."""
    at.multiselect(key="context.modalities").set_value(sorted(modalities))
    run(at)
    at.selectbox(key="patient.primary").set_value(primary)
    return run(at)


def current_question(at: AppTest) -> str | None:
    skips = [b.key for b in at.button if b.key and b.key.startswith("ask.")
             and b.key.endswith(".skip")]
    return skips[0].split(".")[1] if skips else None


def answer_questions(at: AppTest, answers: dict[str, object], limit: int = 45) -> list[str]:
    """Answer every question from ``answers`` ('not assessed' for the rest) until they end."""
    asked = []
    for _ in range(limit):
        finding = current_question(at)
        if finding is None:
            return asked
        asked.append(finding)
        if finding in answers:
            at.button(key=f"ask.{finding}.{answers[finding]}").click()
        else:
            at.button(key=f"ask.{finding}.skip").click()
        run(at)
    raise AssertionError(f"questions did not end: {asked}")


@pytest.fixture
def kb_env(tmp_path, monkeypatch):
    """A copy of the shipped KB under tmp_path, served to the app through OSSDX_KB."""

    def make(edit=None) -> Path:
        root = tmp_path / "kb"
        shutil.copytree(KB_DIR, root)
        if edit is not None:
            edit(root)
        monkeypatch.setenv("OSSDX_KB", str(root))
        return root

    return make


# ------------------------------------------------------------------ pages
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_an_exception(page, monkeypatch, tmp_path):
    """Each page draws with no exception and no error message."""
    monkeypatch.setenv("OSSDX_DB", str(tmp_path / "progress.sqlite3"))
    at = start(page)
    assert not at.error, texts(at, "error")


def test_the_workup_starts_with_the_studies_then_asks(kb):
    """A new work-up first asks for the studies performed (no finding question yet) beside
    the differential and the disclaimer; once a study and the primary are given, it asks a
    question from the KB."""
    at = start()
    assert current_question(at) is None
    step = "\n".join(texts(at))
    assert "First, the patient and the studies" in step and "studies performed" in step
    assert len(chart_rows(at)) >= kb.settings.show_at_least
    assert any(kb.manifest.disclaimer in t for t in texts(at, "caption"))
    set_context(at, ["CT"])
    finding = current_question(at)
    assert finding in kb.findings
    assert any(kb.findings[finding].question in t for t in texts(at, "subheader"))


def test_a_new_workup_names_no_leader_until_something_separates_the_diagnoses(kb):
    """Before any study, patient field or finding every diagnosis is equally likely: the
    headline and the line above the questions say that there is no leader yet (not the
    first diagnosis of the tie); once a study is given, a leader is named."""
    at = start()
    headings = [t for t in texts(at) if t.startswith("### ")]
    assert any(t.startswith("### No leading diagnosis yet · each") for t in headings), headings
    assert not any(t.startswith("Leading: ") for t in texts(at))
    assert any("Nothing separates the diagnoses yet" in t for t in texts(at, "caption"))
    set_context(at, ["CT"])
    assert any(t.startswith("Leading: **") for t in texts(at))
    assert not any("No leading diagnosis yet" in t for t in texts(at))


def test_the_context_stays_visible_and_editable_after_answers():
    """After an answer the studies and the primary tumour are still on screen, editable."""
    at = set_context(start(), ["CT"])
    first = current_question(at)
    at.button(key=f"ask.{first}.skip").click()
    run(at)
    assert at.multiselect(key="context.modalities").value == ["CT"]
    at.multiselect(key="context.modalities").set_value(["CT", "MRI"])
    run(at)
    assert at.session_state["case.modalities"] == ["CT", "MRI"]


def test_without_a_study_the_workup_never_says_it_is_done():
    """The issue's case (spine, endplate, solitary, no study, no primary): no green 'nothing
    could change the leader'; the page says that the studies are missing."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"f.region": "spine", "f.vertebral_location": "endplate",
                            "f.lesion_count": "solitary"})
    run(at)
    assert at.session_state["case.findings"] == {
        "region": "spine", "vertebral_location": "endplate", "lesion_count": "solitary"}
    assert not any("could change" in t for t in texts(at, "success"))
    assert any("studies performed" in t for t in texts(at))


def test_answering_the_schmorl_case_puts_schmorls_node_on_top(kb):
    """Answering the seed Schmorl case question by question ends with Schmorl's node first."""
    case = load_case(SCHMORL, kb)
    at = set_context(start(), sorted(case.modalities), case.patient["primary"])
    asked = answer_questions(at, dict(case.findings))
    assert set(asked) & set(case.findings)
    assert set(at.session_state["case.findings"].items()) <= set(case.findings.items())
    name = kb.diagnoses["schmorl_node"].name
    assert leader(at) == name
    assert chart_rows(at)[0][0] == name


def test_changing_an_answer_changes_the_chart(kb):
    """Changing the vertebral position from endplate to central body changes the chart."""
    at = load_example(start())
    assert at.session_state["case.findings"]["vertebral_location"] == "endplate"
    before = dict(chart_rows(at))
    at.selectbox(key="answer.vertebral_location").set_value("central_body")
    run(at)
    after = dict(chart_rows(at))
    assert at.session_state["case.findings"]["vertebral_location"] == "central_body"
    assert after != before
    name = kb.diagnoses["schmorl_node"].name
    assert after.get(name, 0.0) < before[name]


def test_an_answer_can_be_withdrawn(kb):
    """Withdrawing an answer removes it from the case and changes the differential."""
    at = load_example(start())
    before = chart_rows(at)
    at.button(key="withdraw.fdg_uptake").click()
    run(at)
    assert "fdg_uptake" not in at.session_state["case.findings"]
    assert chart_rows(at) != before


def test_not_assessed_moves_on_and_can_be_undone():
    """'Not assessed' moves to another question; 'ask again' brings the first one back."""
    at = set_context(start(), ["CT"])
    first = current_question(at)
    at.button(key=f"ask.{first}.skip").click()
    run(at)
    assert current_question(at) != first
    assert at.session_state["case.skipped"] == [first]
    at.button(key=f"unskip.{first}").click()
    run(at)
    assert at.session_state["case.skipped"] == []
    assert current_question(at) == first


def test_when_the_advisor_stops_the_user_can_keep_asking(kb_env):
    """A case whose leader passed the threshold (lowered to 30 % in a copy of the KB) shows
    why the questions stopped; 'keep asking' brings one more question."""
    def edit(root: Path) -> None:
        path = root / "kb.yaml"
        path.write_text(path.read_text().replace("confidence_threshold: 0.99",
                                                 "confidence_threshold: 0.3", 1))

    kb_env(edit)
    at = load_example(start())
    assert current_question(at) is None
    assert any("has reached" in t and "threshold 30%" in t for t in texts(at, "success"))
    at.toggle(key="workup.keep_asking").set_value(True)
    run(at)
    assert current_question(at) is not None


def test_why_control_names_the_diagnoses_separated(kb):
    """The WHY expander says which diagnoses the question separates, by name, and what a
    bit of uncertainty is."""
    at = load_example(start())
    if current_question(at) is None:
        at.toggle(key="workup.keep_asking").set_value(True)
        run(at)
    why = [t for t in texts(at) if t.startswith("Expected to reduce uncertainty")]
    assert why and any(d.name in why[0] for d in kb.diagnoses.values())
    bits = [t for t in texts(at, "caption") if "A bit measures uncertainty" in t]
    assert bits and "the differential now holds" in bits[0]


def test_why_not_offers_every_diagnosis_below_the_leader(kb, reasoner):
    """'Why not' offers every diagnosis but the leader, not only those above 1 %."""
    at = load_example(start())
    differential = reasoner.diagnose(load_case(SCHMORL, kb))
    options = at.selectbox(key="whynot.workup").options
    assert len(options) == len(differential.entries) - 1
    below = [e for e in differential.entries if e.probability < kb.settings.show_above]
    assert below, "the Schmorl case should have diagnoses below the chart's cut-off"
    assert any(e.name in o for e in below for o in options)


def test_why_not_shows_what_kept_a_diagnosis_out(kb):
    """Choosing a lower diagnosis shows its rank, the leader, and a change that would help."""
    at = load_example(start())
    rank = at.selectbox(key="whynot.workup").options.index(
        next(o for o in at.selectbox(key="whynot.workup").options
             if o.startswith(kb.diagnoses["metastasis"].name))) + 2  # in rank order
    at.selectbox(key="whynot.workup").set_value("metastasis")
    run(at)
    shown_text = "\n".join(texts(at))
    assert f"**{kb.diagnoses['metastasis'].name}** is ranked {rank}" in shown_text
    assert "Smallest change that puts" in shown_text


def test_pitfalls_are_warnings_and_recommendations_a_list(kb, reasoner):
    """The pitfalls that fire on the Schmorl case appear as warnings, with their titles."""
    at = load_example(start())
    differential = reasoner.diagnose(load_case(SCHMORL, kb))
    warnings = "\n".join(texts(at, "warning"))
    for pitfall in differential.pitfalls:
        assert pitfall.title in warnings
    for rec in differential.recommendations:
        assert any(rec.title in t for t in texts(at))


def test_contrast_card_for_a_declared_mimic_pair(kb, reasoner):
    """When the top two are a declared pair, the contrast card names both."""
    at = load_example(start(), "example.seed/seed-enchondroma-femur.yaml")
    top = [e.name for e in reasoner.diagnose(load_case(
        KB_DIR / "cases" / "seed" / "seed-enchondroma-femur.yaml", kb)).entries[:2]]
    heads = [t for t in texts(at) if t.startswith("#### ") and " or " in t]
    assert heads and all(name in heads[0] for name in top)


def test_examples_load_every_case_file_seed_first():
    """The examples page offers every case file but the held-out ones, seed cases first;
    loading opens the work-up."""
    at = start("ui/screens/examples.py")
    folders = at.button_group(key="examples.folder")
    assert folders.options[0].startswith("Seed cases")
    keys = []
    for option in folders.options:  # one folder at a time
        at.button_group(key="examples.folder").set_value(option)
        run(at)
        keys += [b.key for b in at.button if b.key and b.key.startswith("example.")]
    kb = load_knowledge_base(KB_DIR)
    files = sorted(p.relative_to(KB_DIR / "cases").as_posix()
                   for p in (KB_DIR / "cases").rglob("*.yaml") if not kb.is_held_out(p))
    assert sorted(k.removeprefix("example.") for k in keys) == files
    seed = [k for k in keys if k.startswith("example.seed/")]
    assert keys[:len(seed)] == seed
    at.button_group(key="examples.folder").set_value(folders.options[0])
    run(at)
    at.button(key=SCHMORL_KEY).click()
    run(at)
    assert [t.value for t in at.title] == ["Work-up"]


def test_quiz_mode_hides_the_title_until_revealed(kb):
    """In quiz mode the case title and narrative stay hidden until the user reveals them."""
    case = load_case(SCHMORL, kb)
    at = start("ui/screens/examples.py")
    at.toggle(key="examples.quiz").set_value(True)
    run(at)
    assert not any(case.title in t for t in texts(at))
    load_example(at)
    assert not any(case.title in t for t in texts(at))
    assert not any(case.title in e.label for e in at.expander)
    at.toggle(key="workup.reveal").set_value(True)
    run(at)
    assert any(case.title in t for t in texts(at))
    assert any(kb.diagnoses[case.truth].name in t for t in texts(at, "success"))


def test_export_buttons_are_offered():
    """Markdown, JSON and FHIR downloads are offered for the work-up."""
    at = load_example(start())
    keys = {b.key for b in at.get("download_button")}
    assert {"export.workup.md", "export.workup.json", "export.workup.fhir"} <= keys


# ------------------------------------------------------------------ quick entry and uploads
def test_quick_entry_gives_the_differential_in_one_click(kb):
    """Entering the Schmorl findings on one screen and clicking once ranks Schmorl's node first."""
    case = load_case(SCHMORL, kb)
    at = start("ui/screens/quick_entry.py")
    for finding, value in case.findings.items():
        at.selectbox(key=f"quick.{finding}").set_value(value)
    at.button(key="quick.submit").click()
    run(at)
    assert leader(at) == kb.diagnoses["schmorl_node"].name
    assert set(at.session_state["case.modalities"])  # inferred from the findings


def test_a_valid_upload_replaces_the_case(kb):
    """Uploading a valid case file loads its findings and shows its differential."""
    at = start("ui/screens/quick_entry.py")
    at.file_uploader(key="upload.file").set_value(
        ("schmorl.yaml", SCHMORL.read_bytes(), "application/x-yaml"))
    run(at)
    assert at.session_state["case.findings"] == dict(load_case(SCHMORL, kb).findings)
    assert leader(at) == kb.diagnoses["schmorl_node"].name


def test_a_malformed_upload_shows_the_cli_errors_and_keeps_the_case(kb, tmp_path):
    """A bad case file shows the CLI's messages, one per line, and the case is unchanged."""
    bad = b"findings:\n  regoin: spine\n  density: lytik\n"
    at = load_example(start())
    before = dict(at.session_state["case.findings"])
    at.switch_page("ui/screens/quick_entry.py")
    run(at)
    at.file_uploader(key="upload.file").set_value(("bad.yaml", bad, "application/x-yaml"))
    run(at)
    path = tmp_path / "bad.yaml"
    path.write_bytes(bad)
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        assert main(["--kb", str(KB_DIR), "diagnose", str(path)], io.StringIO()) == 2
    cli_lines = [line.replace(str(path), "bad.yaml") for line in stderr.getvalue().splitlines()]
    assert len(cli_lines) == 2
    shown_lines = "\n".join(texts(at, "error")).splitlines()
    assert [line.strip() for line in shown_lines] == cli_lines
    assert at.session_state["case.findings"] == before
    assert leader(at) == kb.diagnoses["schmorl_node"].name


def test_an_oversize_upload_is_refused_with_a_message():
    """A file over 1 MB is refused, saying the limit, and the case is unchanged."""
    at = load_example(start())
    before = dict(at.session_state["case.findings"])
    at.switch_page("ui/screens/quick_entry.py")
    run(at)
    big = b"# padding\n" * (MAX_BYTES // 10 + 1)
    at.file_uploader(key="upload.file").set_value(("big.yaml", big, "application/x-yaml"))
    run(at)
    errors = "\n".join(texts(at, "error"))
    assert f"the limit is {MAX_BYTES:,}" in errors
    assert at.session_state["case.findings"] == before


# ------------------------------------------------------------------ safety and robustness
def test_config_keeps_the_app_safe():
    """Usage statistics are off, XSRF protection on, uploads capped at 1 MB, no tracebacks."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] == 1
    assert config["client"]["showErrorDetails"] == "none"


def test_answers_do_not_wait_for_a_full_garbage_collection():
    """Streamlit's collection after every run is off, and the long-lived objects (the
    compiled rules) are frozen out of the collector's view; garbage of an earlier KB version
    is still collected, and so is what a run leaves."""
    import gc
    import weakref

    from ossdx.ui.resources import freeze_long_lived

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["postScriptGC"] is False

    class Node:
        pass

    def cycle() -> weakref.ref:
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    old = cycle()  # garbage of an earlier version, made before the freeze
    kept = Node()  # alive at the freeze: the compiled rules, say
    try:
        freeze_long_lived()
        assert old() is None
        assert not any(o is kept for o in gc.get_objects())
        assert gc.get_freeze_count() > 0
        later = cycle()  # made by a run after the freeze
        gc.collect()
        assert later() is None
    finally:
        gc.unfreeze()


def test_no_ui_code_renders_raw_html():
    """No module of the app passes the unsafe-HTML keyword to any call or calls st.html."""
    offenders = []
    for path in [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            raw_keyword = any(k.arg == "unsafe_allow_html" for k in node.keywords)
            html_call = isinstance(node.func, ast.Attribute) and node.func.attr == "html"
            if raw_keyword or html_call:
                offenders.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    assert offenders == []


def _all_elements(node):
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _all_elements(child)


def test_kb_text_with_html_is_shown_literally(kb_env):
    """A diagnosis named with an <img onerror> tag is shown as text, never as HTML."""
    def edit(root: Path) -> None:
        path = root / "diagnoses" / "schmorl_node.yaml"
        path.write_text(path.read_text().replace(
            "name: Schmorl's node", f'name: "Schmorl {XSS} node"', 1))

    kb_env(edit)
    at = load_example(start())
    assert leader(at) == f"Schmorl {XSS} node"
    assert chart_rows(at)[0][0] == f"Schmorl {XSS} node"
    elements = list(_all_elements(at._tree))
    assert not [e for e in elements if getattr(e, "type", None) == "html"]
    for element in elements:
        proto = getattr(element, "proto", None)
        assert not getattr(proto, "allow_html", False), element
    raw = [e.value for e in at.markdown if XSS[1:8] in e.value]
    assert raw and all("\\<img" in value and "<img" not in value.replace("\\<img", "")
                       for value in raw)


def test_the_engine_is_built_once_per_kb_version(kb_env, monkeypatch):
    """Many interactions compile the rules once; an edit of the KB compiles them once more."""
    import ossdx.ui.resources

    built = []

    class Counting(ossdx.ui.resources.Reasoner):
        def __init__(self, kb):
            built.append(kb.fingerprint)
            super().__init__(kb)

    monkeypatch.setattr(ossdx.ui.resources, "Reasoner", Counting)
    root = kb_env()
    at = load_example(start())
    at.selectbox(key="answer.vertebral_location").set_value("central_body")
    run(at)
    at.switch_page("ui/screens/quick_entry.py")
    run(at)
    assert len(built) == 1
    path = root / "diagnoses" / "metastasis.yaml"
    path.write_text(path.read_text().replace("name: Osseous metastasis",
                                             "name: Osseous metastasis (edited)", 1))
    run(at)
    at.switch_page("ui/screens/workup.py")
    run(at)
    assert len(built) == 2 and built[0] != built[1]
    assert any(name == "Osseous metastasis (edited)" for name, _ in chart_rows(at))


def test_a_broken_kb_edit_shows_its_errors_and_keeps_the_last_good_kb(kb_env):
    """An invalid edit is reported (file and line) while the last good KB keeps serving."""
    root = kb_env()
    at = load_example(start())
    good = leader(at)
    path = root / "diagnoses" / "hemangioma.yaml"
    path.write_text(path.read_text().replace("\nprior:", "\nprior_typo:", 1))
    run(at)
    errors = "\n".join(texts(at, "error"))
    assert "problem" in errors and "hemangioma.yaml:" in errors
    assert "prior_typo" in errors
    assert leader(at) == good


def test_a_kb_that_was_never_valid_shows_its_errors(kb_env):
    """With no valid KB at all, every page lists the problems and nothing crashes."""
    def edit(root: Path) -> None:
        (root / "kb.yaml").write_text("name: [unclosed\n")

    kb_env(edit)
    at = start()
    errors = "\n".join(texts(at, "error"))
    assert "kb.yaml:" in errors
    assert "No valid knowledge base" in errors


def test_an_internal_error_shows_a_short_message_not_a_traceback(monkeypatch):
    """If the engine fails, the page shows one short error and no exception escapes."""
    from ossdx.reasoning.diagnosis import Reasoner

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    at = start()
    monkeypatch.setattr(Reasoner, "diagnose", fail)
    at.multiselect(key="context.modalities").set_value(["CT"])  # a new state: computed anew
    run(at)
    errors = texts(at, "error")
    assert errors == ["This page could not be drawn completely; the details are in the server "
                      "log."]
    assert "boom" not in "\n".join(texts(at))


@pytest.mark.parametrize("module, page", [("ossdx.ui.response_page", "ui/screens/response.py"),
                                          ("ossdx.ui.kb_page", "ui/screens/knowledge_base.py")])
def test_a_missing_page_module_says_not_available(monkeypatch, module, page):
    """If a page's module cannot be imported, that page says 'not available yet'."""
    monkeypatch.setitem(sys.modules, module, None)
    at = start(page)
    assert "not available yet" in texts(at, "info")


# ------------------------------------------------------------------ nothing lost
def test_the_workup_is_written_into_the_address():
    """After the studies and an answer, the page's query parameters hold them."""
    at = set_context(start(), ["CT"])
    first = current_question(at)
    value = next(b.key for b in at.button if b.key and b.key.startswith(f"ask.{first}.")
                 and not b.key.endswith(".skip")).split(".")[2]
    at.button(key=f"ask.{first}.{value}").click()
    run(at)
    params = dict(at.query_params)
    assert params["m"] == ["CT"] or params["m"] == "CT"
    assert first in {k.removeprefix("f.") for k in params if k.startswith("f.")}


def test_a_reload_restores_the_workup_from_the_address(kb):
    """A new session opened on a work-up's address has the same studies, patient, answers,
    'not assessed' findings and example, and says what it could not use."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"m": "CT,MRI", "p.primary": "breast_idc", "p.age": "62",
                            "f.region": "spine", "f.vertebral_location": "endplate",
                            "na": "lesion_count", "f.no_such_finding": "x",
                            "case": "seed/seed-schmorl-l4.yaml"})
    run(at)
    assert at.session_state["case.modalities"] == ["CT", "MRI"]
    assert at.session_state["case.patient"] == {"primary": "breast_idc", "age": 62}
    assert at.session_state["case.findings"] == {"region": "spine",
                                                 "vertebral_location": "endplate"}
    assert at.session_state["case.skipped"] == ["lesion_count"]
    assert at.session_state["case.meta"]["title"] == load_case(SCHMORL, kb).title
    assert any("no_such_finding" in t for t in texts(at, "warning"))


def test_new_case_offers_an_undo():
    """'New case' empties the work-up and offers it back; undo restores every answer."""
    at = load_example(start())
    before = dict(at.session_state["case.findings"])
    at.button(key="sidebar.new_case").click()
    run(at)
    assert at.session_state["case.findings"] == {}
    at.button(key="undo.workup").click()
    run(at)
    assert at.session_state["case.findings"] == before
    assert "sidebar.undo" not in [b.key for b in at.button]


def test_the_undo_is_withdrawn_once_the_new_case_is_changed():
    """Once the new case is changed, the previous one is no longer offered back."""
    at = load_example(start())
    at.button(key="sidebar.new_case").click()
    run(at)
    at.multiselect(key="context.modalities").set_value(["CT"])
    run(at)
    assert not [b.key for b in at.button if b.key and "undo" in b.key]


def test_quick_entry_keeps_its_case_in_the_address_and_offers_undo(kb):
    """Quick entry writes its case into the address, and 'New case' there offers undo."""
    case = load_case(SCHMORL, kb)
    at = start("ui/screens/quick_entry.py")
    for finding, value in case.findings.items():
        at.selectbox(key=f"quick.{finding}").set_value(value)
    at.button(key="quick.submit").click()
    run(at)
    params = dict(at.query_params)
    assert {k.removeprefix("f.") for k in params if k.startswith("f.")} == set(case.findings)
    at.button(key="sidebar.new_case").click()
    run(at)
    assert at.session_state["case.findings"] == {}
    at.button(key="undo.quick").click()
    run(at)
    assert at.session_state["case.findings"] == dict(case.findings)


# ------------------------------------------------------------------ polish
def test_withdraw_buttons_are_named_by_words():
    """Each withdraw button is labelled 'Withdraw' (not an icon) and says which answer."""
    at = load_example(start())
    buttons = [b for b in at.button if b.key and b.key.startswith("withdraw.")]
    assert buttons
    for button in buttons:
        assert button.label == "Withdraw"
        assert button.help.startswith("Withdraw the answer to ")


def test_contrast_card_does_not_suggest_another_value_of_an_entered_finding(kb):
    """With the region entered, the contrast card lists no other region as a sign."""
    path = KB_DIR / "cases" / "seed" / "seed-enchondroma-femur.yaml"
    case = load_case(path, kb)
    at = load_example(start(), "example.seed/seed-enchondroma-femur.yaml")
    card = "\n".join(shown(e.value) for e in at.markdown if e.value.startswith("- **"))
    for finding, value in case.findings.items():
        spec = kb.findings[finding]
        if spec.type in ("number", "integer"):
            continue
        for other, item in spec.values.items():
            if other != value:
                assert f"**{spec.name}: {item.label}**" not in card, (finding, other)


def test_response_page_shows_names_not_ids_and_no_escaped_underscores(kb):
    """The response page names studies (not 'bone_scan') and shows rule ids without '\\_'."""
    at = start("ui/screens/response.py")
    seed = next(b for b in at.button if b.key and b.key.startswith("response_seed_"))
    seed.click()
    run(at)
    raw = "\n".join(e.value for e in at.markdown)
    assert "\\_" not in raw
    assert "rule `" in raw
    for modality_id in kb.vocabulary.modalities:
        if "_" in modality_id:
            assert f"reads {modality_id}" not in raw and f", {modality_id}" not in raw


def test_response_case_picker_shows_the_case_loaded():
    """After loading a seed response case, the picker names that case."""
    at = start("ui/screens/response.py")
    seed = next(b for b in at.button if b.key and b.key.startswith("response_seed_"))
    title = seed.label
    seed.click()
    run(at)
    assert shown(at.selectbox(key="response_case_choice").value) == shown(title)


def test_the_warm_up_thread_logs_no_missing_context_warning():
    """The warm-up draws nothing, so Streamlit's 'missing ScriptRunContext' warning is not
    printed for it on every start; the same warning from any other thread still is."""
    import logging
    import threading

    import ossdx.ui.resources as resources

    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(threading.current_thread().name)

    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        for name in (resources.WARM_UP_THREAD, "someone-else"):
            thread = threading.Thread(target=lambda: logger.warning("missing ScriptRunContext!"),
                                      name=name)
            thread.start()
            thread.join()
    finally:
        logger.removeHandler(handler)
    assert seen == ["someone-else"]


def test_the_other_pages_are_prepared_while_the_first_is_read(kb_env, monkeypatch):
    """After the first page, a background warm-up reads the case files and compiles the
    response criteria, so the first visit to the examples and response pages reads and
    compiles nothing (both would fail here if they did)."""
    import threading

    import ossdx.ui.resources as resources
    import ossdx.ui.response_page as response_page

    kb_env()  # a fresh folder: nothing of it is cached yet
    at = start()
    for thread in threading.enumerate():
        if thread.name == resources.WARM_UP_THREAD:
            thread.join(timeout=120)

    def again(*args, **kwargs):
        raise AssertionError("read or compiled again on the first visit")

    monkeypatch.setattr(resources, "read_case_folder", again)
    monkeypatch.setattr(response_page, "build_assessor", again)
    at.switch_page("ui/screens/examples.py")
    run(at)
    assert not at.error, texts(at, "error")
    assert any(b.key and b.key.startswith("example.seed/") for b in at.button)
    at.switch_page("ui/screens/response.py")
    run(at)
    assert not at.error, texts(at, "error")
