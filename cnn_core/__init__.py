"""CNN Explorer's library: data, preprocessing, both engines, training, evaluation, lessons.

Plain Python (numpy, torch); it never imports streamlit, so every capability the app shows
can be used from a notebook or a script.
"""
__version__ = "0.1.0"

from pathlib import Path

# bundled data, the default weights and images live beside the package, in the repo's assets/
ASSETS = Path(__file__).resolve().parents[1] / "assets"
