"""The design's layout rules, checked."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_cnn_core_never_imports_streamlit_or_ui():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "cnn_core").rglob("*.py")
                 if _imports(p) & {"streamlit", "streamlit_drawable_canvas", "ui", "pages"}]
    assert offenders == []


def test_pages_are_discovered_not_navigated():
    # st.navigation disables pages/ discovery; the design uses pages/ with app.py as home.
    for p in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        assert "st.navigation" not in p.read_text(), p


def test_ui_never_imports_pages():
    for p in (ROOT / "ui").rglob("*.py"):
        assert "pages" not in _imports(p), p
