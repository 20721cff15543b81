"""A sign of life before Streamlit's frontend has loaded.

Streamlit's HTML page is an empty ``<div id="root">`` until about a megabyte of JavaScript has
been fetched and run (0.5-0.9 s on a two-core machine, before the app can send anything).
:class:`BootIndicator`, an ASGI middleware given to ``st.App`` (``ui/serve.py``), writes a
"Starting ossdx" line and an indeterminate progress bar into that div, so the first paint
already says that the app is loading; React replaces the div's contents with the app when it
mounts. Only HTML pages are touched; assets, the WebSocket and ``/_stcore`` pass unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EMPTY_ROOT = b'<div id="root"></div>'
INDICATOR = (
    '<div id="root"><div id="ossdx-boot" role="status" style="font-family:system-ui,'
    'sans-serif;color:#31333f;max-width:36rem;margin:5rem auto;padding:0 1.5rem">'
    '<p style="font-size:1.1rem;margin:0 0 .75rem">Starting ossdx\u2026</p>'
    '<progress aria-label="Loading the app" style="width:100%"></progress>'
    '</div></div>').encode()
#: Paths that are never an HTML page of the app.
PASS_THROUGH = ("/_stcore", "/static", "/media", "/component", "/app/static", "/auth", "/oauth2")


def _is_page_request(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    last = path.rsplit("/", 1)[-1]
    return (scope.get("type") == "http" and scope.get("method") == "GET"
            and "." not in last and not path.startswith(PASS_THROUGH))


class BootIndicator:
    """ASGI middleware: HTML pages get :data:`INDICATOR` in place of the empty root."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_page_request(scope):
            await self.app(scope, receive, send)
            return
        # the page is small (8 kB): ask for it uncompressed, so that it can be edited
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        start: Message = {}
        chunks: list[bytes] = []

        async def edit(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body, response = b"".join(chunks), list(start.get("headers", []))
            if _is_html(response) and EMPTY_ROOT in body:
                body = body.replace(EMPTY_ROOT, INDICATOR, 1)
                response = [(k, v) for k, v in response
                            if k.lower() not in (b"content-length", b"etag")]
                response.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": response})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app({**scope, "headers": headers}, receive, edit)


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.lower().startswith(b"text/html")
               for k, v in headers)
