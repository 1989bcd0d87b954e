"""The benchmark's baseline, the documents' loop style, computes the same update as the
engine -- so the speed-up it reports compares like with like."""
import numpy as np

from cnn_core.data.datasets import load_bundled
from cnn_core.numpy_nn import SGD, build_numpy
from cnn_core.numpy_nn.loop_style import LoopStyleCNN
from cnn_core.models.specs import preset


def _hwc_dense(W):
    """Our dense weight (10, C·H·W flattened C-first) as document 000's (H·W·C, 10)."""
    return W.reshape(10, 8, 13, 13).transpose(2, 3, 1, 0).reshape(1352, 10)


def test_one_image_step_equals_the_engine_step():
    ds = load_bundled()
    image, label = ds.floats([1234]).astype(np.float64), ds.labels[1234]
    ours = build_numpy(preset("seed-000"), dtype=np.float64, seed=5)
    loop = LoopStyleCNN()
    loop.conv.conv_filter[:] = ours[0].params["W"][:, 0]
    loop.conv.bias[:] = ours[0].params["b"]
    loop.softmax.weights[:] = _hwc_dense(ours[4].params["W"])
    loop.softmax.biases[:] = ours[4].params["b"]

    np.testing.assert_allclose(loop.forward(image[0, 0]) - 1e-7, ours.predict(image)[0], atol=1e-12)
    loss_loop = loop.train_image(image[0, 0], int(label), learning_rate=0.05)
    loss_ours = ours.train_step(image, label[None], "cross_entropy", SGD(ours, 0.05))
    assert abs(loss_loop - loss_ours) < 1e-5                     # the documents add ε = 1e-7 inside the log
    np.testing.assert_allclose(loop.conv.conv_filter, ours[0].params["W"][:, 0], atol=1e-6)
    np.testing.assert_allclose(loop.conv.bias, ours[0].params["b"], atol=1e-6)
    np.testing.assert_allclose(loop.softmax.weights, _hwc_dense(ours[4].params["W"]), atol=1e-6)
    np.testing.assert_allclose(loop.softmax.biases, ours[4].params["b"], atol=1e-6)
