"""Generated exercises: reproducible, answerable, checked with the right tolerance, solved in words."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core.lessons import exercises as E
from cnn_core.lessons import softmax as sm

SEEDS = range(40)


def answer_text(ex):
    return ", ".join(repr(float(v)) for v in ex.expected.ravel())


@pytest.mark.parametrize("kind", list(E.KINDS))
def test_same_seed_same_exercise_and_seeds_vary(kind):
    a, b = E.generate(kind, 11), E.generate(kind, 11)
    assert a.prompt == b.prompt and np.array_equal(a.expected, b.expected)
    variants = {(E.generate(kind, s).prompt, E.generate(kind, s).expected.tobytes()) for s in SEEDS}
    assert len(variants) > 10


@pytest.mark.parametrize("kind", list(E.KINDS))
def test_right_answer_passes_wrong_answer_fails(kind):
    for seed in SEEDS:
        ex = E.generate(kind, seed)
        assert ex.check(answer_text(ex)).correct, (kind, seed)
        wrong = ex.expected.ravel().copy()
        wrong[-1] += 1.0
        res = ex.check(" ".join(str(v) for v in wrong))
        assert not res.correct and res.parts[-1] is False and all(res.parts[:-1])
        assert ex.solution  # a worked solution exists


def test_complete_convolution_answer_is_the_torch_convolution():
    for seed in SEEDS:
        ex = E.generate("complete", seed)
        x = torch.as_tensor(ex.grids["image"])[None, None]
        k = torch.as_tensor(ex.grids["kernel"])[None, None]
        np.testing.assert_allclose(ex.expected.reshape(ex.answer_shape), F.conv2d(x, k)[0, 0].numpy())
        assert ex.solution.count("output (") == ex.expected.size


def test_find_x_y_hides_exactly_two_cells_with_those_values():
    for seed in SEEDS:
        ex = E.generate("find_xy", seed)
        shown = ex.grids["output"]
        assert np.isnan(shown).sum() == 2
        assert "**X**" in ex.solution and "**Y**" in ex.solution
        res = ex.check(f"{ex.expected[0]}, 999")
        assert res.parts == [True, False] and "Y" in res.message


def test_output_size_uses_the_formula():
    for seed in SEEDS:
        ex = E.generate("output_size", seed)
        assert "⌋ + 1 = " in ex.solution
        assert ex.expected[0] == int(ex.solution.split("The feature map is ")[1].split("×")[0])


def test_max_pool_answers_are_the_window_maxima():
    for seed in SEEDS:
        ex = E.generate("max_pool", seed)
        m = ex.grids["map"]
        k = 2 if m.shape[0] == 4 else 3
        s = int(ex.prompt.split("stride ")[1].split(".")[0])
        ref = F.max_pool2d(torch.as_tensor(m)[None, None], k, s)[0, 0].numpy()
        np.testing.assert_allclose(ex.expected.reshape(ex.answer_shape), ref)


def test_softmax_tolerance_accepts_rounding_and_rejects_one_decimal_guesses():
    ex = E.generate("softmax", 3)
    p = sm.softmax(ex.grids["logits"][0])
    assert ex.check(", ".join(f"{v:.3f}" for v in p)).correct
    assert ex.check(", ".join(f"{v:.4f}" for v in p)).correct
    off = p + np.array([0.01, -0.01, 0.0])
    assert not ex.check(", ".join(f"{v:.3f}" for v in off)).correct


def test_answers_are_parsed_forgivingly_and_bad_ones_explained():
    assert E.parse_numbers("3, −1; 0.5\n1/4") == [3.0, -1.0, 0.5, 0.25]
    with pytest.raises(E.AnswerError, match="Expected 2 numbers, got 1"):
        E.parse_numbers("4", 2)
    with pytest.raises(E.AnswerError, match="'abc' is not a number"):
        E.parse_numbers("1 abc", 2)
    with pytest.raises(E.AnswerError, match="Type your answer first"):
        E.parse_numbers("  ", 1)
    for tok in ("1e400", "inf/2", "nan/1"):
        with pytest.raises(E.AnswerError, match=f"'{tok}' is not a finite number"):
            E.parse_numbers(f"1 {tok}", 2)


def test_random_kind_comes_from_the_seed():
    kinds = {E.generate(None, s).kind for s in range(60)}
    assert kinds == set(E.KINDS)
    assert E.generate(None, 5).kind == E.generate(None, 5).kind


def test_the_worked_map_is_a_real_markdown_table():
    """Issue 11: the solution printed "The map: | −1 | −9 | | −6 | −10 |" (no header row, no separator)."""
    import re

    from cnn_core.lessons import exercises as ex_mod

    for seed in range(5):
        ex = ex_mod.generate("complete", seed)
        lines = ex.solution.split("\n")
        start = lines.index("The map:") + 2
        table = [ln for ln in lines[start:] if ln.startswith("|")]
        assert table[0].startswith("| |") and re.fullmatch(r"\|---\|(---:\|)+", table[1])
        cells = [row.strip("|").split("|") for row in table[2:]]
        assert len(cells) * (len(cells[0]) - 1) == ex.expected.size            # every cell of the map, once
        assert all(c[0].strip() == f"**row {i + 1}**" for i, c in enumerate(cells))
