"""Sweep: a hyper-parameter grid trained run after run in the background (documents 000 and 002)."""
import streamlit as st

from cnn_core.data import catalog, splits
from cnn_core.data import datasets as data
from cnn_core.data.splits import training_split
from cnn_core.models import specs
from cnn_core.training import sweep as sw
from cnn_core.training import sweep_grid
from cnn_core.training import ConfigError, TrainConfig, registry
from ui.app import links, loaders, quotas, state
from ui.views.train import run_panel as rp
from ui.views.train.sweep_panel import sweep_panel
from cnn_core.lessons.formatting import count_of

state.sidebar_active_model()
state.keep_widget_state("sweep", ["sw_preset", "sw_dataset", "sw_epochs", "sw_engine", "sw_base", "sw_ax1", "sw_ax2",
                               "sw_opt", "sw_lr", "sw_batch"], prefixes=("sw_v1_", "sw_v2_"))

PRESET_LABELS = {"doc-000": "Document 000: kernels {8, 16, 24} × learning rate {0.001, 0.005, 0.01}",
                 "doc-002": "Document 002: dropout {0, 0.2, 0.3}", "custom": "Custom grid"}
DATASETS = ["bundled", "mnist", "fashion-mnist"]
# The grid a link carries (a teacher can hand the class the same sweep to start); the sweep being
# shown travels as ?sweep=<id> beside it.
LINK_FIELDS = [links.Field("sw_preset", links.choice(PRESET_LABELS)), links.Field("sw_dataset", links.choice(DATASETS)),
               links.Field("sw_epochs", links.integer(1, 50)), links.Field("sw_engine", links.choice(["torch", "numpy"])),
               links.Field("sw_base", links.choice(specs.PRESETS)), links.Field("sw_ax1", links.choice(sw.AXES)),
               links.Field("sw_ax2", links.choice(["none", *sw.AXES])),
               *[links.Field(f"sw_v{n}_{a}", links.text(200)) for n in (1, 2) for a in sw.AXES],
               links.Field("sw_opt", links.choice(["sgd", "momentum", "adam"])),
               links.Field("sw_lr", links.number(1e-5, 10.0)), links.Field("sw_batch", links.integer(1, 512))]
links.restore("sweep", LINK_FIELDS)

st.title("Hyper-parameter sweep")
st.caption("Document 000 compared 8, 16 and 24 kernels and three learning rates (best: 24 kernels, lr 0.01, "
           "0.887 on its validation images); document 002 compared dropout 0, 0.2 and 0.3 (validation accuracy "
           "91.65–92.83 %). Here every cell of the grid trains in the background, one run after another, and the "
           "heatmap fills in.")

sweep_id = rp.attached_id(rp.SWEEP_PARAM, rp.SWEEP_KEY)
left, right = st.columns([4, 8], gap="large")

with left:
    choice = st.radio("Grid", list(PRESET_LABELS), format_func=PRESET_LABELS.get, key="sw_preset")
    key = st.selectbox("Data set", DATASETS, key="sw_dataset",
                       format_func=catalog.DATASET_LABELS.get)
    c1, c2 = st.columns(2)
    epochs = c1.number_input("epochs per run", 1, 50, key="sw_epochs", **state.widget_default("sw_epochs", 3),
                             help="The documents trained 20 (000) and 10 (002) epochs; fewer give a quick comparison.")
    engine = c2.radio("engine", ["torch", "numpy"], key="sw_engine", horizontal=True,
                      format_func={"torch": "PyTorch", "numpy": "NumPy"}.get)
    errors = st.session_state.setdefault("_sw_data_errors", {})
    ds = official_test = None
    if key in errors:
        st.error(errors[key])
        if st.button("Try again", key="sw_retry"):
            errors.pop(key)
            st.rerun()
    else:
        try:
            ds, official_test = loaders.named_dataset(key)
        except data.DataError as exc:
            errors[key] = str(exc)
            st.error(str(exc))

    base = axes = None
    problem = None
    if ds is not None:
        try:
            if choice == "custom":
                preset_name = st.selectbox("network", list(specs.PRESETS), key="sw_base")
                # Each axis box takes the column's full width: at half width its names were cut to "kernels in t…".
                ax1 = st.selectbox("axis 1", list(sw.AXES), key="sw_ax1", format_func=sw.AXES.get)
                v1 = st.text_input("values", key=f"sw_v1_{ax1}", **state.widget_default(f"sw_v1_{ax1}", sweep_grid.AXIS_DEFAULTS[ax1]))
                links.keep_valid("sw_ax2", ["none", *[a for a in sw.AXES if a != ax1]])     # the same axis twice
                ax2 = st.selectbox("axis 2 (optional)", ["none", *[a for a in sw.AXES if a != ax1]], key="sw_ax2",
                                   format_func=lambda a: "none" if a == "none" else sw.AXES[a])
                v2 = st.text_input("values", key=f"sw_v2_{ax2}", disabled=ax2 == "none",
                                   **state.widget_default(f"sw_v2_{ax2}", sweep_grid.AXIS_DEFAULTS.get(ax2, "")))
                c1, c2, c3 = st.columns(3)
                opt = c1.selectbox("optimiser", ["sgd", "momentum", "adam"], key="sw_opt")
                lr = c2.number_input("learning rate", 1e-5, 10.0, format="%g", key="sw_lr", **state.widget_default("sw_lr", 0.01))
                batch = c3.number_input("batch size", 1, 512, key="sw_batch", **state.widget_default("sw_batch", 64))
                base = TrainConfig(spec=specs.preset(preset_name, ds.input_shape, ds.num_classes), optimizer=opt,
                                   lr=float(lr), batch_size=int(batch), epochs=int(epochs), engine=engine)
                axes = {ax1: sweep_grid.parse_axis_values(ax1, v1)}
                if ax2 != "none":
                    axes[ax2] = sweep_grid.parse_axis_values(ax2, v2)
            else:
                base, axes = sw.preset_config(choice, epochs=int(epochs), engine=engine,
                                              input_shape=ds.input_shape, num_classes=ds.num_classes)
                st.caption(f"Network {base.spec['name']}, {base.describe().split(', ', 1)[1]}.")
            sweep_grid.check_grid(base, axes, ds.input_shape, ds.num_classes)
        except (ValueError, ConfigError, specs.SpecError) as exc:
            problem = str(exc)
    if problem:
        st.error(problem)
    elif axes:
        st.caption(f"{sweep_grid.grid_size(axes)} runs × {count_of(int(epochs), 'epoch')}, one after another.")

    current = None if sweep_id is None else registry().get_sweep(sweep_id)
    if st.button("Start sweep", type="primary", disabled=base is None or problem is not None, key="sw_start",
                 width="stretch", help="Starting a new sweep stops the one this page is showing."):
        alive = current is not None and current.alive
        refused = quotas.refusal(replacing=current.id if alive else None)
        if refused:
            st.error(refused)
        else:
            if alive:
                current.stop()
            parts = training_split(ds, official_test)
            sweep = sw.Sweep(base, axes, parts.train, parts.val, parts.test, name=base.spec["name"],
                             dataset_info={"name": ds.name, "key": key, **splits.doc000_info()})
            sweep.start()
            quotas.note_started("sweep", sweep.id)
            rp.attach(rp.SWEEP_PARAM, rp.SWEEP_KEY, sweep.id)
            st.rerun()

with right:
    sweep_panel(sweep_id)
    if sweep_id is None or registry().get_sweep(sweep_id) is None:
        st.info("Press **Start sweep**: the table and the heatmap of validation accuracy fill in as each run ends.")
links.publish("sweep", LINK_FIELDS)
