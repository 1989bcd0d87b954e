"""One numbering on every page (issue 18 bug 4; the convention is written in cnn_core/lessons/formatting.py):
layers, maps, units and weight indices from 1; classes by their names, also where a unit *is* a class."""
from __future__ import annotations

import json

import pytest

from cnn_core.lessons import formatting
from cnn_core.models import pretrained
from cnn_core.models.summary import summarize

LX = "pages/3_Layer_Explorer.py"
BP = "pages/9_Backpropagation.py"


def _figure(at, key: str) -> dict:
    return next(json.loads(p.proto.spec) for p in at.get("plotly_chart") if p.proto.id.endswith(key))


def test_the_convention_helpers():
    assert formatting.count_from_one(0) == 1
    assert formatting.unit_name(7, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]) == "class 7"
    assert formatting.unit_name(7, ["cat", "dog", "ant", "bee", "cow", "elk", "fox", "gnu"]) == "class gnu"
    assert formatting.unit_name(7) == "unit 8"


def test_layer_explorer_picks_an_output_unit_by_its_class_name(open_page):
    """It showed "Unit (1–10) = 8" and explained it as "the logit of class 7"."""
    at = open_page(LX)
    last_dense = len(pretrained.load_default_bundle().spec["layers"]) - 1
    at.selectbox(key="lx_ov_col").set_value(last_dense).run()
    picker = at.selectbox(key="lx_ov_item")                    # a class, by name: no unit number to translate
    assert picker.label == "Class"
    picker.select_index(7).run()
    assert not at.exception and not at.error
    picker = at.selectbox(key="lx_ov_item")
    assert picker.format_func(picker.value) == "7"
    assert any("the logit of class 7" in m.value for m in at.markdown)
    maps = next(t for t in _figure(at, "lx_ov_fig")["data"] if t.get("name") == "maps")
    logits = [t for t, cd in zip(maps["hovertext"], maps["customdata"]) if cd[0] == last_dense]
    assert len(logits) == 10 and "class 7" in logits[7] and not any("unit" in t for t in logits)


def test_backpropagation_names_the_output_layers_units_by_class(open_page):
    """Its δ chart put true class 7 at "unit 8"."""
    at = open_page(BP)
    last = len(at.selectbox(key="bp_layer").options) - 1
    at.selectbox(key="bp_layer").set_value(last).run()          # layer 5: Dense(10), the logits
    assert not at.exception and not at.error
    delta = _figure(at, "bp_fig_in")["data"][0]
    assert [str(v) for v in delta["x"]] == [str(i) for i in range(10)]
    assert "class" in delta["hovertemplate"] and "unit" not in delta["hovertemplate"]
    picker = at.selectbox(key=f"bp_l{last}_i")
    assert picker.label == "class (output)" and picker.format_func(picker.value) in [str(i) for i in range(10)]


def test_the_train_summary_counts_layers_from_one_like_home_and_the_errors():
    rows = summarize(pretrained.load_default_bundle().spec).as_records()
    assert [r["#"] for r in rows] == list(range(1, len(rows) + 1))
