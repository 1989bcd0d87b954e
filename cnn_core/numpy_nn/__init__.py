"""The CNN from scratch in NumPy: every layer's forward beside its backward, proven equal to
PyTorch (tests/numpy_nn) and vectorised (im2col from k×k strided slices, one matrix multiply per
pass). NCHW layouts and torch's parameter shapes, so weights copy between the engines unchanged.

    from cnn_core.numpy_nn import build_numpy, SGD
    from cnn_core.models.specs import preset
    model = build_numpy(preset("seed-000"))
    opt = SGD(model, lr=0.05, momentum=0.9)
    loss = model.train_step(x, y, "cross_entropy", opt)
    probs = model.predict(x)
"""
from cnn_core.numpy_nn.activations import ReLU, Sigmoid, Tanh, relu, sigmoid
from cnn_core.numpy_nn.batchnorm import BatchNorm2D
from cnn_core.numpy_nn.conv import Conv2D, col2im, conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive, im2col
from cnn_core.numpy_nn.dense import Dense
from cnn_core.numpy_nn.dropout import Dropout
from cnn_core.numpy_nn.flatten import Flatten
from cnn_core.numpy_nn.from_spec import build_numpy, from_torch, to_torch
from cnn_core.numpy_nn.init import he_normal, torch_default, xavier_uniform
from cnn_core.numpy_nn.layer import Layer
from cnn_core.numpy_nn.losses import LOSSES, log_softmax, mse_loss, one_hot, softmax, softmax_cross_entropy
from cnn_core.numpy_nn.optim import SGD, Adam, Optimizer
from cnn_core.numpy_nn.pooling import AvgPool2D, MaxPool2D
from cnn_core.numpy_nn.sequential import Sequential, StateDictError

__all__ = [
    "Adam", "AvgPool2D", "BatchNorm2D", "Conv2D", "Dense", "Dropout", "Flatten", "LOSSES", "Layer", "MaxPool2D",
    "Optimizer", "ReLU", "SGD", "Sequential", "Sigmoid", "StateDictError", "Tanh", "build_numpy", "col2im",
    "conv2d_backward", "conv2d_backward_naive", "conv2d_forward", "conv2d_forward_naive", "from_torch",
    "he_normal", "im2col", "log_softmax", "mse_loss", "one_hot", "relu", "sigmoid", "softmax",
    "softmax_cross_entropy", "to_torch", "torch_default", "xavier_uniform",
]
