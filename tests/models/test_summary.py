"""The model summary table comes from torchinfo and agrees with the spec's own arithmetic."""
import pytest

from cnn_core.models import specs
from cnn_core.models.summary import summarize


def test_seed_002_reads_315148_parameters_like_document_002():
    s = summarize(specs.preset("seed-002"))
    assert s.total_params == 315_148 == s.trainable_params
    by_index = {r.index: r for r in s.rows}
    assert by_index[1].params == 320 and by_index[1].output_shape == (32, 28, 28)
    assert by_index[13].params == 147_584 and by_index[19].params == 73_792
    assert by_index[18].output_shape == (1152,) and s.rows[-1].output_shape == (10,)
    assert [r.params for r in s.rows if r.params] == [2, 320, 64, 18_496, 128, 73_856, 147_584, 256, 73_792, 650]


@pytest.mark.parametrize("name", list(specs.PRESETS))
def test_every_preset_agrees_with_the_spec_layer_by_layer(name):
    spec = specs.preset(name)
    s = summarize(spec)
    infos = specs.layer_infos(spec)
    assert len(s.rows) == len(spec["layers"])
    assert [r.output_shape for r in s.rows] == [i.out_shape for i in infos]
    assert [r.params for r in s.rows] == [i.params for i in infos]
    assert s.as_records()[0]["output shape"] == " × ".join(map(str, infos[0].out_shape))


def test_a_summary_leaves_the_model_in_its_mode():
    spec = specs.preset("seed-000")
    model = specs.build_torch(spec).eval()
    summarize(spec, model)
    assert not model.training
