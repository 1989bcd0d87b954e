"""The home page (app.py) in AppTest: it names the active model with its held-out accuracy and the data set."""
from __future__ import annotations

from pathlib import Path

import pytest

from cnn_core.models import pretrained
from cnn_core.models import specs
from cnn_core.models.checkpoints import ModelBundle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def at(open_page):
    return open_page("app.py", timeout=30)


def _metric(at, label):
    return next(m for m in at.metric if m.label == label)


def test_home_shows_the_default_model_with_its_held_out_accuracy(at):
    assert not at.exception
    meta = pretrained.load_default_bundle().meta
    assert f"**{meta['name']}**" in [m.value for m in at.markdown]   # whole, never cut short
    assert _metric(at, "Held-out accuracy").value == f"{meta['accuracy'] * 100:.2f} %"
    spec = pretrained.load_default_bundle().spec
    assert _metric(at, "Parameters").value == f"{specs.count_params(spec):,}"
    assert any(meta["accuracy_note"][:40] in c.value for c in at.caption)
    infos = specs.layer_infos(spec)
    arch = next(m.value for m in at.markdown if m.value.startswith("**Architecture**"))
    assert arch.endswith(" → ".join(i.label for i in infos)) and "input 1×28×28" in arch
    assert _metric(at, "Layers").value == str(len(infos))


def test_home_describes_the_bundled_data_set(at):
    text = " ".join(m.value for m in at.markdown)
    assert "5,000" in text and "MNIST" in text and "500 per class" in text and "500–500" not in text
    assert any("CC BY-SA 3.0" in c.value for c in at.caption)


def test_home_follows_the_active_model(at):
    spec = specs.preset("seed-000")
    at.session_state["active_model"] = ModelBundle(spec, specs.build_torch(spec).eval(),
                                                   {"name": "my seed-000 run", "accuracy": 0.8871})
    at.run()
    assert not at.exception
    assert "**my seed-000 run**" in [m.value for m in at.markdown]
    assert _metric(at, "Held-out accuracy").value == "88.71 %"
    assert _metric(at, "Parameters").value == "13,610"   # 8·9 + 8 + 1,352·10 + 10



def test_the_ten_example_digits_are_one_picture_that_cannot_wrap(at):
    images = at.get("image")
    assert len(images) == 1 and len(images[0].proto.imgs) == 1   # one strip, not ten pictures in a flow
    assert images[0].proto.imgs[0].caption.startswith("One digit of each class")
    assert images[0].proto.imgs[0].url.endswith(".png")          # no JPEG smudge around the strokes


def test_the_page_map_links_every_page_with_a_font_icon_not_an_emoji(at):
    links = at.get("page_link")
    assert sorted(ln.proto.label for ln in links) == sorted(["**Draw & Predict**", "**Convolution**", "**Layer Explorer**",
                                                "**Softmax & Loss**", "**Practice**", "**Backpropagation**", "**Train**",
                                                "**Evaluate**", "**Sweep**", "**Class**"])
    assert all(ln.proto.icon.startswith(":material/") for ln in links)   # draws without an emoji font
    assert sorted(ln.proto.page for ln in links) == sorted(["draw", "convolution", "layer-explorer", "softmax",
                                                            "practice", "backpropagation", "train", "evaluate",
                                                            "sweep", "class"])


def test_the_layer_table_names_every_layer_and_sums_to_the_parameter_count(at):
    """A static table (it wraps long names); parameters with separators add up to the model's count."""
    table = at.table[0].value
    assert list(table.columns) == ["\\#", "layer", "output shape", "parameters"]    # "#" alone is a heading
    spec = pretrained.load_default_bundle().spec
    assert sum(int(p.replace(",", "")) for p in table["parameters"]) == specs.count_params(spec)
    assert table["\\#"].tolist() == [str(i) for i in range(1, len(table) + 1)]
    assert any("Conv2D" in name for name in table["layer"])


def test_layer_table_names_are_shown_as_text():
    from ui.views.layer_table import frame
    out = frame([{"#": 1, "layer": "**[x](http://evil)**", "output shape": "1 × 2", "parameters": 12345}])
    assert out["layer"][0].startswith("\\*\\*\\[") and out["parameters"][0] == "12,345"
