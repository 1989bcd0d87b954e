"""Comparing runs: what differs in their settings, and whether the same settings gave the same curve.

``settings(snapshot)`` flattens a run's configuration into readable values (one per knob);
``differences`` keeps only the knobs that differ between the runs compared; ``twins`` finds runs
with identical settings (seed and data included) and how far apart their loss curves are — zero
when training is deterministic, which both engines are on a CPU (tested).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_POOL = {"maxpool2d": "max", "avgpool2d": "avg"}


def architecture(spec: dict) -> str:
    """'conv 8×3×3 → sigmoid → max 2 → flatten → dense 20 → sigmoid → dense 10'."""
    parts = []
    for layer in spec.get("layers", []):
        t = layer["type"]
        if t == "conv2d":
            k = int(layer["kernel_size"])
            extra = "".join([f" s{layer['stride']}" if int(layer.get("stride", 1)) != 1 else "",
                             f" p{layer['padding']}" if layer.get("padding", 0) not in (0, "valid") else ""])
            parts.append(f"conv {layer['out_channels']}×{k}×{k}{extra}")
        elif t in _POOL:
            parts.append(f"{_POOL[t]} {layer.get('kernel_size', 2)}")
        elif t == "dense":
            parts.append(f"dense {layer['out_features']}")
        elif t == "dropout":
            parts.append(f"dropout {float(layer.get('p', 0.5)):g}")
        elif t == "batchnorm2d":
            parts.append("BN")
        else:
            parts.append(t)
    return " → ".join(parts)


def settings(config: dict, dataset: str = "") -> dict[str, str]:
    """A run's configuration (``TrainConfig.to_dict()``) as readable values, one per knob."""
    aug = config.get("augment") or {}
    ops = list(aug.get("ops", []))
    aug_txt = (", ".join(ops) + f" (p {float(aug.get('p', 1.0)):g})") if ops else "none"
    if aug.get("color_jitter"):
        aug_txt = ("" if aug_txt == "none" else aug_txt + " + ") + "colour jitter"
    opt = config.get("optimizer", "")
    if opt == "momentum":
        opt = f"momentum {float(config.get('momentum', 0.9)):g}"
    spec = config.get("spec", {})
    return {"data": dataset or "—", "network": spec.get("name", "custom"), "layers": architecture(spec),
            "engine": config.get("engine", ""), "optimiser": opt, "learning rate": f"{float(config.get('lr', 0)):g}",
            "batch size": str(config.get("batch_size", "")), "epochs": str(config.get("epochs", "")),
            "seed": str(config.get("seed", "")), "augmentation": aug_txt,
            "early stopping": f"patience {config['early_stopping']}" if config.get("early_stopping") else "off",
            "steps per epoch cap": str(config.get("max_steps_per_epoch") or "none")}


def differences(runs: list[dict[str, str]]) -> list[str]:
    """The knobs whose values are not all equal across ``runs`` (each a ``settings`` dict), in order."""
    if not runs:
        return []
    return [k for k in runs[0] if len({r.get(k) for r in runs}) > 1]


@dataclass(frozen=True)
class Twins:
    """Runs with identical settings, and the largest gap between their loss curves."""
    indices: tuple[int, ...]
    steps_compared: int        # steps every one of them took
    max_gap: float             # max |loss_a − loss_b| over those steps (0.0: identical)

    @property
    def identical(self) -> bool:
        return self.steps_compared > 0 and self.max_gap == 0.0


def twins(configs: list[dict], datasets: list[str], step_losses: list) -> list[Twins]:
    """Groups (two or more) of runs whose settings and seed are identical, with their curves' gap."""
    keys = [repr(sorted(settings(c, d).items())) + repr(c.get("spec")) for c, d in zip(configs, datasets)]
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    out = []
    for idx in groups.values():
        if len(idx) < 2:
            continue
        n = min(len(step_losses[i]) for i in idx)
        curves = np.array([np.asarray(step_losses[i][:n], dtype=float) for i in idx])
        gap = float(np.max(np.abs(curves - curves[0]))) if n else 0.0
        out.append(Twins(tuple(idx), n, gap))
    return out
