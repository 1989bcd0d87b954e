"""Home page: what CNN Explorer teaches, the map of its pages, the active model and data set."""
import streamlit as st

from cnn_core import data
from ui import state

st.set_page_config(page_title="CNN Explorer", page_icon="🧠", layout="wide")
st.title("CNN Explorer")
st.write("Open a convolutional neural network and see how it sees.")
bundle = state.sidebar_active_model()
st.subheader("Active model")
st.markdown(state.model_caption(bundle))
ds = data.load_bundled()
st.subheader("Bundled data set")
st.write(f"{ds.name}: {len(ds):,} digits, {ds.num_classes} classes. {ds.source}")
