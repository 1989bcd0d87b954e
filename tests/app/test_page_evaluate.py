"""The Evaluate page in AppTest: the default model on the bundled held-out digits, and a trained run."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from cnn_core.data import datasets as data
from cnn_core.data import splits
from cnn_core.inference import evaluation
from cnn_core.models import pretrained
from cnn_core.models import specs
from cnn_core.training import TrainConfig, TrainingRun, registry

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "7_Evaluate.py")


@pytest.fixture
def at(open_page):
    return open_page(PAGE, run=False)


def _held_out():
    parts = splits.doc000_split(data.load_bundled())
    return np.concatenate([parts.val.images, parts.test.images]), np.concatenate([parts.val.labels, parts.test.labels])


def test_the_default_model_is_judged_on_the_digits_it_never_saw(at):
    at.run()
    assert not at.exception and not at.error
    images, labels = _held_out()
    ds = data.ImageDataset("held", images, labels, data.DIGIT_CLASSES)
    ev = evaluation.evaluate(pretrained.load_default(), ds)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["accuracy"] == f"{ev.accuracy * 100:.2f} %"
    assert metrics["mistakes"] == f"{int((ev.preds != labels).sum()):,}"
    assert metrics["top-3 accuracy"] == f"{ev.top_k(3) * 100:.2f} %"
    table = at.dataframe[0].value.set_index("class")     # a column of its own: as the index it was cut short
    assert list(table.index[-2:]) == ["macro avg", "weighted avg"] and len(table) == 12
    assert int(table.loc["weighted avg", "support"]) == len(labels)
    # The cell picker starts on the largest confusion and says how many images it holds.
    cm = ev.confusion
    off = cm.copy()
    np.fill_diagonal(off, -1)
    t, p = np.unravel_index(off.argmax(), off.shape)
    assert (at.selectbox(key="ev_true").value, at.selectbox(key="ev_pred").value) == (str(t), str(p))
    assert any(f"**{cm[t, p]:,} image{'' if cm[t, p] == 1 else 's'}** of class **{t}** predicted as **{p}**" in m.value for m in at.markdown)


def test_picking_a_cell_and_row_normalising_work(at):
    at.run()
    at.selectbox(key="ev_true").set_value("3")
    at.selectbox(key="ev_pred").set_value("3").run()
    assert any("of class **3** predicted as **3** (correctly classified)" in m.value for m in at.markdown)
    assert len(at.image) >= 1
    at.radio(key="ev_norm").set_value("row-normalised").run()
    assert not at.exception
    at.slider(key="ev_k").set_value(1).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["top-1 accuracy"] == metrics["accuracy"]


def test_a_trained_run_is_judged_on_its_own_test_split(at):
    ds = data.load_bundled()
    parts = splits.doc000_split(ds)
    small = parts.train.subset(np.arange(400))
    cfg = TrainConfig(spec=specs.preset("seed-000"), optimizer="sgd", lr=0.05, batch_size=50, epochs=1)
    run = registry().submit(TrainingRun(cfg, small, parts.val, parts.test, dataset_info={"name": ds.name, "key": "bundled"}))
    assert run.join(60)
    at.session_state["active_model"] = run.bundle()
    at.run()
    assert not at.exception
    assert at.selectbox(key="ev_data").value.startswith("its test split (380 images")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["accuracy"] == f"{run.snapshot().test_acc * 100:.2f} %"


def _rgb_zip(classes, n=5, size=40) -> bytes:
    import io
    import zipfile

    from PIL import Image
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, c in enumerate(classes):
            for i in range(n):
                b = io.BytesIO()
                Image.new("RGB", (size, size), (60 * k, 10 * i, 200 - 60 * k)).save(b, "PNG")
                zf.writestr(f"{c}/{i}.png", b.getvalue())
    return buf.getvalue()


def test_an_rgb_model_is_explained_and_judged_on_an_uploaded_zip(at, monkeypatch):
    import ui.views.train.zip_uploads

    loads = []
    real = ui.views.train.zip_uploads.load_zip
    monkeypatch.setattr(ui.views.train.zip_uploads, "load_zip", lambda *a, **k: loads.append(k.get("name")) or real(*a, **k))
    from cnn_core.models import checkpoints
    spec = specs.build_spec(blocks=1, kernels=4, input_shape=(3, 32, 32), num_classes=3)
    model = specs.build_torch(spec).eval()
    at.session_state["active_model"] = checkpoints.ModelBundle(spec, model, {"name": "rgb", "class_names": ["a", "b", "c"]})
    at.run()
    assert not at.exception and not at.error
    info = [i.value for i in at.info]
    assert len(info) == 1 and "expects 32×32 RGB images in 3 classes (a, b, c)" in info[0]
    at.file_uploader(key="ev_zip").set_value(("wrong.zip", _rgb_zip(["x", "y", "z"]), "application/zip")).run()
    assert not at.exception and len(at.error) == 1 and "differ from the model's ['a', 'b', 'c']" in at.error[0].value
    at.file_uploader(key="ev_zip").set_value(("ok.zip", _rgb_zip(["a", "b", "c"]), "application/zip")).run()
    assert not at.exception and not at.error
    report = at.dataframe[0].value
    assert list(report["class"]) == ["a", "b", "c", "macro avg", "weighted avg"]
    assert list(report["support"])[:3] == [5, 5, 5]
    assert loads == ["wrong.zip", "ok.zip"]
    at.run()                                   # a rerun uses the decoded archive, it does not decode it again
    assert not at.exception and list(at.dataframe[0].value["support"])[:3] == [5, 5, 5] and len(loads) == 2
    assert not at.get("progress")              # the progress bar is gone once the archive is decoded


def test_no_caption_starts_with_a_literal_caption_label(open_page):
    """Issue 11: the mistakes' caption began with a literal "Caption:"."""
    at = open_page(PAGE)
    assert not at.exception
    assert not [c.value for c in at.caption if c.value.startswith("Caption:")]
    assert any(c.value.startswith("Under each image: true class → predicted class") for c in at.caption)


def test_an_upload_waits_for_a_free_decoding_slot(at, monkeypatch):
    """At most limits.MAX_ZIP_LOADS archives decode at once on the server; the next one waits its turn."""
    import threading
    import time

    import ui.views.train.zip_uploads
    from cnn_core.models import checkpoints

    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(ui.views.train.zip_uploads, "_SLOTS", slots)
    spec = specs.build_spec(blocks=1, kernels=4, input_shape=(3, 32, 32), num_classes=3)
    at.session_state["active_model"] = checkpoints.ModelBundle(spec, specs.build_torch(spec).eval(),
                                                               {"name": "rgb", "class_names": ["a", "b", "c"]})
    at.run()
    slots.acquire()                                    # another student's archive is decoding
    threading.Timer(1.0, slots.release).start()
    t0 = time.monotonic()
    at.file_uploader(key="ev_zip").set_value(("ok.zip", _rgb_zip(["a", "b", "c"]), "application/zip")).run()
    assert time.monotonic() - t0 >= 0.9                # it waited for the slot ...
    assert not at.exception and not at.error           # ... then decoded and judged the archive
    assert list(at.dataframe[0].value["support"])[:3] == [5, 5, 5]
    assert slots.acquire(blocking=False)               # and gave the slot back


def _param(at, key: str) -> str:
    return str(at.query_params[key]).strip("[]'")


def test_a_shared_evaluate_link_opens_the_same_cell_and_a_tampered_one_says_so(open_page):
    at = open_page(PAGE, run=False)
    at.query_params.update({"ev_k": "2", "ev_norm": "row-normalised", "ev_true": "4", "ev_pred": "9"})
    at.run()
    assert not at.exception and not at.error and not at.warning
    assert at.slider(key="ev_k").value == 2 and at.radio(key="ev_norm").value == "row-normalised"
    assert (at.selectbox(key="ev_true").value, at.selectbox(key="ev_pred").value) == ("4", "9")
    assert any("of class **4** predicted as **9**" in m.value for m in at.markdown)
    at.selectbox(key="ev_pred").set_value("7").run()                 # the address follows the screen
    assert _param(at, "ev_pred") == "7" and _param(at, "ev_k") == "2" and _param(at, "ev_data") == at.selectbox(
        key="ev_data").value
    bad = open_page(PAGE, run=False)
    bad.query_params.update({"ev_k": "77", "ev_true": "cat", "ev_data": "my laptop's files"})
    bad.run()
    assert not bad.exception and not bad.error
    warnings = [w.value for w in bad.warning]
    assert len(warnings) == 3 and all(w.startswith("This link has") for w in warnings), warnings
    assert bad.slider(key="ev_k").value == 3 and bad.selectbox(key="ev_true").value != "cat"


def _digit_zip(images, labels, invert: bool = False) -> bytes:
    """A zip of class folders 0/ … 9/ holding these 28×28 digits as PNGs."""
    import io
    import zipfile

    from PIL import Image
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (img, y) in enumerate(zip(images, labels)):
            b = io.BytesIO()
            px = np.asarray(img, dtype=np.uint8).reshape(28, 28)
            Image.fromarray(255 - px if invert else px).save(b, "PNG")
            zf.writestr(f"{int(y)}/{i}.png", b.getvalue())
    return buf.getvalue()


def test_a_new_zip_of_the_same_size_and_balance_is_judged_afresh_and_invert_counts(at):
    """Issue 18 bug 1: the result cache key was (model, choice, len, label sum), so a second zip with as many
    images per class showed the first zip's results, and ticking "invert" changed nothing."""
    images, labels = _held_out()
    picks = np.concatenate([np.flatnonzero(labels == c)[:6] for c in range(10)])
    imgs, labs = images[picks], labels[picks]
    at.run()
    zip_label = next(o for o in at.selectbox(key="ev_data").options if o.startswith("a zip"))
    at.selectbox(key="ev_data").set_value(zip_label).run()
    at.file_uploader(key="ev_zip").set_value(("right.zip", _digit_zip(imgs, labs), "application/zip")).run()
    assert not at.exception and not at.error
    first = {m.label: m.value for m in at.metric}
    # Same size, same labels, but every image filed under the next class: almost every answer is now wrong.
    shifted = np.roll(imgs, 6, axis=0)
    at.file_uploader(key="ev_zip").set_value(("shifted.zip", _digit_zip(shifted, labs), "application/zip")).run()
    assert not at.exception and not at.error
    second = {m.label: m.value for m in at.metric}
    assert second["accuracy"] != first["accuracy"] and second["mistakes"] != first["mistakes"]
    # The same shifted zip with dark ink on light paper, read back with "invert": the model sees the
    # same digits as before, so the score is the shifted zip's; without invert it differs.
    at.file_uploader(key="ev_zip").set_value(("dark.zip", _digit_zip(shifted, labs, invert=True),
                                               "application/zip")).run()
    plain = {m.label: m.value for m in at.metric}
    at.checkbox(key="ev_invert").check().run()
    assert not at.exception and not at.error
    inverted = {m.label: m.value for m in at.metric}
    assert inverted["accuracy"] == second["accuracy"] and plain["accuracy"] != inverted["accuracy"]


def _shown(widget):
    """What the browser shows for a widget it draws afresh: the value the server sends with it, else its
    default (a value the browser itself set before the widget went away is forgotten with it)."""
    p = widget.proto
    if p.set_value:
        return p.raw_value if "raw_value" in p.DESCRIPTOR.fields_by_name and p.raw_value else list(p.value)
    return list(p.default) if isinstance(p.default, Iterable) else p.default


def test_k_and_the_normalisation_show_what_the_page_uses_after_waiting_for_a_zip(at):
    """Issue 18 bug 5: choosing "a zip" stops the page before the slider and the radio are drawn; after the
    upload they came back showing "counts" and 3 while the matrix was row-normalised and the metric top-5."""
    images, labels = _held_out()
    picks = np.concatenate([np.flatnonzero(labels == c)[:5] for c in range(10)])
    at.run()
    at.slider(key="ev_k").set_value(5).run()
    at.radio(key="ev_norm").set_value("row-normalised").run()
    zip_label = next(o for o in at.selectbox(key="ev_data").options if o.startswith("a zip"))
    at.selectbox(key="ev_data").set_value(zip_label).run()
    assert not at.get("slider")                              # the page waits for the zip
    at.file_uploader(key="ev_zip").set_value(("d.zip", _digit_zip(images[picks], labels[picks]),
                                               "application/zip")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "top-5 accuracy" in [m.label for m in at.metric]
    assert _shown(at.slider(key="ev_k")) == [5]
    radio = at.radio(key="ev_norm")
    shown = _shown(radio)
    assert (shown if isinstance(shown, str) else radio.options[shown]) == "row-normalised"
