"""Join codes, teacher keys and student tokens, and the join-attempt limiter.

A code is what a class reads off the board, so it avoids look-alikes (no 0/O, 1/I/L) and is shown
with a dash. Keys and tokens are bearer secrets: the database keeps only their SHA-256, so a
leaked database file opens no class, and a comparison is done with ``hmac.compare_digest``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

from cnn_core.classroom.errors import ClassLimitError

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LEN = 6


def new_code() -> str:
    """Six characters from ALPHABET, stored without the dash: 31**6 ≈ 890 million codes."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))


def display_code(raw: str) -> str:
    return f"{raw[:3]}-{raw[3:]}" if len(raw) == CODE_LEN else raw


def normalise_code(text: str) -> str:
    """Lenient input → "K7M-Q2P": case, spaces and the dash do not matter."""
    raw = code_key(text)
    return display_code(raw)


def code_key(text: str) -> str:
    """The stored form (no dash, upper case); anything that is not a letter or digit is dropped."""
    return "".join(ch for ch in str(text or "").upper() if ch.isascii() and ch.isalnum())


def is_valid_code(raw: str) -> bool:
    return len(raw) == CODE_LEN and all(ch in ALPHABET for ch in raw)


def new_secret() -> str:
    """A teacher key or a student token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def secret_hash(secret: str) -> str:
    """What the database keeps of a key or token (hex SHA-256)."""
    return hashlib.sha256(str(secret or "").encode("utf-8")).hexdigest()


def same_hash(stored: str, secret: str) -> bool:
    """Constant-time check that ``secret`` hashes to ``stored``."""
    return hmac.compare_digest(str(stored).encode("ascii"), secret_hash(secret).encode("ascii"))


class JoinAttempts:
    """Failed joins per browser session in a sliding window, in memory, thread-safe.

    A wrong code costs the guesser a slot; after ``max_failures`` within ``window_s`` seconds,
    ``check`` refuses until the oldest failure leaves the window. With 8 tries a minute, finding
    one of 200 live classes among 890 million codes takes on average over 1,000 years per session.
    """

    def __init__(self, max_failures: int = 8, window_s: float = 60, clock=time.monotonic):
        self.max_failures = int(max_failures)
        self.window_s = float(window_s)
        self._clock = clock
        self._fails: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _trim(self, session_id: str, now: float) -> deque:
        q = self._fails.setdefault(session_id, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def check(self, session_id: str) -> None:
        """Raise ClassLimitError while this session has too many recent failures."""
        with self._lock:
            now = self._clock()
            q = self._trim(session_id, now)
            if len(q) >= self.max_failures:
                wait = max(1, int(q[0] + self.window_s - now + 0.999))
                raise ClassLimitError(f"Too many wrong codes; wait {wait} s (the cap is "
                                      f"{self.max_failures} tries in {self.window_s:g} s).")

    def failed(self, session_id: str) -> None:
        with self._lock:
            now = self._clock()
            self._trim(session_id, now).append(now)
            if len(self._fails) > 10_000:       # forget sessions with nothing recent (bounded memory)
                for sid in [s for s, q in self._fails.items() if not q or q[-1] <= now - self.window_s]:
                    del self._fails[sid]

    def succeeded(self, session_id: str) -> None:
        """A successful join does not erase failures (a guesser would just mix in its own class)."""

    def remaining(self, session_id: str) -> int:
        with self._lock:
            return max(0, self.max_failures - len(self._trim(session_id, self._clock())))
