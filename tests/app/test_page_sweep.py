"""The Sweep page in AppTest: presets, a small custom grid trained in the background, stop."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.training import registry

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "8_Sweep.py")


@pytest.fixture
def at(open_page):
    app = open_page(PAGE)
    yield app
    sid = app.session_state["sweep_id"] if "sweep_id" in app.session_state else None
    sweep = registry().get_sweep(sid)
    if sweep is not None:
        sweep.stop(wait=3)


def _wait_sweep(at, timeout=120):
    sweep = registry().get_sweep(at.session_state["sweep_id"])
    assert sweep.join(timeout), "the sweep did not finish"
    at.run()
    return sweep


def test_document_000_grid_is_the_default(at):
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    assert any("9 runs × 3 epochs" in c for c in captions)
    assert any("Network seed-000" in c and "SGD, lr 0.01, batch 100" in c for c in captions)
    at.radio(key="sw_preset").set_value("doc-002").run()
    assert any("3 runs × 3 epochs" in c.value for c in at.caption) and not at.error


def test_a_custom_grid_trains_run_after_run_and_highlights_the_best(at):
    at.radio(key="sw_preset").set_value("custom").run()
    at.selectbox(key="sw_ax1").set_value("lr").run()
    at.text_input(key="sw_v1_lr").set_value("0.001, 0.1")
    at.number_input(key="sw_batch").set_value(100)
    at.selectbox(key="sw_opt").set_value("sgd")
    at.number_input(key="sw_epochs").set_value(1).run()
    assert any("2 runs × 1 epoch" in c.value for c in at.caption)
    at.button(key="sw_start").click().run()
    sweep = _wait_sweep(at)
    snap = sweep.snapshot()
    assert snap.state == "finished" and [c["state"] for c in snap.cells] == ["finished", "finished"]
    best = max(range(2), key=lambda i: snap.cells[i]["val_acc"])
    assert snap.best == best
    assert any("All 2 runs done." in s.value for s in at.success)
    assert any(m.value.startswith(f"**Best: lr = {snap.cells[best]['params']['lr']:g}**") for m in at.markdown)
    table = at.dataframe[0].value
    assert list(table["best"]) == ["★" if i == best else "" for i in range(2)]
    layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert layout["annotations"][0]["text"] == "<b>best</b>" and layout["annotations"][0]["x"] == best
    assert layout["shapes"][0]["x0"] == best - 0.5                # the frame around the best cell
    at.button(key=f"sweep_use_{sweep.id}").click().run()
    assert at.session_state["active_model"].meta["run_id"] == snap.cells[best]["run_id"]


def test_a_grid_that_does_not_fit_the_network_is_explained(at):
    at.radio(key="sw_preset").set_value("custom").run()
    at.selectbox(key="sw_ax1").set_value("dropout").run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "no dropout layer" in errors[0]
    assert at.button(key="sw_start").disabled
    at.selectbox(key="sw_ax1").set_value("kernels").run()
    at.text_input(key="sw_v1_kernels").set_value("8, eight").run()
    assert [e.value for e in at.error] == ["'eight' is not a number: write the values of kernels in the first conv "
                                           "layer separated by commas, e.g. 8, 16, 24."]


def test_stop_ends_the_sweep(at):
    at.button(key="sw_start").click().run()
    sweep = registry().get_sweep(at.session_state["sweep_id"])
    t0 = time.monotonic()
    while sweep.snapshot().current is None and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    at.run()
    at.button(key=f"sweep_stop_{sweep.id}").click().run()
    assert sweep.join(3)
    snap = sweep.snapshot()
    assert snap.state == "stopped" and "skipped" in [c["state"] for c in snap.cells]
    at.run()
    # issue 11: it said "Stopped by you after 1 of 9 runs." over an empty heatmap and a table of "None"s
    assert snap.finished == 0
    assert any("Stopped by you before any run finished" in w.value for w in at.warning)
    assert not at.get("plotly_chart") and not at.dataframe


def test_an_empty_or_absurd_custom_grid_gets_one_clear_sentence_and_no_start(at):
    at.radio(key="sw_preset").set_value("custom").run()
    for text, expected in [
        ("", "The values box for kernels in the first conv layer is empty: write at least one value, e.g. 8, 16, 24."),
        (" , ,", "The values box for kernels in the first conv layer is empty: write at least one value, e.g. 8, 16, 24."),
        ("nan", "'nan' is not a number: write the values of kernels in the first conv layer separated by commas, "
                "e.g. 8, 16, 24."),
        ("1e30", "Kernels in the first conv layer must be between 1 and 512; got 1e+30."),
        ("0, 8", "Kernels in the first conv layer must be between 1 and 512; got 0."),
        ("8.5", "8.5 is not a whole number: kernels in the first conv layer are counted, e.g. 8, 16, 24."),
    ]:
        at.text_input(key="sw_v1_kernels").set_value(text).run()
        assert not at.exception
        assert [e.value for e in at.error] == [expected], text
        assert at.button(key="sw_start").disabled, text
    at.text_input(key="sw_v1_kernels").set_value("8, 16").run()
    assert not at.error and not at.button(key="sw_start").disabled


def test_a_custom_grid_survives_a_visit_to_another_page(monkeypatch):
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/8_Sweep.py").run()
    at.radio(key="sw_preset").set_value("custom").run()
    at.text_input(key="sw_v1_kernels").set_value("4, 12")
    at.number_input(key="sw_epochs").set_value(2).run()
    at.switch_page("pages/6_Train.py").run()
    at.switch_page("pages/8_Sweep.py").run()
    assert not at.exception
    assert at.radio(key="sw_preset").value == "custom" and at.text_input(key="sw_v1_kernels").value == "4, 12"
    assert at.number_input(key="sw_epochs").value == 2


def _param(at, key: str) -> str:
    return str(at.query_params[key]).strip("[]'")


def test_a_shared_sweep_link_opens_the_same_custom_grid_and_a_tampered_one_says_so(open_page):
    """A teacher hands the class one grid: the link opens it, ready to start."""
    at = open_page(PAGE, run=False)
    at.query_params.update({"sw_preset": "custom", "sw_epochs": "2", "sw_base": "seed-000", "sw_ax1": "lr",
                            "sw_v1_lr": "0.01, 0.05", "sw_ax2": "batch_size", "sw_v2_batch_size": "16, 64",
                            "sw_opt": "momentum", "sw_batch": "32"})
    at.run()
    assert not at.exception and not at.error and not at.warning
    assert at.radio(key="sw_preset").value == "custom" and at.selectbox(key="sw_ax1").value == "lr"
    assert at.text_input(key="sw_v1_lr").value == "0.01, 0.05" and at.selectbox(key="sw_ax2").value == "batch_size"
    assert at.selectbox(key="sw_opt").value == "momentum" and at.number_input(key="sw_epochs").value == 2
    assert any("4 runs × 2 epochs" in c.value for c in at.caption)
    at.text_input(key="sw_v1_lr").set_value("0.01, 0.05, 0.1").run()     # the address follows the screen
    assert _param(at, "sw_v1_lr") == "0.01, 0.05, 0.1" and _param(at, "sw_ax2") == "batch_size"
    assert any("6 runs × 2 epochs" in c.value for c in at.caption)

    bad = open_page(PAGE, run=False)
    bad.query_params.update({"sw_preset": "custom", "sw_ax1": "lr", "sw_ax2": "lr", "sw_epochs": "5000",
                             "sw_lr": "1e6", "sw_dataset": "../../etc"})
    bad.run()
    assert not bad.exception and not bad.error
    warnings = [w.value for w in bad.warning]
    assert len(warnings) == 2 and "sw_epochs=5000" in warnings[0] and "sw_lr=1e6" in warnings[0], warnings
    assert "sw_ax2=lr" in warnings[1]                                  # the same axis twice
    assert bad.selectbox(key="sw_ax2").value == "none" and bad.number_input(key="sw_epochs").value == 3
    assert bad.selectbox(key="sw_dataset").value == "bundled"
