"""The documents' loop style: document 000's network written the way documents 000 and 004
write it -- one image at a time, a Python loop over every pixel region, feature maps in
(H, W, C) order, the weights updated inside each layer's backward pass.

It is kept as the baseline of ``python -m benchmarks engines`` (how much the vectorised
engine gains) and as a teaching contrast. Faithful to the documents except in one place:
document 000's ``training_cnn`` never calls ``relu.backward``, so its convolution learns from
gradients that ignore the ReLU; here the ReLU mask is applied, so the update equals the
engine's (tests/numpy_nn/test_loop_style.py checks that). And max pooling follows document 004's
loop but gives a tied window's gradient to its first maximum only: document 004 copies it to
every tied pixel, and ties are common here (a blank background gives a constant convolution
output, the bias, so whole windows tie after the ReLU).
"""
from __future__ import annotations

import numpy as np


class LoopConv:
    """Document 000's ``ConvLayer``: single-channel input, (F, k, k) filters, HWC output."""

    def __init__(self, num_filters: int, filter_size: int, rng: np.random.Generator, padding: int = 0, stride: int = 1):
        self.num_filters, self.filter_size, self.padding, self.stride = num_filters, filter_size, padding, stride
        self.conv_filter = rng.standard_normal((num_filters, filter_size, filter_size)) * np.sqrt(2.0 / filter_size ** 2)
        self.bias = np.zeros(num_filters)

    def image_region(self, image):
        height, width = image.shape
        for j in range(0, height - self.filter_size + 1, self.stride):
            for k in range(0, width - self.filter_size + 1, self.stride):
                yield image[j:j + self.filter_size, k:k + self.filter_size], j, k

    def forward(self, image):
        height, width = image.shape
        padded = np.pad(image, ((self.padding, self.padding), (self.padding, self.padding)), mode="constant")
        self.padded_image = padded
        out_h = (height + 2 * self.padding - self.filter_size) // self.stride + 1
        out_w = (width + 2 * self.padding - self.filter_size) // self.stride + 1
        conv_out = np.zeros((out_h, out_w, self.num_filters))
        for patch, i, j in self.image_region(padded):
            conv_out[i // self.stride, j // self.stride] = np.sum(patch * self.conv_filter, axis=(1, 2)) + self.bias
        return conv_out

    def backward(self, dL_dout, learning_rate):
        dL_dF = np.zeros(self.conv_filter.shape)
        dL_dbias = np.zeros(self.bias.shape)
        for patch, i, j in self.image_region(self.padded_image):
            for k in range(self.num_filters):
                dL_dF[k] += patch * dL_dout[i // self.stride, j // self.stride, k]
                dL_dbias[k] += dL_dout[i // self.stride, j // self.stride, k]
        self.conv_filter -= learning_rate * dL_dF
        self.bias -= learning_rate * dL_dbias
        return dL_dF, dL_dbias


class LoopReLU:
    def forward(self, input_data):
        self.input = input_data
        return np.maximum(0, input_data)

    def backward(self, dL_dout):
        return dL_dout * (self.input > 0)


class LoopMaxPool:
    """Document 004's ``MaxPool2``: 2×2 regions; the gradient goes to the first pixel equal to the max."""

    def get_regions(self, image):
        h, w, _ = image.shape
        for i in range(h // 2):
            for j in range(w // 2):
                yield image[i * 2:i * 2 + 2, j * 2:j * 2 + 2], i, j

    def forward(self, image):
        self.last_input = image
        h, w, f = image.shape
        output = np.zeros((h // 2, w // 2, f))
        for region, i, j in self.get_regions(image):
            output[i, j] = np.amax(region, axis=(0, 1))
        return output

    def backward(self, d_out):
        d_input = np.zeros(self.last_input.shape)
        for region, i, j in self.get_regions(self.last_input):
            h, w, f = region.shape
            amax = np.amax(region, axis=(0, 1))
            taken = np.zeros(f, dtype=bool)
            for i2 in range(h):
                for j2 in range(w):
                    for f2 in range(f):
                        if region[i2, j2, f2] == amax[f2] and not taken[f2]:
                            d_input[i * 2 + i2, j * 2 + j2, f2] = d_out[i, j, f2]
                            taken[f2] = True
        return d_input


class LoopSoftmax:
    """Document 000's ``Softmax``: dense (input_node, softmax_node) weights on the HWC-flattened
    maps, softmax, and a backward that builds the softmax Jacobian row by hand."""

    def __init__(self, input_node: int, softmax_node: int, rng: np.random.Generator):
        self.weights = rng.standard_normal((input_node, softmax_node)) * np.sqrt(2.0 / input_node)
        self.biases = np.zeros(softmax_node)

    def forward(self, image):
        self.orig_im_shape = image.shape
        flattened = image.flatten()
        self.modified_input = flattened
        self.out = np.dot(flattened, self.weights) + self.biases
        exp_out = np.exp(self.out)
        return exp_out / np.sum(exp_out, axis=0)

    def backward(self, dL_dout, learning_rate):
        for i, grad in enumerate(dL_dout):
            if grad == 0:
                continue
            t = np.exp(self.out)
            s_total = np.sum(t)
            dy_dx = -t[i] * t / (s_total ** 2)
            dy_dx[i] = t[i] * (s_total - t[i]) / (s_total ** 2)
            dL_dx = grad * dy_dx
            dL_dw = self.modified_input[np.newaxis].T @ dL_dx[np.newaxis]
            dL_d_inp = self.weights @ dL_dx
            self.weights -= dL_dw * learning_rate
            self.biases -= dL_dx * learning_rate
            return dL_d_inp.reshape(self.orig_im_shape)


class LoopStyleCNN:
    """Document 000's network (8 kernels 3×3 → ReLU → max pool 2 → dense 1,352 → 10 → softmax),
    trained one image at a time by ``train_image``."""

    def __init__(self, num_filters: int = 8, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.conv = LoopConv(num_filters, 3, rng)
        self.relu = LoopReLU()
        self.pool = LoopMaxPool()
        self.softmax = LoopSoftmax(13 * 13 * num_filters, 10, rng)

    def forward(self, image):
        out = self.conv.forward(image)
        out = self.relu.forward(out)
        out = self.pool.forward(out)
        return self.softmax.forward(out) + 1e-7            # document 000's epsilon against log(0)

    def train_image(self, image, label: int, learning_rate: float = 0.005) -> float:
        """Forward, loss, backward and the weight update for one (28, 28) image; returns the loss."""
        out = self.forward(image)
        gradient = np.zeros(10)
        gradient[label] = -1 / out[label]
        grad_back = self.softmax.backward(gradient, learning_rate)
        grad_back = self.pool.backward(grad_back)
        grad_back = self.relu.backward(grad_back)
        self.conv.backward(grad_back, learning_rate)
        return float(-np.log(out[label]))
