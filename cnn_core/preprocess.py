"""Stable import path: ``cnn_core.preprocess`` is ``cnn_core.inference.preprocess`` (notebooks and outside checks use it)."""
import sys

from cnn_core.inference import preprocess as _impl

sys.modules[__name__] = _impl
