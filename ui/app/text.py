"""User text (nicknames, class names, labels) shown as text, never as markdown or HTML.

Streamlit renders markdown in st.markdown, st.caption, headers and most widget labels. ``literal``
escapes a string for those places: every ASCII punctuation mark gets a backslash (CommonMark shows
it as itself), so ``**[click](http://evil)**`` stays those characters and ``<img src=x onerror=…>``
stays text. Streamlit's own ``:shortcode:`` and ``:red[…]`` syntax is parsed after the escapes, so a
zero-width space after each colon keeps ``:material/x:`` from becoming an icon. Line breaks become
spaces (a nickname is one line).
"""
from __future__ import annotations

import re
import string

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_SPACES = re.compile(r"\s+")
ZWSP = "\u200b"


def literal(s) -> str:
    """``s`` escaped for markdown, to show exactly as typed inside a caption or a label."""
    text = _SPACES.sub(" ", "" if s is None else str(s))
    return _PUNCT.sub(r"\\\1", text).replace(":", ":" + ZWSP)


def shorten(s, n: int) -> str:
    """``s`` cut to ``n`` characters with an ellipsis (before escaping)."""
    s = "" if s is None else str(s)
    return s if len(s) <= n else s[: max(1, n - 1)] + "…"
