"""``SynthFaces``: ckgan's embedded dataset of cartoon faces with a known causal model.

Labels come from the exact ``BinaryBayesNet`` of ``scm.py`` driven by stored
exogenous noise, images from ``render.py`` driven by stored nuisance factors,
so counterfactuals are exact: the same noise and nuisance re-rendered under
``do``. Everything derives from ``seed``; the arrays are cached as HDF5 under
``ckgan.storage.cache_dir("synthfaces")`` (one file for labels, one per image
size) and checked on every load, never trusted blindly.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ckgan import CkganError, Dataset
from ckgan.bayesnet import check_assignment
from ckgan.dataset import check_split
from ckgan.storage import atomic_path, cache_dir

from .render import NUISANCE, nuisance_array, render, sample_nuisance
from .scm import ATTRIBUTES, causal_model

#: Bump when the label model, the renderer or the file layout changes: old caches are ignored.
CODE_VERSION = 1
MIN_SIZE, MAX_SIZE = 16, 256
_CHUNK = 2048  # images rendered (and compressed) per step
_SPOT_CHECKS = 4  # images re-rendered on load to catch a stale or damaged cache


class SynthFaces(Dataset):
    """Procedural faces over the paper's nine CelebA attributes, truth known exactly.

    Args:
        n: number of faces, split 80/10/10 into train, validation and test.
        seed: fixes labels, nuisance and therefore every pixel.
    """

    name = "synthfaces"
    attributes = ATTRIBUTES
    has_images = True
    image_sizes = (32, 64)
    #: nuisance factors that wrap around (hue 0 and hue 1 are one colour)
    circular_nuisance = ("background_hue",)

    def __init__(self, n: int = 50_000, seed: int = 0):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 10:
            raise CkganError(f"synthfaces n={n!r} is too small: use an integer of at least 10")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise CkganError(f"synthfaces seed={seed!r} is invalid: use an integer >= 0")
        self.n, self.seed = int(n), int(seed)
        self.truth = causal_model()
        n_train, n_val = self.n * 8 // 10, self.n // 10
        self._bounds = {
            "train": (0, n_train),
            "validation": (n_train, n_train + n_val),
            "test": (n_train + n_val, self.n),
        }
        self._labels: np.ndarray | None = None
        self._noise: np.ndarray | None = None
        self._nuisance: np.ndarray | None = None
        self._images: dict[int, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"SynthFaces(n={self.n}, seed={self.seed})"

    @property
    def cache_key(self) -> str:
        """Names this dataset's judge in the cache: everything derives from ``n`` and ``seed``."""
        return repr(self)  # the key judges were cached under before cache_key existed

    # -- public API -------------------------------------------------------------

    def labels(self, split: str = "train", nodes: Sequence[str] | None = None) -> np.ndarray:
        """The labels of ``split`` as ``(m, len(nodes))`` uint8, columns in ``nodes`` order."""
        cols = self._columns(nodes)
        self._load_labels()
        return self._labels[self._slice(split)][:, cols].copy()

    def nuisance(self, split: str = "train") -> dict[str, np.ndarray]:
        """The nuisance factors of ``split``: ``{name: (m,) float32}``."""
        self._load_labels()
        values = self._nuisance[self._slice(split)]
        return {name: values[:, i].copy() for i, name in enumerate(NUISANCE)}

    def noise(self, split: str = "train") -> np.ndarray:
        """The exogenous label noise of ``split``, ``(m, 9)`` uniforms in ``ATTRIBUTES`` order."""
        self._load_labels()
        return self._noise[self._slice(split)].copy()

    def images(self, split: str = "train", size: int = 64) -> np.ndarray:
        """The images of ``split``, ``(m, size, size, 3)`` uint8 (read-only, rendered once)."""
        size = _check_size(size)
        sl = self._slice(split)
        return self._load_images(size)[sl]

    def examples(
        self, n: int, size: int = 64, split: str = "train"
    ) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n`` images and labels of ``split``, rendered directly (no cache needed)."""
        size = _check_size(size)
        start, stop = self._bounds[_split(split)]
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise CkganError(f"number of examples {n!r} is invalid: use an integer >= 0")
        n = min(int(n), stop - start)
        self._load_labels()
        rows = slice(start, start + n)
        if size in self._images:
            return self._images[size][rows].copy(), self._labels[rows].copy()
        return self._render(rows, size), self._labels[rows].copy()

    def counterfactual(
        self,
        split: str,
        indices: Sequence[int] | np.ndarray,
        do: Mapping[str, int],
        size: int = 64,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Faces ``indices`` of ``split`` had ``do`` held: same noise and nuisance, re-rendered.

        Returns ``(images, labels)``: ``(m, size, size, 3)`` uint8 and ``(m, 9)``
        uint8; only the set nodes and their descendants can differ from the
        factual labels.
        """
        size = _check_size(size)
        do = check_assignment(self.truth.graph, do, "do")
        start, stop = self._bounds[_split(split)]
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise CkganError("counterfactual indices must be a 1-D list of integers")
        if idx.size and (idx.min() < 0 or idx.max() >= stop - start):
            raise CkganError(
                f"counterfactual index out of range for split '{split}' "
                f"(it has {stop - start} faces: use 0 to {stop - start - 1})"
            )
        self._load_labels()
        rows = start + idx.astype(np.int64)
        labels = self.truth.sample(len(rows), do=do, noise=self._noise[rows])
        nuisance = {k: self._nuisance[rows, i] for i, k in enumerate(NUISANCE)}
        return render(labels, nuisance, size), labels

    def independent(self) -> Dataset:
        """These faces with every attribute a fair coin: the data of ``ckgan evaluate``'s
        judge, which then cannot read Male as evidence against Bald."""
        from .independent_faces import IndependentFaces

        return IndependentFaces(self)

    # -- cache ------------------------------------------------------------------

    def cache_path(self, size: int | None = None) -> Path:
        """The HDF5 file of the labels (``size=None``) or of the images of ``size``."""
        stem = f"synthfaces-v{CODE_VERSION}-n{self.n}-seed{self.seed}"
        name = f"{stem}.h5" if size is None else f"{stem}-{size}px.h5"
        return cache_dir("synthfaces") / name

    def _load_labels(self) -> None:
        if self._labels is not None:
            return
        path = self.cache_path()
        arrays = _read(path, self._check_label_file)
        if arrays is None:
            arrays = self._generate_labels()
            with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
                for key, value in arrays.items():
                    f.create_dataset(key, data=value)
                f.attrs["attributes"] = list(ATTRIBUTES)
                f.attrs["nuisance_names"] = list(NUISANCE)
                f.attrs.update(code_version=CODE_VERSION, n=self.n, seed=self.seed)
        self._labels, self._noise, self._nuisance = (
            arrays["labels"],
            arrays["noise"],
            arrays["nuisance"],
        )
        for a in (self._labels, self._noise, self._nuisance):
            a.flags.writeable = False

    def _generate_labels(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        noise = rng.random((self.n, len(ATTRIBUTES)))
        nuisance = nuisance_array(sample_nuisance(self.n, rng))
        labels = self.truth.sample(self.n, noise=noise)
        return {"labels": labels, "noise": noise, "nuisance": nuisance}

    def _check_label_file(self, f: h5py.File) -> dict[str, np.ndarray]:
        k = len(ATTRIBUTES)
        want = {
            "labels": ((self.n, k), np.uint8),
            "noise": ((self.n, k), np.float64),
            "nuisance": ((self.n, len(NUISANCE)), np.float32),
        }
        arrays = {key: _read_array(f, key, *spec) for key, spec in want.items()}
        if list(f.attrs["nuisance_names"]) != list(NUISANCE):
            raise ValueError("nuisance names differ")
        if not np.array_equal(self.truth.sample(self.n, noise=arrays["noise"]), arrays["labels"]):
            raise ValueError("labels do not follow from the stored noise")
        return arrays

    def _load_images(self, size: int) -> np.ndarray:
        if size in self._images:
            return self._images[size]
        self._load_labels()
        path = self.cache_path(size)
        images = _read(path, lambda f: self._check_image_file(f, size))
        if images is None:
            images = self._render(slice(0, self.n), size, progress=True)
            with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
                f.create_dataset(
                    "images",
                    data=images,
                    chunks=(min(256, self.n), size, size, 3),
                    compression="gzip",
                    compression_opts=1,
                )
                f.attrs.update(code_version=CODE_VERSION, n=self.n, seed=self.seed, size=size)
        images.flags.writeable = False
        self._images[size] = images
        return images

    def _check_image_file(self, f: h5py.File, size: int) -> np.ndarray:
        images = _read_array(f, "images", (self.n, size, size, 3), np.uint8)
        rows = np.unique(np.linspace(0, self.n - 1, _SPOT_CHECKS).astype(int))
        for r in rows:
            if not np.array_equal(self._render(slice(r, r + 1), size)[0], images[r]):
                raise ValueError(f"image {r} differs from what the renderer draws now")
        return images

    def _render(self, rows: slice, size: int, progress: bool = False) -> np.ndarray:
        """Render the faces in ``rows`` of the whole dataset; past 2 s, say how far every 2 s."""
        start, stop, _ = rows.indices(self.n)
        out = np.empty((stop - start, size, size, 3), dtype=np.uint8)
        t0 = last = time.monotonic()
        for lo in range(start, stop, _CHUNK):
            hi = min(lo + _CHUNK, stop)
            nuisance = {k: self._nuisance[lo:hi, i] for i, k in enumerate(NUISANCE)}
            out[lo - start : hi - start] = render(self._labels[lo:hi], nuisance, size)
            now = time.monotonic()
            if progress and now - t0 > 2.0 and (now - last > 2.0 or hi == stop):
                last = now
                print(
                    f"synthfaces: rendering {stop - start} faces at {size}x{size}: "
                    f"{hi - start} done ({now - t0:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
        return out

    # -- helpers ----------------------------------------------------------------

    def _slice(self, split: str) -> slice:
        return slice(*self._bounds[_split(split)])

    def _columns(self, nodes: Sequence[str] | None) -> list[int]:
        if nodes is None:
            return list(range(len(ATTRIBUTES)))
        if isinstance(nodes, str):
            nodes = [nodes]
        self.check_nodes(nodes)
        return [ATTRIBUTES.index(node) for node in nodes]


def _split(split: str) -> str:
    check_split(split)
    return split


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        raise CkganError(f"image size {size!r} is not an integer: use 32 or 64")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise CkganError(
            f"image size {size} is out of range: use 32 or 64 (any size from {MIN_SIZE} "
            f"to {MAX_SIZE} renders)"
        )
    return int(size)


def _read_array(f: h5py.File, key: str, shape: tuple, dtype) -> np.ndarray:
    data = f[key]
    if data.shape != shape or data.dtype != dtype:
        raise ValueError(f"'{key}' is {data.shape} {data.dtype}, expected {shape} {dtype}")
    return data[...]


def _read(path: Path, check):
    """``check(open file)`` of a cache file; ``None`` (with a warning) when it is unusable."""
    if not path.exists():
        return None
    try:
        with h5py.File(path, "r") as f:
            return check(f)
    except Exception as e:  # any failure means "do not trust it": h5py raises many types
        warnings.warn(
            f"synthfaces cache file {path} is unusable ({type(e).__name__}: {e}); regenerating it",
            stacklevel=3,
        )
        return None
