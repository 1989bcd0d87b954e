"""CNN Explorer: every page declared once (file, title, Material icon, address), grouped in sections.

`make run` starts this file (through ``python -m ui.app.serve``, see there why); Streamlit then runs the
chosen page inside it, so page config and navigation live here and nowhere else. The pages
themselves stay plain scripts, one file each, in pages/.
"""
from pathlib import Path

import streamlit as st

from ui.app import errors, links, state, touch

from ui.views import accessible_style, home
from ui.views.classroom import banner, sidebar as class_sidebar

# The menu (top right) carries the light / dark theme switch; with toolbarMode "minimal" it is shown
# only when the page config gives it an item, hence "About".
# The tab icon is a file of ours (scripts/make_favicon.py): a Material-symbol icon made the browser fetch
# it from Google's font host on every rerun, which fails offline.
FAVICON = str(Path(__file__).resolve().parent / "assets" / "favicon.png")
st.set_page_config(page_title="CNN Explorer", page_icon=FAVICON, layout="wide",
                   menu_items={"About": "**CNN Explorer**: open a convolutional neural network and see how it sees. "
                                        "Switch between the light and the dark theme in this menu: *Light*, *Dark*, or *System* "
                                        "to follow your computer."})
# Less empty space above each page's title: at 1280×800 (a projector) the default top padding takes
# a tenth of the screen.
# Plotly's own toolbar is hidden: on hover it covered chart titles and the confusion matrix's top row.
# Zoom by dragging and reset by double-clicking still work; Streamlit's full-screen button stays.
# accessible_style: contrast, heading sizes and the keyboard focus ring, in both themes (see there).
st.markdown("<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem}"
            ".js-plotly-plot .modebar-container{display:none !important}"
            + accessible_style.CSS + "</style>", unsafe_allow_html=True)
touch.install()

# Material icons, not emoji: they come with Streamlit's own font, so they draw in every browser
# (emoji need a colour-emoji font, which many Linux machines lack: they showed as empty boxes).
SEE_INSIDE = [
    st.Page("pages/1_Draw_and_Predict.py", title="Draw & Predict", icon=":material/draw:", url_path="draw"),
    st.Page("pages/2_Convolution.py", title="Convolution", icon=":material/grid_on:", url_path="convolution"),
    st.Page("pages/3_Layer_Explorer.py", title="Layer Explorer", icon=":material/layers:", url_path="layer-explorer"),
    st.Page("pages/4_Softmax_and_Loss.py", title="Softmax & Loss", icon=":material/functions:", url_path="softmax"),
    st.Page("pages/5_Practice.py", title="Practice", icon=":material/edit_note:", url_path="practice"),
    st.Page("pages/9_Backpropagation.py", title="Backpropagation", icon=":material/undo:",
            url_path="backpropagation"),
]
TRAIN = [
    st.Page("pages/6_Train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("pages/7_Evaluate.py", title="Evaluate", icon=":material/analytics:", url_path="evaluate"),
    st.Page("pages/8_Sweep.py", title="Sweep", icon=":material/tune:", url_path="sweep"),
]

CLASS = [
    st.Page("pages/10_Class.py", title="Class", icon=":material/groups:", url_path="class"),
    st.Page("pages/11_Class_Wall.py", title="Class wall", icon=":material/view_module:", url_path="class-wall"),
]


def home_page() -> None:
    home.render(SEE_INSIDE + TRAIN + CLASS[:1])


HOME = st.Page(home_page, title="Home", icon=":material/home:", default=True)
PAGES = {p.url_path: p for p in [HOME, *SEE_INSIDE, *TRAIN, *CLASS]}     # address → page, for pushed links
page = st.navigation({"": [HOME], "See inside": SEE_INSIDE, "Train": TRAIN, "Class": CLASS})
# A page's settings come from the address only when the learner lands on it (ui/app/links.py).
st.session_state[links.LANDED] = st.session_state.get("_page_now") != page.url_path
st.session_state["_page_now"] = page.url_path
# Drawn before the page: st.stop() inside a page leaves a stop request that ends the run at the next element
# sent, so anything drawn after page.run() vanished on every page that stopped early (CSS puts the share
# button and the class box last in the sidebar).
with errors.boundary("restore after a reload"):
    state.restore_after_reload()       # a new session after a reload gets its drawing and model back
links.share_control()
with errors.boundary("class box"):
    class_sidebar.class_sidebar(page, PAGES)
with errors.boundary("class banner"):
    banner.push_banner(PAGES)          # only for a student in a class: what the teacher is showing
with errors.boundary(f"page {page.title}"):
    page.run()
