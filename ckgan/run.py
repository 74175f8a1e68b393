"""Training runs: ``train`` writes a run folder, ``Run`` reads one back.

A run folder holds everything needed to sample again and to judge the run:

    config.json         what was trained, on what, with which seed
    graph.adjlist       the causal graph
    labels/             the label generator (``LabelGenerator.save``)
    label_log.json      the label stage's training log (TV versus step and time)
    label_tv.png        the same as a plot (when matplotlib is installed)
    metrics.json        final metrics
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .bayesnet import MAX_ENUMERATED_NODES
from .dataset import Dataset, load_dataset
from .errors import CkganError
from .graph import CausalGraph
from .labels import LabelGenerator
from .metrics import empirical_pmf, marginals, tv_distance, tv_to_truth
from .plugins import get_registry
from .storage import atomic_write_text

CONFIG = "config.json"
MONITOR_SAMPLES = 200_000
FINAL_SAMPLES = 1_000_000


def _dump(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def label_evaluator(dataset: Dataset, graph: CausalGraph, data_labels: np.ndarray, n: int):
    """A training monitor: TV to the exact truth when the dataset knows it, else to the data."""
    if len(graph) > MAX_ENUMERATED_NODES:
        return None
    truth = dataset.truth
    if truth is not None and set(truth.nodes) == set(graph.nodes):
        target = _reorder_pmf(truth.pmf(), truth.nodes, graph.nodes)
        name = "tv"
    else:
        target = empirical_pmf(data_labels)
        name = "tv_data"

    def evaluate(generator: LabelGenerator) -> dict[str, float]:
        return {name: tv_distance(generator.sample(n, seed=12345), target)}

    return evaluate


def _reorder_pmf(pmf: np.ndarray, source: tuple, target: tuple) -> np.ndarray:
    """A pmf over ``source``-ordered configurations, re-indexed for ``target`` order."""
    if tuple(source) == tuple(target):
        return pmf
    k = len(source)
    axes = [list(source).index(node) for node in target]
    return pmf.reshape((2,) * k).transpose(axes).reshape(-1)


def label_metrics(
    generator: LabelGenerator, dataset: Dataset, data_labels: np.ndarray, n: int = FINAL_SAMPLES
) -> dict[str, Any]:
    """Final label-stage metrics: TV to the data, marginals, and TV to the truth if known."""
    graph = generator.graph
    out: dict[str, Any] = {}
    samples = generator.sample(n, seed=2024)
    out["marginals"] = marginals(samples, graph.nodes)
    out["data_marginals"] = marginals(data_labels, graph.nodes)
    if len(graph) <= MAX_ENUMERATED_NODES:
        out["tv_data"] = tv_distance(samples, empirical_pmf(data_labels))
    truth = dataset.truth
    if truth is not None and set(truth.nodes) == set(graph.nodes):

        def sample(m, do, seed):
            return generator.sample(m, do=do, seed=seed)

        exact = tv_to_truth(sample, _reordered_truth(truth, graph), n=n, seed=2024)
        out.update(exact)
        out["tv_do_worst"] = max(exact["tv_do"].values())
    return out


def _reordered_truth(truth, graph: CausalGraph):
    """``truth`` seen in ``graph``'s node order (pmfs re-indexed), for TV against samples."""
    if tuple(truth.nodes) == tuple(graph.nodes):
        return truth

    class Reordered:
        nodes = graph.nodes

        @staticmethod
        def pmf(do=None, given=None):
            return _reorder_pmf(truth.pmf(do=do, given=given), truth.nodes, graph.nodes)

    return Reordered()


def train(
    out: str | Path,
    *,
    labels: str = "wgan",
    image: str = "none",
    graph: str | Path = "paper",
    data: str | Path = "synthfaces",
    seed: int = 0,
    label_steps: int | None = None,
    label_options: Mapping[str, Any] | None = None,
    verbose: int = 1,
) -> Run:
    """Train a run into the folder ``out`` and return it.

    ``out`` must not hold a run already (nothing is ever overwritten).
    """
    out = Path(out)
    if (out / CONFIG).exists():
        raise CkganError(f"'{out}' already holds a run: choose another --out")
    if out.exists() and not out.is_dir():
        raise CkganError(f"--out '{out}' is a file, not a folder")
    registry = get_registry()
    generator_cls = registry.get("labels", labels).load()
    if image != "none":
        registry.get("image", image)  # an unknown name lists the known ones
        raise CkganError(f"image stage '{image}' cannot be trained yet: use --image none")
    causal_graph = CausalGraph.load(graph)
    dataset = load_dataset(data)
    dataset.check_nodes(causal_graph.nodes)
    train_labels = dataset.labels("train", causal_graph.nodes)

    out.mkdir(parents=True, exist_ok=True)
    config = {
        "ckgan_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "labels": labels,
        "image": image,
        "graph": causal_graph.name,
        "data": str(data),
        "seed": seed,
        "label_steps": label_steps,
        "label_options": dict(label_options or {}),
    }
    atomic_write_text(out / "graph.adjlist", causal_graph.to_adjlist())

    generator = generator_cls(causal_graph, **dict(label_options or {}))
    evaluate = label_evaluator(dataset, causal_graph, train_labels, MONITOR_SAMPLES)
    start = time.perf_counter()
    log = generator.fit(
        train_labels, steps=label_steps, seed=seed, evaluate=evaluate, verbose=verbose
    )
    config["label_train_seconds"] = time.perf_counter() - start
    generator.save(out / "labels")
    _dump(out / "label_log.json", log)
    plot_log(log, out / "label_tv.png", title=f"{labels} on {causal_graph.name}")
    metrics = {"labels": label_metrics(generator, dataset, train_labels)}
    _dump(out / "metrics.json", metrics)
    _dump(out / CONFIG, config)  # last: a folder with config.json is a finished run
    return Run(out)


def plot_log(log: list[dict], path: Path, title: str = "") -> Path | None:
    """Plot the TV columns of a training log against the step; None without matplotlib."""
    keys = [k for k in ("tv", "tv_data") if any(k in e for e in log)]
    if not keys or len(log) < 2:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from .storage import atomic_path

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for key in keys:
        rows = [e for e in log if key in e]
        label = "TV to the exact pmf" if key == "tv" else "TV to the data"
        ax.plot([e["step"] for e in rows], [e[key] for e in rows], marker="o", label=label)
    ax.set_xlabel("generator step")
    ax.set_ylabel("total variation distance")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


class Run:
    """A finished run folder, read back for sampling and evaluation."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        path = self.directory / CONFIG
        if not path.is_file():
            raise CkganError(
                f"'{self.directory}' is not a finished ckgan run (no {CONFIG}): "
                "train one with `ckgan run --out DIR`"
            )
        try:
            self.config = json.loads(path.read_text())
        except ValueError as e:
            raise CkganError(f"'{path}' is corrupt ({e}): train the run again") from None
        self._labels: LabelGenerator | None = None

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

    def sample_labels(self, n: int, do=None, given=None, seed: int | None = None) -> np.ndarray:
        return self.label_generator.sample(n, do=do, given=given, seed=seed)


def write_labels_csv(path: str | Path, labels: np.ndarray, nodes: tuple[str, ...]) -> Path:
    """Write label rows as CSV (header = node names, values 0/1), atomically."""
    lines = [",".join(nodes)] + [",".join(map(str, row)) for row in np.asarray(labels).tolist()]
    atomic_write_text(path, "\n".join(lines) + "\n")
    return Path(path)
