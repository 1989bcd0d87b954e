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


def _calls(path: Path, name: str) -> int:
    """How many times ``st.<name>(...)`` is called in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return sum(1 for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr == name and isinstance(n.func.value, ast.Name) and n.func.value.id == "st")


SOURCES = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]


def test_navigation_and_page_config_are_declared_once_in_app_py():
    for name in ("navigation", "set_page_config"):
        where = {str(p.relative_to(ROOT)): _calls(p, name) for p in SOURCES if _calls(p, name)}
        assert where == {"app.py": 1}, (name, where)


def test_every_page_file_is_declared_with_a_title_a_material_icon_and_a_readable_address():
    tree = ast.parse((ROOT / "app.py").read_text())
    declared = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "Page" \
                and n.args and isinstance(n.args[0], ast.Constant):
            kw = {k.arg: k.value.value for k in n.keywords if isinstance(k.value, ast.Constant)}
            declared[n.args[0].value] = kw
    assert set(declared) == {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    for path, kw in declared.items():
        assert kw["title"] and kw["icon"].startswith(":material/"), path
        assert kw["url_path"].replace("-", "").isalpha() and kw["url_path"].islower(), path


def test_no_import_waits_for_code_above_it():
    # "# noqa: E402" marked imports placed after st.set_page_config in the pages; now none is needed.
    for p in SOURCES:
        assert "noqa: E402" not in p.read_text(), p


def test_no_source_file_is_over_400_lines():
    files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py"),
             *(ROOT / "cnn_core").rglob("*.py")]
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_ui_never_imports_pages():
    for p in (ROOT / "ui").rglob("*.py"):
        assert "pages" not in _imports(p), p


def test_every_page_path_named_in_the_code_exists():
    # The page files live in pages/; a stale "pages/…" path breaks
    # st.switch_page at run time and AppTest.from_file in a test.
    missing = []
    for p in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py"),
              *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "scripts").glob("*.py")]:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.endswith(".py") and "pages/" in node.value and " " not in node.value \
                    and "*" not in node.value:        # a glob pattern, not a path
                if not (ROOT / node.value).exists():
                    missing.append(f"{p.relative_to(ROOT)}: {node.value}")
    assert not missing, missing


def test_every_way_of_starting_the_app_goes_through_ui_serve():
    # With a pages/ folder beside app.py, a bare `streamlit run app.py` serves a fresh server's first
    # session through Streamlit's old folder navigation, which does not know app.py's addresses (the
    # first visitor of a shared link got "Page not found"); ui.app.serve switches that off before the
    # first session. So make run, make dev, the browser tests and the benchmarks all start ui.app.serve.
    assert (ROOT / "pages").is_dir()
    make = (ROOT / "Makefile").read_text()
    assert "-m ui.app.serve" in make.split("\nrun:")[1].split("\n\n")[0]
    assert "-m ui.app.serve" in make.split("\ndev:")[1].split("\n\n")[0]
    for p in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "scripts").glob("*.py")]:
        if p.name != "test_layout.py":
            assert '"streamlit", "run"' not in p.read_text(), p
