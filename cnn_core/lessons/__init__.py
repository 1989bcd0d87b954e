"""The numbers the teaching pages write out: convolution step by step (window, products, sum, stride
and padding), pooling, ReLU, softmax and cross-entropy with the notes' worked examples, and the
practice exercises with their worked solutions.
"""
