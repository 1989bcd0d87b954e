"""The Practice page through AppTest: answer, check, score, worked solution, new exercise."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest

from cnn_core.lessons import exercises as E

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "5_Practice.py")


@pytest.fixture
def at(open_page):
    return open_page(PAGE)


def pick(at, kind: str, seed: int):
    at.selectbox(key="pr_kind").set_value(E.KINDS[kind]).run()
    at.session_state["pr_seed"] = seed
    at.run()
    return E.generate(kind, seed)


def answer_box(at, ex):
    key = f"pr_answer_{ex.kind}:{ex.seed}"
    return at.text_area(key=key) if len(ex.answer_shape) == 2 else at.text_input(key=key)


def check(at):
    at.button[[b.label for b in at.button].index("Check")].click().run()


def score(at):
    return at.metric[0].value


def test_a_right_answer_scores_and_shows_the_worked_solution(at):
    ex = pick(at, "output_size", 7)
    assert ex.prompt in [m.value for m in at.markdown]
    answer_box(at, ex).input(str(int(ex.expected[0])))
    check(at)
    assert not at.exception
    assert at.success[0].value == "Correct!"
    assert score(at) == "1 / 1"
    assert at.expander[0].label == "Worked solution" and "⌋ + 1 = " in at.expander[0].markdown[0].value


def test_a_wrong_answer_is_marked_and_only_the_first_check_counts(at):
    ex = pick(at, "find_xy", 3)
    answer_box(at, ex).input(f"{ex.expected[0]}, {ex.expected[1] + 2}")
    check(at)
    assert "1 of 2 right; check Y" in at.error[0].value
    assert score(at) == "0 / 1"
    assert "**X**" in at.expander[0].markdown[0].value
    answer_box(at, ex).input(f"{ex.expected[0]}, {ex.expected[1]}")
    check(at)
    assert at.success[0].value == "Correct!" and score(at) == "0 / 1"


def test_a_whole_convolution_typed_row_by_row(at):
    ex = pick(at, "complete", 11)
    rows = ex.expected.reshape(ex.answer_shape)
    answer_box(at, ex).input("\n".join(" ".join(str(int(v)) for v in r) for r in rows))
    check(at)
    assert at.success[0].value == "Correct!"


def test_softmax_answer_with_rounding(at):
    ex = pick(at, "softmax", 2)
    answer_box(at, ex).input(", ".join(f"{v:.3f}" for v in ex.expected))
    check(at)
    assert at.success[0].value == "Correct!"


def test_unreadable_answer_is_one_clear_error_and_not_scored(at):
    ex = pick(at, "max_pool", 4)
    answer_box(at, ex).input("8 eight")
    check(at)
    assert not at.exception
    assert at.error[0].value.startswith("'eight' is not a number.")
    assert score(at) == "0 / 0"


def test_show_the_solution_and_new_exercise(at):
    ex = pick(at, "max_pool", 4)
    at.button[[b.label for b in at.button].index("Show the solution")].click().run()
    assert at.info and score(at) == "0 / 1"
    assert "max(" in at.expander[0].markdown[0].value
    at.button(key="pr_new").click().run()
    assert at.session_state["pr_seed"] != 4
    assert not at.expander  # a fresh exercise has no solution showing yet
    assert at.selectbox(key="pr_kind").value == E.KINDS["max_pool"]


def test_find_xy_hides_the_two_cells_completely(at):
    ex = pick(at, "find_xy", 3)
    data = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"]   # the output grid, the last chart
    heat, labels = data[0], data[-1]
    z = heat["z"]   # plotly sends arrays as base64 bytes
    z = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(3, 3) if isinstance(z, dict) else \
        np.asarray(z, dtype=float)
    hidden = [tuple(int(v) for v in rc) for rc in np.argwhere(np.isnan(z))]
    assert len(hidden) == 2 and heat["hoverongaps"] is False   # no colour and no hover value for X and Y
    assert labels["mode"] == "text" and list(labels["text"]) == ["X", "Y"]
    assert [(y, x) for x, y in zip(labels["x"], labels["y"])] == hidden
    assert all(h.endswith("the value to find") for h in labels["hovertext"])


def test_a_shared_practice_link_opens_the_same_exercise(open_page):
    first = open_page(PAGE)
    kind = next(k for k in first.selectbox(key="pr_kind").options if k != "Any kind")
    first.selectbox(key="pr_kind").select(kind).run()
    seed = first.session_state["pr_seed"]
    assert str(first.query_params["pr_seed"]).strip("[]'") == str(seed)
    second = open_page(PAGE, run=False)
    second.query_params.update({"pr_kind": kind, "pr_seed": str(seed)})
    second.run()
    assert not second.exception and second.session_state["pr_seed"] == seed
    assert [m.value for m in second.markdown][:3] == [m.value for m in first.markdown][:3]
    assert second.header[0].value == first.header[0].value
