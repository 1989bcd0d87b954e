"""Evaluate: judge the active model like the documents did (confusion matrix, per-class report, top-k)."""
import numpy as np
import pandas as pd
import streamlit as st

from cnn_core import limits
from cnn_core.data import catalog
from cnn_core.data import datasets as data
from cnn_core.data.folders import FolderDatasetError
from cnn_core.inference import evaluation
from cnn_core.training import registry
from ui.app import links, loaders, state
from ui.app.text import literal
from ui.views.train import zip_uploads
from ui.views import chart_alt
from ui.views.classroom import class_data
from ui.views.image_grid import image_grid
from ui.views.train.train_charts import confusion_figure, fmt_pct
from cnn_core.lessons.formatting import count_of

bundle = state.sidebar_active_model()

# The settings a link carries (and a visit to another page keeps): the data set, k, the matrix's
# normalisation and the cell shown. Data sets and classes depend on the model: checked where drawn.
LINK_FIELDS = [links.Field("ev_data", links.text(200)), links.Field("ev_k", links.integer(1, 5)),
               links.Field("ev_norm", links.choice(["counts", "row-normalised"])),
               links.Field("ev_true", links.text(200)), links.Field("ev_pred", links.text(200))]
links.restore("evaluate", LINK_FIELDS)


def data_options(bundle) -> dict:
    """label → zero-argument loader of an ImageDataset the model can be judged on."""
    opts = {}
    meta = bundle.meta
    info = meta.get("data") or {}
    run = registry().get(meta.get("run_id"))
    stash = st.session_state.get(state.EVAL_DATA_KEY) or {}
    test = run.test_ds if run is not None else (stash.get("test") if stash.get("run_id") == meta.get("run_id") else None)
    val = run.val_ds if run is not None else (stash.get("val") if stash.get("run_id") == meta.get("run_id") else None)
    if meta.get("run_id") and test is not None and len(test):
        opts[f"its test split ({len(test):,} images, never used in training)"] = lambda: test
    if meta.get("run_id") and val is not None and len(val):
        opts[f"its validation split ({len(val):,} images)"] = lambda: val
    shape = tuple(bundle.spec["input_shape"])
    k = int(bundle.spec["num_classes"])
    key = info.get("key")
    if key in ("mnist", "fashion-mnist"):
        opts[f"{catalog.DATASET_LABELS[key].split(' (')[0]} official test set (10,000)"] = \
            lambda: loaders.named_dataset(key)[1]
    if shape == (1, 28, 28) and k == 10 and key in (None, "bundled"):
        parts = loaders.bundled_split()
        if not meta.get("run_id"):
            held = data.ImageDataset("bundled held-out digits", np.concatenate([parts.val.images, parts.test.images]),
                                     np.concatenate([parts.val.labels, parts.test.labels]), parts.test.class_names)
            opts[f"bundled held-out digits ({len(held):,}: the validation + test parts of the split)"] = lambda: held
        opts[f"bundled test split ({len(parts.test):,} digits)"] = lambda: parts.test
    opts.update(class_data.eval_options(bundle))       # our class's drawings, when the model knows its labels
    opts["a zip of class folders (upload)"] = None
    return opts


def upload_dataset(bundle):
    up = st.file_uploader("Zip of class folders", type=["zip"], key="ev_zip", max_upload_size=limits.MAX_ZIP_MB,
                          help="The same class folders as the model's classes, e.g. 0/ … 9/.")
    up, kept = state.kept_upload("ev_zip", up)
    if up is None:
        return None
    if kept:
        st.caption(f"Still using {literal(up.name)}, uploaded before; upload another .zip to replace it.")
    shape = tuple(bundle.spec["input_shape"])
    invert = st.checkbox("invert (dark ink on light paper)", key="ev_invert")
    cache_key = (up.file_id, shape, bool(invert))       # decoded once, not on every rerun of the page
    cached = st.session_state.get("_ev_zip_cache")
    if not cached or cached[0] != cache_key:
        try:
            ds = zip_uploads.load_upload(up, image_size=shape[1], colour="rgb" if shape[0] == 3 else "grey",
                                         invert=invert, name=up.name)
        except FolderDatasetError as exc:
            st.error(str(exc))
            return None
        cached = st.session_state["_ev_zip_cache"] = (cache_key, ds)
    ds = cached[1]
    if ds.class_names != bundle.class_names:
        st.error(f"The archive's classes {ds.class_names} differ from the model's {bundle.class_names}; "
                 "name the folders like the model's classes.")
        return None
    return ds


st.title("Evaluate the active model")
st.caption(f"{state.model_caption(bundle)}. Documents 000 and 002 judged their networks with a confusion matrix and "
           "scikit-learn's classification report; here are the same numbers for the model every page uses.")

opts = data_options(bundle)
links.keep_valid("ev_data", list(opts))
choice = st.selectbox("Evaluate on", list(opts), key="ev_data")
links.publish("evaluate", LINK_FIELDS)          # before the checks below, which may stop the page
if len(opts) == 1:
    shape = tuple(bundle.spec["input_shape"])
    st.info(f"No stored data set fits this model: it expects {shape[1]}×{shape[2]} "
            f"{'RGB' if shape[0] == 3 else 'greyscale'} images in {bundle.spec['num_classes']} classes "
            f"({', '.join(map(str, bundle.class_names[:12]))}{', …' if len(bundle.class_names) > 12 else ''}), and "
            "the bundled digits are 28×28 greyscale in 10 classes. Upload a zip with one folder per class, named "
            "like the model's classes; images are resized to fit.")
if opts[choice] is None:
    ds = upload_dataset(bundle)
else:
    try:
        ds = opts[choice]()
    except data.DataError as exc:
        st.error(str(exc))
        ds = None
# Settings drawn below the stop: kept, and shown as kept when the page goes on (state.hold_widget_values).
HELD = ["ev_k", "ev_norm", "ev_true", "ev_pred"]
if ds is None:
    state.hold_widget_values(HELD)
    st.stop()
if tuple(ds.input_shape) != tuple(bundle.spec["input_shape"]) or ds.num_classes != int(bundle.spec["num_classes"]):
    st.error(f"This data set has {ds.input_shape} images in {ds.num_classes} classes; the model expects "
             f"{tuple(bundle.spec['input_shape'])} in {bundle.spec['num_classes']}. Choose another data set.")
    state.hold_widget_values(HELD)
    st.stop()

# The images and labels themselves are in the key: two zips of the same size and balance, or one read
# with and without "invert", are different data sets (hashing 10,000 digits takes a few milliseconds).
state.show_held_widget_values()
cache_key = (id(bundle.model), choice, state.digest(ds.images), state.digest(ds.labels))
cached = st.session_state.get("_ev_cache")
if not cached or cached[0] != cache_key:
    with st.spinner(f"Classifying {len(ds):,} images…"):
        cached = (cache_key, evaluation.evaluate(bundle.model, ds), ds)
    st.session_state["_ev_cache"] = cached
ev, ds = cached[1], cached[2]
names = [str(c) for c in ev.class_names]
K = len(names)
preds = ev.preds

c = st.columns(4)
c[0].metric("accuracy", fmt_pct(ev.accuracy), help=f"{int((preds == ev.labels).sum()):,} of {len(ds):,} correct")
kmax = min(5, K)
links.keep_valid("ev_k", range(1, kmax + 1))
top_k = c[1].slider("k", 1, kmax, key="ev_k", **state.widget_default("ev_k", min(3, kmax)))
c[2].metric(f"top-{top_k} accuracy", fmt_pct(ev.top_k(top_k)),
            help="The true class is among the k most probable classes.")
c[3].metric("mistakes", f"{int((preds != ev.labels).sum()):,}")

left, right = st.columns([3, 2], gap="large")
with left:
    st.header("Confusion matrix")
    mode = st.radio("show", ["counts", "row-normalised"], horizontal=True, key="ev_norm",
                    help="Row-normalised: each row divided by the number of images of that class; the diagonal is "
                         "then each class's recall.")
    cm = ev.confusion
    off = cm.copy()
    np.fill_diagonal(off, -1)
    worst = np.unravel_index(int(off.argmax()), off.shape)
    # The cell shown: the last one clicked (a click writes the pickers), else the largest confusion.
    click = st.session_state.get("ev_cm")
    points = (click or {}).get("selection", {}).get("points", [])
    sel = None
    if points:
        p = points[0]
        try:    # the invisible marker layer (trace 1) lists the cells row by row; the heatmap gives x / y
            if p.get("curve_number") == 1 and p.get("point_index") is not None:
                sel = divmod(int(p["point_index"]), len(names))
            else:
                sel = (names.index(str(p.get("y"))), names.index(str(p.get("x"))))
        except (ValueError, TypeError):
            sel = None
    if sel is not None and st.session_state.get("_ev_last_click") != sel:
        st.session_state["_ev_last_click"] = sel
        st.session_state["ev_true"], st.session_state["ev_pred"] = names[sel[0]], names[sel[1]]
    links.keep_valid("ev_true", names)           # a link's class this model does not have
    links.keep_valid("ev_pred", names)
    if st.session_state.get("ev_true") not in names or st.session_state.get("ev_pred") not in names:
        st.session_state["ev_true"], st.session_state["ev_pred"] = names[worst[0]], names[worst[1]]
    shown_cell = (names.index(st.session_state["ev_true"]), names.index(st.session_state["ev_pred"]))
    st.plotly_chart(confusion_figure(cm, names, mode == "row-normalised", shown_cell), key="ev_cm",
                    on_select="rerun", selection_mode="points", width="stretch")
    chart_alt.describe(chart_alt.confusion_summary(cm, names))
    norm = mode == "row-normalised"
    chart_alt.table_toggle({"": cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if norm else cm}, key="ev_cm",
                           digits=3 if norm else 0, row_labels=names, col_labels=names, row_name="true class")
with right:
    st.header("Images in a cell")
    st.caption("Click a cell of the matrix, or pick it here.")
    c1, c2 = st.columns(2)
    t = names.index(c1.selectbox("true class", names, key="ev_true"))
    pcls = names.index(c2.selectbox("predicted class", names, key="ev_pred"))
    idx = ev.cell(t, pcls)
    kind = "correctly classified" if t == pcls else "misclassified"
    st.markdown(f"**{count_of(len(idx), 'image')}** of class **{names[t]}** predicted as **{names[pcls]}** ({kind}).")
    shown = idx[np.argsort(-ev.probs[idx, pcls], kind="stable")][:24]
    if len(shown):
        image_grid(ds.images[shown], [f"{ev.probs[i, pcls]:.0%}" for i in shown], per_row=5,
                   alts=[f"an image of class {names[t]}, predicted as {names[pcls]} with probability "
                         f"{ev.probs[i, pcls]:.0%}" for i in shown])

st.header("Per-class report")
report = ev.report()
rows = {n: report[n] for n in names}
rows["macro avg"] = report["macro avg"]
rows["weighted avg"] = report["weighted avg"]
df = pd.DataFrame(rows).T[["precision", "recall", "f1-score", "support"]]
df["support"] = df["support"].astype(int)
# The class names as a real, sized column: as the index they were cut to "macro a…" / "weighte…".
df = df.rename_axis("class").reset_index()
st.dataframe(df.style.format({"precision": "{:.3f}", "recall": "{:.3f}", "f1-score": "{:.3f}", "support": "{:,}"}),
             width="stretch", height=min(40 + 35 * len(df), 520), hide_index=True, key="ev_report",
             column_config={"class": st.column_config.TextColumn("class", width="medium")})
st.caption(f"scikit-learn's classification_report: precision = correct among those predicted as the class, recall = "
           f"correct among the class's images, F1 = their harmonic mean. Accuracy {report['accuracy']:.3f}. Macro "
           "average: plain mean over classes; weighted: weighted by support.")

st.header("Most confident mistakes")
mistakes = ev.mistakes(16)
if len(mistakes):
    image_grid(ds.images[mistakes],
                  [f"{names[ev.labels[i]]} → {names[preds[i]]} ({ev.probs[i, preds[i]]:.0%})" for i in mistakes],
                  per_row=8, alts=[f"an image of class {names[ev.labels[i]]}, predicted as {names[preds[i]]} "
                                   f"with probability {ev.probs[i, preds[i]]:.0%}" for i in mistakes])
    st.caption("Under each image: true class → predicted class (the model's probability for its wrong answer).")
else:
    st.success("No mistakes on this data set.")
links.publish("evaluate", LINK_FIELDS)
