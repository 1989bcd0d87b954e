"""Streamlit helpers shared by the pages (the only place besides pages/ and app.py that imports streamlit)."""
