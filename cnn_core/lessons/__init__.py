"""The numbers the teaching pages write out, one module per idea: ``geometry`` (output sizes and
padding, the library's one copy of the formulas), ``convolution`` (window, products, sum, stride,
padding), ``pooling`` (winners and gradient routing), ``softmax`` (softmax, cross-entropy, one-hot
vectors and the notes' worked numbers), ``formatting`` (numbers written like the notes),
``presets`` (kernels and the notes' example inputs), ``exercises`` (practice questions with
worked solutions), ``backprop`` (one example's forward, loss and backward pass with every number
kept, checked against torch's autograd and central differences) and ``backprop_arithmetic`` (one
weight's or one cell's gradient written out).
"""
