"""CelebA: 202,599 aligned faces with 40 binary attributes, from files the user already has.

Images come from a tfds ``celeb_a`` dataset already prepared in the tfds data
dir when there is one, else from the official files in a local folder, which
``builder.py`` prepares once into ckgan's cache (nothing is downloaded).
Labels are read straight from ``list_attr_celeba.txt`` (fast, no images).
Preprocessing follows the paper's reference: centre crop 108x108, area resize.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import ckgan
from ckgan import storage
from ckgan.dataset import SPLITS, check_split
from ckgan.errors import CkganError
from ckgan.userdata import (
    ATTRIBUTE_FILE,
    PARTITION_FILE,
    check_size,
    read_attribute_file,
    read_partition_file,
    split_ids_from_partition,
)

from .attributes import ATTRIBUTES

ZIP_FILE = "img_align_celeba.zip"
IMAGE_FOLDER = "img_align_celeba"
CROP = 108
ENV = "CKGAN_CELEBA_DIR"
HOMEPAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"


def tfds_data_dir() -> Path:
    """tfds's default data dir: ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``."""
    return Path(os.environ.get("TFDS_DATA_DIR") or Path("~", "tensorflow_datasets")).expanduser()


def _has_images(folder: Path) -> bool:
    return (folder / ZIP_FILE).is_file() or (folder / IMAGE_FOLDER).is_dir()


def _has_labels(folder: Path) -> bool:
    return (folder / ATTRIBUTE_FILE).is_file() and (folder / PARTITION_FILE).is_file()


def _missing(folder: Path) -> list[str]:
    missing = [] if _has_images(folder) else [f"{ZIP_FILE} (or {IMAGE_FOLDER}/)"]
    return missing + [n for n in (ATTRIBUTE_FILE, PARTITION_FILE) if not (folder / n).is_file()]


def _stock_dir(data_dir: Path) -> Path | None:
    """The newest version folder of a prepared stock ``celeb_a`` in ``data_dir``, if any."""
    root = data_dir / "celeb_a"
    if not root.is_dir():
        return None
    versions = []
    for p in root.iterdir():
        parts = p.name.split(".")
        if len(parts) == 3 and all(x.isdigit() for x in parts):
            if (p / "dataset_info.json").is_file() and (p / "features.json").is_file():
                versions.append((tuple(int(x) for x in parts), p))
    return max(versions)[1] if versions else None


class CelebA(ckgan.Dataset):
    """CelebA's labels (and images) from a folder of official files or a prepared tfds dataset.

    ``path`` is the folder of official files (default ``$CKGAN_CELEBA_DIR``,
    then tfds's manual dir ``<tfds data dir>/downloads/manual``); ``data_dir``
    is the tfds data dir searched for a prepared ``celeb_a`` and holding ours
    (default: tfds's for the former, ckgan's cache for the latter).
    """

    name = "celeb_a"
    attributes = tuple(ATTRIBUTES)
    has_images = True
    image_sizes = (32, 64)
    truth = None

    def __init__(self, path: str | os.PathLike | None = None, data_dir: str | None = None) -> None:
        if path is not None:
            self.folders = [Path(path).expanduser()]
        else:
            self.folders = [tfds_data_dir() / "downloads" / "manual"]
            if os.environ.get(ENV):
                self.folders.insert(0, Path(os.environ[ENV]).expanduser())
        self.data_dir = Path(data_dir).expanduser() if data_dir is not None else None
        with_labels = [f for f in self.folders if _has_labels(f)]
        complete = [f for f in with_labels if _has_images(f)]
        self.folder = (complete or with_labels or [None])[0]
        self.stock = _stock_dir(self.data_dir or tfds_data_dir())
        if self.folder is None and self.stock is None:
            raise self._missing_error()
        if self.folder is not None:
            with open(self.folder / ATTRIBUTE_FILE, encoding="utf-8-sig") as f:
                f.readline()
                names = tuple(f.readline().split())
            if names:
                self.attributes = names
        self._labels: dict[str, np.ndarray] | None = None  # split -> (n, 40) uint8
        self._builder: Any = None

    @property
    def cache_key(self) -> str:
        """The files read, as they are now: judges of other (or changed) files are not reused."""
        source = self.folder / ATTRIBUTE_FILE if self.folder is not None else self.stock
        return f"celeb_a-{storage.fingerprint(source)}"

    def _missing_error(self) -> CkganError:
        where = "; ".join(
            f"{f} (missing {', '.join(_missing(f))})"
            if f.is_dir()
            else f"{f} (not a folder)"
            if f.exists()
            else f"{f} (no such folder)"
            for f in self.folders
        )
        return CkganError(
            f"CelebA files not found in {where}: expected {ZIP_FILE} (or the extracted "
            f"{IMAGE_FOLDER}/), {ATTRIBUTE_FILE} and {PARTITION_FILE} from {HOMEPAGE}; "
            f"put them in one folder and set {ENV} to it or pass path="
        )

    def _all_labels(self) -> dict[str, np.ndarray]:
        """Every split's labels, all 40 columns in ``self.attributes`` order, parsed once."""
        if self._labels is not None:
            return self._labels
        if self.folder is not None:
            table = read_attribute_file(self.folder / ATTRIBUTE_FILE)
            matrix = table.matrix(self.attributes)
            partition_path = self.folder / PARTITION_FILE
            ids = split_ids_from_partition(
                table, read_partition_file(partition_path), partition_path
            )
            self._labels = {s: matrix[ids == i] for i, s in enumerate(SPLITS)}
        else:
            self._labels = {s: self._labels_from_tfds(s) for s in SPLITS}
        return self._labels

    def _labels_from_tfds(self, split: str) -> np.ndarray:
        import tensorflow as tf
        import tensorflow_datasets as tfds

        builder = self._image_builder()
        ds = builder.as_dataset(split=split, decoders={"image": tfds.decode.SkipDecoding()})
        names = list(self.attributes)
        ds = ds.map(lambda ex: tf.stack([ex["attributes"][n] for n in names], axis=-1))
        parts = [np.asarray(b, dtype=np.uint8) for b in ds.batch(8192).as_numpy_iterator()]
        return np.concatenate(parts) if parts else np.zeros((0, len(names)), np.uint8)

    def labels(self, split: str = "train", nodes: Sequence[str] | None = None) -> np.ndarray:
        """The labels of ``split`` as ``(n, len(nodes))`` uint8 0/1, columns in ``nodes`` order."""
        check_split(split)
        nodes = list(self.attributes if nodes is None else nodes)
        self.check_nodes(nodes)
        columns = [self.attributes.index(n) for n in nodes]
        return self._all_labels()[split][:, columns]

    def _image_builder(self) -> Any:
        """The tfds builder to read images from: the stock one if prepared, else ours."""
        if self._builder is None:
            if self.stock is not None:
                import tensorflow_datasets as tfds

                self._builder = tfds.builder_from_directory(str(self.stock))
            elif self.folder is None or not _has_images(self.folder):
                raise self._missing_error()
            else:
                from .builder import prepare

                data_dir = self.data_dir or storage.cache_dir("tfds")
                self._builder = prepare(self.folder, data_dir)
        return self._builder

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
        """``(image, labels)`` as in ``Dataset.tf_dataset``: crop 108, area resize, flip in train.

        JPEG bytes are shuffled before decoding, so the shuffle buffer stays small.
        """
        check_split(split)
        nodes = list(self.attributes if nodes is None else nodes)
        self.check_nodes(nodes)
        if not images:
            return super().tf_dataset(
                split, nodes, images=False, batch_size=batch_size, shuffle=shuffle, seed=seed
            )
        size = check_size(self, size)
        import tensorflow as tf
        import tensorflow_datasets as tfds

        from ckgan.backends.tf_data import crop_resize

        builder = self._image_builder()
        ds = builder.as_dataset(
            split=split,
            shuffle_files=shuffle,
            decoders={"image": tfds.decode.SkipDecoding()},
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )
        if shuffle:
            ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
        flip = augment and split == "train"

        def load(example):
            image = tf.io.decode_jpeg(example["image"], channels=3)
            image = crop_resize(image, size, crop=CROP)
            if flip:
                image = tf.image.random_flip_left_right(image, seed=seed)
            labels = tf.stack([tf.cast(example["attributes"][n], tf.float32) for n in nodes])
            return image, labels

        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
        if batch_size:
            ds = ds.batch(batch_size)
        return ds.prefetch(tf.data.AUTOTUNE)
