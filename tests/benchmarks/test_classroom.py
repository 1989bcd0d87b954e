"""benchmarks/classroom.py speaks Streamlit's websocket protocol well enough to be believed:
two simulated students against the real app, started as `make run` starts it, get predictions."""
import shlex

import pytest

from benchmarks import classroom


def test_the_server_is_started_with_make_runs_command():
    cmd = classroom.run_command(8765)
    assert cmd[1:3] == ["-m", "ui.app.serve"]
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    assert not any("$(" in part for part in cmd), shlex.join(cmd)


def test_drawings_are_what_the_canvas_sends():
    states = classroom._stroke_drawings(seed=0)
    assert len(states) >= 4
    first = states[0]["drawing"]
    assert first["data"].startswith("data:image/png;base64,")
    assert first["raw"]["objects"][0]["type"] == "Path" and first["raw"]["background"] == "#000000"


@pytest.mark.slow
def test_two_students_draw_and_get_predictions():
    result = classroom.scenario(2, trainings=0, duration=6.0)
    assert result["errors"] == {} and result["dropped"] == 0
    n_load = result["actions"]["first load"][0]
    n_pages = result["actions"]["page"][0]
    n_strokes = result["actions"]["stroke"][0]
    assert n_load == 2 and n_pages >= 2            # both arrived, both opened Draw & Predict
    assert n_strokes >= 2 and result["predictions"] == n_strokes   # every stroke got its prediction back
    assert result["fragment_strokes"] == n_strokes                  # and reran only the canvas's fragment
    assert result["server_rss_mb"] > 100 and result["server_cpu"] > 0
