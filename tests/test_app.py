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

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from ossdx.cli.main import main
from ossdx.core.loader import MAX_BYTES
from ossdx.reasoning.cases import load_case

from conftest import KB_DIR, ROOT

APP = str(ROOT / "app.py")
SCHMORL = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"
SCHMORL_KEY = "example.seed/seed-schmorl-l4.yaml"
PAGES = ["ui/pages/workup.py", "ui/pages/quick_entry.py", "ui/pages/examples.py",
         "ui/pages/response.py", "ui/pages/knowledge_base.py", "ui/pages/trainee.py",
         "ui/pages/quiz.py", "ui/pages/progress.py"]
XSS = "<img src=x onerror=alert(1)>"


# ------------------------------------------------------------------ helpers
def run(at: AppTest) -> AppTest:
    """Run the app and fail on any exception it raised."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def start(page: str | None = None) -> AppTest:
    at = run(AppTest.from_file(APP, default_timeout=60))
    if page is not None:
        at.switch_page(page)
        run(at)
    return at


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
    """(diagnosis, probability) rows of the probability chart, in rank order."""
    chart = at.get("vega_lite_chart")[0].proto
    table = pa.ipc.open_stream(chart.datasets[0].data.data).read_all().to_pylist()
    return [(r["diagnosis"], r["probability"]) for r in sorted(table, key=lambda r: r["rank"])]


def load_example(at: AppTest, key: str = SCHMORL_KEY) -> AppTest:
    """Load an example; the app opens the work-up (AppTest is then kept on that page)."""
    at.switch_page("ui/pages/examples.py")
    run(at)
    at.button(key=key).click()
    run(at)
    assert [t.value for t in at.title] == ["Work-up"]
    at.switch_page("ui/pages/workup.py")  # AppTest does not follow st.switch_page by itself
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


def test_the_workup_starts_with_a_question_and_a_differential(kb):
    """A new work-up shows a question from the KB, the differential chart and the disclaimer."""
    at = start()
    finding = current_question(at)
    assert finding in kb.findings
    assert any(kb.findings[finding].question in t for t in texts(at))
    assert len(chart_rows(at)) >= kb.settings.show_at_least
    assert any(kb.manifest.disclaimer in t for t in texts(at, "caption"))


def test_answering_the_schmorl_case_puts_schmorls_node_on_top(kb):
    """Answering the seed Schmorl case question by question ends with Schmorl's node first."""
    case = load_case(SCHMORL, kb)
    at = start()
    at.multiselect(key="context.modalities").set_value(sorted(case.modalities))
    run(at)
    at.selectbox(key="patient.primary").set_value(case.patient["primary"])
    run(at)
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
    at = start()
    first = current_question(at)
    at.button(key=f"ask.{first}.skip").click()
    run(at)
    assert current_question(at) != first
    assert at.session_state["case.skipped"] == [first]
    at.button(key=f"unskip.{first}").click()
    run(at)
    assert at.session_state["case.skipped"] == []
    assert current_question(at) == first


def test_when_the_advisor_stops_the_user_can_keep_asking():
    """A confident case shows why questions stopped; 'keep asking' brings one more question."""
    at = load_example(start(), "example.seed/seed-phyllodes-rib.yaml")
    assert current_question(at) is None
    assert any("has reached" in t and "threshold" in t for t in texts(at, "success"))
    at.toggle(key="workup.keep_asking").set_value(True)
    run(at)
    assert current_question(at) is not None


def test_why_control_names_the_diagnoses_separated(kb):
    """The WHY expander says which diagnoses the question separates, by name."""
    at = load_example(start())
    why = [t for t in texts(at) if t.startswith("Expected to reduce uncertainty")]
    assert why and any(d.name in why[0] for d in kb.diagnoses.values())


def test_why_not_shows_what_kept_a_diagnosis_out(kb):
    """Choosing a lower diagnosis shows its rank, the leader, and a change that would help."""
    at = load_example(start())
    at.selectbox(key="whynot.workup").set_value("metastasis")
    run(at)
    shown_text = "\n".join(texts(at))
    assert f"**{kb.diagnoses['metastasis'].name}** is ranked 2" in shown_text
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
    """The examples page offers every case file, seed cases first; loading opens the work-up."""
    at = start("ui/pages/examples.py")
    keys = [b.key for b in at.button if b.key and b.key.startswith("example.")]
    files = sorted(p.relative_to(KB_DIR / "cases").as_posix()
                   for p in (KB_DIR / "cases").rglob("*.yaml"))
    assert sorted(k.removeprefix("example.") for k in keys) == files
    seed = [k for k in keys if k.startswith("example.seed/")]
    assert keys[:len(seed)] == seed
    at.button(key=SCHMORL_KEY).click()
    run(at)
    assert [t.value for t in at.title] == ["Work-up"]


def test_quiz_mode_hides_the_title_until_revealed(kb):
    """In quiz mode the case title and narrative stay hidden until the user reveals them."""
    case = load_case(SCHMORL, kb)
    at = start("ui/pages/examples.py")
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
    at = start("ui/pages/quick_entry.py")
    for finding, value in case.findings.items():
        at.selectbox(key=f"quick.{finding}").set_value(value)
    at.button(key="quick.submit").click()
    run(at)
    assert leader(at) == kb.diagnoses["schmorl_node"].name
    assert set(at.session_state["case.modalities"])  # inferred from the findings


def test_a_valid_upload_replaces_the_case(kb):
    """Uploading a valid case file loads its findings and shows its differential."""
    at = start("ui/pages/quick_entry.py")
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
    at.switch_page("ui/pages/quick_entry.py")
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
    at.switch_page("ui/pages/quick_entry.py")
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
    at.switch_page("ui/pages/quick_entry.py")
    run(at)
    assert len(built) == 1
    path = root / "diagnoses" / "metastasis.yaml"
    path.write_text(path.read_text().replace("name: Osseous metastasis",
                                             "name: Osseous metastasis (edited)", 1))
    run(at)
    at.switch_page("ui/pages/workup.py")
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
    run(at)
    errors = texts(at, "error")
    assert errors == ["This page could not be drawn completely; the details are in the server "
                      "log."]
    assert "boom" not in "\n".join(texts(at))


@pytest.mark.parametrize("module, page", [("ossdx.ui.response_page", "ui/pages/response.py"),
                                          ("ossdx.ui.kb_page", "ui/pages/knowledge_base.py")])
def test_a_missing_page_module_says_not_available(monkeypatch, module, page):
    """If a page's module cannot be imported, that page says 'not available yet'."""
    monkeypatch.setitem(sys.modules, module, None)
    at = start(page)
    assert "not available yet" in texts(at, "info")
