"""benchmarks/class_mode.py drives class mode as a class does: students join with the code, draw, confirm
the label and send; the teacher's wall, ticking on its own, counts every drawing sent."""
import pytest

from benchmarks import class_mode


@pytest.mark.slow
def test_two_students_send_and_the_wall_sees_every_drawing(monkeypatch):
    monkeypatch.setattr(class_mode, "TICK_COST_SECONDS", 4.0)
    r = class_mode.scenario(2, trainings=0, duration=12.0)
    assert r["errors"] == {} and r["teacher_errors"] == {} and r["dropped"] == 0
    assert r["actions"]["join"][0] == 2                        # both joined through the Class page's form
    assert r["sends"] >= 2 and r["stored"] == r["sends"]         # every press of Send stored one drawing
    assert r["on_wall"] == r["sends"]                             # and the live wall counted each of them
    assert 0 < r["wall_p95"] < 30 and r["tick_count"] > 0 and r["tick_cpu_ms"] > 0
