"""Play's stepping: windows that see only zeros can be skipped; positions stay in 1…n."""
import numpy as np

from cnn_core.lessons import stepping
from cnn_core.lessons.convolution import conv_cell, conv_setup


def _naive_busy(setup):
    out = []
    for k in range(setup.positions):
        r, c = setup.position(k)
        out.append(bool(np.any(conv_cell(setup, r, c).window != 0)))
    return np.array(out)


def test_busy_positions_match_the_windows_one_by_one():
    img = np.zeros((28, 28))
    img[8:20, 12:15] = 1.0                                   # one stroke
    for stride, pad in [(1, 0), (1, 1), (2, 1), (3, 2)]:
        setup = conv_setup(img, np.ones((3, 3)), 0.0, stride, pad)
        busy = stepping.busy_positions(setup)
        assert busy.shape == (setup.positions,) and np.array_equal(busy, _naive_busy(setup))
    setup = conv_setup(img, np.ones((3, 3)), 0.0, 1, 1)
    assert stepping.busy_positions(setup).sum() < setup.positions / 4   # most of a drawing is background


def test_next_position_skips_quiet_windows_and_clamps():
    busy = np.array([False, True, False, False, True, False])
    assert stepping.next_position(1, 6, busy) == 2 and stepping.next_position(2, 6, busy) == 5
    assert stepping.next_position(5, 6, busy) == 5                         # nothing busy ahead: stay
    assert stepping.next_position(5, 6, busy, delta=-1) == 2
    assert stepping.next_position(2, 6, busy, delta=-1) == 2
    assert stepping.next_position(6, 6) == 6 and stepping.next_position(1, 6, delta=-1) == 1
    assert stepping.next_position(3, 6, np.zeros(6, bool)) == 4               # nothing busy: plain steps
    assert (stepping.first_position(6, busy), stepping.last_position(6, busy)) == (2, 5)
    assert (stepping.first_position(6), stepping.last_position(6)) == (1, 6)
