"""The app in a real browser: Debian's headless chromium driven by Playwright.

Each knowledge base gets its own ``streamlit run`` server on a free port, started once for
this module and stopped by its PID. Without /usr/bin/chromium (or the playwright package)
the tests are skipped with the reason, unless OSSDX_REQUIRE_BROWSER=1 makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import load_case

from conftest import KB_DIR, ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCHMORL = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"
XSS = "<img src=x onerror=alert(1)>"
SCREENSHOT = ROOT / "docs" / "images" / "workup.png"  # written when OSSDX_UPDATE_SCREENSHOT=1
TIMEOUT_MS = 30_000


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module", autouse=True)
def require_browser() -> None:
    reason = _missing_browser()
    if reason is None:
        return
    if os.environ.get("OSSDX_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (OSSDX_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


# ------------------------------------------------------------------ servers
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``streamlit run app.py`` on a free port, serving one knowledge-base folder."""

    def __init__(self, kb_root: Path, log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "OSSDX_KB": str(kb_root)}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                 "--server.headless", "true", "--server.address", "127.0.0.1",
                 "--server.port", str(self.port), "--browser.gatherUsageStats", "false"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"streamlit exited early:\n{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.read().strip() == b"ok":
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"streamlit did not become healthy:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the server this test started (by its PID)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory) -> Iterator[Server]:
    server = Server(KB_DIR, tmp_path_factory.mktemp("server") / "streamlit.log")
    yield server
    server.stop()


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
    server = Server(xss_kb, tmp_path_factory.mktemp("server-xss") / "streamlit.log")
    yield server
    server.stop()


# ------------------------------------------------------------------ browser
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000},
                                  accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def settle(page) -> None:
    """Wait until the app has finished its current run (as Streamlit's own e2e tests do)."""
    page.wait_for_timeout(200)
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


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
    page.locator(".st-key-question").wait_for()
    for modality in sorted(case.modalities):
        choose(page, "context.modalities", kb.vocabulary.modalities[modality].name)
    choose(page, "patient.primary", kb.label_of("patient.primary", case.patient["primary"]))
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
    page.set_viewport_size({"width": 1440, "height": 1400})
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
