"""``Dataset``: where the labels (and images) a model learns from come from.

A dataset plugin registers a ``Dataset`` subclass (or a factory returning
one) through ``register_datasets``. Labels are always handed out as ``(n, k)``
uint8 arrays of state codes (0/1 for binary labels) in the order of the nodes
asked for, which is the causal graph's node order; ``node_states`` names
each node's states.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import CkganError
from .states import BINARY

if TYPE_CHECKING:
    from .bayesnet import BinaryBayesNet

SPLITS = ("train", "validation", "test")


class Dataset:
    """Binary labels, and optionally images, with train / validation / test splits.

    Subclasses set ``name`` and ``attributes`` and implement ``labels``; those
    with images also set ``has_images`` and implement ``images`` (a split in
    memory, read without TensorFlow: synthetic data, a user's folder) or
    ``tf_dataset`` (streamed, for data too large to hold: CelebA). ``truth``
    is the exact causal model when the dataset knows it (synthetic data),
    else ``None``.
    """

    name: str = "dataset"
    attributes: tuple[str, ...] = ()
    has_images: bool = False
    image_sizes: tuple[int, ...] = ()
    truth: BinaryBayesNet | None = None
    #: a name that stays the same for the same data across processes (caches of
    #: judges use it); ``None``: nothing trained on this dataset is cached
    cache_key: str | None = None
    #: nuisance factors that are angles, read on a circle (``nuisance``)
    circular_nuisance: tuple[str, ...] = ()

    @property
    def images_in_memory(self) -> bool:
        """Whether the dataset implements ``images`` (else training streams ``tf_dataset``)."""
        return type(self).images is not Dataset.images

    def check_nodes(self, nodes: Sequence[str]) -> None:
        """Raise a ``CkganError`` naming the first node this dataset has no column for."""
        for node in nodes:
            if node not in self.attributes:
                raise CkganError(
                    f"dataset '{self.name}' has no attribute '{node}' "
                    f"(it has: {', '.join(self.attributes)})"
                )

    def labels(self, split: str = "train", nodes: Sequence[str] | None = None) -> np.ndarray:
        """The labels of ``split`` as ``(n, len(nodes))`` uint8 codes, in ``nodes`` order."""
        raise NotImplementedError

    def label_vectors(self, split: str, columns: Sequence[str]) -> np.ndarray:
        """The labels of ``split`` as float32 model vectors over ``columns`` (for binary
        labels, the 0/1 labels of those nodes)."""
        return self.labels(split, columns).astype("float32")

    def node_states(self, nodes: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each node's state names in code order; binary ``("0", "1")`` unless overridden."""
        self.check_nodes(nodes)
        return {node: BINARY for node in nodes}

    def use_states(self, states: Mapping[str, Sequence[str]]) -> None:
        """Read these nodes with these states (a graph's declared order); binary datasets
        take ``("0", "1")`` only."""
        for node, names in states.items():
            if tuple(names) != BINARY:
                raise CkganError(
                    f"dataset '{self.name}' has binary labels (0/1), but the graph declares "
                    f"the states {', '.join(names)} for '{node}'"
                )

    @property
    def columns(self) -> tuple[str, ...]:
        """The model-vector columns of ``attributes`` (``ckgan.states.Encoding``): for binary
        labels, the attributes themselves."""
        return tuple(self.attributes)

    def nuisance(self, split: str = "train") -> dict[str, np.ndarray]:
        """What varies between the images of ``split`` beyond the labels, one value per
        image in ``labels`` order (synthfaces: colours, head position and size, ...):
        ``ckgan evaluate`` measures generated images' diversity by it. ``{}`` (the
        default) when the dataset does not know."""
        return {}

    def independent(self) -> Dataset | None:
        """This dataset's images re-rendered with every label drawn independently, or
        ``None`` (the default) where the dataset cannot render images to order.

        ``ckgan evaluate``'s judge learns from it when there is one: a judge
        trained on the data reads one attribute as evidence for another (a
        woman as not bald), which caps the share of rare-context images
        (a bald woman) any generator can be credited with.
        """
        return None

    def images(self, split: str = "train", size: int | None = None) -> np.ndarray:
        """The images of ``split`` as uint8 ``(n, size, size, 3)``, in ``labels`` order.

        The default collects ``tf_dataset`` (TensorFlow); datasets that hold
        their images override it, and are then trained on without TensorFlow.
        """
        if not self.has_images:
            raise CkganError(f"dataset '{self.name}' has no images")
        parts = []
        for x, _ in self.tf_dataset(split, [], size=size, images=True, batch_size=512):
            parts.append(np.clip((np.asarray(x) + 1) * 127.5, 0, 255).round().astype(np.uint8))
        if not parts:
            raise CkganError(f"split '{split}' of dataset '{self.name}' is empty")
        return np.concatenate(parts)

    def batches(
        self,
        split: str,
        nodes: Sequence[str],
        *,
        size: int,
        batch_size: int,
        augment: bool = False,
        seed: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Endless shuffled batches ``(images, labels)`` as numpy, for ``fit`` on any backend.

        Images float32 in [-1, 1], labels float32 model vectors over the
        columns ``nodes`` (``label_vectors``); each
        pass over the split is a fresh permutation, ``augment`` flips about
        half the images left-right (training data whose labels do not
        depend on the side). Datasets without their own ``images`` stream
        ``tf_dataset`` instead.
        """
        if not self.images_in_memory:
            ds = self.tf_dataset(
                split, nodes, size=size, images=True, shuffle=True, augment=augment, seed=seed
            )
            ds = ds.repeat().batch(batch_size, drop_remainder=True).prefetch(-1)  # AUTOTUNE
            import keras

            return ds if keras.backend.backend() == "tensorflow" else ds.as_numpy_iterator()
        return _shuffled_batches(
            self.images(split, size), self.label_vectors(split, nodes), batch_size, augment, seed
        )

    def tf_dataset(
        self,
        split: str = "train",
        nodes: Sequence[str] | None = None,
        *,
        size: int | None = None,
        images: bool = True,
        batch_size: int | None = None,
        shuffle: bool = False,
        augment: bool = False,
        seed: int | None = None,
    ) -> Any:
        """A ``tf.data.Dataset`` of ``(image, labels)`` (or labels alone), for any backend.

        Images are float32 in [-1, 1], ``size x size x 3``; labels float32 model
        vectors over ``nodes`` (``label_vectors``). ``shuffle`` permutes the
        whole split each pass; ``augment`` flips training images left-right. The default
        serves datasets held in memory (``images``); streamed ones override it.
        Needs TensorFlow (``ckgan.backends.tf_data``).
        """
        from .backends import tf_data

        nodes = list(self.columns if nodes is None else nodes)
        labels = self.label_vectors(split, nodes)
        if not images:
            return tf_data.labels_dataset(labels, batch_size=batch_size, shuffle=shuffle, seed=seed)
        if not self.has_images or not self.images_in_memory:
            raise CkganError(f"dataset '{self.name}' has no images")
        pixels = self.images(split) if size is None else self.images(split, size)
        return tf_data.images_dataset(
            pixels,
            labels,
            batch_size=batch_size,
            shuffle=shuffle,
            augment=augment and split == "train",
            seed=seed,
        )

    def examples(
        self, n: int, size: int = 64, split: str = "train"
    ) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n`` images of ``split`` as uint8 ``(n, size, size, 3)``, with their labels.

        Labels are ``(n, len(columns))`` uint8 model vectors (``columns`` order; for
        binary labels ``attributes``).
        """
        if not self.has_images:
            raise CkganError(f"dataset '{self.name}' has no images")
        if self.images_in_memory:
            images = self.images(split, size)[:n]
            labels = self.label_vectors(split, list(self.columns))[:n].astype(np.uint8)
            if not len(images):
                raise CkganError(f"split '{split}' of dataset '{self.name}' is empty")
            return images, labels
        ds = self.tf_dataset(split, list(self.columns), size=size, images=True)
        images, labels = [], []
        for image, label in ds.take(n).as_numpy_iterator():
            images.append(np.clip((image + 1) * 127.5, 0, 255).round().astype(np.uint8))
            labels.append(label.astype(np.uint8))
        if not images:
            raise CkganError(f"split '{split}' of dataset '{self.name}' is empty")
        return np.stack(images), np.stack(labels)


def _shuffled_batches(
    images: np.ndarray, labels: np.ndarray, batch_size: int, augment: bool, seed: int | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless batches of ``images`` (uint8) and ``labels``, reshuffled every pass."""
    n = len(images)
    if n < batch_size:
        raise CkganError(
            f"the training split has {n} images, fewer than a batch of {batch_size}: "
            "lower the batch size or add images"
        )
    labels = np.asarray(labels, "float32")
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            index = np.sort(order[start : start + batch_size])
            x = images[index].astype("float32") / 127.5 - 1.0
            if augment:
                flip = rng.random(batch_size) < 0.5
                x[flip] = x[flip, :, ::-1]
            yield x, labels[index]


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise CkganError(f"unknown split '{split}' (known: {', '.join(SPLITS)})")
