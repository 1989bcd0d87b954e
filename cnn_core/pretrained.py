"""Stable import path: ``cnn_core.pretrained`` is ``cnn_core.models.pretrained`` (notebooks and outside checks use it)."""
import sys

from cnn_core.models import pretrained as _impl

sys.modules[__name__] = _impl
