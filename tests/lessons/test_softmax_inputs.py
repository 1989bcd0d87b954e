"""Typed logits and class names for the Softmax page."""
import numpy as np
import pytest

from cnn_core.lessons.exercises import AnswerError
from cnn_core.lessons.softmax_inputs import parse_class_names, parse_logits


def test_logits_read_commas_spaces_and_the_minus_sign():
    assert np.allclose(parse_logits("3.2, 1.3 −0.2; 0.8"), [3.2, 1.3, -0.2, 0.8])


@pytest.mark.parametrize("text, words", [("", "Type"), ("  ", "Type"), ("1", "at least two"), ("1, x", "not a number"),
                                         ("1, nan", "not a number"), ("1, 1e400", "finite"),
                                         (", ".join(["1"] * 51), "At most 50")])
def test_bad_logits_are_one_sentence(text, words):
    with pytest.raises(AnswerError, match=words):
        parse_logits(text)


def test_names_are_used_only_when_there_is_one_per_logit():
    assert parse_class_names("dog, cat ,horse", 3) == ["dog", "cat", "horse"]
    assert parse_class_names("dog, cat", 3) == ["dog", "cat", "class 3"]     # issue 18: names are not dropped
    assert parse_class_names("dog, cat, horse", 2) == ["dog", "cat"]
    assert parse_class_names(None, 2) == ["class 1", "class 2"]
