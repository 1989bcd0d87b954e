"""Using a trained model: the canvas-to-28×28 preprocessing (``canvas_to_mnist``), prediction on one
thread, introspection (feature maps, kernels, saliency, per-neuron arithmetic), and evaluation on a
data set (confusion matrix, precision, recall, F1).
"""
