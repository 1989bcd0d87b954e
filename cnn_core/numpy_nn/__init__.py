"""The CNN from scratch in NumPy: every layer's forward beside its backward, proven equal to
PyTorch (tests/numpy_nn) and vectorised (im2col from k×k strided slices, one matrix multiply per
pass). NCHW layouts and torch's parameter shapes, so weights copy between the engines unchanged.

    from cnn_core.numpy_nn import build_numpy, SGD
    from cnn_core.specs import preset
    model = build_numpy(preset("seed-000"))
    opt = SGD(model, lr=0.05, momentum=0.9)
    loss = model.train_step(x, y, "cross_entropy", opt)
    probs = model.predict(x)
"""
from .activations import ReLU, Sigmoid, Tanh, relu, sigmoid
from .batchnorm import BatchNorm2D
from .conv import Conv2D, col2im, conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive, im2col
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .from_spec import build_numpy, from_torch, to_torch
from .init import he_normal, torch_default, xavier_uniform
from .layer import Layer
from .losses import LOSSES, log_softmax, mse_loss, one_hot, softmax, softmax_cross_entropy
from .optim import SGD, Adam, Optimizer
from .pooling import AvgPool2D, MaxPool2D
from .sequential import Sequential, StateDictError

__all__ = [
    "Adam", "AvgPool2D", "BatchNorm2D", "Conv2D", "Dense", "Dropout", "Flatten", "LOSSES", "Layer", "MaxPool2D",
    "Optimizer", "ReLU", "SGD", "Sequential", "Sigmoid", "StateDictError", "Tanh", "build_numpy", "col2im",
    "conv2d_backward", "conv2d_backward_naive", "conv2d_forward", "conv2d_forward_naive", "from_torch",
    "he_normal", "im2col", "log_softmax", "mse_loss", "one_hot", "relu", "sigmoid", "softmax",
    "softmax_cross_entropy", "to_torch", "torch_default", "xavier_uniform",
]
