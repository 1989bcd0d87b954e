"""The Train page's network builder as text a person types: parsed and checked here, not in the page.

``builder_spec`` turns the builder's fields (kernels as "16, 32", padding as "same" / "valid" /
"1") into a validated spec, or raises ``SpecError`` with one sentence that says what to fix.
"""
from __future__ import annotations

from cnn_core.models import specs

MAX_KERNELS = 512
PADDINGS = ("same", "valid", "1", "2")
POOLINGS = ("max", "avg", "none")


class BuilderInputError(specs.SpecError):
    """A field that cannot be read (as opposed to a network that cannot be built); the message is for the user."""


def parse_kernels(text: str, blocks: int) -> list[int]:
    """"16" → [16] * blocks; "16, 32" → [16, 32] (one per block)."""
    tokens = [t for t in str(text or "").replace(" ", "").replace(";", ",").split(",") if t]
    try:
        kernels = [int(t) for t in tokens]
    except ValueError:
        raise BuilderInputError("Kernels per block: write whole numbers separated by commas, e.g. 16, 32.") from None
    if not kernels:
        raise BuilderInputError("Kernels per block is empty: write one number for every block, e.g. 16, "
                                "or one per block, e.g. 16, 32.")
    if len(kernels) == 1:
        kernels = kernels * int(blocks)
    if len(kernels) != int(blocks):
        raise BuilderInputError(f"Kernels per block lists {len(kernels)} numbers for {int(blocks)} blocks: give one "
                                "number for all blocks, or one per block.")
    if any(k < 1 or k > MAX_KERNELS for k in kernels):
        raise BuilderInputError(f"Each block needs between 1 and {MAX_KERNELS} kernels.")
    return kernels


def parse_padding(text: str) -> int | str:
    """"same" / "valid" stay words; a number of cells becomes an int."""
    t = str(text).strip().lower()
    if t in ("same", "valid"):
        return t
    try:
        p = int(t)
    except ValueError:
        raise BuilderInputError(f"Padding {text!r} is not 'same', 'valid' or a whole number of cells.") from None
    if p < 0:
        raise BuilderInputError("Padding cannot be negative.")
    return p


def builder_spec(*, blocks: int, kernels: str, kernel_size: int, stride: int, padding: str, pooling: str,
                 activation: str, dense_width: int, dropout_p: float, batchnorm: bool,
                 input_shape, num_classes: int) -> dict:
    """A validated spec from the builder's fields; ``SpecError`` (a sentence for the user) if it cannot be built."""
    spec = specs.build_spec(blocks=int(blocks), kernels=parse_kernels(kernels, int(blocks)),
                            kernel_size=int(kernel_size), stride=int(stride), padding=parse_padding(padding),
                            pooling=None if pooling == "none" else pooling, activation=activation,
                            batchnorm=bool(batchnorm), dropout_p=float(dropout_p), dense_width=int(dense_width),
                            input_shape=input_shape, num_classes=num_classes)
    specs.validate(spec)
    return spec
