"""``Judge``: an attribute classifier trained on a dataset's real images.

It is used only to evaluate generators: does a generated image show the
labels it was generated from, and how do generated images spread in the
judge's feature space (Frechet distance, diversity given the labels)? It is
trained once per dataset and image size, and cached beside the dataset.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np

from .errors import CkganError
from .storage import atomic_write_text, cache_dir

FEATURES = 128


def _build(k: int, size: int):
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3))
    x = inputs
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    features = layers.Dense(FEATURES, activation="relu", name="features")(x)
    logits = layers.Dense(k, name="logits")(features)
    return keras.Model(inputs, [logits, features], name="judge")


def _to_float(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype("float32") / 127.5 - 1.0
    return images.astype("float32")


class Judge:
    """Attribute classifier over ``nodes`` for ``size x size`` images.

    ``accuracy`` maps each attribute to the held-out (test split) accuracy.
    """

    def __init__(self, nodes: Sequence[str], size: int, model=None, accuracy=None):
        self.nodes = tuple(nodes)
        self.size = size
        self.model = model if model is not None else _build(len(self.nodes), size)
        self.accuracy: dict[str, float] = dict(accuracy or {})

    @classmethod
    def for_dataset(
        cls,
        dataset,
        size: int,
        *,
        epochs: int = 4,
        max_train: int | None = None,
        verbose: int = 1,
        seed: int = 0,
    ) -> Judge:
        """The judge of ``dataset`` at ``size``: loaded from the cache or trained and cached."""
        if not dataset.has_images:
            raise CkganError(f"dataset '{dataset.name}' has no images to train a judge on")
        key = getattr(dataset, "cache_key", None) or dataset.name
        base = cache_dir("judges") / f"{key}-{size}px-e{epochs}-m{max_train or 'all'}"
        weights, meta = base.with_suffix(".weights.h5"), base.with_suffix(".json")
        nodes = tuple(dataset.attributes)
        if weights.is_file() and meta.is_file():
            try:
                info = json.loads(meta.read_text())
                judge = cls(info["nodes"], size, accuracy=info["accuracy"])
                judge.model.load_weights(weights)
                if tuple(info["nodes"]) == nodes:
                    return judge
            except Exception:  # a damaged cache entry is retrained, never trusted
                pass
        judge = cls(nodes, size)
        judge.fit(dataset, epochs=epochs, max_train=max_train, verbose=verbose, seed=seed)
        tmp = weights.with_name(f".{os.getpid()}.{weights.name}")
        judge.model.save_weights(tmp)
        os.replace(tmp, weights)
        atomic_write_text(meta, json.dumps({"nodes": list(nodes), "accuracy": judge.accuracy}))
        return judge

    def fit(self, dataset, *, epochs=4, max_train=None, verbose=1, seed=0, batch_size=128):
        """Train on the train split, measure accuracy on the test split."""
        import keras

        keras.utils.set_random_seed(seed)
        nodes = list(self.nodes)
        train = dataset.tf_dataset(
            "train", nodes, size=self.size, images=True, shuffle=True, seed=seed
        )
        if max_train:
            train = train.take(max_train)
        train = train.map(lambda x, y: (x, (y, y))).batch(batch_size).cache()
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self.model.compile(
            optimizer=keras.optimizers.Adam(1e-3), loss=[bce, None], jit_compile=False
        )
        self.model.fit(train, epochs=epochs, verbose=verbose, shuffle=False)
        images, labels = _collect(dataset.tf_dataset("test", nodes, size=self.size, images=True))
        correct = (self.predict(images) >= 0.5) == (labels >= 0.5)
        self.accuracy = {
            node: float(c) for node, c in zip(nodes, correct.mean(axis=0), strict=True)
        }
        return self

    def predict(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """``P(attribute = 1)`` for each image, ``(n, k)``."""
        logits, _ = self._run(images, batch_size)
        return 1.0 / (1.0 + np.exp(-logits))

    def features(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """The judge's penultimate features, ``(n, 128)``: its view of an image."""
        return self._run(images, batch_size)[1]

    def _run(self, images, batch_size):
        images = _to_float(images)
        if images.shape[1:] != (self.size, self.size, 3):
            raise CkganError(
                f"the judge takes {self.size}x{self.size} RGB images, got {images.shape[1:]}"
            )
        import keras

        logits, feats = [], []
        for i in range(0, len(images), batch_size):
            lo, fe = self.model(images[i : i + batch_size], training=False)
            logits.append(keras.ops.convert_to_numpy(lo))
            feats.append(keras.ops.convert_to_numpy(fe))
        if not logits:
            return np.zeros((0, len(self.nodes))), np.zeros((0, FEATURES))
        return np.concatenate(logits), np.concatenate(feats)


def _collect(ds, limit: int | None = None):
    images, labels = [], []
    for x, y in ds.batch(1024).as_numpy_iterator():
        images.append(x)
        labels.append(y)
        if limit and sum(map(len, images)) >= limit:
            break
    return np.concatenate(images), np.concatenate(labels)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets ``(n, d)``."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # sqrt(cov_a cov_b) through the eigenvalues of sqrt(cov_a) cov_b sqrt(cov_a),
    # which is symmetric, so no complex matrix square root is needed.
    vals, vecs = np.linalg.eigh(cov_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_sqrt = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)
