"""A model summary table (layer, output shape, parameters; total), computed by torchinfo.

Document 002 printed such a table for its Fashion-MNIST network; for the seed-002 preset the
total reads 315,148 parameters.
"""
from __future__ import annotations

from dataclasses import dataclass

from cnn_core.models.specs import build_torch, describe_layer, validate


@dataclass(frozen=True)
class SummaryRow:
    index: int            # spec layer i == module i
    layer: str            # e.g. "Conv2d" (torch class)
    description: str      # e.g. "Conv2D(32, 3×3, stride 1, pad 1)"
    output_shape: tuple   # per image, without the batch axis
    params: int


@dataclass(frozen=True)
class ModelSummary:
    rows: list[SummaryRow]
    total_params: int
    trainable_params: int
    input_shape: tuple

    def as_records(self) -> list[dict]:
        """Rows ready for a table (pandas / st.dataframe)."""
        # Layers counted from 1, like Home, the Layer Explorer and every message (lessons/formatting.py).
        return [{"#": r.index + 1, "layer": r.description,
                 "output shape": " × ".join(str(v) for v in r.output_shape), "parameters": r.params}
                for r in self.rows]


def summarize(spec: dict, model=None) -> ModelSummary:
    """torchinfo's summary of the spec's torch model (built fresh unless ``model`` is given)."""
    import torchinfo

    validate(spec)
    model = model if model is not None else build_torch(spec)
    input_shape = tuple(int(v) for v in spec["input_shape"])
    was_training = model.training
    info = torchinfo.summary(model, input_size=(1, *input_shape), verbose=0,
                             col_names=("output_size", "num_params"), device="cpu")
    model.train(was_training)
    leaves = [layer for layer in info.summary_list if layer.depth == 1]
    rows = [SummaryRow(i, layer.class_name, describe_layer(spec["layers"][i]),
                       tuple(int(v) for v in layer.output_size[1:]), int(layer.num_params))
            for i, layer in enumerate(leaves)]
    return ModelSummary(rows, int(info.total_params), int(info.trainable_params), input_shape)
