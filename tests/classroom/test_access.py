"""Codes, secrets, the join limiter and the pushed-link rule: no database needed."""
import threading

import pytest

from cnn_core.classroom import ClassLimitError, JoinAttempts, normalise_code
from cnn_core.classroom import access, validate


def test_codes_avoid_look_alikes_and_are_random():
    codes = {access.new_code() for _ in range(2000)}
    assert len(codes) > 1990                     # 31**6 codes: collisions in 2,000 are rare
    chars = set("".join(codes))
    assert not chars & set("01OIL")
    assert chars <= set(access.ALPHABET) and len(chars) == len(access.ALPHABET)
    assert all(len(c) == 6 for c in codes)


@pytest.mark.parametrize("typed", [" k7m q2p ", "K7M-Q2P", "k7mq2p", "K7M – Q2P", "k-7-m-q-2-p"])
def test_normalise_code_is_lenient(typed):
    assert normalise_code(typed) == "K7M-Q2P"


def test_secrets_are_stored_as_hashes_and_compared_by_hash():
    key = access.new_secret()
    assert len(key) >= 32 and key != access.new_secret()
    h = access.secret_hash(key)
    assert len(h) == 64 and key not in h
    assert access.same_hash(h, key)
    assert not access.same_hash(h, key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert not access.same_hash(h, "")


def test_join_attempts_sliding_window():
    now = [100.0]
    attempts = JoinAttempts(max_failures=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        attempts.check("s1")
        attempts.failed("s1")
    with pytest.raises(ClassLimitError, match=r"Too many wrong codes; wait 60 s"):
        attempts.check("s1")
    attempts.check("s2")                          # another session is not affected
    now[0] += 30
    with pytest.raises(ClassLimitError, match=r"wait 30 s"):
        attempts.check("s1")
    now[0] += 30.5                                # the first failures leave the window
    attempts.check("s1")
    assert attempts.remaining("s1") == 3


def test_join_attempts_are_thread_safe():
    attempts = JoinAttempts(max_failures=1000, window_s=60)
    threads = [threading.Thread(target=lambda: [attempts.failed("s") for _ in range(100)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert attempts.remaining("s") == 200


@pytest.mark.parametrize("url", ["/convolution?kernel=sobel_x", "/", "/draw", "/train?a=1&b=%2F"])
def test_push_accepts_same_site_paths(url):
    assert validate.push_url(url) == url


@pytest.mark.parametrize("url", ["https://evil.example/x", "//evil.example/x", "javascript:alert(1)",
                                 "/\\evil.example", "\\\\evil", "convolution", "", "/a\nb", "/a b",
                                 "/a\x00", " /lead-space", "/" + "a" * 2001, None])
def test_push_rejects_anything_that_can_leave_the_site(url):
    with pytest.raises(ClassLimitError):
        validate.push_url(url)


def test_labels_rules():
    assert validate.labels(["cat", "dog"]) == ["cat", "dog"]
    assert validate.labels([" cat ", "dog"]) == ["cat", "dog"]
    for bad, pattern in [(["cat"], "2 to 10 labels; 1 were"), ([str(i) for i in range(11)], "2 to 10"),
                         (["cat", "Cat"], "appears twice"), (["cat", " "], "cannot be empty"),
                         (["cat", "x" * 21], "21 characters; the cap is 20")]:
        with pytest.raises(ClassLimitError, match=pattern):
            validate.labels(bad)
