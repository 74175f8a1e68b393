"""``Judge``: an attribute classifier trained on a dataset's real images.

It is used only to evaluate generators: does a generated image show the
labels it was generated from, and how do generated images spread in the
judge's feature space (Frechet distance, diversity given the labels)? When the
dataset knows the nuisance factors behind each image (synthfaces), the judge
also learns to read them back, so that their spread among generated images
can be measured; a factor the dataset calls circular (a hue, where 0 and 1
are the same colour) is read as a point on the circle, ``(cos, sin)``. It is
trained once per dataset and image size, and cached.

Half of its training batches are blurred (shrunk to a random size and
enlarged back), so that it reads labels and nuisance factors alike on sharp
and on soft images: a judge trained on sharp images only read the head's
height on real images blurred 4x at 0.41 of its real spread, which would
charge a blurry generator with a lack of diversity it does not have.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence

import numpy as np

from .errors import CkganError
from .storage import atomic_write_text, cache_dir

FEATURES = 128
#: weight of the nuisance read-back's unexplained variance share against the labels' loss
NUISANCE_WEIGHT = 0.3


def _build(k: int, size: int, n_nuisance: int):
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3))
    x = inputs
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    features = layers.Dense(FEATURES, activation="relu", name="features")(x)
    outputs = [layers.Dense(k, name="logits")(features), features]
    if n_nuisance:
        outputs.append(layers.Dense(n_nuisance, name="nuisance")(features))
    return keras.Model(inputs, outputs, name="judge")


def _to_float(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype("float32") / 127.5 - 1.0
    return images.astype("float32")


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for a confident judge's large logits."""
    return np.exp(-np.logaddexp(0.0, -logits))


def _has_arrays(dataset) -> bool:
    """Whether the dataset holds its images in memory and knows their nuisance factors."""
    return getattr(dataset, "images_in_memory", False) and callable(
        getattr(dataset, "nuisance", None)
    )


class Judge:
    """Attribute classifier over ``nodes`` for ``size x size`` images.

    ``accuracy`` maps each attribute to its held-out (test split) accuracy;
    ``nuisance_r2`` each nuisance factor to the held-out R^2 of its read-back
    (over both coordinates of a ``circular`` one).
    """

    def __init__(
        self,
        nodes: Sequence[str],
        size: int,
        nuisance: Sequence[str] = (),
        accuracy=None,
        nuisance_r2=None,
        circular: Sequence[str] = (),
    ):
        self.nodes = tuple(nodes)
        self.size = size
        self.nuisance = tuple(nuisance)
        self.circular = tuple(f for f in self.nuisance if f in set(circular))
        #: each factor's columns in ``read_nuisance``'s output (two if circular)
        self.nuisance_columns: dict[str, list[int]] = {}
        width = 0
        for factor in self.nuisance:
            step = 2 if factor in self.circular else 1
            self.nuisance_columns[factor] = list(range(width, width + step))
            width += step
        self._outputs = width
        self._model = None  # built on first use: ``fit`` builds its own after seeding
        self.accuracy: dict[str, float] = dict(accuracy or {})
        self.nuisance_r2: dict[str, float] = dict(nuisance_r2 or {})

    @property
    def model(self):
        """The judge's network (built on first use, with fresh weights)."""
        if self._model is None:
            self._model = _build(len(self.nodes), self.size, self._outputs)
        return self._model

    @model.setter
    def model(self, model) -> None:
        self._model = model

    @classmethod
    def for_dataset(
        cls,
        dataset,
        size: int,
        *,
        epochs: int = 8,
        max_train: int | None = None,
        verbose: int = 1,
        seed: int = 0,
    ) -> Judge:
        """The judge of ``dataset`` at ``size``: loaded from the cache or trained and cached."""
        if not dataset.has_images:
            raise CkganError(f"dataset '{dataset.name}' has no images to train a judge on")
        key = getattr(dataset, "cache_key", None)
        if not key:
            # no stable name (a repr holds an address, reused by other datasets
            # in later processes): train afresh, never from or into the cache
            judge = cls(
                tuple(dataset.columns),
                size,
                tuple(dataset.nuisance("test")) if _has_arrays(dataset) else (),
                circular=getattr(dataset, "circular_nuisance", ()),
            )
            judge.fit(dataset, epochs=epochs, max_train=max_train, verbose=verbose, seed=seed)
            return judge
        key = "".join(c if c.isalnum() else "-" for c in key)
        base = cache_dir("judges") / f"{key}-{size}px-e{epochs}-m{max_train or 'all'}-blur"
        weights, meta = base.with_suffix(".weights.h5"), base.with_suffix(".json")
        nodes = tuple(dataset.columns)
        nuisance = tuple(dataset.nuisance("test")) if _has_arrays(dataset) else ()
        circular = tuple(f for f in getattr(dataset, "circular_nuisance", ()) if f in nuisance)
        if weights.is_file() and meta.is_file():
            try:
                info = json.loads(meta.read_text())
                judge = cls(nodes, size, nuisance, info["accuracy"], info["nuisance_r2"], circular)
                judge.model.load_weights(weights)
                same = (info["nodes"], info["nuisance"], info.get("circular", []))
                if tuple(map(tuple, same)) == (nodes, nuisance, judge.circular):
                    return judge
            except Exception:  # a damaged cache entry is retrained, never trusted
                pass
        judge = cls(nodes, size, nuisance, circular=circular)
        judge.fit(dataset, epochs=epochs, max_train=max_train, verbose=verbose, seed=seed)
        tmp = weights.with_name(f".{os.getpid()}.{weights.name}")
        judge.model.save_weights(tmp)
        os.replace(tmp, weights)
        info = {
            "nodes": list(nodes),
            "nuisance": list(nuisance),
            "circular": list(judge.circular),
            "accuracy": judge.accuracy,
            "nuisance_r2": judge.nuisance_r2,
        }
        atomic_write_text(meta, json.dumps(info, indent=2))
        return judge

    def fit(self, dataset, *, epochs=8, max_train=None, verbose=1, seed=0, batch_size=128):
        """Train on the train split, measure accuracy (and nuisance R^2) on the test split."""
        import keras

        keras.utils.set_random_seed(seed)
        # fresh weights drawn after the seed: the same seed trains the same judge
        # (weights drawn at construction depend on what the process ran before)
        self.model = _build(len(self.nodes), self.size, self._outputs)
        images, labels, factors = self._arrays(dataset, "train", max_train)
        train = _JudgeBatches(images, labels, factors, batch_size, seed)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        losses = [bce, None]
        if self.nuisance:
            # each column's squared error over its variance (its unexplained share),
            # times NUISANCE_WEIGHT: plain MSE on [0, 1] values (about 0.08 of the
            # share) left head_y at R^2 0.79-0.90 from one training to the next;
            # a weight of 1 cost the labels (Smiling read at 0.86)
            scale = NUISANCE_WEIGHT / (factors.var(axis=0) + 1e-6)
            scale = keras.ops.convert_to_tensor(scale.astype("float32"))

            def unexplained(y, p):
                return keras.ops.mean(keras.ops.square(y - p) * scale, axis=-1)

            losses.append(unexplained)
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses, jit_compile=False)
        self.model.fit(train, epochs=epochs, verbose=verbose, shuffle=False)

        images, labels, factors = self._arrays(dataset, "test")
        read = self.read(images)  # one pass for the labels and the factors
        correct = (read["probabilities"] >= 0.5) == (labels >= 0.5)
        self.accuracy = dict(zip(self.nodes, map(float, correct.mean(axis=0)), strict=True))
        if self.nuisance:
            predicted = read["nuisance"]
            for factor, cols in self.nuisance_columns.items():
                residual = ((predicted[:, cols] - factors[:, cols]) ** 2).mean(axis=0).sum()
                total = factors[:, cols].var(axis=0).sum() + 1e-12
                self.nuisance_r2[factor] = float(1 - residual / total)
        return self

    def embed_nuisance(self, factors: np.ndarray) -> np.ndarray:
        """Factor values ``(n, len(nuisance))`` as the judge reads them: a circular
        one becomes ``cos, sin`` of its angle ``2 pi v``."""
        columns = []
        for i, factor in enumerate(self.nuisance):
            v = factors[:, i].astype("float32")
            if factor in self.circular:
                columns += [np.cos(2 * np.pi * v), np.sin(2 * np.pi * v)]
            else:
                columns.append(v)
        return np.stack(columns, axis=1).astype("float32")

    def _factors(self, dataset, split, limit=None):
        """The nuisance factors of ``split``, embedded as the judge reads them."""
        factors = dataset.nuisance(split)
        return self.embed_nuisance(np.stack([factors[k] for k in self.nuisance], axis=1)[:limit])

    def _arrays(self, dataset, split, limit=None):
        """``(images uint8, labels float32, factors or None)`` of ``split``, first ``limit``."""
        nodes = list(self.nodes)
        labels = dataset.label_vectors(split, nodes)[:limit].astype("float32")
        factors = self._factors(dataset, split, limit) if self.nuisance else None
        if getattr(dataset, "images_in_memory", True):
            return np.asarray(dataset.images(split, self.size))[:limit], labels, factors
        images = []
        ds = dataset.tf_dataset(split, nodes, size=self.size, images=True)
        ds = ds.take(limit) if limit else ds
        for x, _ in ds.batch(1024).as_numpy_iterator():
            images.append(np.clip((x + 1) * 127.5, 0, 255).round().astype(np.uint8))
        return np.concatenate(images), labels, factors

    def read(self, images: np.ndarray, batch_size: int = 512) -> dict[str, np.ndarray]:
        """All the judge sees in one pass: ``probabilities`` (as ``predict``),
        ``features`` and ``nuisance`` (as ``read_nuisance``; empty columns if none)."""
        logits, features, *rest = self._run(images, batch_size)
        nuisance = rest[0] if rest else np.zeros((len(logits), 0), "float32")
        return {
            "probabilities": _sigmoid(logits),
            "features": features,
            "nuisance": nuisance,
        }

    def predict(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """``P(attribute = 1)`` for each image, ``(n, k)``."""
        return _sigmoid(self._run(images, batch_size)[0])

    def features(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """The judge's penultimate features, ``(n, 128)``: its view of an image."""
        return self._run(images, batch_size)[1]

    def read_nuisance(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """The nuisance factors read back from images, as ``embed_nuisance`` has them:
        factor ``f`` in columns ``nuisance_columns[f]``."""
        if not self.nuisance:
            raise CkganError("this judge reads no nuisance factors (the dataset has none)")
        return self._run(images, batch_size)[2]

    def _run(self, images, batch_size):
        import keras

        images = _to_float(images)
        if images.shape[1:] != (self.size, self.size, 3):
            raise CkganError(
                f"the judge takes {self.size}x{self.size} RGB images, got {images.shape[1:]}"
            )
        outputs = []
        for i in range(0, len(images), batch_size):
            out = self.model(images[i : i + batch_size], training=False)
            outputs.append([keras.ops.convert_to_numpy(o) for o in out])
        if not outputs:
            widths = [len(self.nodes), FEATURES, sum(map(len, self.nuisance_columns.values()))]
            return [np.zeros((0, w)) for w in widths]
        return [np.concatenate(parts) for parts in zip(*outputs, strict=True)]


@functools.cache
def _judge_batches_class():
    import keras

    class JudgeBatches(keras.utils.PyDataset):
        """The judge's training batches: one fixed shuffle, about half of them blurred.

        A blurred batch is shrunk to a side drawn from ``[size / 4, size)``
        and enlarged back (bilinear, antialiased); which batches and how much
        is fixed by ``seed`` and the batch's index, the same every epoch.
        """

        def __init__(self, images, labels, factors, batch_size, seed):
            super().__init__()
            order = np.random.default_rng(seed).permutation(len(images))
            self.images, self.labels = images[order], labels[order]
            self.factors = None if factors is None else factors[order]
            self.batch_size, self.seed = batch_size, seed

        def __len__(self):
            return -(-len(self.images) // self.batch_size)

        def __getitem__(self, i):
            rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
            x = _to_float(self.images[rows])
            size = x.shape[1]
            side = np.random.default_rng([self.seed, i]).integers(size // 4, 2 * size)
            if side < size:
                small = keras.ops.image.resize(x, (side, side), antialias=True)
                x = keras.ops.convert_to_numpy(keras.ops.image.resize(small, (size, size)))
            y = self.labels[rows]
            targets = (y, y) if self.factors is None else (y, y, self.factors[rows])
            return x, targets

    return JudgeBatches


def _JudgeBatches(*args):  # noqa: N802 (a class, defined on first use: Keras loads lazily)
    return _judge_batches_class()(*args)


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
