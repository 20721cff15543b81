"""The "Starting ossdx" line: in the HTML page that ``ossdx app`` serves, visible before
Streamlit's JavaScript has loaded, and replaced by the app (ui/boot.py, ui/serve.py)."""

from __future__ import annotations

import asyncio
import gzip
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import streamlit
from browser_support import CHROMIUM, CHROMIUM_ARGS, require_browser
from test_app_command import start_app, stop

from ossdx.ui.boot import EMPTY_ROOT, INDICATOR, BootIndicator

PAGE = b"<html><head><title>Streamlit</title></head><body>" + EMPTY_ROOT + b"</body></html>"


def serve(path: str, body: bytes, content_type: bytes, method: str = "GET",
          accept_gzip: bool = True) -> tuple[dict[bytes, bytes], bytes, list[bytes]]:
    """Run the middleware around an app that answers ``body`` (gzipped when asked);
    returns the response's headers and body, and the request's header names as the inner
    app saw them."""
    seen: list[bytes] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.extend(k for k, _ in scope["headers"])
        zipped = any(k == b"accept-encoding" for k, _ in scope["headers"])
        data = gzip.compress(body) if zipped else body
        headers = [(b"content-type", content_type), (b"content-length", str(len(data)).encode()),
                   (b"etag", b'"abc"')] + ([(b"content-encoding", b"gzip")] if zipped else [])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        half = len(data) // 2  # in two chunks, as a streaming response may send it
        await send({"type": "http.response.body", "body": data[:half], "more_body": True})
        await send({"type": "http.response.body", "body": data[half:], "more_body": False})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    headers = [(b"host", b"x")] + ([(b"accept-encoding", b"gzip")] if accept_gzip else [])
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    asyncio.run(BootIndicator(inner)(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return dict(start["headers"]), body_out, seen


def test_a_page_gets_the_indicator_with_a_correct_length():
    """The app's pages (/ and a page's path) come uncompressed with the indicator in the
    empty root, and their length is the new one; the old ETag is dropped."""
    for path in ("/", "/examples"):
        headers, body, seen = serve(path, PAGE, b"text/html; charset=utf-8")
        assert INDICATOR in body and EMPTY_ROOT not in body
        assert b"Starting ossdx" in body
        assert int(headers[b"content-length"]) == len(body)
        assert b"etag" not in headers and b"content-encoding" not in headers
        assert b"accept-encoding" not in seen


def test_assets_the_websocket_paths_and_other_requests_pass_unchanged():
    """Scripts, Streamlit's own endpoints, media, posts and non-HTML answers are untouched
    (still compressed when the browser asked for it)."""
    cases = [("/static/js/index.js", b"text/javascript"), ("/_stcore/health", b"text/plain"),
             ("/media/abc.png", b"image/png"), ("/favicon.png", b"image/png"),
             ("/oauth2callback", b"text/html")]
    for path, content_type in cases:
        headers, body, seen = serve(path, PAGE, content_type)
        assert gzip.decompress(body) == PAGE and headers[b"etag"] == b'"abc"', path
        assert b"accept-encoding" in seen, path
    headers, body, _ = serve("/", PAGE, b"text/html", method="POST")
    assert gzip.decompress(body) == PAGE
    headers, body, _ = serve("/kb", b'{"a": 1}', b"application/json")
    assert body == b'{"a": 1}' and headers[b"etag"] == b'"abc"'


def test_a_page_without_the_empty_root_is_left_as_it_is():
    """Another HTML answer (an error page, say) is passed on unchanged, uncompressed."""
    page = b"<html><body><h1>404</h1></body></html>"
    headers, body, _ = serve("/missing", page, b"text/html")
    assert body == page and int(headers[b"content-length"]) == len(page)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Any:
    tmp = tmp_path_factory.mktemp("boot")
    process, port, _log = start_app(tmp)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def test_ossdx_app_serves_its_pages_with_the_indicator_and_assets_as_they_are(app_url):
    """The real server: the HTML page of / and of a page carries the indicator; a script of
    Streamlit's frontend arrives byte for byte as installed."""
    for path in ("/", "/examples"):
        with urllib.request.urlopen(app_url + path, timeout=10) as reply:
            page = reply.read()
        assert INDICATOR in page, path
    static = Path(streamlit.__file__).parent / "static"
    script = next((static / "static" / "js").glob("index.*.js"))
    with urllib.request.urlopen(f"{app_url}/static/js/{script.name}", timeout=10) as reply:
        assert reply.read() == script.read_bytes()


def test_in_chromium_the_indicator_shows_first_and_the_app_replaces_it(app_url):
    """In a real browser the indicator is on screen before the app has drawn anything, and
    is gone once the app's navigation and page are there."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app_url, wait_until="commit")
            shown = page.wait_for_function(
                "() => { const b = document.getElementById('ossdx-boot');"
                " if (b && b.getBoundingClientRect().height > 0) return 'indicator';"
                " const m = document.querySelector('[data-testid=stMain]');"
                " return m && m.innerText.trim() ? 'app' : false; }", polling=10,
                timeout=30_000).json_value()
            assert shown == "indicator"
            assert page.get_by_role("status").filter(has_text="Starting ossdx").count() == 1
            page.locator("[data-testid=stSidebarNav]").wait_for(timeout=60_000)
            page.get_by_role("heading", name="Work-up").wait_for(timeout=60_000)
            assert page.locator("#ossdx-boot").count() == 0
        finally:
            browser.close()
