"""Draw & Predict: draw a digit (or upload one, photograph one, or pick a bundled one) and see what the CNN
sees and says."""
import html

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from cnn_core.inference import predict
from cnn_core.inference import preprocess
from ui.app import errors, loaders, state
from ui.app.text import literal
from ui.views import camera, chart_alt, plots
from ui.views.classroom.send import send_panel

bundle = state.sidebar_active_model()

CANVAS_PX = 280
PHOTO = "Take a photo"
SOURCES = ("Draw", "Upload a picture", PHOTO, "Random bundled digit")
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
DRAWING = "your drawing"
SAVED = state.DRAW_SAVED  # {"key", "json", "picture"}: the last drawing, put back after a page switch or a reload
MOUNT = "draw_mount"      # {"key", "json"}: what the canvas was mounted with (kept fixed while it lives)


@st.cache_resource(show_spinner=False)
def warmed_up(_model, model_id: int) -> bool:
    """One throw-away forward pass per model, so the timing shown is the steady state, not torch's first call."""
    predict.predict_image(_model, np.zeros((28, 28), np.float32))
    return True


def predicted_canvas(bundle, picture: np.ndarray):
    """predict_canvas, remembered for this session's last picture and model: a rerun that did not
    change the drawing (the pen slider, a rerun of the page) does not preprocess and predict again."""
    return state.memo("draw_prediction", (bundle.model, state.digest(picture)),
                      lambda: predict.predict_canvas(bundle.model, picture))


# The columns stack below STACK_BELOW px of page width, measured on the page itself (a container query,
# not the window: a tablet's open sidebar takes 300 px); the canvas column then has the whole width.
# Stacked, "What it says" sits a screen or two below the canvas, so the compact answer under the input
# (draw_answer) is shown there, and only there.
STACK_BELOW = 760
LAYOUT_CSS = f"""<style>
.st-key-draw_layout {{ container: draw-layout / inline-size; }}
.st-key-draw_answer {{ display: none; }}
/* The canvas's toolbar (upload, undo, redo, pen, bin) floats just above it: room for it, so it no longer
   covers the input radio's last option (issue 18, bug 11). */
.st-key-draw_input_canvas {{ padding-top: 2.4rem; }}
@container draw-layout (max-width: {STACK_BELOW}px) {{
  .st-key-draw_layout > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {{
    flex: 1 1 100%; width: 100%; }}
  .st-key-draw_answer {{ display: flex; }}
  .st-key-draw_input_canvas {{ padding-top: 0; }}   /* stacked, the radio wraps and leaves the toolbar room */
}}
.st-key-draw_answer p {{ font-size: 1.1rem; line-height: 1.4; margin: 0; }}
</style>"""


def compact_answer(pred: predict.Prediction, names) -> None:
    """One line, "Prediction: 7 · 93.1 % probability", for the draw_answer slot under the input."""
    # st.html, not markdown: a class name comes from whoever trained the model, and is shown as text.
    st.html(f"<p><strong>Prediction: {html.escape(str(names[pred.label]))}</strong> · "
            f"{pred.confidence * 100:.1f} % probability</p>")


def canvas_key() -> str:
    # A new key mounts a fresh, empty canvas: that is how "Clear" works.
    return f"draw_canvas_{st.session_state.get('draw_canvas_n', 0)}"


@errors.guarded
def clear_canvas() -> None:
    st.session_state["draw_canvas_n"] = st.session_state.get("draw_canvas_n", 0) + 1
    st.session_state.pop(SAVED, None)
    if state.current_input_source() == DRAWING:
        state.set_current_input(None)


def mount_drawing() -> dict | None:
    """The strokes to mount the canvas with. A canvas forgets its strokes when the learner visits another
    page; the last drawing is put back when it mounts again, and the same value is passed for as long as
    that canvas lives (a changed ``initial_drawing`` redraws the canvas, and None empties it)."""
    key = canvas_key()
    mount = st.session_state.get(MOUNT)
    if key not in st.session_state or not mount or mount["key"] != key:     # (re)mounting
        saved = st.session_state.get(SAVED)
        mount = {"key": key, "json": saved["json"] if saved and saved["key"] == key else None}
        st.session_state[MOUNT] = mount
    return mount["json"]


st.title("Draw & Predict")
st.caption("Draw a digit from 0 to 9. The network never sees your canvas: it sees the 28×28 picture under "
           "“What it sees”, made the way MNIST's digits were made. Every stroke updates the answer.")

shape = tuple(bundle.spec.get("input_shape", ()))
if shape != (1, 28, 28):
    st.error(f"The active model, {bundle.name}, expects {'×'.join(map(str, shape))} inputs, but this page makes "
             "1×28×28 digits. Choose “Use the default model” in the sidebar.")
    st.stop()

warmed_up(bundle.model, id(bundle.model))
st.html(LAYOUT_CSS)


@errors.fragment
def draw_and_predict(bundle) -> None:
    """Input, what the model sees, what it says. A fragment: a stroke (or any control here) reruns
    only this part, not the title, the sidebar or the model check above."""
    # The first column must hold the whole 280 px canvas (a narrower column clips its right edge, where
    # strokes then vanish): at 1280 px with the sidebar open it gets about 300 px.
    # The three columns stack when the page is narrower than they need (LAYOUT_CSS): on phones, and on
    # tablets with the sidebar open.
    col_in, col_seen, col_out = st.container(key="draw_layout").columns([1.35, 1, 1.05], gap="medium")
    steps: preprocess.PreprocessSteps | None = None
    image28: np.ndarray | None = None
    pred: predict.Prediction | None = None
    source_text = ""
    true_label: int | None = None
    hint = ""

    with col_in:
        source = st.radio("Input", SOURCES, horizontal=True, key="draw_source", persist_state="session")
        # Under the input, in this order: the compact answer (phones), then the class panel, then the
        # input's own controls; the containers are made first so the answer can follow the input.
        input_area = st.container(key="draw_input_canvas" if source == "Draw" else "draw_input")
        answer_area = st.container(key="draw_answer")
        class_area = st.container()
        controls = st.container()
        picture: np.ndarray | None = None
        if source == "Draw":
            with controls:
                pen = st.slider("Pen width (canvas pixels)", 4, 50, 20, key="draw_pen", persist_state="session")
                st.button("Clear the canvas", key="draw_clear", icon=":material/delete:", on_click=clear_canvas)
                st.caption("Undo and redo: the curved arrows above the canvas; the bin there clears it too.")
            initial = mount_drawing()
            with input_area:
                result = st_canvas(stroke_width=pen, stroke_color="#FFFFFF", background_color="#000000",
                                   height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw", update_streamlit=True,
                                   return_image_data=True, initial_drawing=initial, key=canvas_key())
            picture = result.image_data
            if picture is None and initial is not None:
                picture = st.session_state[SAVED]["picture"]   # back from another page: same drawing, same answer
            elif picture is not None:
                if (result.json_data or {}).get("objects"):
                    st.session_state[SAVED] = {"key": canvas_key(), "json": result.json_data, "picture": picture}
                elif (st.session_state.get(SAVED) or {}).get("key") == canvas_key():
                    st.session_state.pop(SAVED)    # emptied with the toolbar's bin: nothing to put back later
            if picture is None:
                hint = "Draw a digit on the black canvas: the prediction appears when you lift the pen."
            else:
                try:
                    steps, pred = predicted_canvas(bundle, picture)
                    image28, source_text = steps.image, DRAWING
                except preprocess.EmptyImageError:
                    hint = "The canvas is empty. Draw a digit: the prediction appears when you lift the pen."
                    if state.current_input_source() == DRAWING:
                        state.set_current_input(None)
        elif source == "Upload a picture":
            with input_area:
                upload = st.file_uploader("A picture of one digit (PNG, JPEG, GIF, BMP, WebP, TIFF)",
                                          type=UPLOAD_TYPES, key="draw_upload",
                                          max_upload_size=preprocess.MAX_UPLOAD_BYTES // 2 ** 20)
                st.caption("A photo of a digit on paper works too: dark ink on a light background is inverted.")
                upload, kept = state.kept_upload("draw_upload", upload)
                if kept:
                    st.caption(f"Still using {literal(upload.name)}, uploaded before; upload another picture to replace it.")
                if upload is None:
                    hint = "Upload a picture of a digit to see what the network makes of it."
                else:
                    try:
                        picture = preprocess.load_image_file(upload.getvalue())
                        steps, pred = predict.predict_canvas(bundle.model, picture)
                        image28, source_text = steps.image, f"uploaded picture {upload.name}"
                        st.image(picture, caption=f"{literal(upload.name)}: {picture.shape[1]}×{picture.shape[0]} px",
                                 width=240, alt=f"the uploaded picture, {picture.shape[1]}×{picture.shape[0]} pixels")
                    except preprocess.ImageFileError as exc:
                        st.error(str(exc))
                    except preprocess.EmptyImageError:
                        st.error(f"{literal(upload.name)} looks blank: no ink stands out from the background. "
                                 "Upload a picture with one clearly visible digit.")
        elif source == PHOTO:
            with input_area:
                picture = camera.photo_input("draw_photo")
            if picture is None:
                hint = "Write a digit on paper in thick dark ink and take a photo of it."
            else:
                try:
                    steps, pred = predicted_canvas(bundle, picture)
                    image28, source_text = steps.image, "photo"
                except preprocess.EmptyImageError:
                    with input_area:
                        st.error(camera.BLANK_PHOTO)
        else:
            ds = loaders.bundled_digits()
            with input_area:
                if st.button("Pick another random digit", key="draw_pick", icon=":material/casino:") \
                        or "draw_random_idx" not in st.session_state:
                    st.session_state["draw_random_idx"] = int(np.random.default_rng().integers(len(ds)))
                idx = st.session_state["draw_random_idx"]
                true_label = int(ds.labels[idx])
                image28 = ds.floats([idx])[0, 0]
                pred = predict.predict_image(bundle.model, image28)
                source_text = f"bundled digit #{idx} (label {ds.class_names[true_label]})"
                st.image(np.kron(ds.images[idx, 0], np.ones((10, 10), np.uint8)), width=CANVAS_PX,
                         caption=f"Bundled MNIST digit #{idx} of {len(ds):,}",
                         alt=f"a handwritten {ds.class_names[true_label]}, white on black, enlarged from 28×28 pixels")
                st.markdown(f"True label: **{ds.class_names[true_label]}**")
        if pred is not None:
            with answer_area:
                compact_answer(pred, bundle.class_names)
        with class_area:
            send_panel(image28, picture, pred, bundle, source_text)

    with col_seen:
        st.header("What it sees")
        if image28 is None:
            st.info(hint or "No input yet.")
        else:
            chart_alt.show_heatmap(plots.heatmap(image28, value_name="pixel", height=270, colorbar=False),
                                   image28, key="draw_input_heatmap", name="input", kind="image")
            st.caption("The model's 28×28 input: 0 = black, 1 = white. Hover a pixel for its value.")
            if steps is not None:
                with st.expander("How the picture became 28×28", expanded=False):
                    st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(steps.describe(), 1)))
            else:
                st.caption("A bundled MNIST digit is already 28×28 with its centre of mass at the centre: "
                           "it goes to the network unchanged.")

    with col_out:
        st.header("What it says")
        if image28 is None or pred is None:
            st.info("No guess without a digit.")
        else:
            names = bundle.class_names
            st.metric("Prediction", names[pred.label], delta=f"{pred.confidence * 100:.1f} % probability",
                      delta_color="off", delta_arrow="off")
            if true_label is not None:
                st.markdown(":material/check_circle: **Right**: that is the true label." if pred.label == true_label
                            else f":material/cancel: **Wrong**: the true label is **{names[true_label]}**.")
            st.plotly_chart(plots.prob_bars(pred.probs, names, height=280), key="draw_probs")
            chart_alt.describe(chart_alt.bars_summary(pred.probs, names))
            z = pred.logits.astype(np.float64) - float(pred.logits.max())   # shifting all logits changes nothing
            st.caption(r"Softmax turns the ten logits $z$ into probabilities $p_i = e^{z_i} / \sum_j e^{z_j}$. "
                       f"With the logits shifted so the largest is 0 (which changes nothing): "
                       f"$p({names[pred.label]}) = e^0 / {np.exp(z).sum():.4f} = {pred.confidence:.3f}$.")
            timing = (f"preprocessing {pred.preprocess_seconds * 1000:.1f} ms + model {pred.model_seconds * 1000:.1f} ms"
                      if pred.preprocess_seconds else f"model {pred.model_seconds * 1000:.1f} ms")
            st.caption(f"Prediction took {pred.seconds * 1000:.1f} ms ({timing}) on this server's CPU.")
            state.set_current_input(image28, source_text)
            st.caption(f"The Convolution and Layer Explorer pages now use this input ({literal(source_text)}).")


draw_and_predict(bundle)
