"""Home page: what CNN Explorer teaches, the map of its pages, the active model and data set."""
import numpy as np
import streamlit as st

from cnn_core import data, specs
from ui import state

st.set_page_config(page_title="CNN Explorer", page_icon="🧠", layout="wide")

PAGES = [
    ("pages/1_Draw_and_Predict.py", "Draw & Predict", "✏️",
     "Draw a digit and watch a trained CNN classify it live, with the 28×28 input it really gets."),
    ("pages/2_Convolution.py", "Convolution", "🔍",
     "Slide a kernel over your drawing one step at a time: window, products, sum, stride, padding, ReLU, pooling."),
    ("pages/3_Layer_Explorer.py", "Layer Explorer", "🧩",
     "Every layer's feature maps and kernels for your input, what drove the answer, and what-if edits."),
    ("pages/4_Softmax_and_Loss.py", "Softmax & Loss", "📐",
     "From logits to probabilities to cross-entropy, in nats and bits, with the lecture's examples."),
    ("pages/5_Practice.py", "Practice", "📝",
     "Generated exercises like the lecture's, checked as you answer, with worked solutions."),
    ("pages/6_Train.py", "Train", "🏋️",
     "Pick data, architecture and knobs; train in the background and watch the curves move."),
    ("pages/7_Evaluate.py", "Evaluate", "📊",
     "Confusion matrix, precision / recall / F1, top-k accuracy and the most confident mistakes."),
    ("pages/8_Sweep.py", "Sweep", "🧪",
     "Grid searches over kernel count, learning rate or dropout, as the source documents ran them."),
]


@st.cache_data(show_spinner=False)
def bundled_overview() -> tuple[str, str, int, list[int], np.ndarray]:
    ds = data.load_bundled()
    # one example per class, for the strip below
    firsts = np.array([np.flatnonzero(ds.labels == c)[0] for c in range(ds.num_classes)])
    return ds.name, ds.source, len(ds), ds.class_counts().tolist(), ds.images[firsts, 0]


st.title("🧠 CNN Explorer")
st.markdown(
    "**Open a convolutional neural network and see how it sees.** Draw a digit, then follow it "
    "through every step the network takes: the convolution window sliding over your strokes, the "
    "products and their sum, ReLU and pooling, each layer's feature maps, and the softmax that turns "
    "scores into a decision. Then train your own network, watch it learn, and judge it the way the "
    "papers do.")

bundle = state.sidebar_active_model()

st.subheader("Where to go")
cols = st.columns(2)
for i, (path, label, icon, blurb) in enumerate(PAGES):
    with cols[i % 2]:
        st.page_link(path, label=f"**{label}**", icon=icon)
        st.caption(blurb)

left, right = st.columns(2)
with left:
    st.subheader("Active model")
    acc = bundle.meta.get("accuracy")
    m1, m2, m3 = st.columns(3)
    m1.metric("Model", bundle.name)
    m2.metric("Held-out accuracy", f"{acc * 100:.2f} %" if isinstance(acc, (int, float)) else "not measured")
    m3.metric("Parameters", f"{specs.count_params(bundle.spec):,}")
    if bundle.meta.get("accuracy_note"):
        st.caption(bundle.meta["accuracy_note"])
    st.caption(f"Trained on: {bundle.meta.get('dataset', 'unknown')} · engine: {bundle.meta.get('engine', 'torch')}"
               f" · created {bundle.meta.get('created', 'unknown')}")
    rows = [{"#": info.index + 1, "layer": info.label, "output shape": " × ".join(map(str, info.out_shape)),
             "parameters": info.params} for info in specs.layer_infos(bundle.spec)]
    with st.expander("Architecture", expanded=False):
        st.dataframe(rows, hide_index=True, width="stretch")

with right:
    name, source, n, counts, examples = bundled_overview()
    st.subheader("Bundled data set")
    st.write(f"**{name}**: {n:,} real handwritten digits, 28×28 greyscale, "
             f"{min(counts)}–{max(counts)} per class. Works offline; full MNIST, Fashion-MNIST and your own "
             "image folders can be loaded on the Train page.")
    st.caption(source)
    st.image(list(examples), width=48, caption=[str(c) for c in range(len(examples))])
