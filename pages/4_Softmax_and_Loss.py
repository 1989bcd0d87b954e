"""Softmax and cross-entropy: logits → probabilities → loss in nats and bits → gradient p − y."""
import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.inference import introspection as intro
from cnn_core.lessons import geometry, softmax_inputs
from cnn_core.lessons import softmax as sm
from cnn_core.lessons.formatting import MINUS, fmt
from cnn_core.lessons.exercises import AnswerError, parse_numbers
from ui.views.see_inside import lesson_plots as lp
from ui.app import errors, links
from ui.app import state

bundle = state.sidebar_active_model()

K = "sm_"
EX_NOTES4 = "Notes: dog, cat, horse, cheetah"
EX_NOTES3 = "Notes: logits 2.0, 1.0, 0.1"
EX_MODEL = "The active model on the current input"
EX_OWN = "Your own logits"


def _model_logits() -> tuple[list[float], list[str], str]:
    img = state.current_input()
    if img is None:
        return [], [], "Draw a digit on the Draw page first; then its logits appear here."
    r = intro.introspect(bundle.model, img, bundle.spec, bundle.class_names)
    return [round(float(v), 3) for v in r.logits], r.class_names, f"{bundle.name} on {state.current_input_source() or 'your drawing'}"


@errors.guarded
def _load_example() -> None:
    ex = st.session_state[K + "example"]
    if ex == EX_NOTES4:
        z, names = sm.NOTES_SOFTMAX_LOGITS, sm.NOTES_SOFTMAX_CLASSES
    elif ex == EX_NOTES3:
        z, names = sm.NOTES_SOFTMAX_SMALL, ("A", "B", "C")
    elif ex == EX_MODEL:
        z, names, _ = _model_logits()
    else:
        return
    if len(z):
        st.session_state[K + "logits"] = ", ".join(fmt(v, 3).replace(MINUS, "-") for v in z)
        st.session_state[K + "names"] = ", ".join(names)
        st.session_state[K + "true"] = 0


st.title("Softmax and cross-entropy")
st.caption("The last layer's scores (logits) become probabilities with softmax; cross-entropy measures how "
           "surprised the model is by the true class; its gradient with respect to the logits is p − y.")

# The settings a link carries: the example, the logits, the class names, the true class.
LINK_FIELDS = [links.Field(K + "example", links.choice([EX_NOTES4, EX_NOTES3, EX_MODEL, EX_OWN])),
               links.Field(K + "logits", links.text(2000)), links.Field(K + "names", links.text(2000)),
               links.Field(K + "true", links.integer(0, softmax_inputs.MAX_LOGITS - 1))]
if links.restore("softmax", LINK_FIELDS):
    st.session_state[K + "initialised"] = True     # the link's logits, not the notes' example over them
if not st.session_state.get(K + "initialised"):
    st.session_state[K + "initialised"] = True
    st.session_state[K + "example"] = EX_NOTES4
    _load_example()

c1, c2 = st.columns([1, 1.4])
with c1:
    example = st.selectbox("Start from", [EX_NOTES4, EX_NOTES3, EX_MODEL, EX_OWN], key=K + "example",
                           on_change=_load_example)
    if example == EX_MODEL:
        st.caption(_model_logits()[2])
    text = st.text_input("Logits (comma-separated)", key=K + "logits")
    names_text = st.text_input("Class names (comma-separated, optional)", key=K + "names")
links.publish("softmax", LINK_FIELDS)   # before the check below, which may stop the page
try:
    z = softmax_inputs.parse_logits(text)
    p = sm.softmax(z)
except (AnswerError, geometry.LessonError) as exc:
    st.error(str(exc))
    st.stop()
names = softmax_inputs.parse_class_names(names_text, z.size)
if softmax_inputs.class_names_note(names_text, z.size):
    with c1:
        st.caption(softmax_inputs.class_names_note(names_text, z.size))
# new logits or names can leave the old label behind as a string (a TypeError on '<=' here before)
state.keep_valid_choice(K + "true", list(range(z.size)), K + "true_last")
with c1:
    true = st.selectbox("True class", list(range(z.size)), format_func=lambda i: names[i], key=K + "true")
with c2:
    st.plotly_chart(lp.prob_bars(p, names, highlight=true, title="Softmax probabilities (true class in orange)",
                                 height=300), key=K + "fig_p")

st.header("1. Softmax")
st.latex(r"p_i = \frac{e^{z_i}}{\sum_j e^{z_j}}")
st.markdown("\n".join(f"- **{names[i]}**: {sm.softmax_written(z, i)}" for i in range(z.size)))
st.caption(f"The probabilities add up to {fmt(p.sum(), 6)}; the largest logit gets the largest probability, and "
           "adding the same number to every logit changes nothing.")
if example == EX_NOTES4 and z.shape == (4,) and np.allclose(z, sm.NOTES_SOFTMAX_LOGITS):
    st.info("The notes print the denominator as 2.7183^3.2 + 2.7183^1.3 + 2.7183^0.2 + 2.7183^0.2: the last term "
            "should be 2.7183^0.8. Their results, 0.775, 0.116, 0.039, 0.070, do use 0.8 — as above.")

st.header("2. Cross-entropy for the true class")
y = sm.one_hot(true, z.size)
bits, nats = sm.cross_entropy_logits_written(z, true)  # from the logits: finite even where p rounds to 0
l1, l2 = st.columns(2)
with l1:
    st.markdown(f"One-hot label y for **{names[true]}**: `[{', '.join(fmt(v) for v in y)}]`")
    st.latex(r"L = -\sum_c y_c \log p_c = -\log p_{\text{true}}")
    st.markdown(f"- in nats (natural log): **{nats}**\n- in bits (log base 2): **{bits}**")
    st.caption("Only the true class's term survives the sum, because y is 0 everywhere else. "
               "1 nat = 1/ln 2 ≈ 1.443 bits.")
with l2:
    g = sm.softmax_ce_gradient(p, true)
    st.markdown("**Gradient with respect to the logits: p − y**")
    st.dataframe(pd.DataFrame({"class": names, "p": p, "y": y, "p − y": g}), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("p", "p − y")})
    st.caption("Backpropagation pushes the true class's logit up (negative gradient) and every other logit down, "
               "each in proportion to its probability. The gradient sums to 0.")

# --- the notes' five-class example ----------------------------------------------------------------
st.header("3. The notes' five-class example")
probs = np.asarray(sm.NOTES_FIVE_PROBS)
st.markdown(f"Label `[1 0 0 0 0]`, predicted `[{' '.join(fmt(v) for v in probs)}]`: "
            f"**{sm.cross_entropy_written(probs, 0)[0]}**, or **{sm.cross_entropy_written(probs, 0)[1]}**.")
rows = sm.five_class_table()
table = pd.DataFrame({"true class": [f"class {r.cls + 1}" for r in rows],
                      "p of that class": [r.prob for r in rows],
                      "−log2 p (computed)": [round(r.bits, 4) for r in rows],
                      "the notes print": [r.notes_bits for r in rows],
                      "agrees": ["✓" if r.agrees else "✗ slip" for r in rows]})
st.dataframe(table, hide_index=True, width="stretch")
mean = sm.five_class_mean()
st.markdown(f"Mean over the five choices: J = ({' + '.join(fmt(r.bits, 3) for r in rows)})/5 = "
            f"**{fmt(mean, 3)}** bits.")
st.warning(f"Erratum in the notes: −log2(0.3) = {fmt(-np.log2(0.3), 3)}, not 1.685, so the mean is "
           f"{fmt(mean, 3)}, not {sm.NOTES_FIVE_MEAN}. Also, these five 'softmax' outputs add up to "
           f"{fmt(probs.sum(), 2)}, so they cannot come from a softmax (whose outputs add up to 1); the losses "
           "are still the −log of each number.")

# --- one-hot ------------------------------------------------------------------------------------
st.header("4. Is it a valid one-hot label?")
o1, o2 = st.columns([1, 2])
choice = o1.radio("Vector", ["[0,0,0,1,0]", "[0,1,0,1,0]", "[1,1,1,1,1]", "type one"], key=K + "onehot_pick")
vec_text = o2.text_input("Your vector", "0, 0, 1", key=K + "onehot_text") if choice == "type one" else choice.strip("[]")
try:
    vec = parse_numbers(vec_text, None, "Type 0s and 1s separated by commas.")
    ok, why = sm.one_hot_check(vec)
    (o2.success if ok else o2.error)(why)
except AnswerError as exc:
    o2.error(str(exc))

links.publish("softmax", LINK_FIELDS)
