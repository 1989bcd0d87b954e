"""The overview's columns: what is drawn for every architecture, and what is sampled."""
import numpy as np
import torch

from cnn_core.inference import introspection as I
from cnn_core.inference.overview import build_overview
from cnn_core.models import pretrained, specs


def one(h=28, w=28, c=None):
    img = np.zeros((h, w), np.float32)
    img[h // 5: 4 * h // 5, w // 2 - 2: w // 2 + 2] = 1.0
    return img if c is None else np.repeat(img[None], c, 0)


def overview_of(spec, image=None, **kw):
    torch.manual_seed(0)
    model = specs.build_torch(spec).eval()
    return build_overview(I.introspect(model, one() if image is None else image, spec), **kw)


def test_default_model_columns_top_maps_and_what_is_sampled():
    b = pretrained.load_default_bundle()
    r = I.introspect(b.model, one(), b.spec)
    ov = build_overview(r)
    kinds = [c.kind for c in ov.columns]
    assert kinds[0] == "input" and kinds[-1] == "softmax" and "dropout" not in kinds
    assert len(ov.columns) == 1 + len(b.spec["layers"]) - 1 + 1
    conv1 = ov.column(0)
    assert conv1.maps.shape == (8, 28, 28) and conv1.hidden == 24
    relu, pool = ov.column(2), ov.column(3)
    # one stage, one channel order: the 8 highest mean activations after its last layer (the pool)
    means = r.layers[3].output.reshape(32, -1).mean(1)
    assert list(pool.channels) == list(np.argsort(-means, kind="stable")[:8])
    assert list(conv1.channels) == list(relu.channels) == list(pool.channels)
    np.testing.assert_array_equal(relu.maps, r.layers[2].output[relu.channels])
    assert conv1.signed and conv1.lo == -conv1.hi and not relu.signed and relu.lo == 0
    assert conv1.hi == float(np.abs(r.layers[0].output).max())  # one scale over the whole layer, not the 8 drawn
    np.testing.assert_allclose(ov.columns[-1].vector.sum(), 1.0)
    assert "8 most active" in ov.sampled and "1 dropout layer" in ov.sampled


def test_a_pinned_map_is_always_drawn_across_its_stage():
    b = pretrained.load_default_bundle()
    r = I.introspect(b.model, one(), b.spec)
    ov = build_overview(r)
    hidden = next(c for c in range(64) if c not in ov.column(4).channels)
    pinned = build_overview(r, pinned=(6, hidden))  # the ReLU of the second conv's stage
    for key in (4, 5, 6):
        assert hidden in pinned.column(key).channels
    assert hidden not in pinned.column(7).channels or hidden in ov.column(7).channels  # next stage untouched


def test_seed_002_starts_with_batch_norm_on_the_input_and_ends_in_vectors():
    ov = overview_of(specs.preset("seed-002"))
    assert [c.short for c in ov.columns[:3]] == ["input", "BN", "conv 1"]
    assert ov.column(0).maps.shape == (1, 28, 28)
    assert ov.column(18).vector.size == 1152 and ov.column(19).link == "dense"
    assert "4 dropout layers" in ov.sampled


def test_large_rgb_inputs_are_drawn_as_block_means_and_say_so():
    spec = specs.build_spec(blocks=1, kernels=4, input_shape=(3, 64, 64))
    ov = overview_of(spec, one(64, 64, 3))
    inp = ov.column(-1)
    assert inp.maps.shape == (3, 32, 32) and inp.block == 2
    a = one(64, 64, 3)
    np.testing.assert_allclose(inp.maps[0, 5, 7], a[0, 10:12, 14:16].mean(), atol=1e-6)
    assert "2×2 block means" in ov.sampled


def test_small_networks_draw_every_map():
    ov = overview_of(specs.preset("seed-000"))
    assert all(c.hidden == 0 for c in ov.columns if c.is_maps)
    assert ov.sampled == "Every map of every layer is drawn."
