"""Benchmarks, one module per area, each with ``run(quick: bool) -> list[str]`` (lines for docs/benchmarks.md).

Run them with ``python -m benchmarks [area ...]``. They print ratios measured in one run:
the machines are shared and noisy, so absolute times are indicative only.
"""
