"""``IndependentFaces``: synthfaces' faces re-rendered with independent labels.

What a fair judge learns from: in synthfaces' own data Bald and Mustache come
with Male, so a judge trained there reads a true bald woman as bald in about
16% of cases and caps the share of rare-context images any generator can be
credited with. Here every attribute is 1 with probability 1/2 independently
of the others, so no attribute is evidence for another; the nuisance factors
(pose, colours, ...) are the dataset's own, split for split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ckgan import Dataset

from .render import render

#: the label draw of each split (fixed: the same twin, and cached judge, every time)
_SEEDS = {"train": 11, "validation": 12, "test": 13}


class IndependentFaces(Dataset):
    """The faces of ``base`` (a ``SynthFaces``) with each attribute a fair coin."""

    has_images = True
    image_sizes = (32, 64)

    def __init__(self, base):
        self.base = base
        self.name = f"{base.name}-independent"
        self.attributes = tuple(base.attributes)
        self.circular_nuisance = tuple(base.circular_nuisance)
        self.cache_key = f"independent-{base.cache_key}"
        self._labels: dict[str, np.ndarray] = {}
        self._images: dict[tuple[str, int], np.ndarray] = {}

    def __repr__(self) -> str:
        return f"IndependentFaces({self.base!r})"

    def labels(self, split: str = "train", nodes: Sequence[str] | None = None) -> np.ndarray:
        """Fair coins per attribute, as many rows as ``base`` has in ``split``."""
        if split not in self._labels:
            rows = len(self.base.labels(split))
            rng = np.random.default_rng(_SEEDS[split])
            self._labels[split] = (rng.random((rows, len(self.attributes))) < 0.5).astype(np.uint8)
        self.check_nodes(nodes or ())
        columns = [self.attributes.index(c) for c in (nodes or self.attributes)]
        return self._labels[split][:, columns].copy()

    def nuisance(self, split: str = "train") -> dict[str, np.ndarray]:
        return self.base.nuisance(split)

    def images(self, split: str = "train", size: int = 32) -> np.ndarray:
        """The faces of ``split`` rendered under these labels (once per size, in memory)."""
        if (split, size) not in self._images:
            self._images[split, size] = render(self.labels(split), self.nuisance(split), size)
        return self._images[split, size]
