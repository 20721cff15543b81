"""What the browser tests share: Debian's chromium, skipping (or failing, when
OSSDX_REQUIRE_BROWSER=1) without it, the ``browser`` and ``page`` fixtures (conftest.py
offers them to every test module), and waiting for the run that an action started."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 30_000  # what a browser test waits for any one thing


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    """Skip the calling test without a browser; fail it instead when OSSDX_REQUIRE_BROWSER=1
    (as .ci/run sets), so that a browser test is never skipped in CI."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("OSSDX_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (OSSDX_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")

# Resolves once the app shows a script run (or has one going), or after ``ms`` without one.
_RUN_SHOWN = """(ms) => new Promise(resolve => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app) return resolve(false);
  if (app.dataset.testScriptState === 'running') return resolve(true);
  const seen = new MutationObserver(() => {
    if (app.dataset.testScriptState === 'running') { seen.disconnect(); resolve(true); }
  });
  seen.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  setTimeout(() => { seen.disconnect(); resolve(false); }, ms);
})"""


def settle(page, timeout_ms: float | None = None) -> None:
    """Wait until the app has finished the run that the last action started. On a loaded
    machine that run may begin a few hundred milliseconds after the action, so first wait
    (up to a second) for a run to show, then for the app to be idle, as Streamlit's own
    end-to-end tests do."""
    page.evaluate(_RUN_SHOWN, 1000)
    idle = page.locator("[data-testid=stApp][data-test-script-state=notRunning]")
    if timeout_ms is None:
        idle.wait_for()
    else:
        idle.wait_for(timeout=timeout_ms)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, for the tests of one module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh tab at 1440 x 1000 in its own context (no cookies shared between tests)."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000},
                                  accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()
