"""Links a teacher can share: each page's settings in the address (st.query_params).

A page lists its settings as fields (session-state key → how to read it from text). When a learner
lands on the page (a new session, a reload, or coming from another page), ``restore`` puts the
link's values into session state before any widget is drawn; a value that cannot be used (a
tampered or outdated link) is left at its default and named in one message. At the end of every
run ``publish`` writes the page's current settings back, so the address bar is always a link to
what is on screen. Drawings and uploaded files cannot travel in a link; they stay in the session.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

LANDED = "_links_landed"      # set by app.py: True on the first run of a page after another page
KEEP = ("run", "sweep")       # ids that the Train and Sweep pages put in the address themselves
# Class mode's secrets travel only in the teacher link and the join link: never in a shared or pushed link.
SECRET_PARAMS = ("teacher", "join", "token")


@dataclass(frozen=True)
class Field:
    key: str                                  # the session-state key, also the name in the address
    read: Callable[[str], Any]                # text → value; raises ValueError for a value it cannot use
    write: Callable[[Any], str] = str


def choice(options) -> Callable[[str], Any]:
    """One of ``options`` (compared as text, so numbers and words both work)."""
    opts = list(options)

    def read(text: str):
        for o in opts:
            if str(o) == text:
                return o
        raise ValueError(text)
    return read


def integer(lo: int, hi: int) -> Callable[[str], int]:
    def read(text: str) -> int:
        v = int(text)
        if not lo <= v <= hi:
            raise ValueError(text)
        return v
    return read


def number(lo: float, hi: float) -> Callable[[str], float]:
    def read(text: str) -> float:
        v = float(text)
        if not (math.isfinite(v) and lo <= v <= hi):
            raise ValueError(text)
        return v
    return read


def text(max_len: int = 500) -> Callable[[str], str]:
    def read(t: str) -> str:
        if len(t) > max_len:
            raise ValueError(t[:20])
        return t
    return read


def boolean(t: str) -> bool:
    if t not in ("true", "false"):
        raise ValueError(t)
    return t == "true"


def write_bool(v) -> str:
    return "true" if v else "false"


def landed(page: str) -> bool:
    """Is this the first run of ``page`` since the learner came to it? (A page run on its own, as in
    AppTest, counts its first run.)"""
    if LANDED in st.session_state:
        return bool(st.session_state[LANDED])
    first = not st.session_state.get(f"_links_seen_{page}")
    st.session_state[f"_links_seen_{page}"] = True
    return first


def _stash(page: str) -> str:
    return f"_links_kept_{page}"


def restore(page: str, fields: list[Field]) -> set[str]:
    """On landing: the link's values into session state; returns the keys restored. Unusable values
    are named in one warning and left at their defaults.

    Coming back from another page through the sidebar, the address carries no settings: the page's
    settings as they were when the learner left it (kept by ``publish``) come back instead, so nothing
    set on a page is lost by a visit elsewhere."""
    if not landed(page):
        return set()
    source = {f.key: st.query_params.get(f.key) for f in fields if st.query_params.get(f.key) is not None}
    from_link = bool(source)
    if not from_link:
        source = dict(st.session_state.get(_stash(page), {}))
    done, bad = set(), []
    for f in fields:
        raw = source.get(f.key)
        if raw is None:
            continue
        try:
            st.session_state[f.key] = f.read(raw)
            done.add(f.key)
        except (ValueError, TypeError, OverflowError):
            bad.append(f"{f.key}={raw[:30]}")
    if not from_link:
        return set()          # the learner's own settings, not a link: the page's first-visit logic may run
    if bad:
        st.warning(f"This link has settings this page cannot use ({', '.join(bad)}); they are back to their "
                   "defaults.", icon=":material/link_off:")
    return done


def keep_valid(key: str, options) -> None:
    """Drop a value of ``key`` that is not among ``options`` (a link's class or layer that this model
    does not have): the widget then shows its default, and one warning says so. For choices that are
    only known while the page runs; call it before the widget is drawn."""
    opts = list(options)
    if key in st.session_state and st.session_state[key] not in opts:
        bad = st.session_state.pop(key)
        st.warning(f"This link has a setting this page cannot use now ({key}={str(bad)[:30]}); it is back to its "
                   "default.", icon=":material/link_off:")


def publish(page: str, fields: list[Field]) -> None:
    """Write the page's current settings into the address (and nothing of other pages), and keep them
    for the learner's next visit to the page in this session."""
    params = {k: st.query_params[k] for k in KEEP if k in st.query_params}
    for f in fields:
        if f.key in st.session_state and st.session_state[f.key] is not None:
            try:
                params[f.key] = f.write(st.session_state[f.key])
            except (TypeError, ValueError):
                continue
    st.session_state[_stash(page)] = {k: v for k, v in params.items() if k not in KEEP}
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


# The address bar is the link: publish() keeps it current, also after a fragment's rerun, which the
# server-side page cannot see. So the button reads it in the browser at the moment it is pressed; where
# the clipboard is not available (plain http to a classroom server), the link is shown to copy by hand.
_SHARE_HTML = """
<div data-testid="cnnx-share" style="display:flex;flex-direction:column;gap:.35rem">
<button type="button" id="cnnx-copy-link" style="border:1px solid rgba(128,128,128,.45);border-radius:.5rem;
 padding:.4rem .7rem;background:transparent;color:inherit;font:inherit;cursor:pointer;text-align:left">
 <svg width="14" height="14" viewBox="0 0 24 24" aria-hidden="true" style="vertical-align:-2px;margin-right:.4rem">
 <path fill="currentColor" d="M3.9 12a3.1 3.1 0 0 1 3.1-3.1h4V7H7a5 5 0 0 0 0 10h4v-1.9H7A3.1 3.1 0 0 1 3.9 12zM8 13h8v-2H8v2zm9-6h-4v1.9h4a3.1 3.1 0 0 1 0 6.2h-4V17h4a5 5 0 0 0 0-10z"/>
 </svg>Copy link to this view</button>
<input id="cnnx-link-text" readonly aria-label="Link to this view" style="display:none;width:100%;
 font-size:.8rem;padding:.25rem;border:1px solid rgba(128,128,128,.45);border-radius:.35rem;
 background:transparent;color:inherit">
<span id="cnnx-copy-note" style="font-size:.8rem;opacity:.75">Opens this page with these settings; a drawing
 or an uploaded file stays in your own session.</span>
</div>
<script>
(function () {
  const button = document.getElementById("cnnx-copy-link");
  const field = document.getElementById("cnnx-link-text");
  const note = document.getElementById("cnnx-copy-note");
  if (!button || button.dataset.ready) return;
  button.dataset.ready = "1";
  button.addEventListener("click", function () {
    const url = new URL(window.location.href);
    ["teacher", "join", "token"].forEach(function (k) { url.searchParams.delete(k); });
    const link = url.toString();
    field.value = link;
    const shown = function () {
      field.style.display = "block"; field.focus(); field.select();
      note.textContent = "Copy the link above (Ctrl+C / Cmd+C).";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link).then(function () {
        note.textContent = "Link copied: paste it to share this view.";
        watch(link);
      }, function () { shown(); watch(link); });
    } else { shown(); watch(link); }
  });
  // The note and the link shown to copy describe one address: once a setting changes it (publish()
  // rewrites the address bar), they are out of date and go back to the plain note.
  const plain = note.textContent;
  let timer = null;
  function watch(link) {
    if (timer) clearInterval(timer);
    timer = setInterval(function () {
      if (window.location.href === link) return;
      clearInterval(timer); timer = null;
      note.textContent = plain; field.style.display = "none"; field.value = "";
    }, 400);
  }
})();
</script>
"""


def shareable_path(url_path: str, drop: tuple[str, ...] = ()) -> str:
    """The same-site link to the page at ``url_path`` with its current settings ("/convolution?conv_…"),
    without class mode's secrets (nor the parameters in ``drop``): what "Show this to the class" sends."""
    from urllib.parse import urlencode

    params = {k: v for k, v in st.query_params.to_dict().items() if k not in SECRET_PARAMS + tuple(drop)}
    path = "/" + url_path.strip("/")
    return path + ("?" + urlencode(params) if params else "")


SHARE_KEY = "cnnx_share"
# The button is drawn first (see app.py) and shown last in the sidebar, below the page's own controls.
_SHARE_CSS = (f"<style>[data-testid='stSidebarUserContent'] [data-testid='stVerticalBlock'] > "
              f":has(> .st-key-{SHARE_KEY}), .st-key-{SHARE_KEY}{{order:99}}</style>")


def share_control() -> None:
    """The sidebar's "Copy link to this view" button. Call it before the page runs: a page that stops
    early (st.stop) sends nothing more in that run."""
    with st.sidebar.container(key=SHARE_KEY):
        st.html(_SHARE_CSS + _SHARE_HTML, unsafe_allow_javascript=True)
