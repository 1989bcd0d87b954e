"""The Train page in AppTest: settings, summary, Start, live panel, reattach, queue, checkpoints, zips."""
from __future__ import annotations

import io
import math
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnn_core.models import checkpoints
from cnn_core.data import datasets as data
from cnn_core.models import specs
from cnn_core.training import TrainConfig, TrainingRun, registry

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "6_Train.py")


@pytest.fixture
def at(open_page):
    app = open_page(PAGE)
    yield app
    for run in registry().runs():
        run.stop()
    for run in registry().runs():
        run.join(2)


def _texts(at, kind):
    return [e.value for e in getattr(at, kind)]


def _progress_text(at) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def _run_until_ended(at, run_id, timeout=90):
    run = registry().get(run_id)
    t0 = time.monotonic()
    while not run.snapshot().ended:
        assert time.monotonic() - t0 < timeout, "the run did not end"
        time.sleep(0.3)
    at.run()
    return run


def _tiny_long_run():
    ds = data.load_bundled().subset(np.arange(0, 5000, 10))
    cfg = TrainConfig(spec=specs.build_spec(blocks=1, kernels=4), optimizer="sgd", lr=0.01, batch_size=10, epochs=200)
    return TrainingRun(cfg, ds, ds.subset(np.arange(20)), name="tiny")


def test_defaults_show_data_split_histogram_and_a_torchinfo_summary(at):
    assert not at.exception and not at.error
    assert any("train 4,240 / validation 380 / test 380 images" in c for c in _texts(at, "caption"))
    assert any("105,866 parameters" in m for m in _texts(at, "markdown"))
    assert len(at.get("plotly_chart")) == 1                   # the label histogram (no run yet)
    assert not at.button(key="tr_start").disabled
    assert any("Press **Start training**" in i for i in _texts(at, "info"))


def test_start_with_the_defaults_trains_what_the_benchmark_times(at):
    from cnn_core.training import default_config

    at.button(key="tr_start").click().run()
    run = registry().get(at.session_state["train_run_id"])
    expected = default_config()
    assert run.config.spec["layers"] == expected.spec["layers"]
    assert (run.config.optimizer, run.config.lr, run.config.batch_size, run.config.epochs) == \
        (expected.optimizer, expected.lr, expected.batch_size, expected.epochs)
    run.stop(wait=2)


def test_seed_002_preset_reads_315148_and_sets_its_document_training(at):
    at.radio(key="tr_arch_mode").set_value("preset").run()
    at.selectbox(key="tr_preset").set_value("seed-002").run()
    assert any("315,148 parameters" in m for m in _texts(at, "markdown"))
    assert at.session_state["tr_optimizer"] == "adam" and at.session_state["tr_lr"] == 0.001
    assert at.session_state["tr_batch"] == 64


def test_an_impossible_builder_network_is_explained_with_the_formula_before_start(at):
    at.number_input(key="tr_blocks").set_value(4)
    at.text_input(key="tr_kernels").set_value("16, 32").run()
    assert _texts(at, "error") == ["Kernels per block lists 2 numbers for 4 blocks: give one number for all blocks, "
                                   "or one per block."]
    at.text_input(key="tr_kernels").set_value("8")
    at.number_input(key="tr_ksize").set_value(7)
    at.selectbox(key="tr_padding").set_value("valid").run()
    errors = _texts(at, "error")
    assert len(errors) == 1 and "cannot be built" in errors[0] and "⌊(" in errors[0] and "+ 1 =" in errors[0]
    assert at.button(key="tr_start").disabled and not at.exception


def test_start_trains_in_the_background_and_a_finished_run_becomes_the_active_model(at):
    at.radio(key="tr_arch_mode").set_value("preset").run()
    at.selectbox(key="tr_preset").set_value("seed-000").run()        # SGD, lr 0.01, batch 100: 43 steps/epoch
    at.number_input(key="tr_epochs").set_value(1).run()
    at.button(key="tr_start").click().run()
    run_id = at.query_params["run"][0] if isinstance(at.query_params["run"], list) else at.query_params["run"]
    assert registry().get(run_id) is not None and at.session_state["train_run_id"] == run_id
    assert any(f"Run `{run_id}`" in m for m in _texts(at, "markdown"))
    run = _run_until_ended(at, run_id)
    assert run.snapshot().state == "finished" and not at.exception
    assert any("Finished after 1 epoch," in s for s in _texts(at, "success"))
    assert len(at.get("plotly_chart")) == 6                   # loss, accuracy, histogram; timeline + its 2 gradient charts
    described = [h.proto.body for h in at.html if "cnnx-sr-only" in h.proto.body]     # the curves in words
    assert any("Training loss over 43 steps: first " in t and "validation accuracy by epoch, epoch 1: " in t
               for t in described), described
    assert len(at.get("download_button")) == 1
    at.button(key=f"use_{run_id}").click().run()
    active = at.session_state["active_model"]
    assert active.meta["run_id"] == run_id and active.meta["engine"] == "torch"
    assert any("active model on every page" in s for s in _texts(at, "success"))


def test_learning_rate_1e6_gives_a_clear_divergence_message_not_a_crash(at):
    at.radio(key="tr_arch_mode").set_value("preset").run()
    at.selectbox(key="tr_preset").set_value("seed-000").run()
    at.select_slider(key="tr_lr").set_value(1e6).run()
    at.button(key="tr_start").click().run()
    run_id = at.session_state["train_run_id"]
    _run_until_ended(at, run_id, timeout=30)
    errors = _texts(at, "error")
    assert not at.exception and len(errors) == 1
    assert "Training diverged" in errors[0] and "learning rate of 1e+06 is too high" in errors[0]
    assert len(at.get("download_button")) == 0
    # The loss chart still shows the steps before the blow-up (one point drew nothing as a bare line) and says why
    # it ends; no NaN or infinity is sent to the browser.
    import json
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    loss = next(f for f in figs if f["layout"]["title"]["text"] == "Loss")
    per_step = loss["data"][0]
    assert "markers" in per_step["mode"]
    from ui.views.train.train_charts import loss_figure
    ys = loss_figure(registry().get(run_id).snapshot()).data[0].y
    assert len(ys) >= 1 and all(math.isfinite(v) for v in ys)
    assert loss["layout"]["yaxis"]["range"][1] >= 1.2 * max(ys)      # the points clear the top edge and the note
    assert "diverged after step" in loss["layout"]["annotations"][0]["text"]


def test_a_refresh_or_second_tab_reattaches_through_the_query_parameter(monkeypatch):
    monkeypatch.chdir(ROOT)
    run = registry().submit(_tiny_long_run())
    try:
        tab = AppTest.from_file(PAGE, default_timeout=60)
        tab.query_params["run"] = run.id
        tab.run()
        assert any(f"Run `{run.id}`" in m for m in _texts(tab, "markdown"))
        deadline = time.monotonic() + 30                       # the worker process starts, then steps
        while run.snapshot().step == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        tab.run()                                              # the fragment's next tick
        assert "Training: step" in _progress_text(tab) and not tab.exception
        tab.button(key=f"stop_{run.id}").click().run()
        assert run.join(10) and run.snapshot().state == "stopped"
        assert any("Stopped by you" in w for w in _texts(tab, "warning"))
    finally:
        run.stop()


def test_a_run_beyond_the_cap_shows_its_queue_position(monkeypatch):
    monkeypatch.chdir(ROOT)
    reg = registry()
    cap = reg.max_concurrent
    reg.set_max_concurrent(1)
    first = second = None
    try:
        first = reg.submit(_tiny_long_run())
        second = reg.submit(_tiny_long_run())
        tab = AppTest.from_file(PAGE, default_timeout=60)
        tab.query_params["run"] = second.id
        tab.run()
        assert "Queued: position 1 in line" in _progress_text(tab)
    finally:
        for r in (first, second):
            if r is not None:
                r.stop()
        reg.set_max_concurrent(cap)


def test_a_bad_checkpoint_changes_nothing_and_a_good_one_can_be_used(at):
    at.file_uploader(key="tr_ckpt").set_value(("model.safetensors", b"\x00" * 100, "application/octet-stream")).run()
    errors = _texts(at, "error")
    assert len(errors) == 1 and "not a CNN Explorer checkpoint" in errors[0] and "Nothing was changed." in errors[0]
    assert "active_model" not in at.session_state or at.session_state["active_model"] is None
    spec = specs.preset("seed-000")
    good = checkpoints.to_bytes(checkpoints.ModelBundle(spec, specs.build_torch(spec).eval(),
                                                        {"name": "uploaded one", "accuracy": 0.5}))
    at.file_uploader(key="tr_ckpt").set_value(("good.safetensors", good, "application/octet-stream")).run()
    assert not _texts(at, "error")
    at.button(key="tr_ckpt_use").click().run()
    assert at.session_state["active_model"].name == "uploaded one"


@pytest.mark.parametrize("name, expected", [
    ("50,000 × 50,000 input", "The input is 50,000 × 50,000 pixels; the cap is 512 pixels a side (98× over)."),
    ("dense 4,000,000 units (spec only)", "the cap is 25 million (127× over)."),
    ("torch.save zip with a pickle payload", "can run code when opened, so the app never opens it."),
])
def test_a_spec_bomb_or_pickle_upload_shows_one_clear_error_and_no_exception(at, tmp_path, name, expected):
    from benchmarks.caps import hostile_checkpoints

    blob = hostile_checkpoints(tmp_path / "pwned")[name]
    at.file_uploader(key="tr_ckpt").set_value(("bomb.safetensors", blob, "application/octet-stream")).run()
    assert not at.exception
    errors = _texts(at, "error")
    assert len(errors) == 1 and expected in errors[0] and errors[0].endswith("Nothing was changed."), errors
    assert not (tmp_path / "pwned").exists()
    assert "active_model" not in at.session_state or at.session_state["active_model"] is None


def _zip_of(classes, n=6) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, c in enumerate(classes):
            for i in range(n):
                img = Image.new("L", (32, 32), 40 * k + i)
                b = io.BytesIO()
                img.save(b, "PNG")
                zf.writestr(f"{c}/{i}.png", b.getvalue())
        zf.writestr("notes.txt", "hello")
    return buf.getvalue()


def test_an_uploaded_zip_of_class_folders_sets_the_networks_outputs(at):
    at.radio(key="tr_dataset").set_value("zip").run()
    at.file_uploader(key="tr_zip").set_value(("shapes.zip", _zip_of(["circle", "square", "star"]), "application/zip")).run()
    assert not at.exception and not at.error
    assert any("18 images in 3 classes (greyscale), 1 file skipped" in c for c in _texts(at, "caption"))
    assert any("parameters" in m for m in _texts(at, "markdown"))
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/passwd.png", b"x")
    at.file_uploader(key="tr_zip").set_value(("evil.zip", evil.getvalue(), "application/zip")).run()
    errors = _texts(at, "error")
    assert len(errors) == 1 and "climbs out" in errors[0] and not at.exception
    assert at.button(key="tr_start").disabled


def test_full_data_sets_offline_give_one_clear_message(at, monkeypatch):
    def offline(name, train=True, **kw):
        raise data.DataError("Fashion-MNIST cannot be downloaded: no network connection (test). The bundled 5,000 "
                             "MNIST digits are still available.")

    monkeypatch.setattr(data, "load_torchvision", offline)
    at.radio(key="tr_dataset").set_value("fashion-mnist").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Fashion-MNIST cannot be downloaded: no network connection (test). The "
                                           "bundled 5,000 MNIST digits are still available."]
    assert at.button(key="tr_start").disabled
    at.radio(key="tr_dataset").set_value("bundled").run()
    assert not at.error and not at.button(key="tr_start").disabled


def test_training_tab_labels_fit_their_half_column_at_1280px(at):
    # "colour jitter ±0.2 (document 002)" was cut to "colour jitter ±0.2 (docum…" beside the augmented share;
    # the document goes in the help.
    box = at.checkbox(key="tr_jitter")
    assert box.label == "colour jitter ±0.2" and "Document 002" in box.help


def test_settings_survive_a_visit_to_another_page(monkeypatch):
    # Streamlit drops the values of widgets a page doesn't draw: Train → Evaluate → Train reset every knob.
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/6_Train.py").run()
    at.radio(key="tr_arch_mode").set_value("preset").run()
    at.selectbox(key="tr_preset").set_value("lenet-5").run()
    at.select_slider(key="tr_lr").set_value(0.05)
    at.number_input(key="tr_epochs").set_value(3)
    at.multiselect(key="tr_aug").set_value(["flip", "noise"]).run()
    at.switch_page("pages/7_Evaluate.py").run()
    at.switch_page("pages/6_Train.py").run()
    assert not at.exception
    assert at.radio(key="tr_arch_mode").value == "preset" and at.selectbox(key="tr_preset").value == "lenet-5"
    assert at.select_slider(key="tr_lr").value == 0.05 and at.number_input(key="tr_epochs").value == 3
    assert at.multiselect(key="tr_aug").value == ["flip", "noise"]


def test_the_preselected_preset_trains_with_its_documents_settings(at):
    """Issue 11: seed-000, pre-selected when 'A network from the documents' is chosen, trained with the
    builder's Adam, lr 0.002, batch 32; picking a preset set the document's settings only on a change."""
    at.radio(key="tr_arch_mode").set_value("preset").run()
    assert not at.exception
    assert (at.session_state["tr_optimizer"], at.session_state["tr_lr"], at.session_state["tr_batch"]) == \
        ("sgd", 0.01, 100)
    at.selectbox(key="tr_preset").select("seed-002").run()
    assert (at.session_state["tr_optimizer"], at.session_state["tr_lr"]) == ("adam", 0.001)
    at.select_slider(key="tr_lr").set_value(0.005).run()          # the learner's own change stands
    assert at.session_state["tr_lr"] == 0.005


def test_builder_keeps_its_settings_after_a_look_at_the_presets(at):
    at.text_input(key="tr_kernels").input("8, 24").run()
    at.radio(key="tr_arch_mode").set_value("preset").run()
    at.selectbox(key="tr_preset").select("lenet-5").run()
    at.radio(key="tr_arch_mode").set_value("builder").run()
    assert not at.exception and not at.error
    assert at.text_input(key="tr_kernels").value == "8, 24" and at.number_input(key="tr_blocks").value == 2


def test_using_a_checkpoint_names_it_in_the_sidebar_at_once(at):
    """Issue 11: 'is now the active model on every page' appeared while the sidebar still named the default."""
    spec = specs.preset("seed-000")
    good = checkpoints.to_bytes(checkpoints.ModelBundle(spec, specs.build_torch(spec).eval(),
                                                        {"name": "uploaded one", "accuracy": 0.5}))
    at.file_uploader(key="tr_ckpt").set_value(("good.safetensors", good, "application/octet-stream")).run()
    at.button(key="tr_ckpt_use").click().run()
    assert not at.exception
    assert any("uploaded one is now the active model" in s for s in _texts(at, "success"))
    assert any("uploaded one" in c.value for c in at.sidebar.caption)


def test_a_shared_train_link_restores_the_settings(open_page):
    at = open_page(PAGE, run=False)
    at.query_params.update({"tr_arch_mode": "preset", "tr_preset": "seed-002", "tr_optimizer": "momentum",
                            "tr_lr": "0.05", "tr_batch": "16", "tr_epochs": "3", "tr_seed": "7"})
    at.run()
    assert not at.exception and not at.error
    assert at.radio(key="tr_arch_mode").value == "preset" and at.selectbox(key="tr_preset").value == "seed-002"
    assert (at.session_state["tr_optimizer"], at.session_state["tr_lr"], at.session_state["tr_batch"]) == \
        ("momentum", 0.05, 16)                                      # the link's, not the preset's document's
    assert (at.number_input(key="tr_epochs").value, at.number_input(key="tr_seed").value) == (3, 7)
    assert at.query_params["tr_lr"] in ("0.05", ["0.05"])


def test_a_tampered_train_link_gives_a_message_and_the_defaults(open_page):
    at = open_page(PAGE, run=False)
    at.query_params.update({"tr_lr": "1e400", "tr_epochs": "-3", "tr_preset": "../../etc"})
    at.run()
    assert not at.exception and not at.error
    assert at.number_input(key="tr_epochs").value == 8
    assert any("cannot use" in w.value and "tr_epochs=-3" in w.value for w in at.warning)


def test_an_uploaded_zip_is_kept_across_a_page_switch_with_a_note(open_page):
    at = open_page("app.py")
    at.switch_page("pages/6_Train.py").run()
    at.radio(key="tr_dataset").set_value("zip").run()
    at.file_uploader(key="tr_zip").set_value(("shapes.zip", _zip_of(["circle", "square", "star"]), "application/zip")).run()
    at.switch_page("pages/4_Softmax_and_Loss.py").run()
    at.switch_page("pages/6_Train.py").run()
    assert not at.exception and not at.error
    assert at.radio(key="tr_dataset").value == "zip"
    captions = _texts(at, "caption")
    assert any("Still using shapes\\.zip" in c for c in captions)     # the name shown as text, not markdown
    assert any("18 images in 3 classes" in c for c in captions)
