"""A tfds builder for CelebA that reads the official files from a local folder.

tfds's own ``celeb_a`` builder downloads from Google Drive and verifies
checksums, so it cannot prepare the files a user already has. This one reads
``img_align_celeba.zip`` (or the extracted ``img_align_celeba/``),
``list_attr_celeba.txt`` and ``list_eval_partition.txt`` from the manual
folder: no download, no checksums. Its features match the stock builder's
``image`` and ``attributes``, so one reading path serves both.

tensorflow_datasets is imported inside ``builder_class`` only, so that importing
this module stays cheap.
"""

from __future__ import annotations

import contextlib
import functools
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ckgan.errors import CkganError
from ckgan.userdata import (
    ATTRIBUTE_FILE,
    PARTITION_FILE,
    read_attribute_file,
    read_partition_file,
)

from .attributes import ATTRIBUTES

NAME = "ckgan_celeb_a"
BUILDER_VERSION = "1.0.0"
ZIP_FILE = "img_align_celeba.zip"
IMAGE_FOLDER = "img_align_celeba"


def fingerprint(folder: Path) -> str:
    """Sizes of the official files (and image count of an extracted folder).

    Stored in the prepared dataset's metadata: a mismatch means the files in
    ``folder`` are not those the dataset was prepared from, and it is rebuilt.
    """
    parts = [
        f"{name}={(folder / name).stat().st_size}" for name in (ATTRIBUTE_FILE, PARTITION_FILE)
    ]
    if (folder / ZIP_FILE).is_file():
        parts.append(f"{ZIP_FILE}={(folder / ZIP_FILE).stat().st_size}")
    else:
        count = sum(1 for _ in (folder / IMAGE_FOLDER).iterdir())
        parts.append(f"{IMAGE_FOLDER}/={count}")
    return ";".join(parts)


def _image_reader(folder: Path) -> tuple[Any, Any]:
    """A function from file name to JPEG bytes (or None), and a closer."""
    if (folder / ZIP_FILE).is_file():
        archive = zipfile.ZipFile(folder / ZIP_FILE)
        entries = {
            Path(info.filename).name: info for info in archive.infolist() if not info.is_dir()
        }

        def read(name: str) -> bytes | None:
            info = entries.get(name)
            return None if info is None else archive.read(info)

        return read, archive.close
    image_dir = folder / IMAGE_FOLDER

    def read_file(name: str) -> bytes | None:
        path = image_dir / name
        return path.read_bytes() if path.is_file() else None

    return read_file, lambda: None


@functools.cache
def builder_class() -> type:
    """The ``GeneratorBasedBuilder`` subclass, defined on first use (it needs tfds)."""
    import numpy as np
    import tensorflow_datasets as tfds

    class CkganCelebA(tfds.core.GeneratorBasedBuilder, skip_registration=True):
        """CelebA's aligned faces and 40 attributes, from the official files in the manual dir."""

        name = NAME
        VERSION = tfds.core.Version(BUILDER_VERSION)
        RELEASE_NOTES = {BUILDER_VERSION: "Built from the official files in a local folder."}
        MANUAL_DOWNLOAD_INSTRUCTIONS = (
            f"Put {ZIP_FILE} (or the extracted {IMAGE_FOLDER}/), {ATTRIBUTE_FILE} and "
            f"{PARTITION_FILE} from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html "
            "in one folder."
        )

        def _info(self) -> Any:
            return tfds.core.DatasetInfo(
                builder=self,
                description="CelebA aligned and cropped faces with 40 binary attributes.",
                features=tfds.features.FeaturesDict(
                    {
                        "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
                        "attributes": {name: np.bool_ for name in ATTRIBUTES},
                    }
                ),
                homepage="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
                metadata=tfds.core.MetadataDict(),
            )

        def _split_generators(self, dl_manager: Any) -> dict[str, Any]:
            folder = Path(dl_manager.manual_dir)
            self.info.metadata["source"] = str(folder)
            self.info.metadata["fingerprint"] = fingerprint(folder)
            table = read_attribute_file(folder / ATTRIBUTE_FILE)
            missing = [a for a in ATTRIBUTES if a not in table.binary]
            if missing:
                table.check_column(missing[0])
            partition = read_partition_file(folder / PARTITION_FILE)
            rows = {name: i for i, name in enumerate(table.filenames or [])}
            return {
                split: self._generate_examples(folder, table, rows, partition, split_id)
                for split_id, split in enumerate(("train", "validation", "test"))
            }

        def _generate_examples(
            self, folder: Path, table: Any, rows: dict[str, int], partition: dict, split_id: int
        ) -> Iterator[tuple[str, dict]]:
            read, close = _image_reader(folder)
            try:
                for name in sorted(n for n, s in partition.items() if s == split_id):
                    if name not in rows:
                        raise CkganError(
                            f"{name} is listed in {folder / PARTITION_FILE} but not in "
                            f"{folder / ATTRIBUTE_FILE}; use the files of one CelebA release"
                        )
                    image = read(name)
                    if image is None:
                        raise CkganError(
                            f"image {name} is listed in {folder / PARTITION_FILE} but missing "
                            f"from {folder / ZIP_FILE} / {folder / IMAGE_FOLDER}; "
                            "download the images again"
                        )
                    i = rows[name]
                    attributes = {a: bool(table.binary[a][i]) for a in ATTRIBUTES}
                    yield name, {"image": image, "attributes": attributes}
            finally:
                close()

    return CkganCelebA


def prepare(folder: Path, data_dir: Path) -> Any:
    """The builder for ``folder``'s files in ``data_dir``, prepared (or rebuilt) when needed.

    tfds writes into an ``incomplete.*`` folder and renames it when done, and
    removes it when generation raises; a killed run leaves only that folder
    (``incomplete.XXXXXX_1.0.0``), which nothing reads and the next try removes.
    """
    import shutil

    import tensorflow_datasets as tfds

    builder = builder_class()(data_dir=str(data_dir))
    data_path = Path(builder.data_path)
    for stale in data_path.parent.glob(f"incomplete.*_{data_path.name}"):
        shutil.rmtree(stale, ignore_errors=True)
    if data_path.exists():
        if builder.info.metadata.get("fingerprint") == fingerprint(folder):
            return builder
        shutil.rmtree(data_path)
        builder = builder_class()(data_dir=str(data_dir))
    config = tfds.download.DownloadConfig(
        manual_dir=str(folder),
        try_download_gcs=False,  # the default asks Google Cloud Storage first
        register_checksums=False,
    )
    downloads = data_dir / "downloads"
    try:
        builder.download_and_prepare(download_dir=str(downloads), download_config=config)
    finally:
        # Folders tfds makes and leaves empty here (or after a failure).
        for empty in (downloads / "extracted", downloads, data_path.parent):
            with contextlib.suppress(OSError):
                empty.rmdir()
    return builder
