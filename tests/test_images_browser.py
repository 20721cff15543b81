"""Images in a real browser (Debian's chromium through Playwright): a script inside an SVG
does not run when the app shows the SVG, and a DICOM series responds to its window presets.

Each test page runs in its own ``streamlit run`` server on a free port, stopped by its PID.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import dicom_factory as df
import pytest
from browser_support import CHROMIUM, require_browser, settle

from benchmarks.appserver import free_port, serving

from conftest import ROOT

pytestmark = pytest.mark.browser

ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking"]
PAGES = ROOT / "tests" / "image_pages"
TIMEOUT_MS = 30_000
# The payload marks the page that runs it: as a document of its own it does; as an image
# it must not.
EVIL_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" onload="
document.title='SVG-RAN';try{top.document.title='SVG-RAN'}catch(e){}">
<title>untrusted</title>
<script>document.title='SVG-RAN';try{top.document.title='SVG-RAN';top.svgRan=1}catch(e){}</script>
<rect width="120" height="60" fill="#c33"/></svg>
"""


@pytest.fixture(scope="module", autouse=True)
def _browser_present() -> None:
    require_browser()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Start ``streamlit run`` on a test page with extra environment; stop it after."""
    with ExitStack() as servers:
        def start(page: str, **env: str) -> str:
            port = free_port()
            command = [sys.executable, "-m", "streamlit", "run", str(PAGES / page),
                       "--server.headless", "true", "--server.address", "127.0.0.1",
                       "--server.port", str(port), "--browser.gatherUsageStats", "false"]
            return servers.enter_context(serving(command, port, tmp_path / f"{page}.log",
                                                 env={**os.environ, **env}, cwd=ROOT))

        yield start


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


def test_a_script_in_an_svg_does_not_run_when_the_app_shows_it(serve, browser, tmp_path):
    """Opened as a document the SVG's script runs (the payload is live); shown by the app
    it is an <img> that draws, and neither its script nor its onload runs."""
    svg = tmp_path / "evil.svg"
    svg.write_text(EVIL_SVG, encoding="utf-8")
    control = browser.new_page()
    control.goto(svg.as_uri())
    control.wait_for_function("document.title === 'SVG-RAN'", timeout=TIMEOUT_MS)
    control.close()

    url = serve("svg.py", OSSDX_SVG_FILE=str(svg))
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.get_by_text("page ready").wait_for(timeout=TIMEOUT_MS)
    image = page.locator("img[src^='data:image/svg+xml']")
    image.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => { const i = document.querySelector(\"img[src^='data:image/svg+xml']\");"
        " return i && i.complete && i.naturalWidth > 0; }", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    assert page.title() != "SVG-RAN"
    assert page.evaluate("() => window.svgRan === undefined")
    assert page.locator("svg script").count() == 0  # never inlined as markup
    assert dialogs == []
    page.close()


def test_a_dicom_series_responds_to_its_window_presets(serve, browser, tmp_path):
    """In the browser the series shows as an image whose pixels change with the preset."""
    df.write_series(tmp_path / "ct", count=3, identifying=False)
    case = tmp_path / "case.yaml"
    case.write_text(
        "id: browser-dicom\npatient: {age: 60, sex: F, primary: breast_idc}\n"
        "modalities: [CT]\nfindings: {region: spine, density: lytic}\nimages:\n"
        "  - {file: ct, modality: CT, caption: Axial CT, credit: 'made in the test, CC0'}\n",
        encoding="utf-8")
    url = serve("case_images.py", OSSDX_IMAGE_CASE=str(case))
    page = browser.new_page()
    page.goto(url)
    page.get_by_text("page ready").wait_for(timeout=TIMEOUT_MS)
    image = page.locator("[data-testid='stImage'] img").first
    image.wait_for(timeout=TIMEOUT_MS)
    first = image.get_attribute("src")
    page.get_by_text("bone", exact=True).click()
    page.wait_for_function(
        "(old) => { const i = document.querySelector(\"[data-testid='stImage'] img\");"
        " return i && i.getAttribute('src') !== old && i.naturalWidth > 0; }",
        arg=first, timeout=TIMEOUT_MS)
    assert page.get_by_text("W 1800 / L 400").count() >= 1
    page.close()


# ------------------------------------------------------------------ the unknown-case flow
@pytest.fixture
def image_app(tmp_path: Path) -> Iterator[str]:
    """``ossdx --kb COPY app`` on a free port, serving a knowledge-base copy whose one
    unknown case carries a de-identified DICOM CT series and a labelled drawing; stopped by
    its PID."""
    from image_kb import make_image_kb

    root = make_image_kb(tmp_path / "kb")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "OSSDX_DATABASE_URL"}
    env["OSSDX_DB"] = str(tmp_path / "progress.sqlite3")
    command = [sys.executable, "-m", "ossdx.cli.main", "--kb", str(root), "app",
               "--server.port", str(port), "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    with serving(command, port, tmp_path / "app.log", env=env, cwd=tmp_path) as url:
        yield url


def _pick(page, key: str, option: str | None = None) -> None:
    """Open the selectbox with widget key ``key`` and click ``option`` (typed first, to
    filter a long list), or its first option."""
    box = page.locator(f".st-key-{key.replace('.', '-')} [role=combobox]")
    box.click()
    if option is None:
        page.get_by_role("option").first.click()
    else:
        page.keyboard.type(option)
        page.get_by_role("option", name=option, exact=True).click()
    settle(page, TIMEOUT_MS)


def test_an_unknown_dicom_case_is_read_and_windowed_before_the_commit(image_app, browser):
    """The trainee opens the DICOM case as an unknown case: its series shows as 'Image 1
    (CT)' without its caption or the drawing; a window preset changes the pixels before the
    answer is committed; after the commit the caption and the drawing appear."""
    from image_kb import CAPTION, DRAWING_CAPTION, DRAWING_LABEL

    from ossdx.kb import load_knowledge_base

    metastasis = load_knowledge_base().name_of("metastasis")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{image_app}/trainee")
    name = page.locator(".st-key-learner-name-trainee input")
    name.fill("Ann")
    name.press("Enter")
    settle(page, TIMEOUT_MS)
    _pick(page, "trainee.pick")
    card = page.locator(".st-key-unknown_case")
    image = card.locator("[data-testid='stImage'] img")
    image.first.wait_for()
    assert image.count() == 1
    page.wait_for_function("(i) => i.complete && i.naturalWidth > 0",
                           arg=image.first.element_handle())
    assert card.get_by_text("Image 1 (CT)", exact=False).count() >= 1
    shown = card.inner_text()
    assert CAPTION not in shown and DRAWING_CAPTION not in shown
    assert page.locator("img[src^='data:image/svg+xml']").count() == 0
    before = image.first.get_attribute("src")
    page.locator(".st-key-trainee-images-0-window").get_by_text("bone", exact=True).click()
    page.wait_for_function(
        "(old) => { const i = document.querySelector(\".st-key-unknown_case "
        "[data-testid='stImage'] img\"); return i && i.getAttribute('src') !== old "
        "&& i.complete && i.naturalWidth > 0; }", arg=before)
    assert card.get_by_text("W 1800 / L 400", exact=False).count() >= 1
    commit = page.get_by_role("button", name="Commit my answer")
    assert commit.is_disabled()  # nothing chosen, nothing committed yet

    _pick(page, "trainee.choice.1", metastasis)
    commit.click()
    page.get_by_text("Proven diagnosis").wait_for()
    settle(page, TIMEOUT_MS)
    assert card.get_by_text(CAPTION, exact=False).count() >= 1
    drawing = card.locator("img[src^='data:image/svg+xml']")
    assert drawing.count() == 1
    assert DRAWING_LABEL not in card.inner_text()  # the drawing is an image, not markup
    page.close()


WATCH = """(selector) => {
  window.__imageChanges = 0;
  const target = document.querySelector(selector);
  new MutationObserver((records) => { window.__imageChanges += records.length; })
    .observe(target, {subtree: true, childList: true, attributes: true,
                      characterData: true});
  return !!target;
}"""


def test_answers_in_the_workup_do_not_redraw_the_case_images(image_app, browser):
    """With the DICOM example loaded, answering questions changes nothing inside the
    images above the work-up (they lie outside the work-up's fragment); a window preset
    still redraws them."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{image_app}/examples")
    page.locator(".st-key-example-seed-dicom-sacrum-yaml button").click()
    page.locator(".st-key-leader_workup").wait_for()
    settle(page, TIMEOUT_MS)
    images = ".st-key-workup_images"
    page.locator(f"{images} [data-testid='stImage'] img").first.wait_for()
    skip = page.locator(".st-key-workup-skip_context button")
    if skip.count():
        skip.click()
        skip.wait_for(state="detached")  # the rerun has begun (a loaded machine may be slow)
        settle(page, TIMEOUT_MS)
    # the images themselves: the expander's header swaps its icon once, which is no redraw
    assert page.evaluate(WATCH, f"{images} [data-testid='stExpanderDetails']")
    answered = 0
    for _ in range(3):  # 'not assessed' each time: the next question replaces it
        skips = page.locator(".st-key-question [class*='-skip'] button")
        if not skips.count():
            break
        name = skips.first.evaluate("b => b.closest('[class*=\"st-key-ask-\"]').className")
        key = next(c for c in name.split() if c.startswith("st-key-ask-"))
        skips.first.click()
        page.locator(f".{key}").wait_for(state="detached")
        settle(page, TIMEOUT_MS)
        answered += 1
    assert answered
    assert page.evaluate("window.__imageChanges") == 0
    page.locator(f"{images} .st-key-workup-images-0-window").get_by_text(
        "bone", exact=True).click()
    settle(page, TIMEOUT_MS)
    assert page.evaluate("window.__imageChanges") > 0
    page.close()
