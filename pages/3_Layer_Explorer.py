"""Layer Explorer: the active model on the current input, layer by layer; attributions; what-if."""
import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.inference import introspection as intro
from cnn_core.lessons.formatting import fmt
from ui.views.see_inside import lesson_plots as lp
from ui.app import errors, links
from ui.app import loaders
from ui.views.see_inside import neuron_views
from ui.views import chart_alt, plots
from ui.app import state

bundle = state.sidebar_active_model()

K = "lx_"
WHATIF = K + "whatif"  # list of edits {'layer', 'out', 'in', 'kernel', 'zero', 'label'}, applied in order
SRC_DRAWING, SRC_DIGIT = "Your drawing", "A digit from the data set"


@errors.guarded
def _reset_whatif() -> None:
    st.session_state[WHATIF] = []


def _add_edit(edit: dict) -> None:
    """Keep one edit per kernel (the latest); a zeroed kernel replaces every edit of its slices."""
    same = (lambda e: e["layer"] == edit["layer"] and e["out"] == edit["out"]
            and (edit["zero"] or e["in"] == edit["in"]))
    st.session_state[WHATIF] = [e for e in st.session_state.get(WHATIF) or [] if not same(e)] + [edit]


# The settings a link carries: the input, the class explained and the Grad-CAM layer.
LINK_FIELDS = [links.Field(K + "source", links.choice([SRC_DRAWING, SRC_DIGIT])),
               links.Field(K + "digit", links.integer(0, 4999)),
               links.Field(K + "target", links.integer(0, 999)), links.Field(K + "camlayer", links.integer(0, 999))]
_from_link = links.restore("layer-explorer", LINK_FIELDS)
_drawing = state.current_input()   # a new drawing is what the page opens on (unless a link says otherwise)
if _drawing is not None and st.session_state.get(K + "input_seen") != state.digest(_drawing):
    st.session_state[K + "input_seen"] = state.digest(_drawing)
    if K + "source" not in _from_link:
        st.session_state[K + "source"] = SRC_DRAWING

st.title("Layer Explorer")
overview_box = st.container()  # the whole network first; filled once the input and the model are known

# --- input ----------------------------------------------------------------------------------
drawing = state.current_input()
c_src, c_img, c_pred = st.columns([1.1, 1, 1.4])
with c_src:
    sources = ([SRC_DRAWING] if drawing is not None else []) + [SRC_DIGIT]
    src = st.radio("Input", sources, key=K + "source")
    if drawing is None:
        st.caption("Draw a digit on the Draw page to look at your own drawing here.")
    if src == SRC_DRAWING:
        image, described = np.asarray(drawing, dtype=np.float32), state.current_input_source() or "your drawing"
    else:
        ds = loaders.bundled_digits()
        sevens = np.flatnonzero(ds.labels == 7)
        i = int(st.number_input("Digit number", 0, len(ds) - 1, int(sevens[0]) if sevens.size else 0, key=K + "digit"))
        image, described = ds.floats([i])[0, 0], f"bundled digit #{i} (label {ds.labels[i]})"

spec = bundle.spec
try:
    x, note = intro.prepare_input(image, spec.get("input_shape", (1, 28, 28)))
except intro.IntrospectionError as exc:
    st.error(str(exc))
    st.stop()
seen = x[0].numpy()
with c_img:
    st.plotly_chart(plots.heatmap(seen[0] if seen.shape[0] == 1 else seen.mean(0), title="What the model sees",
                                  height=260, colorbar=False), key=K + "fig_input")
    chart_alt.describe(chart_alt.heatmap_summary(seen[0] if seen.shape[0] == 1 else seen.mean(0),
                                                 "input the model sees", kind="image"))
    st.caption(described + (f" — {note}" if note else ""))

# --- what-if model (a copy) ----------------------------------------------------------------------
if st.session_state.get(K + "whatif_of") != id(bundle.model):  # edits belong to one model
    st.session_state[K + "whatif_of"] = id(bundle.model)
    _reset_whatif()
wi = st.session_state.get(WHATIF) or []
model = bundle.model
try:
    for e in wi:  # each edit makes a copy; the shared model is never touched
        model = intro.what_if(model, e["layer"], e["out"], e.get("kernel"), zero=e.get("zero", False),
                              in_channel=e.get("in"), spec=spec)
except intro.IntrospectionError as exc:  # e.g. edits kept from another model
    st.error(f"{exc} The what-if edits were cleared.")
    _reset_whatif()
    model, wi = bundle.model, []

result = intro.introspect(model, image, spec, bundle.class_names)
base = intro.introspect(bundle.model, image, spec, bundle.class_names) if wi else result
names = result.class_names
with c_pred:
    pred = result.predicted
    delta = None
    if wi:
        # The trained model's answer is what an edit helps or hurts: its probability before and after, so
        # the arrow and the sign show the direction honestly (the what-if winner's own gain read "↑ +60.9"
        # when the edit had made the model worse).
        was = base.predicted
        change = (result.probabilities[was] - base.probabilities[was]) * 100
        delta = f"{change:+.1f} points for {names[was]}, the trained model's answer"
    st.metric("Prediction" + (" (what-if)" if wi else ""), f"{names[pred]} ({result.probabilities[pred] * 100:.1f} %)",
              delta=delta, delta_color="normal")
    if wi and abs(change) < 0.05:
        st.caption(f"Almost no change for {names[was]}: the other kernels still find what this one found (a "
                   "network spreads what it knows over many kernels), and ReLU had already set much of this "
                   "kernel's map to 0 for this input.")
    if wi:
        st.warning(f"What-if active: {'; '.join(e['label'] for e in wi)}. "
                   f"The trained model says {names[base.predicted]} "
                   f"({base.probabilities[base.predicted] * 100:.1f} %) without these edits. The shared model is "
                   "unchanged.")
        st.button("Reset to the trained model", key=K + "reset_top", on_click=_reset_whatif)
    st.plotly_chart(plots.prob_bars(result.probabilities, names, height=220), key=K + "fig_probs_top")
    chart_alt.describe(chart_alt.bars_summary(result.probabilities, names))

with overview_box:
    neuron_views.overview_section(model, result, spec, K, described)

# --- what if ------------------------------------------------------------------------------------
convs = intro.conv_kernels(model, spec)
# keyed: the learner's open panel stays open when the edits are reset (it collapsed with them)
with st.expander("What if… you edit or zero a kernel? (on a copy of the model)", expanded=bool(wi),
                 key=K + "wi_box", on_change="rerun"):
    if not convs:
        st.info("This model has no convolutional layer to edit.")
    else:
        labels = {ck.index: f"layer {ck.index + 1}: {ck.label}" for ck in convs}
        w1, w2, w3 = st.columns([2, 1, 1])   # the layer's label is long: "layer 1: conv … stride 1, padding 1"
        li = w1.selectbox("Conv layer", list(labels), format_func=labels.get, key=K + "wi_layer")
        ck = next(c for c in convs if c.index == li)
        n_out, n_in = ck.weight.shape[:2]
        oc = int(w2.number_input(f"Kernel (1–{n_out})", 1, n_out, 1, key=K + "wi_out")) - 1
        ic = int(w3.number_input(f"Input channel (1–{n_in})", 1, n_in, 1, key=K + "wi_in")) - 1 if n_in > 1 else 0
        kern = ck.weight[oc, ic]
        e1, e2 = st.columns([1, 1])
        with e1:
            st.caption(f"Kernel {oc + 1}" + (f", input channel {ic + 1}" if n_in > 1 else "")
                       + f" (bias {fmt(ck.bias[oc], 4)}). Edit the numbers, then apply.")
            edited = st.data_editor(pd.DataFrame(np.round(kern.astype(float), 4),
                                                 columns=[str(j + 1) for j in range(kern.shape[1])]),
                                    key=f"{K}wi_edit_{li}_{oc}_{ic}_{len(wi)}", hide_index=True)
        lim = lp.signed_limits(kern)
        e2.plotly_chart(lp.grid(kern, title="Kernel in the what-if copy" if wi else "Kernel as trained", colorscale="RdBu", zmid=0, zmin=lim[0], zmax=lim[1],
                                digits=2, height=230, colorbar=True), key=K + "fig_wi_kernel")
        b1, b2, b3 = st.columns(3)
        if b1.button("Apply the edited kernel", key=K + "wi_apply"):
            vals = pd.DataFrame(edited).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
            try:  # checked here, so a bad edit never joins (or clears) the edits already made
                vals = intro.check_kernel_values(vals)
            except intro.IntrospectionError as exc:
                st.error(str(exc))
            else:
                _add_edit({"layer": li, "out": oc, "in": ic, "kernel": vals, "zero": False,
                           "label": f"kernel {oc + 1} of layer {li + 1} edited"
                                    + (f" (input channel {ic + 1})" if n_in > 1 else "")})
                st.rerun()
        if b2.button("Zero this kernel", key=K + "wi_zero"):
            _add_edit({"layer": li, "out": oc, "in": None, "kernel": None, "zero": True,
                       "label": f"kernel {oc + 1} of layer {li + 1} zeroed (weights and bias)"})
            st.rerun()
        b3.button("Reset all edits", key=K + "wi_reset", on_click=_reset_whatif, disabled=not wi)

# --- every layer -------------------------------------------------------------------------------
st.header("Every layer, in order")
rows = []
for lo in result.layers:
    a = lo.output
    rows.append({"#": lo.index + 1, "layer": lo.label, "output shape": " × ".join(map(str, lo.shape)),
                 "min": float(a.min()), "max": float(a.max()), "mean": float(a.mean()),
                 "active (> 0)": float((a > 0).mean())})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
             column_config={"active (> 0)": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
                            "min": st.column_config.NumberColumn(format="%.3f"),
                            "max": st.column_config.NumberColumn(format="%.3f"),
                            "mean": st.column_config.NumberColumn(format="%.3f")})

kernels_at = {ck.index: ck for ck in convs}
try:
    arithmetic = intro.layer_arithmetic(spec)
except (KeyError, TypeError, ValueError):  # a spec that does not describe the model: maps still shown
    arithmetic = {}
prev_shape = tuple(result.input.shape)
for lo in result.layers:
    last = lo.index == len(result.layers) - 1
    title = f"{lo.index + 1}. {lo.label} → {' × '.join(map(str, lo.shape))}"
    # lazy: a closed layer costs nothing; all of them drawn at once sent ~5 MB to the browser per rerun
    box = st.expander(title, expanded=lo.index < 2 or last, key=f"{K}open_{lo.index}", on_change="rerun")
    if box.open is False:
        prev_shape = lo.shape
        continue
    with box:
        a = lo.output
        if lo.index in arithmetic:
            st.caption(" · ".join(arithmetic[lo.index]))
        if lo.is_maps:
            lo_v, hi_v = float(a.min()), float(a.max())
            signed = lo_v < 0
            lim = lp.signed_limits(a) if signed else (lo_v, hi_v if hi_v > lo_v else lo_v + 1e-6)
            tabs = st.tabs(["Feature maps", "Per-map statistics"] + (["Kernels"] if lo.index in kernels_at else []))
            with tabs[0]:
                st.plotly_chart(lp.mosaic(a, colorscale="RdBu" if signed else "Viridis", zmin=lim[0], zmax=lim[1],
                                          zmid=0 if signed else None, height=None),
                                key=f"{K}fig_maps_{lo.index}")
                chart_alt.describe(f"Layer {lo.index + 1}, {lo.label}: " + chart_alt.maps_summary(a, "feature maps"))
                st.caption(f"{a.shape[0]} maps of {a.shape[1]}×{a.shape[2]}, one shared colour scale "
                           f"({fmt(lim[0], 3)} to {fmt(lim[1], 3)}); hover for values.")
            with tabs[1]:
                stats = intro.map_stats(a)
                st.dataframe(pd.DataFrame([{"map": j + 1, "min": s.minimum, "max": s.maximum, "mean": s.mean,
                                            "active (> 0)": s.active} for j, s in enumerate(stats)]),
                             hide_index=True, width="stretch", height=min(400, 38 + 35 * len(stats)),
                             column_config={"active (> 0)": st.column_config.ProgressColumn(
                                 format="percent", min_value=0, max_value=1)})
            if lo.index in kernels_at:
                with tabs[2]:
                    ck = kernels_at[lo.index]
                    n_in = ck.weight.shape[1]
                    ic = 0
                    if n_in > 1:
                        ic = st.slider("Input channel", 1, n_in, 1, key=f"{K}kin_{lo.index}") - 1
                    ks = ck.weight[:, ic]
                    klim = lp.signed_limits(ck.weight)
                    st.plotly_chart(lp.mosaic(ks, colorscale="RdBu", zmid=0, zmin=klim[0], zmax=klim[1],
                                              labels=[f"kernel {j + 1} (bias {fmt(b, 3)})" for j, b in enumerate(ck.bias)],
                                              hover_name="weight"),
                                    key=f"{K}fig_kernels_{lo.index}")
                    chart_alt.describe(f"Layer {lo.index + 1}: " + chart_alt.maps_summary(ks, "kernels"))
                    st.caption(f"{ck.weight.shape[0]} kernels of {ck.weight.shape[2]}×{ck.weight.shape[3]}"
                               + (f", slice for input channel {ic + 1} of {n_in}" if n_in > 1 else "")
                               + "; red negative, blue positive, white 0.")
        else:
            if lo.kind == "flatten":
                st.caption(f"The {' × '.join(map(str, prev_shape))} maps laid out as one vector of {a.size:,} "
                           "values, map by map, row by row. Position is now only an index.")
            if last:
                st.caption("These are the logits; softmax turns them into the probabilities below.")
            st.plotly_chart(lp.vector(a, name="logit" if last else "activation", labels=names if last else None),
                            key=f"{K}fig_vec_{lo.index}")
            chart_alt.describe(f"Layer {lo.index + 1}, {lo.label}: " + chart_alt.vector_summary(
                a, "logits" if last else "activations", labels=names if last else None))
    prev_shape = lo.shape

st.markdown("**Softmax → probabilities**")
st.plotly_chart(plots.prob_bars(result.probabilities, names, height=260), key=K + "fig_probs")
chart_alt.describe(chart_alt.bars_summary(result.probabilities, names))

# --- attributions -------------------------------------------------------------------------------
st.header("Which pixels drove the answer?")
a1, a2 = st.columns([1, 2])
with a1:
    options = list(range(len(names)))
    for _k, _opts in ((K + "target", options), (K + "camlayer", [ck.index for ck in convs])):
        if _k in st.session_state and st.session_state[_k] not in _opts:   # a link made for another model
            del st.session_state[_k]
    target = st.selectbox("Explain the class", options, index=result.predicted, key=K + "target",
                          format_func=lambda c: f"{names[c]}" + (" (predicted)" if c == result.predicted else ""))
    conv_idx = [ck.index for ck in convs]
    cam_layer = None
    if conv_idx:
        cam_layer = st.selectbox("Grad-CAM at layer", conv_idx, index=len(conv_idx) - 1, key=K + "camlayer",
                                 format_func=lambda i: f"{i + 1}: {result.layers[i].label}")
    st.caption("Saliency: how much a tiny change of each pixel moves this class's score (|gradient|). "
               "Grad-CAM: where the chosen conv layer's maps that favour this class are active. Both by captum.")
try:
    with a2, st.spinner("Computing saliency and Grad-CAM with captum…"):
        # the same model, edits, input, class and layer as the last rerun (a layer opened, a page revisit):
        # nothing to compute again (captum: about 0.3 s of CPU per rerun, measured by benchmarks/classroom.py)
        why = (bundle.model, repr(wi), state.digest(image), int(target), cam_layer)
        sal = state.memo("explorer_saliency", why, lambda: intro.saliency(model, image, spec, int(target)))
        cam = state.memo("explorer_gradcam", why, lambda: intro.grad_cam(model, image, spec, int(target), cam_layer)
                         ) if conv_idx else None
except intro.IntrospectionError as exc:
    st.error(str(exc))
else:
    base_img = seen[0] if seen.shape[0] == 1 else seen.mean(0)
    with a2:
        g1, g2 = st.columns(2)
        g1.plotly_chart(lp.overlay(base_img, sal, title=f"Saliency for {names[target]}", name="|gradient|"),
                        key=K + "fig_sal")
        chart_alt.describe(chart_alt.heatmap_summary(sal, f"saliency map for {names[target]}"), g1)
        if cam is not None:
            g2.plotly_chart(lp.overlay(base_img, cam, title=f"Grad-CAM for {names[target]}", name="Grad-CAM"),
                            key=K + "fig_cam")
            chart_alt.describe(chart_alt.heatmap_summary(cam, f"Grad-CAM map for {names[target]}"), g2)
            if float(cam.max()) == 0.0:
                g2.caption("Grad-CAM is 0 everywhere: no map of this layer speaks for this class here.")

links.publish("layer-explorer", LINK_FIELDS)
