"""Tiny image datasets and a frozen label generator for the image-stage tests."""

import numpy as np

import ckgan
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


class Tinted(Dataset):
    """16x16 images painted in a hue (circular) with a grey square of some lightness."""

    name = "tinted"
    attributes = ("A",)
    has_images = True
    cache_key = "tinted-test"
    circular_nuisance = ("hue",)

    def _rows(self, split):
        n = {"train": 3000, "validation": 100, "test": 500}[split]
        return np.random.default_rng(["train", "validation", "test"].index(split)).random((n, 3))

    def labels(self, split="train", nodes=None):
        return (self._rows(split)[:, :1] < 0.5).astype(np.uint8)

    def nuisance(self, split="train"):
        rows = self._rows(split)
        return {"hue": rows[:, 1], "light": rows[:, 2]}

    def images(self, split="train", size=16):
        return self.render(self._rows(split), size)

    @staticmethod
    def render(rows, size=16):
        """Rows of (label draw, hue, lightness) in [0, 1) to uint8 images."""
        hue = rows[:, 1:2] * 6.0  # HSV at full saturation and value
        rgb = np.clip(np.abs((hue - np.array([3.0, 2.0, 4.0])) % 6.0 - 3.0) - 1.0, 0, 1)
        x = np.broadcast_to(rgb[:, None, None, :], (len(rows), size, size, 3)).copy()
        x[:, 1:9, 1:9, :] = rows[:, 2, None, None, None]
        x[rows[:, 0] < 0.5, 10:14, 10:14, :] = 0.0
        return (x * 255).round().astype(np.uint8)


class Marked(Dataset):
    """Two labels that agree in ``agree`` of the rows, each painted by its own mark.

    A brightens the whole left half (a mark that is easy to read); B lights
    a small square in the bottom-right corner (a faint one). A Labeler that
    reads B off A's half is right in ``agree`` of the rows: the shortcut a
    decorrelated Labeler must not take.
    """

    name = "marked"
    attributes = ("A", "B")
    has_images = True

    def __init__(self, rows=2048, agree=0.97, seed=0):
        rng = np.random.default_rng(seed)
        a = rng.integers(0, 2, rows)
        b = np.where(rng.random(rows) < agree, a, 1 - a)
        self._labels = np.stack([a, b], axis=1).astype(np.uint8)
        self.seed = seed

    def labels(self, split="train", nodes=None):
        return self._labels.copy()

    @staticmethod
    def paint(labels, size=16, seed=1):
        """Float images in [-1, 1] showing ``labels``' marks on a noisy grey."""
        labels = np.asarray(labels)
        x = np.random.default_rng(seed).uniform(-0.6, -0.2, (len(labels), size, size, 3))
        x[labels[:, 0] == 1, :, : size // 2, :] += 0.8
        q = size // 4
        x[labels[:, 1] == 1, -q:, -q:, :] += 0.3
        return x.astype("float32")

    def tf_dataset(self, split="train", nodes=None, *, size=16, images=True, seed=None, **_):
        import tensorflow as tf

        data = (self.paint(self._labels, size, self.seed + 1), self._labels.astype("float32"))
        return tf.data.Dataset.from_tensor_slices(data).shuffle(len(self._labels), seed=seed)


class TinyFaces:
    """A plugin registering ``tinyfaces``: 300 synthetic faces (quick to render and train on)."""

    @ckgan.hookimpl
    def register_datasets(self, register):
        from ckgan_plugins.synthfaces.synth_faces import SynthFaces

        register("tinyfaces", lambda: SynthFaces(n=300, seed=1))


def spy_batches(nets):
    """Record the batch size each of ``{name: network}`` is called with (at tracing)."""
    seen = {name: [] for name in nets}
    for name, net in nets.items():

        def spy(x, *args, _call=net.call, _seen=seen[name], **kwargs):
            _seen.append(int(x.shape[0]))
            return _call(x, *args, **kwargs)

        net.call = spy
    return seen
