"""``Run``: a run folder read back, and the checks that guard reading one.

A run folder holds everything needed to sample again and to judge the run:

    config.json         what was trained, on what, with which seed
    graph.adjlist       the causal graph
    labels/             the label generator (``LabelGenerator.save``)
    image/              the image stage and its training checkpoint
    label_log.json      the label stage's training log (TV versus step and time)
    label_tv.png        the same as a plot (when matplotlib is installed)
    tensorboard/        both stages' training curves as TensorBoard event files
    metrics.json        final metrics
    samples/            grids drawn during training
    interventions/      do-versus-condition grids

``ckgan.run.train`` writes one; ``storage`` guards it while it is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import CkganError
from .graph import CausalGraph
from .labels import LabelGenerator
from .plugins import load_dataset

CONFIG = "config.json"


def reorder_pmf(pmf: np.ndarray, source: tuple, target: tuple, cards=None) -> np.ndarray:
    """A pmf over ``source``-ordered configurations, re-indexed for ``target`` order.

    ``cards``: each source node's number of states (default: all binary).
    """
    if tuple(source) == tuple(target):
        return pmf
    cards = tuple(cards) if cards is not None else (2,) * len(source)
    axes = [list(source).index(node) for node in target]
    return pmf.reshape(cards).transpose(axes).reshape(-1)


def reordered_truth(truth, graph: CausalGraph):
    """``truth`` seen in ``graph``'s node order (pmfs re-indexed), for TV against samples."""
    if tuple(truth.nodes) == tuple(graph.nodes):
        return truth
    cards = getattr(truth, "cards", None)

    class Reordered:
        nodes = graph.nodes

        @staticmethod
        def pmf(do=None, given=None):
            return reorder_pmf(truth.pmf(do=do, given=given), truth.nodes, graph.nodes, cards)

    Reordered.graph = graph
    Reordered.cards = graph.cards
    return Reordered()


def run_dataset(config: dict) -> Dataset:
    """The run's dataset; a clear error when the user's data has moved since."""
    data = str(config["data"])
    if os.path.isabs(data) and not os.path.exists(data):
        raise CkganError(f"the run's data '{data}' is gone (moved or deleted): put it back there")
    return load_dataset(data)


_CONFIG_KEYS = {"labels": str, "image": str, "graph": str, "data": str, "seed": int}


def read_run_config(path: Path) -> dict:
    """A run's ``config.json``, checked to be an object with the keys ckgan reads."""
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise CkganError(f"'{path}' is unreadable or corrupt ({e}): train the run again") from None
    if not isinstance(config, dict):
        raise CkganError(
            f"'{path}' is corrupt (a JSON {type(config).__name__}, not an object): "
            "train the run again"
        )
    for key, kind in _CONFIG_KEYS.items():
        if key in config and not isinstance(config[key], kind):
            raise CkganError(f"'{path}' is corrupt ({key} is not a {kind.__name__})")
    return config


class Run:
    """A finished run folder, read back for sampling and evaluation."""

    def __init__(self, directory: str | Path, require_done: bool = True):
        self.directory = Path(directory)
        path = self.directory / CONFIG
        if not path.is_file():
            raise CkganError(
                f"'{self.directory}' is not a ckgan run (no {CONFIG}): "
                "train one with `ckgan run --out DIR`"
            )
        self.config = read_run_config(path)
        if require_done and self.config.get("status", "done") != "done":
            raise CkganError(
                f"the run in '{self.directory}' is not finished: "
                f"continue it with `ckgan run --resume {self.directory}`"
            )
        self._labels: LabelGenerator | None = None
        self._stage = None
        self._dataset: Dataset | None = None

    @property
    def label_generator(self) -> LabelGenerator:
        if self._labels is None:
            self._labels = LabelGenerator.load(self.directory / "labels")
        return self._labels

    @property
    def graph(self) -> CausalGraph:
        return self.label_generator.graph

    @property
    def metrics(self) -> dict:
        path = self.directory / "metrics.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    @property
    def image_stage(self):
        """The trained image stage; a clear error for a labels-only run."""
        if self._stage is None:
            if self.config.get("image", "none") == "none":
                raise CkganError(
                    f"the run in '{self.directory}' has no image stage (trained with "
                    "--image none): sample labels to a .csv instead"
                )
            from .images import ImageStage

            self._stage = ImageStage.load(self.directory / "image")
        return self._stage

    @property
    def dataset(self) -> Dataset:
        """The run's dataset, reading each node with the states the run was trained with."""
        if self._dataset is None:
            dataset = run_dataset(self.config)
            if self.graph.declared_states:
                dataset.use_states(self.graph.declared_states)
            self._dataset = dataset
        return self._dataset

    def truth(self):
        """The exact label model in the run's node order, when the dataset knows it."""
        truth = self.dataset.truth
        if truth is None or set(truth.nodes) != set(self.graph.nodes):
            return None
        return reordered_truth(truth, self.graph)

    def sample_labels(self, n: int, do=None, given=None, seed: int | None = None) -> np.ndarray:
        """``(n, nodes)`` uint8 state codes; ``do`` and ``given`` take state names or codes."""
        return self.label_generator.sample(n, do=do, given=given, seed=seed)

    def generate_images(self, labels: np.ndarray, seed: int | None = None) -> np.ndarray:
        """Images for label codes: each row as the model vector the image stage reads."""
        return self.image_stage.generate(self.graph.encoding.encode(labels), seed=seed)
