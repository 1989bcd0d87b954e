"""Stable import path: ``cnn_core.backprop`` is ``cnn_core.lessons.backprop`` (``cnn_core.backprop.trace``)."""
import sys

from cnn_core.lessons import backprop as _impl

sys.modules[__name__] = _impl
