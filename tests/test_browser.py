"""The app in a real browser: Debian's headless chromium driven by Playwright.

Each knowledge base gets its own ``streamlit run`` server on a free port, started once for
this module and stopped by its PID. Without /usr/bin/chromium (or the playwright package)
the tests are skipped with the reason, unless OSSDX_REQUIRE_BROWSER=1 makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import TIMEOUT_MS, require_browser, settle

from benchmarks.appserver import free_port, serving
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import load_case

from conftest import KB_DIR, ROOT

pytestmark = pytest.mark.browser

SCHMORL = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"
XSS = "<img src=x onerror=alert(1)>"
SCREENSHOT = ROOT / "docs" / "images" / "workup.png"  # written when OSSDX_UPDATE_SCREENSHOT=1


@pytest.fixture(scope="module", autouse=True)
def _browser_present() -> None:
    require_browser()


# ------------------------------------------------------------------ servers
@dataclass(frozen=True)
class Server:
    """The app as ``ossdx app`` serves it (``streamlit run ui/serve.py``: st.App with the boot
    indicator) on a free port, serving one knowledge-base folder."""

    url: str


@contextmanager
def streamlit_server(kb_root: Path, log: Path) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "serve.py"),
               "--server.headless", "true", "--server.address", "127.0.0.1",
               "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    with serving(command, port, log, env={**os.environ, "OSSDX_KB": str(kb_root)},
                 cwd=ROOT) as url:
        yield Server(url)


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory) -> Iterator[Server]:
    with streamlit_server(KB_DIR, tmp_path_factory.mktemp("server") / "streamlit.log") as server:
        yield server


@pytest.fixture(scope="module")
def xss_kb(tmp_path_factory) -> Path:
    """A copy of the shipped KB in which Schmorl's node is named with an HTML payload."""
    root = tmp_path_factory.mktemp("xss") / "kb"
    shutil.copytree(KB_DIR, root)
    path = root / "diagnoses" / "schmorl_node.yaml"
    text = path.read_text()
    assert "name: Schmorl's node" in text
    path.write_text(text.replace("name: Schmorl's node", f'name: "Schmorl {XSS} node"', 1))
    return root


@pytest.fixture(scope="module")
def xss_server(xss_kb, tmp_path_factory) -> Iterator[Server]:
    with streamlit_server(xss_kb, tmp_path_factory.mktemp("server-xss") / "streamlit.log") \
            as server:
        yield server


# ------------------------------------------------------------------ browser
def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox or multiselect with widget key ``key``."""
    page.locator(f".st-key-{key.replace('.', '-')} [role=combobox]").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    settle(page)


def asked_finding(page) -> str | None:
    """The finding of the question on screen (from its 'not assessed' button), or None.

    Called once the previous question is gone, so any 'not assessed' button is the new one.
    """
    page.wait_for_selector(".st-key-question [class*='-skip'], .st-key-question_done")
    found = page.eval_on_selector_all(
        ".st-key-question [class*='-skip']",
        "els => els.map(e => e.className.match(/st-key-ask-(\\S+)-skip/)).filter(m => m)"
        ".map(m => m[1])")
    return found[0] if found else None


def go_on(page) -> None:
    """Leave the context step if it still asks for patient fields (not needed here)."""
    skip = page.locator(".st-key-workup-skip_context button")
    if skip.count():
        skip.click()
        settle(page)


def load_schmorl_example(page, url: str) -> None:
    page.goto(f"{url}/examples")
    page.locator(".st-key-example-seed-seed-schmorl-l4-yaml button").click()
    page.locator(".st-key-leader_workup").wait_for()


# ------------------------------------------------------------------ tests
def test_happy_path_of_the_schmorl_case(page, shipped_server, tmp_path):
    """Setting the studies and answering question by question ends with Schmorl's node first."""
    kb = load_knowledge_base(KB_DIR)
    case = load_case(SCHMORL, kb)
    page.goto(shipped_server.url)
    page.locator(".st-key-context_step").wait_for()  # the studies come first
    for modality in sorted(case.modalities):
        choose(page, "context.modalities", kb.vocabulary.modalities[modality].name)
    choose(page, "patient.primary", kb.label_of("patient.primary", case.patient["primary"]))
    go_on(page)
    asked = []
    for _ in range(45):
        finding = asked_finding(page)
        if finding is None:
            break
        asked.append(finding)
        value = case.findings.get(finding)
        target = f"ask-{finding}-{value}" if value is not None else f"ask-{finding}-skip"
        page.locator(f".st-key-{target} button").click()
        page.locator(f".st-key-ask-{finding}-skip").wait_for(state="detached")
    else:
        pytest.fail(f"the questions did not end: {asked}")
    assert set(asked) & set(case.findings)
    headline = page.locator(".st-key-leader_workup")
    assert headline.inner_text().startswith(kb.diagnoses["schmorl_node"].name)
    record = page.locator(".st-key-track_workup")  # how often leaders like it were right
    assert record.is_visible()
    assert re.search(r"^Track record: leaders held at .+ were right in \d+ of \d+ published",
                     record.inner_text()), record.inner_text()
    listed = page.locator(".st-key-short_workup")  # what to keep in mind, at 90 %
    assert listed.is_visible()
    assert re.search(rf"^Short list \(90%\): {re.escape(kb.diagnoses['schmorl_node'].name)}\b",
                     listed.inner_text()), listed.inner_text()
    page.set_viewport_size({"width": 1440, "height": 1400})
    page.evaluate("() => document.querySelectorAll('[data-testid=stMain], "
                  "[data-testid=stAppScrollToBottomContainer]').forEach(e => e.scrollTo(0, 0))")
    page.wait_for_timeout(500)
    shot = tmp_path / "workup.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("OSSDX_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_markdown_download_has_the_disclaimer_and_the_leader(page, shipped_server):
    """The Markdown export downloaded in the browser names the leader and the disclaimer."""
    kb = load_knowledge_base(KB_DIR)
    load_schmorl_example(page, shipped_server.url)
    with page.expect_download() as info:
        page.locator(".st-key-export-workup-md button").click()
    download = info.value
    assert download.suggested_filename.endswith(".md")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert kb.manifest.disclaimer in text
    assert f"| 1 | {kb.diagnoses['schmorl_node'].name} |" in text


def test_html_in_the_kb_is_shown_as_text(page, xss_server):
    """A diagnosis named with an <img onerror> tag shows as literal text and runs nothing."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    load_schmorl_example(page, xss_server.url)
    headline = page.locator(".st-key-leader_workup")
    assert headline.inner_text().startswith(f"Schmorl {XSS} node")
    page.wait_for_timeout(500)  # time for any injected handler to fire
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []


# ------------------------------------------------------------------ nothing lost, readable
def start_workup(page, url: str, modalities=("CT",)) -> None:
    """Open a new work-up and complete its first step (studies and primary tumour)."""
    kb = load_knowledge_base(KB_DIR)
    page.goto(url)
    page.locator(".st-key-context_workup").wait_for()
    settle(page)
    for modality in modalities:
        choose(page, "context.modalities", kb.vocabulary.modalities[modality].name)
    choose(page, "patient.primary", kb.label_of("patient.primary", "breast_idc"))
    go_on(page)
    page.locator(".st-key-question").wait_for()


def answer_first(page) -> None:
    """Click the first answer of the question on screen and wait until it is gone."""
    finding = asked_finding(page)
    page.locator(f".st-key-question [class*='st-key-ask-{finding}-'] button").first.click()
    page.locator(f".st-key-ask-{finding}-skip").wait_for(state="detached")


def test_a_reload_keeps_the_workup(page, shipped_server):
    """After two answers, reloading the page shows the same answers and the same leader."""
    start_workup(page, shipped_server.url)
    for _ in range(2):
        answer_first(page)
    settle(page)
    leader = page.locator(".st-key-leader_summary").inner_text()
    answers = sorted(page.eval_on_selector_all(
        "[class*='st-key-withdraw-']", "els => els.map(e => e.className)"))
    assert len(answers) == 2
    assert "f." in page.url
    page.reload()
    page.locator(".st-key-leader_summary").wait_for()
    settle(page)
    assert page.locator(".st-key-leader_summary").inner_text() == leader
    assert sorted(page.eval_on_selector_all(
        "[class*='st-key-withdraw-']", "els => els.map(e => e.className)")) == answers


def reasons_shown(page) -> str:
    """The diagnosis the 'Reasons for' picker shows, as the browser draws it."""
    box = page.locator("[data-testid=stSelectbox]", has_text="Reasons for").first
    return box.locator("input").first.input_value()


def test_the_reasons_picker_follows_the_leader_and_keeps_a_pick(page, shipped_server):
    """With nothing picked, the reasons shown are the leader's after every answer (the
    browser's label too, not only the panel); a diagnosis the user picks stays picked, its
    label updated, while later answers change the ranking."""
    kb = load_knowledge_base(KB_DIR)
    start_workup(page, shipped_server.url)
    for _ in range(3):
        answer_first(page)
        settle(page)
        leader = page.locator(".st-key-leader_workup").inner_text().split(" · ")[0]
        assert reasons_shown(page).startswith(f"1. {leader} — ")
    picked = kb.diagnoses["paget"].name
    page.locator("[data-testid=stSelectbox]", has_text="Reasons for").first.locator(
        "[role=combobox]").click()
    page.get_by_role("option").filter(has_text=picked).first.click()
    settle(page)
    assert f". {picked} — " in reasons_shown(page)
    answer_first(page)
    settle(page)
    assert f". {picked} — " in reasons_shown(page)


ROLES = ("button", "combobox", "checkbox", "switch", "slider", "textbox", "spinbutton",
         "tab", "link")


def unnamed_controls(page) -> list[str]:
    """The visible controls of the page whose accessible name is empty or only an icon's."""
    bad = []
    for role in ROLES:
        for control in page.get_by_role(role).all():
            if not control.is_visible():
                continue
            line = control.aria_snapshot().splitlines()[0].strip()
            named = re.search(rf'{role} "(.*?)"', line)
            name = named.group(1).strip() if named else ""
            if not name or name.endswith(" icon") or re.fullmatch(r"[a-z_]+", name):
                bad.append(line)  # none, or only an icon's ligature ('close')
    return bad


def test_every_control_has_an_accessible_name(page, shipped_server):
    """Every visible control of the work-up (with a loaded case) has a name a screen reader
    can read, never just an icon's ('close icon')."""
    load_schmorl_example(page, shipped_server.url)
    settle(page)
    assert unnamed_controls(page) == []


def test_the_first_answer_is_within_five_tab_presses_of_the_question(page, shipped_server):
    """From the question's text, at most five Tab presses reach its first answer."""
    start_workup(page, shipped_server.url)
    finding = asked_finding(page)
    # the reader is at the question: focus its heading (as a screen reader's cursor would)
    page.locator(".st-key-question h3").first.evaluate(
        "h => { h.setAttribute('tabindex', '-1'); h.focus(); }")
    focused = ""
    for _ in range(5):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.closest('[class*=\"st-key-ask-\"]')"
                                " ?.className || ''")
        if f"st-key-ask-{finding}-" in focused and "-skip" not in focused:
            break
    assert f"st-key-ask-{finding}-" in focused and "-skip" not in focused, \
        "the first answer is not within five Tab presses of the question"


def test_answer_buttons_show_their_whole_label(page, shipped_server):
    """No answer button cuts its label short (long labels wrap)."""
    start_workup(page, shipped_server.url, modalities=("CT", "MRI", "XR"))
    for _ in range(6):
        finding = asked_finding(page)
        if finding is None:
            break
        cut = page.eval_on_selector_all(
            ".st-key-question button p",
            "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
        assert cut == []
        page.locator(f".st-key-ask-{finding}-skip button").click()
        page.locator(f".st-key-ask-{finding}-skip").wait_for(state="detached")


@pytest.mark.parametrize("width", [1024, 1366])
def test_no_label_of_the_workup_is_cut_short_on_a_laptop_screen(browser, shipped_server,
                                                                 width):
    """On a laptop screen (1,366 px, and a small one of 1,024 px with the sidebar open), no
    button of the work-up cuts its label short (the answers list's "Withdraw" read
    "Withdr…"), and the probability table fits its pane."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        load_schmorl_example(page, shipped_server.url)
        settle(page)
        assert page.locator("[class*='st-key-withdraw-'] button").count() >= 3
        # a label's box ellipsises its text as soon as it is one pixel too narrow
        cut = page.eval_on_selector_all(
            "[data-testid=stMain] button [data-testid=stMarkdownContainer], "
            ".st-key-chart_workup [data-testid=stMarkdownContainer]",
            "els => els.filter(e => e.offsetParent && e.scrollWidth > e.clientWidth)"
            ".map(e => e.innerText.slice(0, 40))")
    finally:
        context.close()
    assert cut == []


def test_on_a_small_laptop_the_patient_fields_keep_a_usable_width(browser, shipped_server):
    """At 1,024 px with the sidebar open the work-up's left pane is narrow: the patient
    fields go one per line instead of being squeezed side by side (they were about 95 px,
    their values cut to "not a"); at 1,400 px two share a line, as before."""
    for width, per_line in ((1024, 1), (1400, 2)):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            page.goto(shipped_server.url)
            page.locator(".st-key-fields_workup [data-testid=stSelectbox]").nth(3).wait_for()
            settle(page)
            boxes = page.eval_on_selector_all(
                ".st-key-fields_workup [data-testid=stSelectbox]",
                "els => els.map(e => { const r = e.getBoundingClientRect();"
                " return [Math.round(r.left), Math.round(r.width)]; })")
        finally:
            context.close()
        assert len(boxes) >= 4
        assert min(w for _, w in boxes) >= 150, (width, boxes)
        assert len({left for left, _ in boxes}) == per_line, (width, boxes)


def test_at_400_px_the_leader_is_above_the_questions(browser, shipped_server):
    """On a 400 px wide screen the leading diagnosis shows before the question, not below
    the whole list."""
    context = browser.new_context(viewport={"width": 400, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        load_schmorl_example(page, shipped_server.url)
        settle(page)
        leader = page.locator(".st-key-leader_summary").bounding_box()
        answers = page.get_by_text("Your answers").first.bounding_box()
        assert leader is not None and answers is not None
        assert leader["y"] < answers["y"]
    finally:
        context.close()


LABEL_SIZES = """() => {
  const holder = [...document.querySelectorAll('div')].find(e => e._cyreg && e._cyreg.cy);
  if (!holder) return null;
  const cy = holder._cyreg.cy;
  const zoom = cy.zoom();
  return cy.nodes().map(n => parseFloat(n.style('font-size')) * zoom);
}"""


def graph_view(page, script: str):
    """``script`` evaluated in the knowledge graph's frame once the graph has drawn (it
    returns nothing until then), after the preset layout has settled."""
    frame_element = page.locator("iframe").first
    frame_element.wait_for()
    frame = frame_element.element_handle().content_frame()
    for _ in range(100):
        if frame.evaluate(script):
            break
        page.wait_for_timeout(200)
    page.wait_for_timeout(500)  # the layout is preset: the first view is final
    return frame.evaluate(script)


def test_graph_labels_are_readable_and_nothing_loads_from_outside(page, shipped_server):
    """The knowledge graph of a diagnosis draws its labels at 10 px or more at its default
    size, and every file the page loads comes from the app's own server."""
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{shipped_server.url}/kb")
    choose(page, "kb_graph_diagnosis", load_knowledge_base(KB_DIR).name_of("hemangioma"))
    sizes = graph_view(page, LABEL_SIZES)
    assert sizes and len(sizes) > 5
    assert min(sizes) >= 10, sorted(sizes)[:5]
    outside = [u for u in requests if not u.startswith((shipped_server.url, "data:", "blob:",
                                                        "about:"))]
    assert outside == []


LABEL_BOXES = """() => {
  const holder = [...document.querySelectorAll('div')].find(e => e._cyreg && e._cyreg.cy);
  if (!holder) return null;
  return holder._cyreg.cy.nodes().map(n => {
    const b = n.boundingBox({includeNodes: false, includeEdges: false, includeLabels: true});
    return [n.data('name'), b.x1, b.y1, b.x2, b.y2];
  });
}"""


def _overlap(a: list, b: list) -> bool:
    """Whether two label boxes ``[name, x1, y1, x2, y2]`` share more than a pixel."""
    return min(a[3], b[3]) - max(a[1], b[1]) > 1 and min(a[4], b[4]) - max(a[2], b[2]) > 1


def test_graph_labels_do_not_overlap(page, shipped_server):
    """In the largest graph of a diagnosis (metastasis), with the most nodes per step the
    page offers by default, no node's label is drawn over another's: long rule ids wrap
    inside their column, and each node gets the height its label needs."""
    page.goto(f"{shipped_server.url}/kb")
    choose(page, "kb_graph_diagnosis", load_knowledge_base(KB_DIR).name_of("metastasis"))
    boxes = graph_view(page, LABEL_BOXES)
    assert boxes and len(boxes) > 10
    clashes = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if _overlap(a, b)]
    assert clashes == []
