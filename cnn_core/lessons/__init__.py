"""The numbers the teaching pages write out, one module per idea: ``geometry`` (output sizes and
padding, the library's one copy of the formulas), ``convolution`` (window, products, sum, stride,
padding), ``pooling`` (winners and gradient routing), ``softmax`` (softmax, cross-entropy, one-hot
vectors and the notes' worked numbers), ``formatting`` (numbers written like the notes),
``presets`` (kernels and the notes' example inputs), and ``exercises`` (practice questions with
worked solutions).
"""
