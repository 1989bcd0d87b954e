"""The app-wide CSS that makes Streamlit's defaults pass WCAG 2.2 AA in both themes (app.py puts it in its
one <style> block). Measured with axe-core (tests/browser/test_axe.py; docs/accessibility.md has the numbers).

``light-dark(a, b)`` picks by the theme: Streamlit sets ``color-scheme`` on its root element
(``[data-testid="stApp"]``) to ``light`` or ``dark`` as the viewer's theme changes, from the system setting
or from the app menu, so one rule serves both themes and follows a switch without a rerun.
"""
from __future__ import annotations

# Focus ring colours: Okabe–Ito blue on light (5.2:1 on white), sky blue on dark (7.8:1 on the dark
# background): a focus indicator is a non-text element, 3:1 at least against what surrounds it (WCAG 1.4.11).
_FOCUS = "light-dark(#0072B2,#56B4E9)"

CSS = (
    # Captions: Streamlit draws them in the text colour at opacity 0.6, 3.9:1 on white (3.8:1 on the sidebar's
    # grey): under the 4.5:1 small text needs. Opaque, in these greys, they read 6.6:1 / 6.2:1 on light and
    # 8.0:1 on dark, and still look quieter than body text.
    "[data-testid='stApp'] [data-testid='stCaptionContainer']{opacity:1}"
    "[data-testid='stApp'] [data-testid='stCaptionContainer'],"
    "[data-testid='stApp'] [data-testid='stCaptionContainer'] p{color:light-dark(#5f5d5b,#aeaca9)}"
    # The value above a slider's thumb is in the theme's red: 3.9:1 on the dark background. A lighter red there
    # (8.0:1); the light theme's own red (5.2:1 on white) stays.
    "[data-testid='stApp'] [data-testid='stSliderThumbValue'],"
    "[data-testid='stApp'] [data-testid='stSliderThumbValue'] p{color:light-dark(#c53948,#ff8a94)}"
    # Page sections are h2 under the page's h1 (st.header: headings must not skip a level), drawn at the h3
    # size they had as st.subheader, so no layout moved.
    "[data-testid='stMain'] [data-testid='stHeading'] h2{font-size:1.75rem;font-weight:600;line-height:1.2;"
    "letter-spacing:-0.005em;padding:0.75rem 0 1rem}"
    # A clear keyboard focus ring on everything focusable, in both themes (Streamlit's own is a faint
    # border change on some widgets and nothing on others).
    f"[data-testid='stApp'] :focus-visible{{outline:3px solid {_FOCUS} !important;outline-offset:2px}}"
    # Radio buttons, checkboxes and toggles hide their <input>: ring the visible label instead.
    f"[data-testid='stApp'] label:has(input:focus-visible){{outline:3px solid {_FOCUS};outline-offset:2px;"
    "border-radius:4px}"
    # Text for screen readers only (chart descriptions, ui/views/chart_alt.py): in the page, not on screen.
    ".cnnx-sr-only{position:absolute !important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0,0,0,0);clip-path:inset(50%);white-space:nowrap;border:0}"
    # ... and its element's slot out of the column's flex flow: an empty slot still took a 1rem gap.
    "[data-testid='stElementContainer']:has(> [data-testid='stHtml'] > .cnnx-sr-only){position:absolute}"
)
