"""Run a coroutine on an event loop of its own, in a thread of its own.

The session-wide Playwright browser of tests/browser (its sync API) leaves an event loop marked as running in
the main thread for the rest of the session, so a plain ``asyncio.run`` in a test collected after the browser
tests fails with "cannot be called from a running event loop". A fresh thread has no running loop."""
import asyncio
import concurrent.futures


def run_coroutine(coroutine):
    """``asyncio.run(coroutine)`` in a fresh thread; returns its result or raises its exception."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="own-loop") as pool:
        return pool.submit(asyncio.run, coroutine).result()
