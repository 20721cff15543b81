"""Driving the app in Streamlit's AppTest: the shared helpers of the app tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from conftest import ROOT

APP = str(ROOT / "app.py")


def run(at: AppTest) -> AppTest:
    """Run the app and fail on any exception it raised."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def start(page: str | None = None) -> AppTest:
    """A new session of the app, on ``page`` if given (else the default page)."""
    at = run(AppTest.from_file(APP, default_timeout=60))
    if page is not None:
        at.switch_page(page)
        run(at)
    return at
