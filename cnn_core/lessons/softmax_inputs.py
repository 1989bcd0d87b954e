"""The Softmax page's typed inputs: logits and class names as text, read and checked here."""
from __future__ import annotations

import numpy as np

from cnn_core.lessons.exercises import AnswerError, parse_numbers

MIN_LOGITS, MAX_LOGITS = 2, 50


def parse_logits(text: str) -> np.ndarray:
    """"3.2, 1.3, 0.2" → float array of 2 to 50 finite logits; ``AnswerError`` says what to type."""
    if not str(text or "").strip():       # not Practice's "Type your answer first": here one types logits
        raise AnswerError("Type the logits first: numbers separated by commas, e.g. 3.2, 1.3, 0.2, 0.8.")
    z = np.asarray(parse_numbers(text, None, "Type numbers separated by commas, e.g. 3.2, 1.3, 0.2, 0.8."), float)
    if z.size < MIN_LOGITS:
        raise AnswerError("Softmax needs at least two logits; type two or more numbers.")
    if z.size > MAX_LOGITS:
        raise AnswerError(f"At most {MAX_LOGITS} logits, please.")
    return z


def _typed_names(text: str | None) -> list[str]:
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


def parse_class_names(text: str | None, n: int) -> list[str]:
    """One name per logit: the typed names in order, extra ones left out, missing ones "class k" (from 1);
    ``class_names_note`` says which, so nothing typed is dropped silently."""
    names = _typed_names(text)[:n]
    return names + [f"class {i + 1}" for i in range(len(names), n)]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def class_names_note(text: str | None, n: int) -> str | None:
    """One sentence when the typed names do not match the logits one for one, else None."""
    names = _typed_names(text)
    if not names or len(names) == n:
        return None
    head = f"{len(names)} class name{'' if len(names) == 1 else 's'} for {n} logits: "
    if len(names) > n:
        extra = names[n:]
        return head + (f"the extra one ({extra[0]}) is not used." if len(extra) == 1 else
                       f"the extra ones ({', '.join(extra)}) are not used.")
    return head + f"the logits without a name are called {_and([f'class {i + 1}' for i in range(len(names), n)])}."
