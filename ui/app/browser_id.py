"""Each browser's id: 256 random bits in an HttpOnly cookie, set on the app's HTML page (installed by ``ui.app.serve``).

A reload (F5) starts a new Streamlit session with an empty ``st.session_state``; to find the
learner's drawing and active model again (``ui/app/browser_memory.py``) the server needs to know the
browser. Streamlit offers no way to set a cookie from a script, and a query parameter would travel in
every shared link. So a small ASGI middleware, wrapped around Streamlit's own app, adds
``Set-Cookie`` to the answer for the page itself (the HTML the browser loads on every visit or
reload) when the request carries no valid id. The browser then sends the cookie with the websocket
it opens next, where Streamlit keeps it for the session: ``st.context.cookies``.

The cookie is ``HttpOnly`` (no page script reads it), ``SameSite=Lax``, ``Path=/``, ``Secure`` when
Streamlit itself serves HTTPS, and has no expiry date: it ends when the browser closes, so on a shared
classroom computer the next learner does not inherit the last one's work.
"""
from __future__ import annotations

import re
import secrets

COOKIE = "cnn_explorer_browser"
_VALID = re.compile(r"[A-Za-z0-9_-]{43}")      # secrets.token_urlsafe(32): 32 bytes → 43 characters


def new_id() -> str:
    return secrets.token_urlsafe(32)


def is_valid(value: object) -> bool:
    return isinstance(value, str) and _VALID.fullmatch(value) is not None


def cookie_from_header(header: str) -> str | None:
    """The id in a ``Cookie:`` request header, if there is a valid one."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and is_valid(value.strip('"')):
            return value.strip('"')
    return None


def set_cookie_header(value: str, secure: bool = False) -> bytes:
    return (f"{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")).encode("latin-1")


def _header(headers, name: bytes) -> bytes | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


class BrowserIdCookie:
    """ASGI middleware: give a browser without a valid id one, on the HTML page's answer only.

    Only the page (a ``text/html`` answer, or any answer to a top-level navigation, such as a 304 for
    a cached page) gets the cookie: the page is fetched first, so the scripts, styles and the websocket
    that follow already carry it, and the many asset requests of a first visit never race to set
    different ids.
    """

    def __init__(self, app, secure: bool = False):
        self.app = app
        self.secure = secure

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or ()
        if cookie_from_header((_header(headers, b"cookie") or b"").decode("latin-1")):
            await self.app(scope, receive, send)
            return
        navigation = (_header(headers, b"sec-fetch-dest") or b"") == b"document"

        async def send_with_cookie(message) -> None:
            if message.get("type") == "http.response.start":
                out = list(message.get("headers") or ())
                ctype = (_header(out, b"content-type") or b"").lower()
                if ctype.startswith(b"text/html") or navigation:
                    out.append((b"set-cookie", set_cookie_header(new_id(), self.secure)))
                    message = {**message, "headers": out}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def install() -> None:
    """Add the middleware to the app Streamlit builds (call before the server starts)."""
    from starlette.middleware import Middleware
    from streamlit import config
    from streamlit.web.server.starlette import starlette_app

    original = starlette_app.create_streamlit_middleware
    if getattr(original, "browser_id", False):
        return

    def create():
        secure = bool(config.get_option("server.sslCertFile"))
        return [*original(), Middleware(BrowserIdCookie, secure=secure)]

    create.browser_id = True
    starlette_app.create_streamlit_middleware = create


def current() -> str | None:
    """This session's browser id (read from the websocket's request), or None (AppTest, cookies off)."""
    import streamlit as st

    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this session (AppTest, a bare script run): no id, nothing kept
        return None
    return value if is_valid(value) else None
