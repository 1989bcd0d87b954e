"""Weight initialisation: He (Kaiming) normal for ReLU networks, Xavier (Glorot) uniform for
sigmoid / tanh, and torch's own default, so both engines can start from the same distribution.

``fan_in`` of a conv kernel (C_out, C_in, kH, kW) is C_in·kH·kW; of a dense weight (out, in), in.
"""
from __future__ import annotations

import math

import numpy as np


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight in torch layout: (out, in) or (C_out, C_in, kH, kW)."""
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def he_normal(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """N(0, 2 / fan_in): keeps the variance of ReLU activations constant layer to layer
    (He et al. 2015; document 000 uses it: ``randn(...) * sqrt(2 / input_node)``)."""
    fan_in, _ = fans(tuple(shape))
    return (rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(dtype)


def xavier_uniform(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """U(−a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010), for sigmoid / tanh."""
    fan_in, fan_out = fans(tuple(shape))
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def torch_default(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """U(−1/sqrt(fan_in), 1/sqrt(fan_in)): what nn.Conv2d / nn.Linear draw by default
    (kaiming_uniform with a = sqrt(5)); also torch's bias initialisation."""
    fan_in, _ = fans(tuple(shape))
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


INITIALISERS = {"he": he_normal, "xavier": xavier_uniform, "torch": torch_default}


def initial_weight(name: str, shape, rng: np.random.Generator | None, dtype=np.float32) -> np.ndarray:
    """The weight drawn by the initialiser called ``name`` ("he", "xavier" or "torch")."""
    if name not in INITIALISERS:
        raise ValueError(f"Unknown initialiser {name!r}; choose one of {', '.join(INITIALISERS)}.")
    return INITIALISERS[name](tuple(shape), rng if rng is not None else np.random.default_rng(), dtype)
