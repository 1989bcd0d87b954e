"""Streamlit's front-end files served from memory, gzip-compressed once (installed by ``ui.app.serve``).

A browser's first visit fetches ``index.html`` and the 62 files it names (2.3 MB), and later the
chunks a page needs (Plotly's alone is 4.7 MB). Streamlit's static handler reads each file from disk
in 64 KB pieces, each through a worker thread, and sends it uncompressed: measured here, about
120 ms of the server's CPU per first visit, which thirty students arriving together pay at once,
on the core that also answers their drawings. This wrapper keeps each file's first complete answer
(status, headers, body) in memory, with a gzip copy made once, and replays it in one piece:
the same headers Streamlit chose (cache lifetime, content type, ETag), plus ``Content-Encoding:
gzip`` when the browser accepts it. Conditional and range requests, other methods, and anything
that is not a plain 200 still go to Streamlit's handler. Only the hashed assets (served as
``immutable``) and ``/`` are kept, so made-up paths (answered with the page, for deep links) never
fill the memory.

Memory is bounded (``MAX_FILE_BYTES`` per file, ``MAX_TOTAL_BYTES`` in all); Streamlit's static
folder is read-only package content, so a kept answer never goes stale while the server runs.
"""
from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass

MAX_FILE_BYTES = 16 * 2 ** 20
MAX_TOTAL_BYTES = 96 * 2 ** 20        # Streamlit 1.67's static folder holds 26 MB
MIN_GZIP_BYTES = 1024
_COMPRESSIBLE = (b"text/", b"application/javascript", b"application/json", b"image/svg", b"application/manifest")
_PASS_THROUGH = (b"range", b"if-none-match", b"if-modified-since", b"if-range")


@dataclass(frozen=True)
class _Entry:
    status: int
    headers: list[tuple[bytes, bytes]]        # without content-length / content-encoding
    body: bytes
    gz: bytes | None                          # gzip of body, when worth it

    @property
    def nbytes(self) -> int:
        return len(self.body) + len(self.gz or b"")


def _header(headers, name: bytes) -> bytes | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _accepts_gzip(headers) -> bool:
    value = _header(headers, b"accept-encoding") or b""
    return any(part.split(b";")[0].strip() in (b"gzip", b"*") and not part.replace(b" ", b"").endswith(b"q=0")
               for part in value.lower().split(b","))


class StaticCache:
    """ASGI wrapper around Streamlit's static-files app."""

    def __init__(self, app, max_total: int = MAX_TOTAL_BYTES, max_file: int = MAX_FILE_BYTES):
        self.app = app
        self.max_total, self.max_file = max_total, max_file
        self.entries: dict[str, _Entry] = {}
        self.total = 0
        self.lock = threading.Lock()

    def __getattr__(self, name):              # behave like the wrapped handler for anything else
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD") \
                or any(_header(scope.get("headers", ()), h) is not None for h in _PASS_THROUGH):
            await self.app(scope, receive, send)
            return
        key = scope.get("path", "")
        entry = self.entries.get(key)
        if entry is None:
            await self._fill(key, scope, receive, send)
            return
        await self._replay(entry, scope, send)

    async def _replay(self, entry: _Entry, scope, send) -> None:
        gz = entry.gz is not None and _accepts_gzip(scope.get("headers", ()))
        body = entry.gz if gz else entry.body
        headers = entry.headers + [(b"content-length", str(len(body)).encode())]
        if entry.gz is not None:
            headers.append((b"vary", b"Accept-Encoding"))
        if gz:
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    async def _fill(self, key: str, scope, receive, send) -> None:
        """Let Streamlit answer, passing everything through, and keep a complete 200 answer."""
        start: dict | None = None
        chunks: list[bytes] = []
        size = 0
        keep = scope["method"] == "GET"

        async def tee(message) -> None:
            nonlocal start, size, keep
            if message["type"] == "http.response.start":
                start = message
                keep = keep and message.get("status") == 200 and \
                    _header(message.get("headers", ()), b"content-encoding") is None
            elif message["type"] == "http.response.body" and keep:
                size += len(message.get("body", b""))
                if size > self.max_file:
                    keep, chunks[:] = False, []
                else:
                    chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and keep:
                    self._store(key, start, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, tee)

    def _store(self, key: str, start: dict, body: bytes) -> None:
        headers = [(k, v) for k, v in start.get("headers", ())
                   if k.lower() not in (b"content-length", b"content-encoding", b"vary")]
        cache = (_header(headers, b"cache-control") or b"").lower()
        if key != "/" and b"immutable" not in cache:
            return      # only hashed assets and the app's own page: an unknown path's fallback page is not kept
        length = _header(start.get("headers", ()), b"content-length")
        if length is not None and int(length) != len(body):
            return                              # not the whole file: never keep a partial answer
        ctype = (_header(headers, b"content-type") or b"").lower()
        gz = None
        if len(body) >= MIN_GZIP_BYTES and ctype.startswith(_COMPRESSIBLE):
            packed = gzip.compress(body, compresslevel=6, mtime=0)
            gz = packed if len(packed) < 0.9 * len(body) else None
        entry = _Entry(int(start.get("status", 200)), headers, body, gz)
        with self.lock:
            if key in self.entries or self.total + entry.nbytes > self.max_total:
                return
            self.entries[key] = entry
            self.total += entry.nbytes


def install() -> None:
    """Wrap the handler Streamlit builds for its static folder (call before the server starts)."""
    from streamlit.web.server.starlette import starlette_static_routes as routes

    original = routes.create_streamlit_static_handler
    if getattr(original, "cached", False):
        return

    def create(directory: str, base_url: str | None):
        return StaticCache(original(directory=directory, base_url=base_url))

    create.cached = True
    routes.create_streamlit_static_handler = create
