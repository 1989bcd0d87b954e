"""A trained model's actions: make it the active model on every page, download it, load one back."""
from __future__ import annotations

import streamlit as st

from cnn_core import limits
from cnn_core.models import checkpoints, specs
from ui.app import state
from ui.app.text import literal
from ui.views.classroom import leaderboard as class_leaderboard
from ui.views.train.train_charts import fmt_pct


def run_model_actions(run, bundle) -> None:
    """"Use as active model" and "Download" for a finished run's model."""
    active = state.active_bundle()
    is_active = active.meta.get("run_id") == run.id
    c = st.columns([1.3, 1.3, 3])
    if c[0].button("Use as active model", key=f"use_{run.id}", type="primary", disabled=is_active,
                   help="Every page (Draw, Layer Explorer, Evaluate…) then uses this model."):
        state.set_active_bundle(bundle)
        st.session_state[state.EVAL_DATA_KEY] = {"run_id": run.id, "test": run.test_ds, "val": run.val_ds}
        st.rerun()
    c[1].download_button("Download (.safetensors)", data=checkpoints.to_bytes(bundle),
                         file_name=f"{bundle.spec.get('name', 'model')}-{run.id}.safetensors",
                         mime="application/octet-stream", key=f"dl_{run.id}",
                         help="Weights plus the JSON spec in the file's metadata; load it again below.")
    if is_active:
        c[2].success("This run is the active model on every page.")
    else:
        c[2].caption(f"Held-out accuracy {fmt_pct(bundle.meta.get('accuracy'))} on the {bundle.meta.get('accuracy_note')}.")
    class_leaderboard.submit_button(run, bundle)      # only for a session in a class


def load_saved_model() -> None:
    """The "Load a saved model" expander: a .safetensors file becomes the active model on every page."""
    with st.expander("Load a saved model (.safetensors)"):
        # .pt / .pth are accepted only to be refused with the app's own reason (a pickle can run code), not
        # Streamlit's bare "files are not allowed".
        up = st.file_uploader("Checkpoint", type=["safetensors", "pt", "pth"], key="tr_ckpt",
                              max_upload_size=limits.MAX_CHECKPOINT_MB,
                              help="A file downloaded from this page (weights + architecture). Nothing in it can run "
                                   "code: it holds only tensors and JSON.")
        if up is not None:
            loaded_ckpt = st.session_state.get("_tr_ckpt")
            if not loaded_ckpt or loaded_ckpt[0] != up.file_id:
                try:
                    loaded_ckpt = (up.file_id, checkpoints.from_bytes(up.getvalue()), None)
                except checkpoints.CheckpointError as exc:
                    loaded_ckpt = (up.file_id, None, str(exc))
                st.session_state["_tr_ckpt"] = loaded_ckpt
            _, ckpt, err = loaded_ckpt
            if err:
                st.error(f"{err} Nothing was changed.")
            else:
                st.caption(f"**{literal(ckpt.name)}**: {specs.count_params(ckpt.spec):,} parameters, "
                           f"{len(ckpt.class_names)} classes, held-out accuracy {fmt_pct(ckpt.meta.get('accuracy'))}.")
                if st.button("Use as active model", key="tr_ckpt_use"):
                    state.set_active_bundle(ckpt)
                    st.session_state.pop(state.EVAL_DATA_KEY, None)
                    st.session_state["_tr_ckpt_used"] = ckpt.name
                    st.rerun()   # the sidebar, drawn above, names the active model: draw it again
                if st.session_state.pop("_tr_ckpt_used", None) == ckpt.name:
                    st.success(f"{literal(ckpt.name)} is now the active model on every page.")
