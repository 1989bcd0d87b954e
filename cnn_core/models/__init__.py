"""Model descriptions and files: a spec (a plain JSON-able list of layers) is the one description a
torch or NumPy model is built from, checked before anything is allocated; the document presets; the
layer-by-layer summary; safetensors checkpoints (no pickle, so no code can ride in a file); and the
bundled pretrained default model.
"""
