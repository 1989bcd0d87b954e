"""The Softmax page's typed inputs: logits and class names as text, read and checked here."""
from __future__ import annotations

import numpy as np

from cnn_core.lessons.exercises import AnswerError, parse_numbers

MIN_LOGITS, MAX_LOGITS = 2, 50


def parse_logits(text: str) -> np.ndarray:
    """"3.2, 1.3, 0.2" → float array of 2 to 50 finite logits; ``AnswerError`` says what to type."""
    z = np.asarray(parse_numbers(text, None, "Type numbers separated by commas, e.g. 3.2, 1.3, 0.2, 0.8."), float)
    if z.size < MIN_LOGITS:
        raise AnswerError("Softmax needs at least two logits; type two or more numbers.")
    if z.size > MAX_LOGITS:
        raise AnswerError(f"At most {MAX_LOGITS} logits, please.")
    return z


def parse_class_names(text: str | None, n: int) -> list[str]:
    """The typed names when there is one per logit; else "class 1" … "class n"."""
    names = [t.strip() for t in str(text or "").split(",") if t.strip()]
    return names if len(names) == n else [f"class {i + 1}" for i in range(n)]
