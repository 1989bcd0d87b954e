"""Backpropagation: the four stages (forward, loss, backward, update) on one input, with real numbers."""
import numpy as np
import streamlit as st

from cnn_core.inference import introspection as intro
from cnn_core.inference import predict
from cnn_core.lessons import backprop as bp
from cnn_core.lessons.backprop_arithmetic import weight_update
from cnn_core.lessons.formatting import count_of, fmt, fmt_sig
from cnn_core.lessons.softmax import cross_entropy_logits_written
from cnn_core.models import specs
from cnn_core.numpy_nn import Sequential, build_numpy
from cnn_core.numpy_nn.from_spec import from_torch
from ui.views import chart_alt
from ui.views.see_inside import backprop_views as bv
from ui.views.see_inside import lesson_plots as lp
from ui.app import links
from ui.app import loaders
from ui.app import state

bundle = state.sidebar_active_model()

K = bv.K
FRESH, ACTIVE = "fresh", "active"
SRC_DRAWING, SRC_DIGIT = "Your drawing", "A digit from the data set"
# The settings a link carries: the network, the input, the layer taken apart and the learning rate.
LINK_FIELDS = [links.Field(K + "net", links.choice([FRESH, ACTIVE])), links.Field(K + "seed", links.integer(0, 9999)),
               links.Field(K + "source", links.choice([SRC_DRAWING, SRC_DIGIT])),
               links.Field(K + "digit", links.integer(0, 4999)), links.Field(K + "layer", links.integer(0, 999)),
               links.Field(K + "lr", links.number(0.0001, 5.0))]
links.restore("backpropagation", LINK_FIELDS)


st.title("Backpropagation: how a CNN learns")
st.caption("The four stages of training on one input, with every number: **forward** (each layer's output), "
           "**loss** (how wrong the answer is), **backward** (the chain rule, layer by layer, from the loss back to "
           "the pixels) and **update** (every weight moves a little against its gradient). Then check the maths "
           "against PyTorch's autograd and against a numerical derivative.")

# --- the network, the input, the true label -------------------------------------------------------
c_net, c_in, c_img = st.columns([1.25, 1.25, 0.8])
with c_net:
    net = st.radio("Network", [FRESH, ACTIVE], key=K + "net", format_func={
        FRESH: "Document 000's network, fresh random weights",
        ACTIVE: f"The active model: {bundle.name}"}.get)
    if net == FRESH:
        seed = int(st.number_input("Weight seed", 0, 9999, 0, key=K + "seed",
                                   help="He initialisation, as document 000; the same seed gives the same weights."))
        spec, class_names = specs.preset("seed-000"), [str(i) for i in range(10)]
        signature = (FRESH, seed)

        def build():
            return build_numpy(spec, seed=seed, dtype=np.float64, init="he").eval()
    else:
        spec, class_names = bundle.spec, bundle.class_names
        signature = (ACTIVE, id(bundle.model))

        def build():
            if isinstance(bundle.model, Sequential):
                return bp.float64_copy(bundle.model).eval()
            return from_torch(bundle.model, spec, dtype=np.float64).eval()
    st.caption(" → ".join(["input " + "×".join(map(str, spec["input_shape"]))]
                          + [i.label for i in specs.layer_infos(spec)]))

drawing = state.current_input()
with c_in:
    sources = ([SRC_DRAWING] if drawing is not None else []) + [SRC_DIGIT]
    links.keep_valid(K + "source", sources)           # a link to "your drawing" opened before drawing
    src = st.radio("Input", sources, key=K + "source")
    if drawing is None:
        st.caption("Draw a digit on the Draw page to follow your own drawing through the network.")
    if src == SRC_DRAWING:
        image, told = np.asarray(drawing, dtype=np.float32), None
        described = state.current_input_source() or "your drawing"
    else:
        ds = loaders.bundled_digits()
        i = int(st.number_input("Digit number", 0, len(ds) - 1, int(np.flatnonzero(ds.labels == 3)[0]), key=K + "digit"))
        image, told, described = ds.floats([i])[0, 0], int(ds.labels[i]), f"bundled digit #{i}"
    if told is None:  # a drawing: what the trained default model reads it as
        told = predict.predict_image(state.default_bundle().model, image).label
    k = int(spec.get("num_classes", 10))
    label = st.selectbox("True label y (what the network is told the digit is)", list(range(k)), index=min(told, k - 1),
                         format_func=lambda c: class_names[c], key=f"{K}label_{src}_{described}")

links.publish("backpropagation", LINK_FIELDS)        # before the check below, which may stop the page
try:
    x, note = intro.prepare_input(image, spec["input_shape"])
    x = x[0].numpy().astype(np.float64)
    model = bv.learner_model(signature, build)
    tr = bp.trace(model, x, int(label))
except (bp.BackpropError, intro.IntrospectionError) as exc:
    st.error(str(exc))
    st.stop()
with c_img:
    bv.chart(st, bv.one_map(x.mean(0), title="The input", signed=False, name="pixel", height=230,
                            colorscale="gray"), key=K + "fig_input")
    st.caption(described + (f"; {note}" if note else ""))
version = st.session_state[bv.VERSION]
if version:
    st.info(f"Your copy of the network has taken {count_of(version, 'step')} on this input. The shared model is unchanged.")

# --- 1. forward ---------------------------------------------------------------------------------------
st.header("1 · Forward: each layer's output")
cols = st.columns(min(4, len(tr.steps)))
for n, step in enumerate(tr.steps):
    with cols[n % len(cols)]:
        bv.chart(st, bv.activation_maps(step.output, title=bv.short_name(step), height=170,
                                        labels=class_names if n == len(tr.steps) - 1 else None), key=f"{K}fwd_{n}")

# --- 2. loss ------------------------------------------------------------------------------------------
st.header("2 · Loss: how wrong is the answer?")
l1, l2 = st.columns([1, 1.2])
with l1:
    st.markdown(f"Softmax turns the logits z into probabilities p. The true label is **{class_names[label]}**, so the "
                f"one-hot target y has its 1 there and the cross-entropy keeps one term: "
                f"L = −ln p_y: {cross_entropy_logits_written(tr.logits, label)[1]}.")
    st.markdown("Its gradient with respect to the logits is simply **∂L/∂z = p − y** (document 000's chain rule "
                "through softmax): negative for the true class (raise it), positive for the others (lower them).")
    st.dataframe(bv.loss_table(tr, class_names), hide_index=True, height=390)
with l2:
    st.plotly_chart(lp.prob_bars(tr.probs, class_names, highlight=label, title="p: the network's probabilities",
                                 height=240), key=K + "fig_p")
    chart_alt.describe(chart_alt.bars_summary(tr.probs, class_names))
    st.plotly_chart(lp.vector(tr.grad_logits, title="∂L/∂z = p − y, the gradient that starts backward",
                              name="∂L/∂z", labels=class_names), key=K + "fig_dz")
    chart_alt.describe("∂L/∂z = p − y: " + chart_alt.vector_summary(tr.grad_logits, "values", labels=class_names))

# --- 3. backward --------------------------------------------------------------------------------------
st.header("3 · Backward: the chain rule, layer by layer")
st.caption("Each layer receives δ = ∂L/∂(its output) from the layer above, computes the gradients of its own "
           "weights, and sends ∂L/∂(its input) on towards the image. Blue: raising that value would raise the loss; "
           "red: raising it would lower the loss; white: no effect.")
order = [s.index for s in reversed(tr.steps)]
first_conv = next((s.index for s in tr.steps if s.kind == "conv2d"), order[0])
links.keep_valid(K + "layer", order)                  # a link's layer this network does not have
# Another network has other layers under the same numbers: start on its first conv layer, written through
# the Session State API so the box shows it (a kept index showed the old network's label beside the new
# network's panel, and the browser's stale label then came back as a value no option matched).
if st.session_state.get(K + "layer_net") != signature:
    if st.session_state.get(K + "layer_net") is not None or K + "layer" not in st.session_state:
        st.session_state[K + "layer"] = first_conv
    st.session_state[K + "layer_net"] = signature
chosen = st.selectbox("Layer", order, key=K + "layer",
                      format_func=lambda i: f"layer {i + 1}: {tr.steps[i].name}")
step = tr.steps[chosen]
outputs = class_names if chosen == len(tr.steps) - 1 else None     # the last layer's units are the classes
bv.chart(st, bv.signed_maps(step.grad_output, title=f"Incoming gradient δ = ∂L/∂output of layer {chosen + 1}",
                            name="δ", height=260, labels=outputs), key=K + "fig_in")
param = bv.arithmetic_panel(step, f"{K}l{chosen}_", outputs)

# --- 4. update ----------------------------------------------------------------------------------------
st.header("4 · Update: W ← W − η·∂L/∂W")
if param is None:
    first = next(s for s in tr.steps if s.grads)
    param = (first.index, "W", tuple(np.unravel_index(int(np.argmax(np.abs(first.grads["W"]))), first.grads["W"].shape)))
    st.caption(f"Layer {chosen + 1} has no weights; the update below follows the weight with the largest gradient "
               f"in layer {first.index + 1}.")
li, key, idx = param
label_w = f"{key}[{', '.join(str(v + 1) for v in idx)}]"      # 1-based, like the pickers and the maps
name = f"{label_w} of layer {li + 1}"
u1, u2 = st.columns([1, 1.3])
with u1:
    lr = float(st.number_input("Learning rate η", 0.0001, 5.0, 0.001, step=0.001, format="%.4f", key=K + "lr",
                               help="Document 000 trained with η = 0.001. On one example a large η overshoots."))
    w, g = float(model.layers[li].params[key][idx]), float(tr.steps[li].grads[key][idx])
    bv.written_box(weight_update(w, g, lr, label_w).text, "bp-update")
    st.caption(f"The weight is {name}; every other weight of the network moves the same way at the same time.")
    b1, b2 = st.columns(2)
    b1.button("Apply one step", type="primary", key=K + "step", on_click=bv.take_step, args=(x, int(label), lr),
              width="stretch")
    b2.button("Reset the weights", key=K + "reset", on_click=bv.reset_model, width="stretch")
with u2:
    last, history = st.session_state[bv.LAST], st.session_state[bv.HISTORY]
    if last is None:
        st.caption("Press **Apply one step** to update your copy of the network and see the loss and the "
                   "probabilities before and after, on this same input.")
    else:
        m1, m2 = st.columns(2)
        # A loss is ≥ 0; at a huge η a float a hair below 0 was written "-0.0000 nats".
        after, before = max(0.0, last["loss_after"]), max(0.0, last["loss_before"])
        m1.metric("Loss on this input", f"{after:.4f} nats",
                  delta=f"{after - before:+.4f} (was {before:.4f})",
                  delta_color="inverse")
        yb, ya = last["probs_before"][last["label"]], last["probs_after"][last["label"]]
        m2.metric(f"p({class_names[last['label']]})", f"{ya:.4f}", delta=f"{ya - yb:+.4f} (was {yb:.4f})")
        st.plotly_chart(bv.before_after_bars(last["probs_before"], last["probs_after"], class_names), key=K + "fig_ba")
if last is not None:
    k1, k2 = st.columns([1.6, 1])
    convs = list(last["kernels_before"])
    if convs:
        ci = convs[0]
        both, change = bv.kernels_before_after(last["kernels_before"][ci], last["kernels_after"][ci])
        k1.plotly_chart(both, key=K + "fig_kernels")
        k1.plotly_chart(change, key=K + "fig_kernel_change")
        k1.caption(f"Layer {ci + 1}'s kernels (first input channel) before and after the last step with η = "
                   f"{fmt(last['lr'], 4)}; the largest change is {fmt_sig(np.abs(last['kernels_after'][ci] - last['kernels_before'][ci]).max())}.")
    if len(history) > 1:
        k2.plotly_chart(bv.loss_curve(history), key=K + "fig_curve")

# --- proof --------------------------------------------------------------------------------------------
st.header("Proof: the same numbers, computed two other ways")
sig = (signature, version, hash(x.tobytes()), int(label))
check = bv.memo("autograd", sig, lambda: bp.autograd_check(model, x, int(label), tr))
num = bv.memo("numerical", sig + param, lambda: bp.numerical_check(model, x, int(label), li, key, idx, tr=tr))
p1, p2 = st.columns(2)
with p1:
    bv.written_box(f"PyTorch's autograd, on the same weights in float64, computed the loss, all "
                   f"{check.compared - 1:,} gradients of the weights and of the input pixels: the largest difference "
                   f"from the numbers above is <b>{bv.fmt_diff(check.max_abs_diff)}</b>.", "bp-autograd")
with p2:
    bv.written_box(f"Numerical check of ∂L/∂{name}: (L(w + ε) − L(w − ε)) / 2ε with ε = {num.eps:g} is "
                   f"{fmt_sig(num.numerical, 7)}; backpropagation gave {fmt_sig(num.analytic, 7)}: relative error "
                   f"<b>{bv.fmt_diff(num.rel_error)}</b>.", "bp-numerical")
links.publish("backpropagation", LINK_FIELDS)
