"""Class mode in AppTest: the class's drawings as a data set on Train and Evaluate (the held-out fifth never
trained on), the leaderboard (submit a finished run, the default model's row, the teacher hides an entry),
and a class of one."""
from __future__ import annotations

import time

import numpy as np
import pytest

from cnn_core.classroom import ClassStore
from cnn_core.data import datasets as data
from cnn_core.lessons.formatting import count_of
from cnn_core.training import registry
from tests.app.classroom_helpers import CLASS_PAGE, WALL_PAGE, class_db, join, start_class, texts  # noqa: F401

TRAIN = "pages/6_Train.py"
EVALUATE = "pages/7_Evaluate.py"


@pytest.fixture
def classroom(open_page, class_db, monkeypatch):
    """A digit class with 80 bundled digits sent by one student; (teacher, student, store)."""
    from cnn_core import limits

    monkeypatch.setattr(limits, "MAX_DRAWINGS_PER_MINUTE", 1000)    # one student sends the whole set at once
    teacher = open_page("app.py", timeout=60)
    code = start_class(teacher)["code"]
    student = open_page("app.py", timeout=60)
    join(student, code, "Ada")
    store = ClassStore(class_db)
    ds = data.load_bundled()
    token = student.session_state["class_member"].token
    for i in range(0, 5000, 62)[:80]:
        store.add_drawing(token, ds.images[i, 0], label=str(ds.labels[i]))
    yield teacher, student, store
    for run in registry().runs():
        run.stop()
    for run in registry().runs():
        run.join(2)


def _radio_options(at, key):
    return list(at.radio(key=key).options)


def test_train_offers_our_class_and_never_trains_on_the_held_out_fifth(classroom, monkeypatch):
    from cnn_core.training import run as run_module

    teacher, student, store = classroom
    given = {}
    real_init = run_module.TrainingRun.__init__

    def spy(self, cfg, train, val, test=None, *args, **kwargs):
        given.update(train=train, val=val, test=test)
        real_init(self, cfg, train, val, test, *args, **kwargs)

    monkeypatch.setattr(run_module.TrainingRun, "__init__", spy)
    code = student.session_state["class_member"].code
    student.switch_page(TRAIN).run()
    assert "Our class's drawings" in _radio_options(student, "tr_dataset")
    student.radio(key="tr_dataset").set_value("class").run()
    assert not student.exception and not student.error
    held = store.dataset(code, part="test")
    assert any(f"held-out fifth ({count_of(len(held), 'drawing')}" in c.value for c in student.caption)
    assert student.get("plotly_chart")                                 # the label histogram of the split
    student.number_input(key="tr_epochs").set_value(1).run()
    student.button(key="tr_start").click().run()
    run = registry().get(student.session_state["train_run_id"])
    seen = {img.tobytes() for part in (given["train"], given["val"]) for img in part.images}
    assert len(held) and len(seen) and not seen & {img.tobytes() for img in held.images}
    assert len(given["test"]) == len(held) and len(given["train"]) + len(given["val"]) == 80 - len(held)
    t0 = time.monotonic()
    while not run.snapshot().ended:
        assert time.monotonic() - t0 < 120
        time.sleep(0.3)
    student.run()
    student.button(key=f"class_submit_{run.id}").click().run()
    assert not student.exception
    assert any("Submitted to the class leaderboard" in s.value for s in student.success)
    board = store.leaderboard(code)
    assert [r.nickname for r in board] == ["Ada"] and board[0].n_test == len(held)


def test_the_leaderboard_shows_the_default_model_for_comparison_and_the_teacher_can_hide_an_entry(classroom):
    teacher, student, store = classroom
    from cnn_core.models import pretrained

    store.submit_model(student.session_state["class_member"].token, pretrained.load_default_bundle(),
                       settings={"describe": "the default model, resubmitted"})
    student.switch_page(CLASS_PAGE).run()
    table = student.dataframe[0].value
    assert list(table["who"]) == ["default model (for comparison)", "Ada"]
    assert "hidden" not in table.columns
    assert "right on MNIST can be wrong on our class" in texts(student)
    teacher.switch_page(CLASS_PAGE).run()
    entry = next(b for b in teacher.button if (b.key or "").startswith("class_entry_"))
    entry.click().run()
    assert any("Hidden from the class" in s.value for s in teacher.success)
    student.run()
    assert list(student.dataframe[0].value["who"]) == ["default model (for comparison)"]


def test_evaluate_judges_a_model_on_our_class_with_the_drawings_behind_each_cell(classroom):
    teacher, student, store = classroom
    student.switch_page(EVALUATE).run()
    choice = "our class's held-out drawings (the fifth never trained on)"
    assert choice in student.selectbox(key="ev_data").options
    student.selectbox(key="ev_data").select(choice).run()
    assert not student.exception and not student.error
    n = len(store.dataset(student.session_state["class_member"].code, part="test"))
    acc = next(m for m in student.metric if m.label == "accuracy")
    assert f"of {n:,} correct" in acc.help
    student.selectbox(key="ev_data").select("all our class's drawings").run()
    assert "of 80 correct" in next(m for m in student.metric if m.label == "accuracy").help


def test_the_wall_measures_the_default_model_on_our_drawings_and_shows_the_confusion_matrix(classroom):
    teacher, student, store = classroom
    teacher.switch_page(WALL_PAGE).run()
    assert not teacher.exception
    assert next(m for m in teacher.metric if m.label == "Drawings").value == "80"
    value = next(m for m in teacher.metric if m.label == "Default model (MNIST)").value
    assert value.endswith("%") and int(value[:-1]) >= 80           # bundled digits: the default model knows them
    assert teacher.get("plotly_chart")                               # the class's confusion matrix
    assert any(c.value.startswith("**") and "p = " in c.value for c in teacher.caption)   # the hardest drawings


def test_a_custom_label_class_offers_only_its_own_drawings_and_a_link_to_train_on_them(open_page, class_db):
    teacher = open_page("app.py")
    start_class(teacher, "Shapes", labels="circle, triangle, square, star, heart", draw_too=True)
    assert teacher.session_state["class_teacher"]["labels"] == ["circle", "triangle", "square", "star", "heart"]
    store = ClassStore(class_db)
    token = teacher.session_state["class_member"].token             # a class of one: the teacher draws too
    img = np.zeros((28, 28), np.float32)
    img[8:20, 8:20] = 1
    store.add_drawing(token, img, label="square")
    teacher.switch_page(WALL_PAGE).run()
    assert not teacher.exception
    assert next(m for m in teacher.metric if m.label == "square").value == "1"
    assert next(m for m in teacher.metric if m.label == "Default model (MNIST)").value == "—"
    assert any("Train a model on our class" in (p.proto.label or "") for p in teacher.get("page_link"))
    teacher.switch_page(TRAIN).run()
    assert _radio_options(teacher, "tr_dataset")[-1] == "Our class's drawings"
    assert "Our class's drawings + the bundled digits" not in _radio_options(teacher, "tr_dataset")
    teacher.radio(key="tr_dataset").set_value("class").run()
    assert any("send at least 10" in i.value for i in teacher.info)
