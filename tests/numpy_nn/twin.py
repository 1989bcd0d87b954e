"""The one helper every layer test uses: a NumPy layer against its torch twin, in float64.

Same input, same weights (copied from the NumPy layer into the torch one through the layer's
``torch_names``), the same random upstream gradient; the forward output, dL/dx and every
parameter gradient must agree within ``atol`` (1e-7 unless a test says otherwise), and so must
the buffers (batch norm's running statistics) after the forward pass.
"""
from __future__ import annotations

import numpy as np
import torch

ATOL = 1e-7


def copy_weights_to_torch(np_layer, torch_layer) -> None:
    state = {np_layer.torch_names[k]: torch.from_numpy(np.array(v)) for k, v in
             {**np_layer.params, **np_layer.buffers}.items()}
    torch_layer.load_state_dict(state)


def assert_close(ours, theirs, what: str, atol: float = ATOL) -> None:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    err = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
    assert err <= atol, f"{what}: max |NumPy − torch| = {err:.3g} > {atol}"


def check_twin(np_layer, torch_layer, x: np.ndarray, *, train: bool = True, seed: int = 0, atol: float = ATOL,
               dout: np.ndarray | None = None) -> dict:
    """Run both layers on float64 ``x`` and compare everything; returns the NumPy results
    (``out``, ``dx``, ``dout``) for further checks."""
    x = np.asarray(x, dtype=np.float64)
    np_layer.astype(np.float64).train(train)
    torch_layer = torch_layer.double().train(train)
    copy_weights_to_torch(np_layer, torch_layer)

    xt = torch.tensor(x, requires_grad=True)
    out_t = torch_layer(xt)
    out = np_layer.forward(x)
    assert out.dtype == np.float64
    assert_close(out, out_t, "forward output", atol)

    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out.shape)
    out_t.backward(torch.from_numpy(dout))
    dx = np_layer.backward(dout)
    assert_close(dx, xt.grad, "dL/dx", atol)
    named = dict(torch_layer.named_parameters())
    for key in np_layer.params:
        assert_close(np_layer.grads[key], named[np_layer.torch_names[key]].grad, f"dL/d{key}", atol)
    buffers = dict(torch_layer.named_buffers())
    for key, value in np_layer.buffers.items():
        assert_close(np.asarray(value), buffers[np_layer.torch_names[key]], f"buffer {key}", atol)
    return {"out": out, "dx": dx, "dout": dout}
