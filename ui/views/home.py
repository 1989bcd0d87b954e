"""Home: what CNN Explorer teaches, the map of its pages, the active model and data set."""
import numpy as np
import streamlit as st

from cnn_core.data import datasets as data
from cnn_core.models import specs
from ui.app import state
from ui.views.layer_table import layer_table

# What each page is for, by its address (app.py declares the pages' titles and icons).
BLURBS = {
    "draw": "Draw a digit and watch a trained CNN classify it live, with the 28×28 input it really gets.",
    "convolution": "Slide a kernel over your drawing one step at a time: window, products, sum, stride, padding, "
                   "ReLU, pooling.",
    "layer-explorer": "Every layer's feature maps and kernels for your input, what drove the answer, and what-if edits.",
    "softmax": "From logits to probabilities to cross-entropy, in nats and bits, with the lecture's examples.",
    "practice": "Generated exercises like the lecture's, checked as you answer, with worked solutions.",
    "backpropagation": "How it learns: forward, loss, backward and update on your drawing, every gradient written "
                       "out and checked.",
    "train": "Pick data, architecture and knobs; train in the background and watch the curves move.",
    "evaluate": "Confusion matrix, precision / recall / F1, top-k accuracy and the most confident mistakes.",
    "sweep": "Grid searches over kernel count, learning rate or dropout, as the source documents ran them.",
    "class": "Start a class (or join your teacher's with a code): everyone's drawings on one wall, a class data "
             "set to train on, and a leaderboard.",
}


@st.cache_data(show_spinner=False)
def bundled_overview() -> tuple[str, str, int, list[int], np.ndarray]:
    ds = data.load_bundled()
    # one example per class, for the strip below
    firsts = np.array([np.flatnonzero(ds.labels == c)[0] for c in range(ds.num_classes)])
    return ds.name, ds.source, len(ds), ds.class_counts().tolist(), ds.images[firsts, 0]


def digit_strip(images: np.ndarray, scale: int = 3, gap: int = 2) -> np.ndarray:
    """Ten 28×28 digits side by side with grey gaps, enlarged without blur: one picture that never wraps."""
    n, h, w = images.shape
    strip = np.full((h, n * w + (n - 1) * gap), 96, np.uint8)
    for i, img in enumerate(images):
        strip[:, i * (w + gap):i * (w + gap) + w] = img
    return np.kron(strip, np.ones((scale, scale), np.uint8))


def render(pages: list) -> None:
    """The home page; ``pages``: app.py's st.Page objects, linked here with what each is for."""
    st.title("CNN Explorer")
    st.markdown(
        "**Open a convolutional neural network and see how it sees.** Draw a digit, then follow it "
        "through every step the network takes: the convolution window sliding over your strokes, the "
        "products and their sum, ReLU and pooling, each layer's feature maps, and the softmax that turns "
        "scores into a decision. Then train your own network, watch it learn, and judge it the way the "
        "papers do.")

    bundle = state.sidebar_active_model()

    st.header("Where to go")
    cols = st.columns(2)
    for i, page in enumerate(pages):
        with cols[i % 2]:
            st.page_link(page, label=f"**{page.title}**")   # the page's own icon and address
            st.caption(BLURBS.get(page.url_path, ""))

    left, right = st.columns(2)
    with left:
        st.header("Active model")
        acc = bundle.meta.get("accuracy")
        infos = specs.layer_infos(bundle.spec)
        # the name as text, not a metric: a metric cuts a long name to "defau…"
        st.markdown(f"**{bundle.name}**")
        m1, m2, m3 = st.columns(3)
        m1.metric("Held-out accuracy", f"{acc * 100:.2f} %" if isinstance(acc, (int, float)) else "not measured")
        m2.metric("Parameters", f"{specs.count_params(bundle.spec):,}")
        m3.metric("Layers", len(infos))
        if bundle.meta.get("accuracy_note"):
            st.caption(bundle.meta["accuracy_note"])
        st.caption(f"Trained on: {bundle.meta.get('dataset', 'unknown')} · engine: {bundle.meta.get('engine', 'torch')}"
                   f" · created {bundle.meta.get('created', 'unknown')}")
        st.markdown("**Architecture**: " + " → ".join(["input " + "×".join(map(str, bundle.spec["input_shape"]))]
                                                       + [info.label for info in infos]))
        rows = [{"#": info.index + 1, "layer": info.label, "output shape": " × ".join(map(str, info.out_shape)),
                 "parameters": info.params} for info in infos]
        with st.expander("Layer by layer: output shapes and parameters", expanded=False):
            layer_table(rows)

    with right:
        name, source, n, counts, examples = bundled_overview()
        st.header("Bundled data set")
        per_class = str(min(counts)) if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"
        st.write(f"**{name}**: {n:,} real handwritten digits, 28×28 greyscale, "
                 f"{per_class} per class. Works offline; full MNIST, Fashion-MNIST and your own "
                 "image folders can be loaded on the Train page.")
        st.caption(source)
        st.image(digit_strip(examples), width="stretch", output_format="PNG",
                 caption="One digit of each class, 0 to 9, as the model sees it",
                 alt="Ten handwritten digits side by side, white on black: one of each class, 0 to 9")
