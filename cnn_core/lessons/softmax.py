"""Softmax, cross-entropy and one-hot vectors with the notes' worked numbers (document 001).

The softmax itself is ``cnn_core.numpy_nn.losses.softmax`` (the one numerically stable version in
the library); this module checks a learner's logits and writes the arithmetic out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnn_core.lessons.formatting import MINUS, fmt, fmt_factor
from cnn_core.lessons.geometry import LessonError
from cnn_core.numpy_nn.losses import softmax as _stable_softmax


def softmax(logits) -> np.ndarray:
    """The probabilities of a learner's list of logits, after checking it is one."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size < 1:
        raise LessonError("Softmax needs a list of at least one logit.")
    if not np.all(np.isfinite(z)):
        raise LessonError("Every logit must be a finite number.")
    return _stable_softmax(z)


# Above this, e^z is written with the largest logit subtracted first: e^800 overflows a float, and
# e^30 would print as a 14-digit number that teaches nothing.
_WRITE_EXP_MAX = 1e6


def softmax_written(logits, i: int, digits: int = 3) -> str:
    """'e^3.2 / (e^3.2 + e^1.3 + e^0.2 + e^0.8) = 24.53 / 31.65 = 0.775'.

    Large or very negative logits are written shifted by the largest one, m (which changes nothing):
    'e^(3 − 1000) / (e^(3 − 1000) + e^(1000 − 1000)) = 0 / 1 = 0.000'.
    """
    z = np.asarray(logits, dtype=np.float64)
    p = softmax(z)
    with np.errstate(over="ignore", under="ignore"):
        ez = np.exp(z)
    total = float(ez.sum())
    if np.isfinite(total) and 1 / _WRITE_EXP_MAX <= total and ez.max() <= _WRITE_EXP_MAX:
        denom = " + ".join(f"e^{fmt_factor(v, 2)}" for v in z)
        return (f"e^{fmt_factor(z[i], 2)} / ({denom}) = {fmt(ez[i], 2)} / {fmt(total, 2)} "
                f"= {p[i]:.{digits}f}")  # fixed decimals, as the notes print 0.070
    m = float(z.max())
    es = np.exp(z - m)
    term = (lambda v: f"e^({fmt(v, 2)} {MINUS} {fmt(m, 2)})" if m >= 0 else f"e^({fmt(v, 2)} + {fmt(-m, 2)})")
    denom = " + ".join(term(v) for v in z)
    return f"{term(z[i])} / ({denom}) = {fmt(es[i], 3)} / {fmt(es.sum(), 3)} = {p[i]:.{digits}f}"


def cross_entropy(probs, true_index: int, base: str | float = "e") -> float:
    """−log(p_true): natural log → nats, base 2 → bits. The one-hot target keeps only one term."""
    p = np.asarray(probs, dtype=np.float64)
    if not 0 <= true_index < p.size:
        raise LessonError(f"The true class must be one of the {p.size} classes.")
    q = float(p[true_index])
    if not 0 < q <= 1:
        raise LessonError(f"The predicted probability of the true class must be in (0, 1], got {fmt(q)}; "
                          "the loss of a 0 probability is infinite.")
    return -math.log(q) if base == "e" else -math.log(q, float(base))


def cross_entropy_written(probs, true_index: int) -> tuple[str, str]:
    """('−log2(0.1) = 3.322 bits', '−ln(0.1) = 2.303 nats')."""
    q = float(np.asarray(probs, dtype=np.float64)[true_index])
    return (f"{MINUS}log2({fmt(q, 4)}) = {fmt(cross_entropy(probs, true_index, 2))} bits",
            f"{MINUS}ln({fmt(q, 4)}) = {fmt(cross_entropy(probs, true_index))} nats")


def cross_entropy_logits(logits, true_index: int) -> float:
    """−log softmax(z)[true] in nats, computed as log Σ e^z − z_true (log-sum-exp), so it stays finite
    where the probability itself rounds to 0 (logits 1000 and −1000, say). torch: F.cross_entropy."""
    z = np.asarray(logits, dtype=np.float64)
    softmax(z)  # same checks
    if not 0 <= true_index < z.size:
        raise LessonError(f"The true class must be one of the {z.size} classes.")
    m = float(z.max())
    return m + math.log(float(np.exp(z - m).sum())) - float(z[true_index])


def cross_entropy_logits_written(logits, true_index: int) -> tuple[str, str]:
    """Like cross_entropy_written, from the logits: '−ln(0.7751) = 0.255 nats' while p is visible at
    4 decimals, else the log-sum-exp form '−ln p = ln Σ e^z − z_true = 1000 − (−1000) = 2000 nats'."""
    z = np.asarray(logits, dtype=np.float64)
    p = softmax(z)
    nats = cross_entropy_logits(z, true_index)
    if p[true_index] >= 5e-5:
        return cross_entropy_written(p, true_index)
    m = float(z.max())
    lse = m + math.log(float(np.exp(z - m).sum()))
    zt = fmt_factor(z[true_index])
    return (f"{MINUS}log2 p = (ln Σ e^z {MINUS} z_true)/ln 2 = ({fmt(lse)} {MINUS} {zt})/0.6931 "
            f"= {fmt(nats / math.log(2))} bits",
            f"{MINUS}ln p = ln Σ e^z {MINUS} z_true = {fmt(lse)} {MINUS} {zt} = {fmt(nats)} nats "
            + (f"(p = {p[true_index]:.3g})" if p[true_index] > 0 else
               "(p itself rounds to 0 in floating point; the loss, computed from the logits, does not)"))


def one_hot(index: int, n: int) -> np.ndarray:
    if not 0 <= index < n:
        raise LessonError(f"Class {index} is not one of 0…{n - 1}.")
    y = np.zeros(n)
    y[index] = 1.0
    return y


def one_hot_check(vector) -> tuple[bool, str]:
    """Whether a vector is a valid one-hot label, and why: exactly one 1, every other entry 0."""
    v = np.asarray(vector, dtype=np.float64).ravel()
    if v.size == 0:
        return False, "An empty vector encodes no class."
    bad = [fmt(x) for x in v if x not in (0.0, 1.0)]
    if bad:
        return False, f"A one-hot vector holds only 0s and 1s; this one has {', '.join(bad)}."
    ones = int(v.sum())
    if ones == 1:
        return True, f"Valid: exactly one 1, at position {int(np.argmax(v)) + 1} (index {int(np.argmax(v))})."
    if ones == 0:
        return False, "Invalid: no 1, so no class is named."
    return False, f"Invalid: {ones} ones; a one-hot vector names exactly one class."


def softmax_ce_gradient(probs, true_index: int) -> np.ndarray:
    """dL/dz for softmax followed by cross-entropy (nats): p − y."""
    p = np.asarray(probs, dtype=np.float64)
    return p - one_hot(true_index, p.size)


# Document 001's cross-entropy example: true [1 0 0 0 0], predicted [0.1 0.52 0.3 0.08 0.27], and
# the bits the notes print when each class in turn is taken as the true one, with their mean.
NOTES_FIVE_PROBS = (0.1, 0.52, 0.3, 0.08, 0.27)
NOTES_FIVE_BITS = (3.322, 0.9434, 1.685, 3.644, 1.889)
NOTES_FIVE_MEAN = 2.2967
NOTES_SOFTMAX_LOGITS = (3.2, 1.3, 0.2, 0.8)
NOTES_SOFTMAX_PROBS = (0.775, 0.116, 0.039, 0.070)
NOTES_SOFTMAX_CLASSES = ("dog", "cat", "horse", "cheetah")
NOTES_SOFTMAX_SMALL = (2.0, 1.0, 0.1)


@dataclass(frozen=True)
class FiveClassRow:
    cls: int
    prob: float
    bits: float          # the correct −log2 p
    notes_bits: float    # what the notes print
    agrees: bool         # the notes' value matches to its printed precision


def five_class_table(probs=NOTES_FIVE_PROBS, notes_bits=NOTES_FIVE_BITS) -> list[FiveClassRow]:
    rows = []
    for i, (p, nb) in enumerate(zip(probs, notes_bits)):
        bits = -math.log2(p)
        decimals = len(str(nb).split(".")[1]) if "." in str(nb) else 0
        rows.append(FiveClassRow(i, p, bits, nb, abs(bits - nb) <= 0.5 * 10 ** -decimals + 1e-12))
    return rows


def five_class_mean(probs=NOTES_FIVE_PROBS) -> float:
    """The mean of −log2 p over the five choices of true class: 2.307 (the notes print 2.2967)."""
    return float(np.mean([-math.log2(p) for p in probs]))
