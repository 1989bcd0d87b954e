"""Training: the run configuration, both engines (PyTorch and the from-scratch NumPy one), the
training loop, the background run that executes it and publishes snapshots, the registry of runs,
hyper-parameter sweeps, and the command line (``python -m cnn_core.training``).
"""
