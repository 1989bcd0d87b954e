"""Data sets and what feeds them to a model: the bundled 5,000 MNIST digits, torchvision's MNIST and
Fashion-MNIST (downloaded and cached), class-folder zips a user uploads (validated before anything is
decoded), document 000's train/validation/test split (defined once, in ``splits``), the training
augmentations, and synthetic strokes drawn like a canvas would draw them.
"""
