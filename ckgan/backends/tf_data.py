"""``tf.data`` pipelines: the one place outside a training backend that uses TensorFlow.

Training never needs them for data held in memory (synthfaces, users' CSVs
and image folders reach ``fit`` as numpy batches on every backend). They
serve datasets streamed from disk (CelebA, through tensorflow-datasets) and
callers of ``Dataset.tf_dataset``. Importing this module imports TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf


def labels_dataset(
    labels: np.ndarray, *, batch_size: int | None, shuffle: bool, seed: int | None
) -> Any:
    """Rows of ``labels`` (float32), reshuffled each pass when ``shuffle``."""
    ds = tf.data.Dataset.from_tensor_slices(np.asarray(labels, "float32"))
    if shuffle:
        ds = ds.shuffle(max(len(labels), 1), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size) if batch_size else ds


def images_dataset(
    pixels: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int | None,
    shuffle: bool,
    augment: bool,
    seed: int | None,
) -> Any:
    """``(image, labels)`` from uint8 ``pixels``: images float32 in [-1, 1], labels float32.

    The arrays are held once; each element gathers its rows, so shuffling
    costs an index, not a copy. ``augment`` flips images left-right at random.
    """
    pixels = tf.constant(np.asarray(pixels, np.uint8))
    targets = tf.constant(np.asarray(labels, "float32"))
    ds = tf.data.Dataset.range(len(labels))
    if shuffle:
        ds = ds.shuffle(max(len(labels), 1), seed=seed, reshuffle_each_iteration=True)
    if batch_size:
        ds = ds.batch(batch_size)

    def fetch(idx):
        x = tf.cast(tf.gather(pixels, idx), tf.float32) / 127.5 - 1.0
        if augment:
            x = tf.image.random_flip_left_right(x, seed=seed)
        return x, tf.gather(targets, idx)

    return ds.map(fetch, num_parallel_calls=tf.data.AUTOTUNE)


def crop_resize(image: Any, size: int, crop: int | None = None) -> Any:
    """Centre-crop a uint8 ``HxWx3`` image to a square, area-resize to ``size``, scale to [-1, 1].

    The square is ``crop`` pixels wide (CelebA's reference uses 108), or the
    largest that fits when ``crop`` is None.
    """
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    side = tf.minimum(height, width)
    if crop is not None:
        side = tf.minimum(side, crop)
    image = tf.image.crop_to_bounding_box(
        image, (height - side) // 2, (width - side) // 2, side, side
    )
    image = tf.image.resize(image, (size, size), method="area")
    return tf.clip_by_value(image / 127.5 - 1.0, -1.0, 1.0)
