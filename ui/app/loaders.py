"""Shared, cached, read-only data for every page and every user: loaded once per server process.

Pages never define their own cached loaders (three copies could hold full MNIST three times);
nothing returned here is ever mutated.
"""
from __future__ import annotations

import streamlit as st

from cnn_core.data import catalog
from cnn_core.data import datasets as data
from cnn_core.data.splits import training_split


@st.cache_resource(show_spinner=False)
def bundled_digits() -> data.ImageDataset:
    """The bundled 5,000 MNIST digits."""
    return data.load_bundled()


@st.cache_resource(show_spinner=False)
def bundled_split() -> data.Split:
    """Document 000's split of the bundled digits (the default model's held-out parts come from it)."""
    return training_split(bundled_digits())


@st.cache_resource(show_spinner="Loading the data set…", max_entries=3)
def named_dataset(key: str):
    """(data set, official test set or None) for a key of ``catalog.DATASETS`` other than "zip".

    Raises ``data.DataError`` (not cached: a failed download can be retried).
    """
    if key == "bundled":
        return bundled_digits(), None
    return catalog.load_named(key)
