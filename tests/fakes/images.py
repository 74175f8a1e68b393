"""Tiny image datasets and a frozen label generator for the image-stage tests."""

import numpy as np

from ckgan import Dataset


class Blocks(Dataset):
    """Images that paint their labels: the first brightens the left half, the
    second reddens the top, the third darkens the bottom-right corner."""

    name = "blocks"
    has_images = True

    def __init__(self, nodes=("A", "B", "C"), rows=256):
        self.attributes = tuple(nodes)
        self.rows = rows

    def labels(self, split="train", nodes=None):
        k = len(self.attributes)
        return np.random.default_rng(0).integers(0, 2, (self.rows, k)).astype(np.uint8)

    def tf_dataset(self, split="train", nodes=None, *, size=16, images=True, seed=None, **_):
        import tensorflow as tf

        labels = self.labels(split)
        x = np.random.default_rng(1).uniform(-1, -0.5, (len(labels), size, size, 3))
        h = size // 2
        x[labels[:, 0] == 1, :, :h, :] += 1.2
        if labels.shape[1] > 1:
            x[labels[:, 1] == 1, :h, :, 0] += 1.2
        if labels.shape[1] > 2:
            x[labels[:, 2] == 1, h:, h:, :] = -1.0
        data = (x.astype("float32"), labels.astype("float32"))
        return tf.data.Dataset.from_tensor_slices(data).shuffle(self.rows, seed=seed)


class UniformLabels:
    """A frozen label generator: ``k`` independent fair coins (``do`` is ignored)."""

    def __init__(self, k=2):
        self.k = k

    def sample(self, n, do=None, seed=None):
        return np.random.default_rng(seed).integers(0, 2, (n, self.k)).astype(np.uint8)
