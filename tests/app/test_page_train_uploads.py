"""The Train page after uploads the app refuses (issue 18, bugs 2 and 8): nothing the learner set is lost, and
a refused file gets the app's own sentence."""
from __future__ import annotations

from collections.abc import Iterable

import pytest

from cnn_core.training import registry
from tests.app.test_page_train import PAGE, _zip_of


@pytest.fixture
def at(open_page):
    app = open_page(PAGE)
    yield app
    for run in registry().runs():
        run.stop()


def _shown(widget):
    """What the browser shows for a widget it draws afresh: the value the server sends with it, else its
    default (the browser forgets a widget, and the value it had, when a run does not draw it)."""
    p = widget.proto
    if p.set_value:
        raw = getattr(p, "raw_value", None) if "raw_value" in p.DESCRIPTOR.fields_by_name else None
        return raw if raw else (list(p.value) if isinstance(p.value, Iterable) and not isinstance(p.value, str)
                                else p.value)
    return list(p.default) if isinstance(p.default, Iterable) and not isinstance(p.default, str) else p.default


def _builder(at) -> dict:
    widgets = {w.key: w for w in [*at.get("number_input"), *at.get("text_input")]}
    return {k: _shown(widgets[k]) for k in ("tr_blocks", "tr_kernels", "tr_ksize", "tr_dense")}


@pytest.mark.parametrize("bad", [b"not a zip at all", None])
def test_a_refused_zip_then_a_good_one_keeps_the_builder_as_the_learner_set_it(at, bad):
    """Bug 2: a refused zip, then a good one, showed the builder reset to its widgets' own defaults (1 block,
    no kernels, kernel size 1, dense 0) while the summary still showed the learner's network."""
    import io
    import zipfile
    if bad is None:                                    # a zip that climbs out of its folder
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("../../etc/passwd.png", b"x")
        bad = buf.getvalue()
    at.radio(key="tr_dataset").set_value("zip").run()
    at.file_uploader(key="tr_zip").set_value(("a.zip", _zip_of(["circle", "square", "star"]), "application/zip")).run()
    at.number_input(key="tr_blocks").set_value(2).run()
    at.text_input(key="tr_kernels").set_value("8, 16").run()
    at.number_input(key="tr_ksize").set_value(5).run()
    at.number_input(key="tr_dense").set_value(32).run()
    summary = [m.value for m in at.markdown if "parameters" in m.value]
    at.file_uploader(key="tr_zip").set_value(("bad.zip", bad, "application/zip")).run()
    assert len(at.error) == 1 and not at.exception
    at.run()                                           # any other rerun before the next file (a click, the sidebar)
    at.file_uploader(key="tr_zip").set_value(("b.zip", _zip_of(["circle", "square", "star"], 7),
                                              "application/zip")).run()
    assert not at.exception and not at.error
    assert _builder(at) == {"tr_blocks": 2, "tr_kernels": "8, 16", "tr_ksize": 5, "tr_dense": 32}
    assert [m.value for m in at.markdown if "parameters" in m.value] == summary
    assert not at.button(key="tr_start").disabled


@pytest.mark.parametrize("page", ["pages/6_Train.py", "pages/8_Sweep.py"])
def test_kept_settings_log_no_default_value_warning(open_page, caplog, monkeypatch, page):
    """Kept settings are written through the Session State API on every run (bug 2's fix); a widget that also
    passed a default of its own made Streamlit log "created with a default value but also had its value set
    via the Session State API" (once per server: the flag is reset here so every page is checked)."""
    import logging

    from streamlit.elements.lib import policies
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    at = open_page(page)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            monkeypatch.setattr(policies, "_shown_default_value_warning", False)
            at.run()
        if page.endswith("Train.py"):
            at.radio(key="tr_dataset").set_value("zip").run()
            at.file_uploader(key="tr_zip").set_value(("a.zip", _zip_of(["a", "b"]), "application/zip")).run()
            at.checkbox(key="tr_early").check().run()
            at.run()
    assert not at.exception
    assert not [r.getMessage() for r in caplog.records if "created with a default value" in r.getMessage()]


def test_a_pt_checkpoint_gets_the_apps_own_sentence_not_streamlits_chip(at):
    """Bug 8: the uploader accepted .safetensors only, so a .pt file got Streamlit's "files are not allowed" chip
    and no reason; it is accepted and refused by the app, which says why."""
    import io

    import torch
    up = at.file_uploader(key="tr_ckpt")
    assert {".pt", ".pth", ".safetensors"} <= set(up.proto.type)
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf)
    up.set_value(("model.pt", buf.getvalue(), "application/octet-stream")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "can run code when opened, so the app never opens it" in errors[0], errors
    assert "active_model" not in at.session_state or at.session_state["active_model"] is None


def test_the_zip_expansion_cap_is_one_value_in_limits_with_its_variable(monkeypatch):
    """Bug 8: the 300 MB cap on a zip's uncompressed size was a literal in folders.py, in no table and with no
    variable; it is limits.MAX_ZIP_EXPANDED_MB, read from $CNN_EXPLORER_MAX_ZIP_EXPANDED_MB."""
    import subprocess
    import sys

    from cnn_core import limits
    from cnn_core.data import folders
    assert limits.MAX_ZIP_EXPANDED_MB == 300
    monkeypatch.setattr(limits, "MAX_ZIP_EXPANDED_MB", 7)
    assert folders.ZipLimits().max_total_bytes == 7 * 2 ** 20
    out = subprocess.run([sys.executable, "-c", "from cnn_core import limits; print(limits.MAX_ZIP_EXPANDED_MB)"],
                         env={"CNN_EXPLORER_MAX_ZIP_EXPANDED_MB": "900", "PATH": ""}, capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.stdout.strip() == "900", out.stderr
