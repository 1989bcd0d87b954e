"""`python -m cnn_core.training`: the Train page's options from the command line, for teachers and scripts.

Example (document 000's network and optimiser on the bundled digits)::

    python -m cnn_core.training --preset seed-000 --engine numpy --epochs 3 --lr 0.01 \\
        --optimizer sgd --batch-size 100 --dataset bundled --out model.safetensors

Prints one line per epoch (train / validation loss and accuracy) and saves the model with its
spec as a .safetensors checkpoint that the app's Train page can upload.
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid

from cnn_core.models import checkpoints
from cnn_core.data import datasets as data
from cnn_core.data.splits import DOC000_FRACTIONS, DOC000_SEED
from cnn_core.models import specs
from cnn_core.data.augment import DOC000_OPS, Augmentation
from cnn_core.data.catalog import DATASETS, load_named
from cnn_core.data.splits import training_split
from cnn_core.training.config import ENGINES, OPTIMIZERS, ConfigError, TrainConfig
from cnn_core.training.engines import make_engine
from cnn_core.training.loop import Diverged, Done, Epoch, Step, fit
from cnn_core.training.run import make_bundle
from cnn_core.lessons.formatting import count_of

# The data sets and the split live in cnn_core.data; the old names stay for scripts that used them.
load_dataset = load_named
make_splits = training_split


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m cnn_core.training", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    arch = ap.add_argument_group("architecture (a preset, or the builder when --preset is 'custom')")
    arch.add_argument("--preset", default="seed-000", choices=[*specs.PRESETS, "custom"])
    arch.add_argument("--blocks", type=int, default=2, help="builder: conv blocks")
    arch.add_argument("--kernels", default="16", help="builder: kernels per block, e.g. 16 or 16,32")
    arch.add_argument("--kernel-size", type=int, default=3)
    arch.add_argument("--stride", type=int, default=1)
    arch.add_argument("--padding", default="same", help="'same', 'valid' or a number")
    arch.add_argument("--pooling", default="max", choices=["max", "avg", "none"])
    arch.add_argument("--activation", default="relu", choices=list(specs.ACTIVATIONS))
    arch.add_argument("--batchnorm", action="store_true")
    arch.add_argument("--dropout", type=float, default=0.0)
    arch.add_argument("--dense", type=int, default=0, help="builder: hidden dense width (0: none)")
    tr = ap.add_argument_group("training")
    tr.add_argument("--engine", default="torch", choices=ENGINES)
    tr.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS)
    tr.add_argument("--lr", type=float, default=0.01)
    tr.add_argument("--momentum", type=float, default=0.9, help="with --optimizer momentum")
    tr.add_argument("--batch-size", type=int, default=100)
    tr.add_argument("--epochs", type=int, default=3)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--augment", default="", help=f"comma list of {','.join(DOC000_OPS)} (document 000)")
    tr.add_argument("--augment-p", type=float, default=1.0, help="share of images augmented")
    tr.add_argument("--color-jitter", action="store_true", help="document 002's ColorJitter(0.2, 0.2, 0.2)")
    tr.add_argument("--early-stopping", type=int, default=0, help="patience in epochs (0: off)")
    tr.add_argument("--max-steps", type=int, default=None, help="cap on steps per epoch (smoke runs)")
    d = ap.add_argument_group("data")
    d.add_argument("--dataset", default="bundled", choices=DATASETS)
    d.add_argument("--zip", default=None, help="with --dataset zip: the archive of class folders")
    d.add_argument("--image-size", type=int, default=28, help="with --dataset zip")
    d.add_argument("--invert", action="store_true", help="with --dataset zip: dark ink on light paper")
    d.add_argument("--data-root", default=None, help="torchvision download folder")
    d.add_argument("--split", default=",".join(map(str, DOC000_FRACTIONS)), help="train,validation,test fractions")
    d.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    ap.add_argument("--out", default="model.safetensors", help="checkpoint path")
    return ap


def spec_from_args(args, input_shape, num_classes) -> dict:
    if args.preset != "custom":
        return specs.preset(args.preset, input_shape=input_shape, num_classes=num_classes)
    kernels = [int(k) for k in str(args.kernels).split(",") if k.strip()]
    padding = args.padding if args.padding in ("same", "valid") else int(args.padding)
    return specs.build_spec(blocks=args.blocks, kernels=kernels[0] if len(kernels) == 1 else kernels,
                            kernel_size=args.kernel_size, stride=args.stride, padding=padding,
                            pooling=None if args.pooling == "none" else args.pooling, activation=args.activation,
                            batchnorm=args.batchnorm, dropout_p=args.dropout, dense_width=args.dense,
                            input_shape=input_shape, num_classes=num_classes)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        fractions = tuple(float(v) for v in args.split.split(","))
        ds, official_test = load_dataset(args.dataset, args.zip, args.image_size, args.invert, args.data_root)
        parts = make_splits(ds, official_test, fractions)
        train = parts.train if args.limit is None else parts.train.subset(range(min(args.limit, len(parts.train))))
        spec = spec_from_args(args, ds.input_shape, ds.num_classes)
        aug = Augmentation(ops=tuple(o for o in args.augment.split(",") if o), p=args.augment_p,
                           color_jitter=args.color_jitter)
        cfg = TrainConfig(spec=spec, engine=args.engine, optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
                          batch_size=args.batch_size, epochs=args.epochs, seed=args.seed, augment=aug,
                          early_stopping=args.early_stopping, max_steps_per_epoch=args.max_steps)
        cfg.validate(train.input_shape, train.num_classes)
        if len(train) == 0:
            raise ConfigError("The training split is empty; give it a larger share of the data.")
    except (ValueError, data.DataError, specs.SpecError, ConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{cfg.describe()} on {ds.name}: {len(train):,} train / {len(parts.val):,} validation / "
          f"{len(parts.test):,} test images, {specs.count_params(spec):,} parameters", flush=True)
    engine = make_engine(cfg)
    started, steps, images, epochs_log, done = time.perf_counter(), 0, 0, [], Done(None)
    state, message = "finished", ""
    try:
        for event in fit(cfg, engine, train, parts.val, parts.test):
            if isinstance(event, Step):
                steps, images = event.step, images + event.images
            elif isinstance(event, Epoch):
                epochs_log.append(event.row)
                print_epoch(event.row, cfg.epochs)
            elif isinstance(event, Done):
                done = event
                message = event.message
    except KeyboardInterrupt:
        state, message = "stopped", f"Stopped by you after {count_of(steps, 'step')}."
    except Diverged as exc:
        print(exc)
        print("No model saved.", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    if message:
        print(message)
    if done.test_acc is not None:
        print(f"test accuracy {done.test_acc:.4f} on {len(parts.test):,} images "
              f"({images / seconds:,.0f} images/s, {seconds:.1f} s)")
    if not steps:
        print("No model saved.", file=sys.stderr)
        return 1
    bundle = make_bundle(cfg, engine.to_torch(), name=spec["name"], run_id=uuid.uuid4().hex[:10], state=state,
                         epochs_log=epochs_log, test_acc=done.test_acc, class_names=train.class_names,
                         dataset_info={"name": ds.name, "key": args.dataset, "split": list(fractions), "split_seed": DOC000_SEED},
                         n_val=len(parts.val), n_test=len(parts.test))
    out = checkpoints.save(bundle, args.out)
    print(f"saved {out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0 if state == "finished" else 1


def print_epoch(row: dict, epochs: int) -> None:
    train_acc = "n/a" if row["train_acc"] is None else f"{row['train_acc']:.4f}"
    val = "" if row["val_acc"] is None else f"  val loss {row['val_loss']:.4f}  val acc {row['val_acc']:.4f}"
    print(f"epoch {row['epoch']:>3}/{epochs}  train loss {row['train_loss']:.4f}  "
          f"train acc {train_acc}{val}  ({row['seconds']:.1f} s)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
