"""Train: pick data, an architecture and the knobs, press Start, watch it learn in the background."""
import json

import streamlit as st

from cnn_core import limits
from cnn_core.data import catalog, splits
from cnn_core.data import datasets as data
from cnn_core.data.augment import Augmentation
from cnn_core.data.folders import FolderDatasetError
from cnn_core.data.splits import training_split
from cnn_core.models import builder_form, specs
from cnn_core.models.summary import summarize
from cnn_core.training import DEFAULT_BUILDER as DB
from cnn_core.training import DEFAULT_TRAINING, ConfigError, TrainConfig, TrainingRun, registry
from ui.views.train import checkpoint_views, zip_uploads
from ui.views.classroom import class_data
from ui.app import errors, links, loaders, quotas, state
from ui.app.text import literal
from ui.views.train import run_panel as rp
from ui.views.train import timeline_views as tlv
from ui.views.layer_table import layer_table
from ui.views.train.train_charts import fmt_lr, label_histogram
from cnn_core.lessons.formatting import count_of

state.sidebar_active_model()

LRS = sorted({float(f"{m}e{e}") for e in range(-5, 1) for m in (1, 2, 5)} | {10.0, 100.0, 1e3, 1e4, 1e5, 1e6})
BATCHES = [1, 8, 16, 32, 64, 100, 128, 256, 512]
OPTIMIZERS = {"sgd": "SGD (plain, document 000)", "momentum": "SGD + momentum 0.9", "adam": "Adam (document 002)"}
AUG_LABELS = {"flip": "horizontal flip", "rotate": "rotate ±10°", "translate": "translate ±5 px",
              "noise": "Gaussian noise σ∈[0, 10]/255"}
# What the documents trained each preset with; applied when a preset is picked.
PRESET_TRAINING = {"seed-000": ("sgd", 0.01, 100), "seed-004": ("sgd", 0.01, 8), "seed-002": ("adam", 0.001, 64),
                   "lenet-5": ("momentum", 0.01, 64)}
DEFAULTS = {"tr_optimizer": DEFAULT_TRAINING["optimizer"], "tr_lr": DEFAULT_TRAINING["lr"],
            "tr_batch": DEFAULT_TRAINING["batch_size"], "tr_epochs": DEFAULT_TRAINING["epochs"],
            "tr_seed": DEFAULT_TRAINING["seed"], "tr_blocks": DB["blocks"],
            "tr_kernels": ", ".join(str(k) for k in DB["kernels"]), "tr_ksize": DB["kernel_size"],
            "tr_stride": DB["stride"], "tr_padding": DB["padding"], "tr_pooling": DB["pooling"],
            "tr_activation": DB["activation"], "tr_dense": DB["dense_width"], "tr_dropout": DB["dropout_p"],
            "tr_bn": DB["batchnorm"], "tr_val": splits.DOC000_FRACTIONS[1], "tr_test": splits.DOC000_FRACTIONS[2],
            "tr_aug_p": 0.5, "tr_patience": 3, "tr_zip_size": 28}
# Defaults live here, not in the widgets: keep_widget_state writes every kept value through the Session
# State API, and a widget default beside that makes Streamlit log a warning.
# The settings a link carries: data, preset or builder, optimiser, learning rate, batch, epochs, seed.
LINK_FIELDS = [
    links.Field("tr_dataset", links.choice(catalog.DATASETS + catalog.CLASS_KEYS)), links.Field("tr_arch_mode", links.choice(["builder", "preset"])),
    links.Field("tr_preset", links.choice(specs.PRESETS)), links.Field("tr_blocks", links.integer(1, 4)),
    links.Field("tr_kernels", links.text(200)), links.Field("tr_ksize", links.integer(1, 11)),
    links.Field("tr_stride", links.integer(1, 4)), links.Field("tr_padding", links.choice(builder_form.PADDINGS)),
    links.Field("tr_pooling", links.choice(builder_form.POOLINGS)),
    links.Field("tr_activation", links.choice(specs.ACTIVATIONS)), links.Field("tr_dense", links.integer(0, 1024)),
    links.Field("tr_dropout", links.number(0.0, 0.7)), links.Field("tr_bn", links.boolean, links.write_bool),
    links.Field("tr_engine", links.choice(["torch", "numpy"])), links.Field("tr_optimizer", links.choice(OPTIMIZERS)),
    links.Field("tr_lr", links.choice(LRS)), links.Field("tr_batch", links.choice(BATCHES)),
    links.Field("tr_epochs", links.integer(1, 200)), links.Field("tr_seed", links.integer(0, 10_000)),
    links.Field("tr_val", links.number(0.05, 0.3)), links.Field("tr_test", links.number(0.0, 0.3)),
]
_from_link = links.restore("train", LINK_FIELDS)
if _from_link & {"tr_optimizer", "tr_lr", "tr_batch"}:   # the link's training settings stand, preset or not
    st.session_state["_tr_preset_applied"] = st.session_state.get("tr_preset") or list(specs.PRESETS)[0]
state.keep_widget_state("train", [*DEFAULTS, "tr_dataset", "tr_arch_mode", "tr_preset", "tr_val", "tr_test", "tr_engine",
                               "tr_aug", "tr_aug_p", "tr_jitter", "tr_early", "tr_patience", "tr_zip_size",
                               "tr_zip_colour", "tr_zip_invert"])
for k, v in DEFAULTS.items():
    st.session_state.setdefault(k, v)


@errors.guarded
def _apply_preset_training():
    name = st.session_state.get("tr_preset") or list(specs.PRESETS)[0]
    opt, lr, batch = PRESET_TRAINING[name]
    st.session_state.update(tr_optimizer=opt, tr_lr=lr, tr_batch=batch, _tr_preset_applied=name)


@st.cache_data(show_spinner=False, max_entries=32)
def model_summary(spec_json: str):
    return summarize(json.loads(spec_json))


def load_data(key: str):
    """(dataset, official test set or None), or None after showing why not."""
    if key in catalog.CLASS_KEYS:
        return class_data.load_for_training(key)
    if key == "zip":
        up = st.file_uploader("Zip of class folders", type=["zip"], key="tr_zip", max_upload_size=limits.MAX_ZIP_MB,
                              help="One folder per class (e.g. 0/ … 9/, or cat/ dog/), images inside. "
                                   f"PNG, JPEG, BMP, GIF, TIFF or WebP; at most {limits.MAX_ZIP_MB} MB.")
        c1, c2, c3 = st.columns(3)
        size = c1.number_input("image size (px)", 8, 128, key="tr_zip_size")
        colour = c2.selectbox("colour", ["auto", "grey", "rgb"], key="tr_zip_colour",
                              format_func={"auto": "auto", "grey": "greyscale", "rgb": "RGB"}.get)
        invert = c3.checkbox("invert", key="tr_zip_invert", help="Dark ink on light paper → MNIST's white on black.")
        up, kept = state.kept_upload("tr_zip", up)
        if kept:
            st.caption(f"Still using {literal(up.name)}, uploaded before; upload another .zip to replace it.")
        if up is None:
            st.info("Upload a .zip to use your own images, like document 000's digit folders or document 001's "
                    "5-class homework.")
            return None
        cache_key = (up.file_id, int(size), colour, bool(invert))
        cached = st.session_state.get("_tr_zip_cache")
        if not cached or cached[0] != cache_key:
            try:
                ds = zip_uploads.load_upload(up, image_size=int(size), colour=colour, invert=invert,
                                             name=up.name.rsplit(".", 1)[0])
            except FolderDatasetError as exc:
                st.error(str(exc))
                return None
            cached = (cache_key, ds)
            st.session_state["_tr_zip_cache"] = cached
        ds = cached[1]
        report = ds.meta["report"]
        st.caption(f"Loaded {report.summary()}.")
        if report.skipped:
            with st.expander(f"{count_of(len(report.skipped), 'file')} skipped"):
                st.dataframe([{"file": f, "why": why} for f, why in report.skipped[:500]], hide_index=True)
        return ds, None
    failed = st.session_state.setdefault("_tr_data_errors", {})
    if key in failed:
        st.error(failed[key])
        if st.button("Try again", key="tr_retry"):
            failed.pop(key)
            st.rerun()
        return None
    try:
        return loaders.named_dataset(key)
    except data.DataError as exc:
        failed[key] = str(exc)
        st.error(str(exc))
        return None


def architecture(ds) -> dict | None:
    """The spec for this data set, or None after explaining why it cannot be built."""
    shape, k = ds.input_shape, ds.num_classes
    mode = st.radio("Architecture", ["builder", "preset"], horizontal=True, key="tr_arch_mode",
                    format_func={"builder": "Build your own", "preset": "A network from the documents"}.get)
    try:
        if mode == "preset":
            # The preset on screen trains with its document's settings, also when it was never picked
            # (the pre-selected seed-000 trained with the builder's Adam, lr 0.002, batch 32).
            if st.session_state.get("_tr_preset_applied") != (st.session_state.get("tr_preset") or list(specs.PRESETS)[0]):
                _apply_preset_training()
            name = st.selectbox("Preset", list(specs.PRESETS), key="tr_preset", on_change=_apply_preset_training,
                                format_func=lambda n: f"{n}: {specs.PRESETS[n]['about'].split(':')[0]}")
            st.caption(specs.PRESETS[name]["about"] + " Picking a preset sets its document's optimiser, learning "
                       "rate and batch size below.")
            return specs.preset(name, input_shape=shape, num_classes=k)
        c1, c2, c3 = st.columns(3)
        blocks = c1.number_input("conv blocks", 1, 4, key="tr_blocks")
        kernels_txt = c2.text_input("kernels per block", key="tr_kernels",
                                    help="One number for every block, or one per block separated by commas.")
        ksize = c3.number_input("kernel size", 1, 11, key="tr_ksize")
        c1, c2, c3 = st.columns(3)
        stride = c1.number_input("stride", 1, 4, key="tr_stride")
        padding = c2.selectbox("padding", builder_form.PADDINGS, key="tr_padding",
                               help="same: zero padding keeps the size (for stride 1); valid: no padding.")
        pooling = c3.selectbox("pooling", builder_form.POOLINGS, key="tr_pooling")
        c1, c2, c3 = st.columns(3)
        activation = c1.selectbox("activation", list(specs.ACTIVATIONS), key="tr_activation")
        dense_w = c2.number_input("dense width (0: none)", 0, 1024, step=16, key="tr_dense")
        dropout_p = c3.slider("dropout", 0.0, 0.7, step=0.05, key="tr_dropout")
        batchnorm = st.checkbox("batch norm after each conv", key="tr_bn")
        return builder_form.builder_spec(blocks=blocks, kernels=kernels_txt, kernel_size=ksize, stride=stride,
                                         padding=padding, pooling=pooling, activation=activation,
                                         dense_width=dense_w, dropout_p=dropout_p, batchnorm=batchnorm,
                                         input_shape=shape, num_classes=k)
    except builder_form.BuilderInputError as exc:
        st.error(str(exc))
        return None
    except specs.SpecError as exc:
        st.error(f"This network cannot be built: {exc}")
        return None


# ---------------------------------------------------------------------------------------------

st.title("Train a CNN")
st.caption("Choose data, an architecture and the knobs, then press Start. Training runs on the server in the "
           "background: explore other pages, refresh, or open this page's address in a second tab, and the run "
           "is still here.")

run_id = rp.attached_id(rp.RUN_PARAM, rp.RUN_KEY)
attached = registry().get(run_id)
if run_id and attached is None:
    rp.run_panel(run_id)          # explains that the run is gone
# With a run on screen its panel comes first and the settings fold away above it, so that a
# reload or a fresh Start shows the curves without scrolling.
settings = st.expander("Settings for a new run", expanded=False) if attached is not None else st.container()

with settings:
    tab_data, tab_arch, tab_train = st.tabs(["1 · Data", "2 · Architecture", "3 · Training"])
    parts = None
    spec = None
    with tab_data:
        left, right = st.columns([5, 6], gap="large")
        with left:
            options = [*catalog.DATASETS, *class_data.train_options()]   # the class's drawings for a class member
            state.keep_valid_choice("tr_dataset", options)
            key = st.radio("Data set", options, key="tr_dataset", format_func=catalog.DATASET_LABELS.get)
            loaded = load_data(key)
            if loaded is not None:
                ds, official_test = loaded
                c1, c2 = st.columns(2)
                val_frac = c1.slider("validation share", 0.05, 0.3, step=0.005, key="tr_val", format="%.3f")
                test_frac = c2.slider("test share", 0.0, 0.3, step=0.005, key="tr_test", format="%.3f",
                                      disabled=official_test is not None,
                                      help="Full MNIST / Fashion-MNIST keep their official 10,000-image test set.")
                fractions = (round(1 - val_frac - test_frac, 6), val_frac, test_frac)
                try:
                    parts = training_split(ds, official_test, fractions)
                    st.caption(f"{literal(ds.name)}: train {len(parts.train):,} / validation {len(parts.val):,} / "
                               f"test {len(parts.test):,} images of {ds.input_shape[1]}×{ds.input_shape[2]} "
                               f"({'RGB' if ds.input_shape[0] == 3 else 'grey'}), {ds.num_classes} classes "
                               f"(seed {splits.DOC000_SEED}; the defaults are {splits.DOC000_DESCRIPTION}).")
                except data.DataError as exc:
                    st.error(str(exc))
                    parts = None
        if parts is not None:
            right.plotly_chart(label_histogram(parts, parts.train.class_names), key="tr_hist", width="stretch")

    with tab_arch:
        left, right = st.columns([5, 6], gap="large")
        with left:
            if parts is None:
                st.caption("Choose a data set first: the network's input and output sizes come from it.")
            else:
                spec = architecture(parts.train)
        if spec is not None:
            summ = model_summary(json.dumps(spec, sort_keys=True))
            right.markdown(f"**Model summary** (torchinfo): **{summ.total_params:,} parameters** · input "
                           f"{' × '.join(map(str, summ.input_shape))}")
            with right:
                layer_table(summ.as_records())

    with tab_train:
        left, right = st.columns(2, gap="large")
        with left:
            # The optimiser gets the wider share: at half of the half it read "SGD (plain, document 0…".
            c1, c2 = st.columns([0.85, 1.15])
            engine = c1.radio("engine", ["torch", "numpy"], key="tr_engine", horizontal=True,
                              format_func={"torch": "PyTorch", "numpy": "NumPy (from scratch)"}.get)
            optimizer = c2.selectbox("optimiser", list(OPTIMIZERS), key="tr_optimizer", format_func=OPTIMIZERS.get)
            lr = st.select_slider("learning rate (log scale)", LRS, key="tr_lr", format_func=fmt_lr)
            c1, c2, c3 = st.columns(3)
            batch = c1.select_slider("batch size", BATCHES, key="tr_batch")
            epochs = c2.number_input("epochs", 1, 200, key="tr_epochs")
            seed = c3.number_input("seed", 0, 10_000, key="tr_seed")
        with right:
            ops = st.multiselect("augmentation (document 000: one per image, chosen at random)", list(AUG_LABELS),
                                 key="tr_aug", format_func=AUG_LABELS.get)
            c1, c2 = st.columns(2)
            aug_p = c1.slider("share of images augmented", 0.0, 1.0, step=0.05, key="tr_aug_p", disabled=not ops)
            jitter = c2.checkbox("colour jitter ±0.2", key="tr_jitter",   # longer labels were cut at 1280 px
                                 help="Document 002: brightness, contrast and saturation each vary by up to ±20 % "
                                      "on every training image.")
            c1, c2 = st.columns(2)
            early = c1.checkbox("early stopping", key="tr_early",
                                help="Stop when the validation loss has not improved for the given number of "
                                     "epochs, and keep the best epoch's weights.")
            patience = c2.number_input("patience (epochs)", 1, 20, key="tr_patience", disabled=not early)

    cfg = None
    if spec is not None and parts is not None:
        try:
            cfg = TrainConfig(spec=spec, engine=engine, optimizer=optimizer, lr=float(lr), batch_size=int(batch),
                              epochs=int(epochs), seed=int(seed),
                              augment=Augmentation(ops=tuple(ops), p=float(aug_p), color_jitter=jitter),
                              early_stopping=int(patience) if early else 0)
            cfg.validate(parts.train.input_shape, parts.train.num_classes)
        except (ConfigError, ValueError) as exc:
            st.error(str(exc))
            cfg = None
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    live = attached is not None and not attached.snapshot().ended
    if c1.button("Start training", type="primary", disabled=cfg is None, key="tr_start", width="stretch",
                 help="Starting a new run stops the one this page is showing." if live else None):
        refused = quotas.refusal(replacing=attached.id if live else None)
        if refused:
            st.error(refused)
        else:
            if live:
                attached.stop()
            run = TrainingRun(cfg, parts.train, parts.val, parts.test, name=spec.get("name", "custom"),
                              dataset_info={"name": ds.name.split(" (")[0] if key != "bundled" else ds.name,
                                            "key": key, "split": list(fractions), "split_seed": splits.DOC000_SEED},
                              probe=state.current_input(), probe_source=state.current_input_source() or "your drawing")
            try:
                registry().submit(run)
            except limits.LimitError as exc:
                st.error(str(exc))
            else:
                quotas.note_started("run", run.id)
                rp.attach(rp.RUN_PARAM, rp.RUN_KEY, run.id)
                tlv.remember_run(run.id)
                st.rerun()
    if cfg is not None:
        c2.caption(f"{cfg.describe()}; augmentation: {cfg.augment.describe()}.")

    checkpoint_views.load_saved_model()

if attached is not None:
    rp.run_panel(run_id)
    tlv.timeline_section(run_id)
    tlv.compare_section()
else:
    st.info("Press **Start training**: the loss and accuracy curves appear here and update every second.")

links.publish("train", LINK_FIELDS)
