"""Checks on what a teacher or student types: names, labels, lifetimes, pushed links.

Text is kept verbatim (the UI shows it literally); only surrounding spaces are trimmed and control
characters refused (a NUL cannot even be stored in PostgreSQL text).
"""
from __future__ import annotations

import math
import unicodedata
from urllib.parse import urlsplit

from cnn_core import limits
from cnn_core.classroom.errors import ClassLimitError

MAX_PUSH_URL_CHARS = 2000
MAX_PUSH_TITLE_CHARS = 120


def _no_controls(text: str, what: str) -> None:
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ClassLimitError(f"{what} cannot contain control characters such as line breaks.")


def text(value, what: str, cap: int, required: bool = True) -> str:
    """``value`` trimmed; ClassLimitError when empty (if required), too long or with control chars."""
    s = "" if value is None else str(value).strip()
    if required and not s:
        raise ClassLimitError(f"{what} cannot be empty.")
    if len(s) > cap:
        raise ClassLimitError(f"{what} has {len(s)} characters; the cap is {cap}.")
    _no_controls(s, what)
    return s


def class_name(value) -> str:
    return text(value, "The class name", limits.MAX_CLASS_NAME_CHARS)


def nickname(value) -> str:
    """A nickname; empty means "let the store pick Student N"."""
    return text(value, "The nickname", limits.MAX_NICKNAME_CHARS, required=False)


def labels(values) -> list[str]:
    """2–10 distinct, non-empty label names (compared without case, so "Cat" and "cat" clash)."""
    names = [text(v, "A label", limits.MAX_LABEL_CHARS) for v in (values or [])]
    if not 2 <= len(names) <= 10:
        raise ClassLimitError(f"A class needs 2 to 10 labels; {len(names)} were given.")
    folded = [n.casefold() for n in names]
    if len(set(folded)) != len(folded):
        dup = next(n for i, n in enumerate(names) if folded[i] in folded[:i])
        raise ClassLimitError(f"The label {dup!r} appears twice; each label must be different.")
    return names


def lifetime_hours(value) -> float:
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise ClassLimitError("The class lifetime must be a number of hours.") from None
    if not math.isfinite(hours) or hours <= 0:
        raise ClassLimitError("The class lifetime must be more than 0 hours.")
    if hours > limits.MAX_CLASS_HOURS:
        raise ClassLimitError(f"A class lasts at most {limits.MAX_CLASS_HOURS} hours; {hours:g} were asked.")
    return hours


def push_url(url) -> str:
    """A same-site path: "/" + path + optional query. No scheme, no "//host", no backslash, no control."""
    s = "" if url is None else str(url)
    if not s.startswith("/") or s.startswith("//") or "\\" in s:
        raise ClassLimitError("Only a page of this app can be sent to the class (a link starting with one /).")
    if len(s) > MAX_PUSH_URL_CHARS:
        raise ClassLimitError(f"The link has {len(s)} characters; the cap is {MAX_PUSH_URL_CHARS}.")
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch.isspace() for ch in s):
        raise ClassLimitError("The link cannot contain spaces or control characters.")
    parts = urlsplit(s)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        raise ClassLimitError("Only a page of this app can be sent to the class (a link starting with one /).")
    return s


def push_title(title) -> str:
    return text(title, "The title", MAX_PUSH_TITLE_CHARS, required=False)
