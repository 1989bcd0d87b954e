"""The sidebar's "Copy link to this view" (ui/app/links.share_control) on every page, also one that stops early."""
from __future__ import annotations


def _share_buttons(at) -> int:
    return sum("Copy link to this view" in str(getattr(h, "proto", h)) for h in at.sidebar.get("html"))


def test_the_link_button_stays_when_a_page_stops_early(open_page):
    """Issue 18 bug 10: Softmax with logits it cannot read, and Evaluate waiting for a zip, stop the page with
    st.stop(); the button that app.py draws after the page was gone on both."""
    at = open_page("app.py")
    assert _share_buttons(at) == 1                              # Home
    at.switch_page("pages/4_Softmax_and_Loss.py").run()
    assert _share_buttons(at) == 1
    at.text_input(key="sm_logits").set_value("1, two, 3").run()
    assert at.error and not at.exception                        # the page stopped at its message ...
    assert _share_buttons(at) == 1                              # ... and the link is still there
    at.switch_page("pages/7_Evaluate.py").run()
    zip_label = next(o for o in at.selectbox(key="ev_data").options if o.startswith("a zip"))
    at.selectbox(key="ev_data").set_value(zip_label).run()
    assert not at.get("metric") and not at.exception            # waiting for the upload
    assert _share_buttons(at) == 1
