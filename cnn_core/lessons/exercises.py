"""Generated practice questions like the lecture's, with checking and worked solutions.

``generate(kind, seed)`` always gives the same exercise for the same seed. An ``Exercise`` holds
what the page shows (prompt, grids), the expected answer, and ``check(text)`` that parses what
the learner typed and compares it within a tolerance. ``solution`` is the worked answer in
Markdown, written out the way the notes do.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from cnn_core.lessons import convolution as conv, geometry, pooling, softmax as sm
from cnn_core.lessons.formatting import fmt, fmt_factor

KINDS = {
    "complete": "Complete the convolution",
    "find_xy": "Find X and Y",
    "output_size": "Output size",
    "max_pool": "Which values survive max pooling?",
    "softmax": "Softmax of three logits",
}


class AnswerError(ValueError):
    """An answer that cannot be read; the message tells the learner how to type it."""


@dataclass
class CheckResult:
    correct: bool
    message: str
    parts: list[bool] = field(default_factory=list)  # one per expected number


@dataclass
class Exercise:
    kind: str
    seed: int
    title: str
    prompt: str                      # Markdown
    grids: dict[str, np.ndarray]     # named grids the page draws (input, kernel, output with gaps …)
    expected: np.ndarray             # the numbers of the answer, in reading order
    answer_hint: str                 # how to type the answer
    tolerance: float                 # absolute tolerance per number
    solution: str                    # Markdown, the worked solution
    answer_shape: tuple[int, ...] = ()
    labels: list[str] = field(default_factory=list)  # names of the parts (e.g. ['X', 'Y'])

    def check(self, text: str) -> CheckResult:
        got = parse_numbers(text, self.expected.size, self.answer_hint)
        want = self.expected.ravel()
        ok = [bool(abs(g - w) <= self.tolerance + 1e-9) for g, w in zip(got, want)]
        if all(ok):
            return CheckResult(True, "Correct!", ok)
        wrong = sum(not o for o in ok)
        if len(ok) == 1:
            return CheckResult(False, f"Not quite: {fmt(got[0])} is not the answer.", ok)
        names = self.labels or [str(i + 1) for i in range(len(ok))]
        which = ", ".join(n for n, o in zip(names, ok) if not o)
        return CheckResult(False, f"{len(ok) - wrong} of {len(ok)} right; check {which}.", ok)


_NUM = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def parse_numbers(text: str, count: int | None = None, hint: str = "") -> list[float]:
    """Numbers in free text: '3, −1; 0.5' → [3, −1, 0.5]. Accepts the '−' sign and '1/3' fractions."""
    if text is None or not str(text).strip():
        raise AnswerError(f"Type your answer first. {hint}".strip())
    s = str(text).replace("−", "-").replace("–", "-").replace(",", " ").replace(";", " ")
    tokens = s.split()
    vals = []
    for tok in tokens:
        frac = tok.split("/")
        try:
            if len(frac) == 2:
                vals.append(float(frac[0]) / float(frac[1]))
            elif _NUM.fullmatch(tok):
                vals.append(float(tok))
            else:
                raise ValueError
        except (ValueError, ZeroDivisionError):
            raise AnswerError(f"'{tok}' is not a number. {hint}".strip()) from None
        if not math.isfinite(vals[-1]):  # '1e400', 'inf/2', 'nan/1'
            raise AnswerError(f"'{tok}' is not a finite number. {hint}".strip())
    if count is not None and len(vals) != count:
        raise AnswerError(f"Expected {count} number{'s' if count != 1 else ''}, got {len(vals)}. {hint}".strip())
    return vals


def _grid_md(a: np.ndarray) -> str:
    """A grid as a Markdown table, rows and columns numbered from 1 (a table needs its header row and
    separator: without them the rows printed as one line of bars, "| −1 | −9 | | −6 | −10 |")."""
    a = np.atleast_2d(a)
    head = "| | " + " | ".join(f"column {j + 1}" for j in range(a.shape[1])) + " |"
    rule = "|---|" + "---:|" * a.shape[1]
    rows = [f"| **row {i + 1}** | " + " | ".join(fmt(v) for v in row) + " |" for i, row in enumerate(a)]
    return "\n".join([head, rule, *rows])


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(int(seed))


def _small_conv(rng: np.random.Generator, n: int = 4):
    x = rng.integers(0, 4, size=(n, n)).astype(float)
    k = rng.integers(-1, 2, size=(3, 3)).astype(float)
    if not k.any():
        k[1, 1] = 1.0
    return x, k


def _cell_lines(setup: conv.ConvSetup, cells) -> list[str]:
    lines = []
    for (r, c) in cells:
        cell = conv.conv_cell(setup, r, c)
        lines.append(f"- output ({r + 1}, {c + 1}): {cell.written_sum(include_bias=setup.bias != 0)}")
    return lines


def complete_convolution(seed: int) -> Exercise:
    """The notes' exercise 1: a small image and kernel, valid convolution, stride 1; fill the whole map."""
    rng = _rng(seed)
    n = int(rng.choice([4, 5]))
    x, k = _small_conv(rng, n)
    s = conv.conv_setup(x, k, 0.0, 1, 0)
    out = conv.conv_map(s)
    oh, ow = out.shape
    cells = [(r, c) for r in range(oh) for c in range(ow)]
    size = geometry.output_size_formula(n=n, f=3, padding=0, stride=1)
    sol = [f"No padding, stride 1: output size {size}, so a {oh}×{ow} map. "
           "Slide the kernel row by row; each cell is the sum of the products under it:", ""]
    sol += _cell_lines(s, cells)
    sol += ["", "The map:", "", _grid_md(out)]
    return Exercise("complete", seed, KINDS["complete"],
                    f"Convolve the {n}×{n} image with the 3×3 kernel (stride 1, no padding, no bias). "
                    f"Give all {oh * ow} values of the {oh}×{ow} output, row by row.",
                    {"image": x, "kernel": k}, out.ravel(),
                    f"Type {oh * ow} numbers row by row, separated by spaces or commas.", 0.0,
                    "\n".join(sol), (oh, ow))


def find_x_y(seed: int) -> Exercise:
    """The notes' 'find X and Y': an output map with two cells hidden; padding and stride vary."""
    rng = _rng(seed)
    n = 5
    x, k = _small_conv(rng, n)
    padding = int(rng.choice([0, 1]))
    stride = 1 if padding == 0 else int(rng.choice([1, 2]))
    bias = float(rng.choice([0, 0, 1, -1]))
    s = conv.conv_setup(x, k, bias, stride, padding)
    out = conv.conv_map(s)
    flat = rng.choice(out.size, size=2, replace=False)
    cells = [divmod(int(i), out.shape[1]) for i in sorted(flat)]
    shown = out.copy()
    for r, c in cells:
        shown[r, c] = np.nan
    expected = np.array([out[r, c] for r, c in cells])
    where = ", ".join(f"{nm} at row {r + 1}, column {c + 1}" for nm, (r, c) in zip("XY", cells))
    pad_txt = "no padding" if padding == 0 else f"zero padding {padding}"
    bias_txt = f", bias {fmt(bias)}" if bias else ", no bias"
    size = geometry.output_size_formula(n=n, f=3, padding=padding, stride=stride)
    sol = [f"With {pad_txt} and stride {stride} the output is {size} "
           "cells wide."]
    for nm, (r, c) in zip("XY", cells):
        cell = conv.conv_cell(s, r, c)
        where_in = "padded-input" if padding else "input"
        sol.append(f"- **{nm}** (row {r + 1}, column {c + 1}): the window starts at {where_in} row "
                   f"{cell.origin[0] + 1}, column {cell.origin[1] + 1}: {cell.written_sum(include_bias=bias != 0)}")
    return Exercise("find_xy", seed, KINDS["find_xy"],
                    f"The 5×5 image was convolved with the 3×3 kernel ({pad_txt}, stride {stride}{bias_txt}). "
                    f"Two output values are hidden: {where}. Find X and Y.",
                    {"image": x, "kernel": k, "output": shown}, expected,
                    "Type X then Y, e.g. 4, −2.", 0.0, "\n".join(sol), (2,), ["X", "Y"])


def output_size_question(seed: int) -> Exercise:
    rng = _rng(seed)
    n = int(rng.choice([5, 6, 7, 8, 28, 32, 64, 224]))
    f = int(rng.choice([1, 2, 3, 5, 7] if n >= 7 else [2, 3]))
    pad_kind = rng.choice(["valid", "same", "number"])
    if pad_kind == "same" and f % 2 == 0:
        pad_kind = "number"
    padding: int | str = str(pad_kind) if pad_kind != "number" else int(rng.integers(0, 3))
    s = int(rng.choice([1, 1, 2, 2, 3]))
    p = geometry.resolve_padding(padding, f=f)
    out = geometry.output_size(n=n, f=f, padding=p, stride=s)
    pad_txt = {"valid": "'valid' padding", "same": "'same' padding"}.get(str(padding), f"padding {p}")
    extra = ""
    if isinstance(padding, str):
        extra = f"'{padding}' padding means p = {p}" + (" ((f − 1)/2)." if padding == "same" else " (no padding).") + " "
    size = geometry.output_size_formula(n=n, f=f, padding=p, stride=s)
    sol = (f"{extra}n = {n}, f = {f}, p = {p}, s = {s}: {size}. "
           f"The feature map is {out}×{out}.")
    if (n + 2 * p - f) % s:
        sol += f" ({n + 2 * p - f} is not a multiple of {s}, so the floor drops the last partial step.)"
    return Exercise("output_size", seed, KINDS["output_size"],
                    f"The input is {n}×{n}. It is convolved with a {f}×{f} kernel, {pad_txt}, stride {s}. "
                    "How wide is the output?",
                    {}, np.array([float(out)]), "Type one whole number.", 0.0, sol, (1,))


def max_pool_question(seed: int) -> Exercise:
    rng = _rng(seed)
    if rng.random() < 0.5:
        n, k, s = 4, 2, 2
    else:
        n, k, s = 5, 3, int(rng.choice([1, 2]))
    x = rng.integers(0, 10, size=(n, n)).astype(float)
    res = pooling.pool2d(x, "max", k, s)
    oh, ow = res.output.shape
    size = geometry.pool_output_formula(n=n, k=k, stride=s)
    sol = [f"Output size {size} per side. Each window keeps its largest value:", ""]
    for i in range(oh):
        for j in range(ow):
            r, c = res.winners[i, j]
            sol.append(f"- window ({i + 1}, {j + 1}): {res.written(i, j)} (row {r + 1}, column {c + 1})")
    sol += ["", "Only these winners pass a gradient back in backpropagation; the rest of each window gets 0."]
    return Exercise("max_pool", seed, KINDS["max_pool"],
                    f"Max-pool the {n}×{n} map with a {k}×{k} window and stride {s}. "
                    f"Which values survive? Give the {oh}×{ow} output row by row.",
                    {"map": x}, res.output.ravel(), f"Type {oh * ow} numbers row by row.", 0.0,
                    "\n".join(sol), (oh, ow))


def softmax_question(seed: int) -> Exercise:
    rng = _rng(seed)
    z = np.round(rng.uniform(-1.0, 3.5, size=3), 1)
    p = sm.softmax(z)
    ez = np.exp(z)
    lines = [f"Exponentiate each logit: " + ", ".join(f"e^{fmt_factor(v, 2)} = {fmt(e, 3)}" for v, e in zip(z, ez)),
             f"and add them: {fmt(ez.sum(), 3)}. Divide each by the sum:", ""]
    lines += [f"- {sm.softmax_written(z, i)}" for i in range(3)]
    lines += ["", f"They add up to 1 ({' + '.join(fmt(v) for v in p)} ≈ 1); the largest logit gets the largest probability."]
    return Exercise("softmax", seed, KINDS["softmax"],
                    "Compute the softmax of the logits "
                    f"[{', '.join(fmt(v) for v in z)}], each to 3 decimals.",
                    {"logits": z[None, :]}, np.round(p, 3), "Type three probabilities, e.g. 0.7, 0.2, 0.1.",
                    0.0015, "\n".join(lines), (3,), ["p₁", "p₂", "p₃"])


GENERATORS = {
    "complete": complete_convolution,
    "find_xy": find_x_y,
    "output_size": output_size_question,
    "max_pool": max_pool_question,
    "softmax": softmax_question,
}


def generate(kind: str | None, seed: int) -> Exercise:
    """An exercise of ``kind`` (None: a kind chosen by the seed), the same for the same seed."""
    if kind is None:
        kind = list(GENERATORS)[int(_rng(seed + 7919).integers(len(GENERATORS)))]
    if kind not in GENERATORS:
        raise AnswerError(f"Unknown exercise kind {kind!r}; choose one of {', '.join(GENERATORS)}.")
    return GENERATORS[kind](int(seed))
