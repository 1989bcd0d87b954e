"""Stable import path: ``cnn_core.introspection`` is ``cnn_core.inference.introspection`` (notebooks and outside checks use it)."""
import sys

from cnn_core.inference import introspection as _impl

sys.modules[__name__] = _impl
