"""ui.app.static_cache: Streamlit's front-end files from memory, gzip-compressed once (issue 10)."""
from __future__ import annotations

import gzip
import re
import urllib.request

import pytest

from tests.own_loop import run_coroutine
from ui.app.static_cache import StaticCache

JS = b"export const x = 1;\n" * 400            # compressible, 8 KB
PAGE = b"<html>" + b"<p>app</p>" * 200 + b"</html>"


class FakeStatic:
    """Streamlit's static handler, as far as the cache sees it: a hashed asset, the page, a 206 and a
    fallback page for unknown paths (served as no-cache); counts the requests it answers."""

    def __init__(self):
        self.calls = 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        path = scope["path"]
        headers = dict(scope.get("headers", ()))
        if path == "/static/js/index.abc.js":
            status, body, extra = 200, JS, [(b"cache-control", b"public, immutable, max-age=31536000"),
                                            (b"content-type", b"text/javascript; charset=utf-8"), (b"etag", b'"e1"')]
            if b"range" in headers:
                status, body = 206, JS[:10]
        else:
            status, body, extra = 200, PAGE, [(b"cache-control", b"no-cache"), (b"content-type", b"text/html")]
        await send({"type": "http.response.start", "status": status,
                    "headers": extra + [(b"content-length", str(len(body)).encode())]})
        for i in range(0, len(body), 1000):                  # in pieces, as FileResponse sends a file
            await send({"type": "http.response.body", "body": body[i:i + 1000], "more_body": i + 1000 < len(body)})


def get(app, path, method="GET", **headers):
    scope = {"type": "http", "method": method, "path": path,
             "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    run_coroutine(app(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    hdrs = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], hdrs, body


def test_an_asset_is_read_once_then_served_from_memory_gzipped_for_browsers_that_accept_it():
    inner = FakeStatic()
    app = StaticCache(inner)
    status, headers, body = get(app, "/static/js/index.abc.js", accept_encoding="gzip, deflate, br")
    assert (status, body, inner.calls) == (200, JS, 1)             # the first answer is Streamlit's own
    status, headers, body = get(app, "/static/js/index.abc.js", accept_encoding="gzip, deflate, br")
    assert inner.calls == 1 and status == 200                       # the second never reached Streamlit
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == JS
    assert int(headers["content-length"]) == len(body) < len(JS) / 5
    assert headers["cache-control"].startswith("public, immutable") and headers["etag"] == '"e1"'
    assert headers["vary"] == "Accept-Encoding"
    status, headers, body = get(app, "/static/js/index.abc.js")     # a client without gzip gets the bytes
    assert body == JS and "content-encoding" not in headers and inner.calls == 1
    status, headers, body = get(app, "/static/js/index.abc.js", method="HEAD", accept_encoding="gzip")
    assert body == b"" and int(headers["content-length"]) > 0 and inner.calls == 1


def test_ranges_conditionals_and_unknown_paths_still_go_to_streamlit():
    inner = FakeStatic()
    app = StaticCache(inner)
    get(app, "/static/js/index.abc.js")
    status, _, body = get(app, "/static/js/index.abc.js", range="bytes=0-9")
    assert (status, body, inner.calls) == (206, JS[:10], 2)
    get(app, "/static/js/index.abc.js", if_none_match='"e1"')
    assert inner.calls == 3
    for _ in range(3):                  # a made-up path gets the page (deep links) but is never kept
        assert get(app, "/no/such/file")[2] == PAGE
    assert inner.calls == 6 and set(app.entries) == {"/static/js/index.abc.js"}
    get(app, "/"), get(app, "/")        # the app's own page is kept
    assert inner.calls == 7 and "/" in app.entries


def test_memory_is_bounded():
    inner = FakeStatic()
    app = StaticCache(inner, max_file=len(JS) - 1)
    get(app, "/static/js/index.abc.js"), get(app, "/static/js/index.abc.js")
    assert inner.calls == 2 and not app.entries and app.total == 0      # larger than one file may be
    app = StaticCache(inner, max_total=100)
    get(app, "/static/js/index.abc.js"), get(app, "/")
    assert not app.entries and app.total == 0


def test_the_real_server_serves_its_front_end_from_memory():
    """`make run`'s server: index.html's files come back whole, gzip-compressed once in memory."""
    from tests.browser.conftest import streamlit_server

    with streamlit_server("static_cache.log") as url:
        html = urllib.request.urlopen(url + "/").read().decode()
        assets = re.findall(r'(?:src|href)="\./(static/[^"]+)"', html)
        assert len(assets) > 10
        from streamlit import file_util

        main = next(a for a in assets if re.fullmatch(r"static/js/index\.[^/]+\.js", a))     # the main bundle
        on_disk = file_util.get_static_dir() + "/" + main
        for _ in range(2):
            with urllib.request.urlopen(urllib.request.Request(f"{url}/{main}",
                                                               headers={"Accept-Encoding": "gzip"})) as r:
                body, encoding = r.read(), r.headers.get("Content-Encoding")
        assert encoding == "gzip" and gzip.decompress(body) == open(on_disk, "rb").read()
        with urllib.request.urlopen(urllib.request.Request(f"{url}/{main}", headers={"Range": "bytes=0-99"})) as r:
            assert r.status == 206 and len(r.read()) == 100
        with pytest.raises(urllib.error.HTTPError):            # Streamlit's own checks still apply
            urllib.request.urlopen(url + "/static/../../etc/passwd")
