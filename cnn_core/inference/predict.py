"""One prediction: a 28×28 input (or a raw canvas) → softmax probabilities, timed.

The Draw page's path, kept short and visible:
canvas RGBA → ``preprocess.canvas_to_mnist`` → model → logits → softmax.

One 28×28 image is far too little work to share between cores, and on a busy machine torch's
second intra-op thread can wait 100 ms and more for a free core (see the inference benchmark).
So by default the forward pass runs on one worker thread set to a single intra-op thread; the
rest of the process (training runs, other pages) keeps its own thread setting.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from cnn_core.inference.preprocess import PreprocessSteps, explain
from cnn_core.numpy_nn.losses import softmax  # the library's one softmax; stays importable as predict.softmax


@dataclass(frozen=True)
class Prediction:
    probs: np.ndarray            # float64 (num_classes,), sums to 1
    logits: np.ndarray           # float32 (num_classes,)
    model_seconds: float         # the forward pass and softmax
    preprocess_seconds: float = 0.0

    @property
    def label(self) -> int:
        return int(np.argmax(self.probs))

    @property
    def confidence(self) -> float:
        return float(self.probs[self.label])

    @property
    def seconds(self) -> float:
        return self.preprocess_seconds + self.model_seconds

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        order = np.argsort(-self.probs)[:k]
        return [(int(i), float(self.probs[i])) for i in order]


_worker: ThreadPoolExecutor | None = None
_worker_lock = threading.Lock()


def _single_thread_worker() -> ThreadPoolExecutor:
    global _worker
    with _worker_lock:
        if _worker is None:
            import torch

            caller = torch.get_num_threads()
            pool = ThreadPoolExecutor(1, thread_name_prefix="cnn-predict", initializer=_one_thread)
            pool.submit(int).result()          # start the worker: its initializer runs now
            # torch.set_num_threads also changes the default for threads created later; put that
            # back, which leaves the worker's own setting at 1.
            torch.set_num_threads(caller)
            _worker = pool
        return _worker


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)
    # A thread takes torch's process-wide setting lazily, at its first parallel call; make that
    # happen now, while the setting is 1, so restoring the default afterwards cannot reach it.
    torch.get_num_threads()


def on_single_thread(fn, *args, **kwargs):
    """Run ``fn`` on the one-thread worker and return its result (exceptions propagate).

    For any single-input forward pass a page waits on: the Draw page's prediction, the Layer
    Explorer's recorded layers.
    """
    return _single_thread_worker().submit(fn, *args, **kwargs).result()


def _forward(model, x) -> tuple[np.ndarray, float]:
    import torch

    t0 = time.perf_counter()
    with torch.inference_mode():
        logits = model(x)[0].numpy()
    return logits, time.perf_counter() - t0


def predict_image(model, image28: np.ndarray, single_thread: bool = True) -> Prediction:
    """``image28``: float (28, 28) in [0, 1], white on black. ``model``: a torch module in eval mode.

    ``single_thread``: run the forward pass on the one-thread worker (see the module docstring);
    False runs it here, with this thread's torch setting.
    """
    import torch

    x = torch.from_numpy(np.ascontiguousarray(image28, dtype=np.float32)).reshape(1, 1, *np.shape(image28))
    if single_thread:
        logits, seconds = on_single_thread(_forward, model, x)
    else:
        logits, seconds = _forward(model, x)
    t0 = time.perf_counter()
    probs = softmax(np.asarray(logits, dtype=np.float64))
    return Prediction(probs, logits, seconds + time.perf_counter() - t0)


def predict_canvas(model, image: np.ndarray, single_thread: bool = True) -> tuple[PreprocessSteps, Prediction]:
    """A canvas or picture → (how it became the 28×28 input, ``steps.image``; the prediction).

    Raises ``preprocess.EmptyImageError`` for a blank picture.
    """
    t0 = time.perf_counter()
    steps = explain(image)
    t1 = time.perf_counter()
    pred = predict_image(model, steps.image, single_thread)
    return steps, Prediction(pred.probs, pred.logits, pred.model_seconds, t1 - t0)
