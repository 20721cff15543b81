"""Waiting for the app in the browser tests: the run that an action started, to its end."""

from __future__ import annotations

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
