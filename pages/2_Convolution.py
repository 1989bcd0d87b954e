"""Convolution, one step at a time: the window, the products, the sum, the map; then ReLU and pooling."""
import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.inference import introspection as intro
from cnn_core.lessons import convolution as conv, geometry, pooling, presets, stepping
from cnn_core.lessons.formatting import fmt
from ui.views import chart_alt
from ui.views.see_inside import lesson_plots as lp
from ui.views.see_inside import conv_stepper
from ui.app import errors, links, loaders
from ui.app import state
from ui.views.see_inside.neuron_views import CONV_HANDOFF

bundle = state.sidebar_active_model()

K = "conv_"  # session-state prefix of this page
SRC_DRAWING, SRC_DIGIT, SRC_GRID = "Your drawing", "A digit from the data set", "Type your own grid"
KSRC_PRESET, KSRC_MODEL, KSRC_TYPED = "Preset", "Active model's first conv layer", "Type it in"
PAD_MODES = ["valid", "same", "number"]
SRC_EXPLORER = KSRC_EXPLORER = "From the Layer Explorer"

# "Open in the Convolution page" on the Layer Explorer leaves one input map, its kernel slice, stride and
# padding here; a new hand-off (new token) selects them once, after which the learner's choices stand.
handoff = st.session_state.get(CONV_HANDOFF)
_handed_over = bool(handoff) and st.session_state.get(K + "handoff_token") != handoff["token"]
if _handed_over:
    st.session_state.update({K + "handoff_token": handoff["token"], K + "initialised": True, K + "chosen": True,
                             K + "mode": "Grey image (one channel)", K + "source": SRC_EXPLORER,
                             K + "ksrc": KSRC_EXPLORER, K + "stride": min(handoff["stride"], 5),
                             K + "padmode": "number", K + "padnum": min(handoff["padding"], 5), K + "slider": 1})


# The settings a link carries (input, kernel, stride, padding, position, pooling, Play).
MODES = ["Grey image (one channel)", "RGB image (three channels)"]
POOL_SOURCES = ["this feature map after ReLU", "the notes' 5×5 map (Figure 7.8)"]
LINK_FIELDS = [
    links.Field(K + "mode", links.choice(MODES)),
    links.Field(K + "source", links.choice([SRC_DRAWING, *presets.EXAMPLES, SRC_DIGIT, SRC_GRID])),
    links.Field(K + "digit", links.integer(0, 4999)),
    links.Field(K + "ksrc", links.choice([KSRC_PRESET, KSRC_MODEL, KSRC_TYPED])),
    links.Field(K + "preset", links.choice(presets.KERNEL_PRESETS)),
    links.Field(K + "bias", links.number(-1e6, 1e6)),
    links.Field(K + "stride", links.integer(1, 5)), links.Field(K + "padmode", links.choice(PAD_MODES)),
    links.Field(K + "padnum", links.integer(0, 5)), links.Field(K + "slider", links.integer(1, 1_000_000)),
    links.Field(K + "poolsrc", links.choice(POOL_SOURCES)), links.Field(K + "poolkind", links.choice(["max", "avg"])),
    *[links.Field(f"{K}pool{w}_{d}", links.integer(1, 6)) for w in "ks" for d in (2, 3)],
    links.Field(K + "speed", links.choice(stepping.PLAY_SPEEDS)),
    links.Field(K + "skip", links.boolean, links.write_bool),
]
from_link = links.restore("convolution", LINK_FIELDS)
if from_link:   # the link's view as it was: no example applied over it, settings folded away
    st.session_state.update({K + "initialised": True, K + "chosen": True})

# A new drawing (or input) from the Draw page is what the learner wants to step through: the page opens
# on it once, as the Draw page promises; choosing another input afterwards is respected.
_drawing = state.current_input()
if _drawing is not None and st.session_state.get(K + "input_seen") != state.digest(_drawing):
    st.session_state[K + "input_seen"] = state.digest(_drawing)
    if K + "source" not in from_link and not _handed_over:   # a link's or the Layer Explorer's input wins
        st.session_state.update({K + "initialised": True, K + "chosen": True, K + "mode": "Grey image (one channel)",
                                 K + "source": SRC_DRAWING, K + "slider": 1, conv_stepper.TO_INK: True})


def _frame(a: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(a, dtype=float), columns=[str(i + 1) for i in range(a.shape[1])])  # numbered from 1, like the plots


def _from_editor(df) -> np.ndarray:
    return pd.DataFrame(df).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


@errors.guarded
def _apply_example() -> None:
    """Choosing one of the notes' examples also sets its kernel, bias, padding and stride."""
    ex = presets.EXAMPLES.get(st.session_state[K + "source"])
    if ex is None:
        return
    st.session_state[K + "ksrc"] = KSRC_PRESET
    st.session_state[K + "preset"] = ex.kernel
    st.session_state[K + "bias"] = float(ex.bias)
    st.session_state[K + "stride"] = int(ex.stride)
    if isinstance(ex.padding, str):
        st.session_state[K + "padmode"] = ex.padding
    else:
        st.session_state[K + "padmode"], st.session_state[K + "padnum"] = "number", int(ex.padding)
    st.session_state[K + "slider"] = 1


# ---------------------------------------------------------------------------------------------
st.title("Convolution, step by step")
st.caption("At each position the kernel multiplies the numbers under it cell by cell, adds them up with a bias, "
           "and writes one value into the feature map.")



def grey_input() -> tuple[np.ndarray, str, bool]:
    """(image, description, values are 0..1 pixels) for the grey mode."""
    drawing = state.current_input()
    sources = ([SRC_EXPLORER] if handoff else []) + ([SRC_DRAWING] if drawing is not None else []) \
        + list(presets.EXAMPLES) + [SRC_DIGIT, SRC_GRID]
    st.session_state.setdefault(K + "source", list(presets.EXAMPLES)[0])
    if st.session_state[K + "source"] not in sources:
        st.session_state[K + "source"] = sources[0]
    if not st.session_state.get(K + "initialised"):  # a plain key: widget keys vanish when hidden
        st.session_state[K + "initialised"] = True
        _apply_example()
    src = st.selectbox("Input", sources, key=K + "source", on_change=_apply_example)
    if drawing is None:
        st.caption("Draw a digit on the Draw page to step through your own drawing here.")
    elif src != SRC_DRAWING:
        st.caption(f"Your drawing from the Draw page is waiting in this list: “{SRC_DRAWING}”.")
    if src == SRC_EXPLORER:
        st.caption(f"From the Layer Explorer: {handoff['about']}.")
        return np.asarray(handoff["image"], dtype=float), f"From the Layer Explorer: {handoff['about']}", False
    if src == SRC_DRAWING:
        return np.asarray(drawing, dtype=float), state.current_input_source() or "your drawing", True
    if src == SRC_DIGIT:
        ds = loaders.bundled_digits()
        i = st.number_input("Digit number", 0, len(ds) - 1, key=K + "digit", **state.widget_default(K + "digit", 0))
        return ds.floats([int(i)])[0, 0].astype(float), f"digit #{int(i)} (label {ds.labels[int(i)]})", True
    if src == SRC_GRID:
        c1, c2 = st.columns(2)
        rows = c1.number_input("Rows", 2, 12, key=K + "rows", **state.widget_default(K + "rows", 5))
        cols = c2.number_input("Columns", 2, 12, key=K + "cols", **state.widget_default(K + "cols", 5))
        start = presets.FIGURE_7_3_IMAGE if (rows, cols) == (5, 5) else np.eye(int(rows), int(cols))
        # A line between the size boxes and the grid: the editor's hover toolbar sits just above it and
        # covered the Columns box's − and + buttons.
        st.caption("Click a cell and type a number.")
        edited = st.data_editor(_frame(start), key=f"{K}grid_{rows}x{cols}", hide_index=True)
        return _from_editor(edited), "your grid", False
    ex = presets.EXAMPLES[src]
    st.caption(ex.about)
    return ex.image.astype(float), src, False


def kernel_controls(depth: int) -> tuple[np.ndarray, float, str]:
    """(kernel (depth, f, f), bias, description)."""
    first = intro.first_conv_kernels(bundle.model)
    ksrcs = ([KSRC_EXPLORER] if handoff and depth == 1 else []) + [KSRC_PRESET] \
        + ([KSRC_MODEL] if first is not None and first.weight.shape[1] in (1, depth) else []) + [KSRC_TYPED]
    st.session_state.setdefault(K + "ksrc", KSRC_PRESET)
    if st.session_state[K + "ksrc"] not in ksrcs:
        st.session_state[K + "ksrc"] = KSRC_PRESET
    ksrc = st.radio("Kernel", ksrcs, key=K + "ksrc")
    if ksrc == KSRC_EXPLORER:
        st.caption(f"The kernel slice from the Layer Explorer (bias {fmt(handoff['bias'], 4)}).")
        return np.asarray(handoff["kernel"], dtype=float)[None], float(handoff["bias"]), "the Layer Explorer's kernel slice"
    if ksrc == KSRC_MODEL:
        n_out = first.weight.shape[0]
        j = st.slider("Kernel of the model", 1, n_out, key=K + "modelk", **state.widget_default(K + "modelk", 1)) - 1
        w = first.weight[j].astype(float)
        b = float(first.bias[j])
        st.caption(f"Kernel {j + 1} of {n_out} in {bundle.name}'s first conv layer; its bias is {fmt(b, 4)}. "
                   "The model sees pixels as 0–1.")
        return w, b, f"{bundle.name}, kernel {j + 1}"
    if ksrc == KSRC_TYPED:
        # Typing starts from the preset on screen (it started from sharpen whatever was chosen).
        preset = st.session_state.get(K + "preset", list(presets.KERNEL_PRESETS)[3])
        pk = presets.preset_kernel(preset)
        sizes = [2, 3, 4, 5]
        f = st.selectbox("Kernel size", sizes, key=K + "ksize",
                         **state.widget_default(K + "ksize", sizes.index(pk.shape[0]) if pk.shape[0] in sizes else 1,
                                                "index"))
        start = pk if pk.shape == (f, f) else np.zeros((f, f))
        kern = [_from_editor(st.data_editor(_frame(start), key=f"{K}kedit_{f}_{c}_{preset}", hide_index=True))
                for c in range(depth)]
        st.session_state.setdefault(K + "bias", 0.0)
        bias = st.number_input("Bias", step=0.5, key=K + "bias")
        return np.stack(kern), float(bias), "your kernel"
    names = list(presets.KERNEL_PRESETS)
    st.session_state.setdefault(K + "preset", names[3])
    name = st.selectbox("Preset", names, key=K + "preset")
    st.caption(presets.KERNEL_PRESETS[name].about)
    st.session_state.setdefault(K + "bias", 0.0)
    bias = st.number_input("Bias", step=0.5, key=K + "bias")
    k = presets.preset_kernel(name)[None]
    return np.repeat(k, depth, axis=0), float(bias), name


def geometry_controls(prefix: str, padmode: str = "number", padnum: int = 1) -> tuple[int, int | str]:
    """Stride and padding; each mode keeps its own (grey: the 320 example's p = 1; RGB: valid)."""
    st.session_state.setdefault(prefix + "stride", 1)
    stride = st.number_input("Stride s", 1, 5, key=prefix + "stride")
    st.session_state.setdefault(prefix + "padmode", padmode)
    st.session_state.setdefault(prefix + "padnum", padnum)
    padmode = st.selectbox("Padding", PAD_MODES, key=prefix + "padmode",
                           format_func={"valid": "valid (none)", "same": "same (keep the size)",
                                        "number": "a number p"}.get)
    pad = st.number_input("p", 0, 5, key=prefix + "padnum") if padmode == "number" else padmode
    return int(stride), pad


# ---------------------------------------------------------------------------------------------
# Projector mode: once a choice is made (or the page opens on a drawing or a shared link) the settings
# fold away, so that at 1280×800 the window, the products and the sum are on the first screen.
settings = st.expander("Settings: input, kernel, stride and padding", expanded=not st.session_state.get(K + "chosen"),
                       icon=":material/tune:")
with settings:
    mode = st.radio("Mode", MODES, horizontal=True,
                    key=K + "mode", label_visibility="collapsed")
    rgb = mode.startswith("RGB")
    c_in, c_k, c_g = st.columns([1.2, 1.2, 0.8])
    with c_in:
        if rgb:
            st.markdown("**Input**: a 5×5×3 image (the notes' Figure 7.5 set-up)")
            with st.expander("Edit the three channels"):
                chans = []
                for c, name in enumerate("RGB"):
                    st.caption(f"{name} channel")
                    chans.append(_from_editor(st.data_editor(_frame(presets.RGB_5X5X3[c]), key=f"{K}rgb_{c}", hide_index=True)))
            image, described, unit_pixels = np.stack(chans), "the 5×5×3 image", False
        else:
            image, described, unit_pixels = grey_input()
            if unit_pixels and st.checkbox("Show pixels as 0–255, like the notes", key=K + "x255"):
                image = np.round(image * 255)
    with c_k:
        if rgb:
            st.markdown("**Kernel**: 3×3×3, one slice per channel")
            with st.expander("Edit the kernel"):
                kern = [_from_editor(st.data_editor(_frame(presets.RGB_KERNEL_3X3X3[c]), key=f"{K}rgbk_{c}", hide_index=True))
                        for c in range(3)]
            kernel, kdesc = np.stack(kern), "the 3×3×3 kernel"
            bias = float(st.number_input("Bias", step=0.5, key=K + "rgbbias", **state.widget_default(K + "rgbbias", presets.RGB_BIAS)))
        else:
            kernel, bias, kdesc = kernel_controls(1)
            if st.session_state.get(K + "ksrc") != KSRC_TYPED:  # typed kernels are already on screen, in the editor
                klim = lp.signed_limits(kernel[0])
                whole = np.allclose(kernel, np.round(kernel))
                chart_alt.show_heatmap(
                    lp.grid(kernel[0], title=f"Kernel {kernel.shape[1]}×{kernel.shape[2]}", colorscale="RdBu",
                            zmid=0, zmin=klim[0], zmax=klim[1], digits=0 if whole else 3, height=190,
                            hover_name="weight", text_size=12 if kernel.shape[1] <= 3 else 10),
                    kernel[0], key=K + "fig_kernel", name="kernel", digits=0 if whole else 3)
    with c_g:
        stride, padding = geometry_controls(K + "rgb_", "valid", 0) if rgb else geometry_controls(K)

# what is on screen, in one line, while the settings are folded away
st.caption(f"Input: {described} · kernel: {kdesc}" + (f", bias {fmt(bias, 4)}" if bias else ""))
_choice = (mode, described, kdesc, float(bias), stride, str(padding))
if st.session_state.get(K + "last_choice") not in (None, _choice):
    st.session_state[K + "chosen"] = True
st.session_state[K + "last_choice"] = _choice
# Another stride, padding or mode moves every window: start again at the first one that sees ink (it
# jumped to a blank corner, or, in RGB mode, kept the grey mode's step: "step 9 of 9").
_geometry = (mode, stride, str(padding))
if st.session_state.get(K + "last_geometry") not in (None, _geometry):
    st.session_state[conv_stepper.TO_INK] = True
st.session_state[K + "last_geometry"] = _geometry

try:
    setup = conv.conv_setup(image, kernel, bias, stride, padding)
except geometry.LessonError as exc:
    st.error(str(exc))
    st.stop()

h, w = setup.in_hw
f, p = setup.f, setup.padding
# Narrow main columns (a tablet with the sidebar open, 1024 px): the buttons beside the slider and the
# Speed menu got 60-90 px each and read "◀ P…", "Ne…", "S…" (issue 18, bug 11). Below NAV_WRAP px of
# width the buttons take a row of their own under the slider and Speed takes the width it needs.
NAV_WRAP = 760
st.html(f"""<style>
.st-key-conv_nav, .st-key-conv_size {{ container-type: inline-size; }}
@container (max-width: {NAV_WRAP}px) {{
  .st-key-conv_nav [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; }}
  .st-key-conv_nav [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:first-child {{
    flex: 1 1 100%; width: 100%; min-width: 100%; }}
  .st-key-conv_nav [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:not(:first-child) {{
    flex: 1 1 0; width: auto; min-width: 0; }}
  .st-key-conv_size [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:first-child {{
    flex: 1 1 0; width: auto; min-width: 0; }}
  .st-key-conv_size [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:last-child {{
    flex: 0 0 auto; width: auto; min-width: 7.5rem; }}
}}
</style>""")
o1, o2 = st.container(key="conv_size").columns([5, 1], vertical_alignment="center")
o1.markdown(f"**Output size** with n = {h}, f = {f}, p = {p}, s = {stride}: "
            f"{geometry.output_size_formula(n=h, f=f, padding=p, stride=stride)}"
            + (f" rows, {geometry.output_size_formula(n=w, f=f, padding=p, stride=stride)} columns" if h != w else "")
            + f" → a {setup.out_hw[0]}×{setup.out_hw[1]} feature map, {setup.positions} window positions.")
with o2.popover("Speed", icon=":material/speed:", width="stretch"):
    conv_stepper.controls(setup)
full = conv.conv_map(setup)
digits = 3 if (unit_pixels and not st.session_state.get(K + "x255")) or not np.allclose(kernel, np.round(kernel)) else 2

errors.fragment(conv_stepper.stepper, run_every=conv_stepper.play_interval())(
    setup, full, rgb=rgb, digits=digits, publish=lambda: links.publish("convolution", LINK_FIELDS))

# ---------------------------------------------------------------------------------------------
st.header("Then ReLU and pooling")
pool_src = st.radio("Pool", POOL_SOURCES,
                    horizontal=True, key=K + "poolsrc")
if pool_src.startswith("this"):
    relu_map = conv.relu(full)
    r1, r2 = st.columns(2)
    lim = lp.signed_limits(full)
    r1.plotly_chart(lp.grid(full, title="Feature map (before ReLU)", colorscale="RdBu", zmid=0, zmin=lim[0],
                            zmax=lim[1], digits=digits, height=300), key=K + "fig_pre")
    r2.plotly_chart(lp.grid(relu_map, title="After ReLU: max(0, x)", colorscale="Viridis", zmin=0,
                            digits=digits, height=300), key=K + "fig_relu")
    neg = int((full < 0).sum())
    st.caption(f"ReLU set {neg} of {full.size} values to 0 (the negative ones); the rest pass unchanged.")
    pool_in = relu_map
else:
    pool_in = presets.POOLING_5X5
    st.caption("The notes pool this 5×5 convolved feature with a 3×3 window, stride 1 (and stride 2).")

q1, q2, q3 = st.columns(3)
kind = q1.radio("Pooling", ["max", "avg"], horizontal=True, key=K + "poolkind",
                format_func={"max": "max", "avg": "average"}.get)
default_k = 3 if pool_in is presets.POOLING_5X5 else 2
pk = q2.number_input("Window k", 1, 6, key=K + "poolk_" + str(default_k),
                     **state.widget_default(K + "poolk_" + str(default_k), default_k))
ps = q3.number_input("Stride", 1, 6, key=K + "pools_" + str(default_k),
                     **state.widget_default(K + "pools_" + str(default_k), 1 if pool_in is presets.POOLING_5X5 else 2))
try:
    pooled = pooling.pool2d(pool_in, kind, int(pk), int(ps))
except geometry.LessonError as exc:
    st.error(str(exc))
    st.stop()
oh, ow = pooled.output.shape
st.markdown(f"**Pooling output size**: {geometry.pool_output_formula(n=pool_in.shape[0], k=int(pk), stride=int(ps))}"
            + (f" × {geometry.pool_output_formula(n=pool_in.shape[1], k=int(pk), stride=int(ps))}" if pool_in.shape[0] != pool_in.shape[1] else "")
            + f" → {oh}×{ow}.")
if pooled.uncovered_note():
    st.caption(pooled.uncovered_note())
cell_no = st.select_slider("Show the window of output cell", range(oh * ow), key=f"{K}poolcell_{oh}x{ow}",
                           format_func=lambda n: f"({n // ow + 1}, {n % ow + 1})")
pi, pj = divmod(int(cell_no), ow)
wr0, wc0, wr1, wc1 = pooled.window(pi, pj)
rects = [(wr0, wc0, wr1, wc1, lp.WINDOW_COLOUR)]
winners, flat_windows = None, 0
if kind == "max":
    # ring the real contests; a window of equal values (all 0 after ReLU, say) still passes its gradient
    # to its first cell, as torch does, which the gradient map shows
    contested = [(i, j) for i in range(oh) for j in range(ow)
                 if np.ptp(pool_in[slice(*pooled.window(i, j)[::2]), slice(*pooled.window(i, j)[1::2])]) > 0]
    winners = [tuple(pooled.winners[i, j]) for i, j in contested]
    flat_windows = oh * ow - len(contested)
pdig = 2 if kind == "avg" else digits
v1, v2, v3 = st.columns(3)
v1.plotly_chart(lp.grid(pool_in, title="Pooling input" + (": winners ringed" if kind == "max" else ""),
                        colorscale="Viridis", digits=digits, rects=rects, marks=winners, height=320),
                key=K + "fig_poolin")
v2.plotly_chart(lp.grid(pooled.output, title=f"{'Max' if kind == 'max' else 'Average'} pooled", colorscale="Viridis",
                        digits=pdig, rects=[(pi, pj, pi + 1, pj + 1, lp.WINDOW_COLOUR)], height=320),
                key=K + "fig_poolout")
grad = pooled.route_gradient()
v3.plotly_chart(lp.grid(grad, title="Gradient each cell gets back", colorscale="Viridis",
                        zmin=0, digits=2, height=320, hover_name="gradient"),
                key=K + "fig_grad")
st.markdown(f"Output ({pi + 1}, {pj + 1}): {pooled.written(pi, pj)}")
st.info(pooled.routing_note() + (f" {flat_windows} of {oh * ow} windows hold equal values (not ringed); "
                                 "their gradient goes to the first cell, as in PyTorch." if flat_windows else ""))

links.publish("convolution", LINK_FIELDS)
