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
import os
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .bayesnet import MAX_ENUMERATED_NODES
from .dataset import Dataset, load_dataset
from .errors import CkganError, DataWarning
from .graph import CausalGraph
from .labels import LabelGenerator
from .metrics import empirical_pmf, marginals, tv_distance, tv_to_truth
from .options import check_options
from .plugins import get_registry
from .storage import LOCK_FILE, atomic_write_text, clean_temp_files, is_run_folder, run_lock

CONFIG = "config.json"
MONITOR_SAMPLES = 200_000
#: fewer training rows than this get a warning
MIN_ROWS = 100
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
        exact = tv_to_truth(generator.sample, reordered_truth(truth, graph), n=n, seed=2024)
        out.update(exact)
        out["tv_do_worst"] = max(exact["tv_do"].values())
    return out


def reordered_truth(truth, graph: CausalGraph):
    """``truth`` seen in ``graph``'s node order (pmfs re-indexed), for TV against samples."""
    if tuple(truth.nodes) == tuple(graph.nodes):
        return truth

    class Reordered:
        nodes = graph.nodes

        @staticmethod
        def pmf(do=None, given=None):
            return _reorder_pmf(truth.pmf(do=do, given=given), truth.nodes, graph.nodes)

    return Reordered()


PRESETS = {
    # quick: 32x32 on a 2-core CPU in about 15 minutes; paper: the paper's settings (GPU).
    # The batch size is the image stage's own (its preset of the same name), and
    # so are the steps where the stage's preset has a "steps" option.
    "quick": {"size": 32, "image_steps": 3000, "checkpoint_every": 250},
    "paper": {"size": 64, "image_steps": 100_000, "checkpoint_every": 2000},
}


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
    image_options: Mapping[str, Any] | None = None,
    preset: str = "quick",
    size: int | None = None,
    image_steps: int | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    verbose: int = 1,
) -> Run:
    """Train a run into the folder ``out`` (label stage, then image stage) and return it.

    A new run needs a folder that holds no run (nothing is ever overwritten);
    ``resume=True`` continues an interrupted run in ``out`` with the settings
    it was started with: a finished label stage is kept, the image stage
    continues from its last checkpoint. ``label_options`` and
    ``image_options`` override the plugins' constructor options (for
    ``image_options``, on top of ``preset``).
    """
    out = Path(out)
    if resume:
        config = _read_config(out)
    else:
        _check_new_folder(out)
        if preset not in PRESETS:
            raise CkganError(f"unknown preset '{preset}' (known: {', '.join(PRESETS)})")
        if image == "none" and image_options:
            raise CkganError(
                f"--image-option {next(iter(image_options))}=... is for an image stage, "
                "and this run has none (--image none): leave it out"
            )
        settings = PRESETS[preset] if image != "none" else {}
        config = {
            "ckgan_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "status": "training",
            "labels": labels,
            "image": image,
            "graph": _as_given_or_absolute(graph),
            "data": _as_given_or_absolute(data),
            "seed": seed,
            "label_steps": label_steps,
            "label_options": dict(label_options or {}),
            "image_options": dict(image_options or {}),
            "preset": preset if image != "none" else None,
            "size": size or settings.get("size"),
            "image_steps": image_steps,
            "batch_size": settings.get("batch_size"),
            "checkpoint_every": checkpoint_every or settings.get("checkpoint_every"),
        }
    registry = get_registry()
    generator_cls = registry.get("labels", config["labels"]).load()
    stage_cls = None
    if config["image"] != "none":
        stage_cls = registry.get("image", config["image"]).load()
    causal_graph = _run_graph(out, config) if resume else CausalGraph.load(config["graph"])
    dataset = _run_dataset(config)
    dataset.check_nodes(causal_graph.nodes)
    if stage_cls is not None and not dataset.has_images:
        raise CkganError(
            f"dataset '{config['data']}' has labels only: "
            "use --image none, or a dataset with images"
        )
    train_labels = dataset.labels("train", causal_graph.nodes)
    if len(train_labels) < MIN_ROWS:
        warnings.warn(
            f"only {len(train_labels)} training rows in '{config['data']}': the model will "
            f"mostly learn chance; {MIN_ROWS} or more are advised",
            DataWarning,
            stacklevel=2,
        )
    # Options are checked here, before anything is written.
    new_generator = _construct(
        generator_cls, f"label generator '{config['labels']}'", causal_graph,
        **config["label_options"],
    )  # fmt: skip
    stage = None
    if stage_cls is not None:
        stage = _construct(
            stage_cls, f"image stage '{config['image']}'", causal_graph.nodes,
            size=config["size"], preset=config["preset"], **config.get("image_options", {}),
        )  # fmt: skip
        if not config["image_steps"]:
            steps = stage.options.get("steps") or PRESETS[config["preset"]]["image_steps"]
            config["image_steps"] = int(steps)

    # From here on the folder is written: by this process only.
    with run_lock(out):
        if resume:
            _read_config(out)  # again: finished by another process meanwhile?
            clean_temp_files(out)
        else:
            _check_new_folder(out)  # again, now that no one else can write it
            atomic_write_text(out / "graph.adjlist", causal_graph.to_adjlist())
            _dump(out / CONFIG, config)
        metrics = _read_json(out / "metrics.json")
        generator = _train_labels(
            out, config, new_generator, causal_graph, dataset, train_labels, metrics, verbose
        )
        if stage is not None:
            _train_images(out, config, stage, causal_graph, dataset, generator, resume, verbose)
        config["status"] = "done"
        _dump(out / CONFIG, config)
    return Run(out)


def _check_new_folder(out: Path) -> None:
    """A new run goes into a new or empty folder: never over a run or the user's files."""
    if out.exists() and not out.is_dir():
        raise CkganError(f"--out '{out}' is a file, not a folder")
    if not out.is_dir():
        return
    if is_run_folder(out):
        raise CkganError(f"'{out}' already holds a run: choose another --out, or --resume it")
    others = sorted(p.name for p in out.iterdir() if p.name != LOCK_FILE)
    if others:
        raise CkganError(
            f"'{out}' is not empty ({len(others)} entries, e.g. '{others[0]}') and holds no run: "
            "a new run needs a new or empty folder"
        )


def _as_given_or_absolute(name_or_path) -> str:
    """A registered name as it is; an existing file as its absolute path (the cwd changes)."""
    text = str(name_or_path)
    return os.path.abspath(text) if os.path.exists(text) else text


def _run_graph(out: Path, config: dict) -> CausalGraph:
    """The graph a run was started with: the copy in its folder, not the file it came from."""
    name = Path(config["graph"]).stem if os.path.isabs(config["graph"]) else config["graph"]
    return CausalGraph.read(out / "graph.adjlist", name=name)


def _run_dataset(config: dict) -> Dataset:
    """The run's dataset; a clear error when the user's data has moved since."""
    data = str(config["data"])
    if os.path.isabs(data) and not os.path.exists(data):
        raise CkganError(f"the run's data '{data}' is gone (moved or deleted): put it back there")
    return load_dataset(data)


def _construct(cls, what: str, *args, **options):
    """``cls(*args, **options)``; an unknown option or a value of the wrong type or range
    is a ``CkganError`` that names it."""
    check_options(cls, options, what)
    try:
        return cls(*args, **options)
    except TypeError as e:  # a plugin without its own option check
        raise CkganError(f"bad option for the {what}: {e}") from None


def _train_labels(out, config, generator, graph, dataset, train_labels, metrics, verbose):
    """The label stage; kept as it is when a resumed run already finished it."""
    if (out / "labels" / "label_generator.json").is_file() and "labels" in metrics:
        return LabelGenerator.load(out / "labels")
    evaluate = label_evaluator(dataset, graph, train_labels, MONITOR_SAMPLES)
    start = time.perf_counter()
    log = generator.fit(
        train_labels,
        steps=config["label_steps"],
        seed=config["seed"],
        evaluate=evaluate,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    generator.save(out / "labels")
    _dump(out / "label_log.json", log)
    plot_log(log, out / "label_tv.png", title=f"{config['labels']} on {graph.name}")
    metrics["labels"] = label_metrics(generator, dataset, train_labels)
    metrics["labels"]["train_seconds"] = seconds
    _dump(out / "metrics.json", metrics)
    return generator


def _train_images(out, config, stage, graph, dataset, generator, resume, verbose):
    from .images import CHECKPOINT_FILE

    image_dir = out / "image"
    checkpoint = image_dir / CHECKPOINT_FILE
    grid_dir = out / "samples"
    fixed = generator.sample(32, seed=config["seed"] + 1)

    def on_checkpoint(stage, step):
        from .viz import label_caption, save_grid

        images = stage.generate(fixed, seed=0)
        captions = [label_caption(row, graph.nodes) for row in fixed]
        save_grid(images, grid_dir / f"step{step:07d}.png", captions=captions)

    start = time.perf_counter()
    log = stage.fit(
        dataset,
        generator,
        steps=config["image_steps"],
        batch_size=config["batch_size"],
        seed=config["seed"],
        directory=image_dir,
        checkpoint_every=config["checkpoint_every"],
        resume=resume and checkpoint.is_file(),
        verbose=verbose,
        on_checkpoint=on_checkpoint,
    )
    stage.save(out / "image")
    _dump(out / "image_log.json", log)
    metrics = _read_json(out / "metrics.json")
    metrics["images"] = {
        "steps": config["image_steps"],
        "train_seconds_last_session": time.perf_counter() - start,
        "final": log[-1] if log else {},
    }
    _dump(out / "metrics.json", metrics)
    write_do_vs_condition_grids(Run(out, require_done=False), out / "interventions")


def _read_config(out: Path) -> dict:
    """The config of the interrupted run in ``out``, for ``--resume``."""
    if not (out / CONFIG).is_file():
        raise CkganError(f"'{out}' holds no run to resume (no {CONFIG})")
    config = read_run_config(out / CONFIG)
    if config.get("status") == "done":
        raise CkganError(f"the run in '{out}' is finished: nothing to resume")
    return config


#: what every config.json has, by type
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


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


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
        if self._dataset is None:
            self._dataset = _run_dataset(self.config)
        return self._dataset

    def truth(self):
        """The exact label model in the run's node order, when the dataset knows it."""
        truth = self.dataset.truth
        if truth is None or set(truth.nodes) != set(self.graph.nodes):
            return None
        return reordered_truth(truth, self.graph)

    def sample_labels(self, n: int, do=None, given=None, seed: int | None = None) -> np.ndarray:
        return self.label_generator.sample(n, do=do, given=given, seed=seed)


def contrast(run: Run, do: Mapping[str, int], given: Mapping[str, int], n: int = 20_000):
    """Label statistics of the intervention and of its conditioning counterpart.

    Returns rows ``[(title, do, given, marginals, exact_marginals_or_None)]``:
    with ``do``, the rows are do(do) | given and conditioning on do and given
    together; with ``given`` alone, observational and conditioning. A
    conditioning the model (nearly) never produces has ``marginals`` None:
    the other row can still be drawn. Only when no row can is it an error.
    """
    do, given = dict(do), dict(given)
    if do:
        cases = [(do, given), ({}, {**given, **do})]
    else:
        cases = [({}, {}), ({}, given)]
    rows = []
    truth = run.truth()
    error = None
    for case_do, case_given in cases:
        try:
            labels = run.sample_labels(n, do=case_do, given=case_given, seed=7)
        except CkganError as e:
            if not case_given:
                raise
            labels, error = None, e
        exact = None
        if truth is not None:
            from .bayesnet import all_configs

            pmf = truth.pmf(do=case_do, given=case_given)
            configs = all_configs(len(run.graph.nodes))
            exact = {node: float(pmf @ configs[:, i]) for i, node in enumerate(run.graph.nodes)}
        sampled = None if labels is None else marginals(labels, run.graph.nodes)
        rows.append((_title(case_do, case_given), case_do, case_given, sampled, exact))
    if all(row[3] is None for row in rows):
        raise error
    return rows


def _title(do, given) -> str:
    parts = []
    if do:
        parts.append("do(" + ", ".join(f"{k}={v}" for k, v in do.items()) + ")")
    if given:
        parts.append("given " + ", ".join(f"{k}={v}" for k, v in given.items()))
    return " ".join(parts) or "observational"


def intervention_grid(run: Run, path, do, given, n: int = 8, seed: int = 0, exclusive=False):
    """A PNG with one row per case of ``contrast`` (do vs conditioning), labelled."""
    from .viz import label_caption, save_grid

    stage = run.image_stage
    images, captions, titles = [], [], []
    for title, case_do, case_given, sampled, _ in contrast(run, do, given, n=1000):
        if sampled is None:  # a conditioning the model never draws: a row of blanks says so
            images.append(np.full((n, stage.size, stage.size, 3), 128, np.uint8))
            captions += ["never drawn\nby the model"] * n
            titles.append(f"{title}\n(impossible\nunder the model)")
            continue
        labels = run.sample_labels(n, do=case_do, given=case_given, seed=seed)
        images.append(stage.generate(labels, seed=seed))
        captions += [label_caption(row, run.graph.nodes) for row in labels]
        titles.append(title)
    return save_grid(
        np.concatenate(images), path, ncols=n, captions=captions, row_titles=titles,
        exclusive=exclusive,
    )  # fmt: skip


def write_do_vs_condition_grids(run: Run, folder: Path, n: int = 8) -> list[Path]:
    """do(X=1) versus conditioning on X=1 for a few attributes (the paper's figure)."""
    nodes = run.graph.nodes
    wanted = [x for x in ("Mustache", "Bald", "Wearing_Lipstick", "Male") if x in nodes]
    paths = []
    for node in wanted or list(nodes[:3]):
        try:
            paths.append(intervention_grid(run, folder / f"{node}=1.png", {node: 1}, {}, n=n))
        except CkganError:
            continue  # e.g. conditioning on an event the model never produces
    return paths


def _chunk_seed(seed: int, i: int) -> int:
    return int(np.random.SeedSequence([seed, i]).generate_state(1)[0])


#: rows per chunk when ``write_samples`` streams to disk: labels only, and with images
LABEL_CHUNK = 1_000_000
IMAGE_CHUNK = 2048


def write_samples(
    run: Run,
    path: str | Path,
    n: int,
    *,
    do: Mapping[str, int] | None = None,
    given: Mapping[str, int] | None = None,
    seed: int = 0,
    images: bool = False,
    exclusive: bool = False,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Draw ``n`` samples of ``run`` into ``path`` chunk by chunk; returns the acceptance rate.

    Labels go to CSV (``images=False``), images and labels to HDF5. Memory is
    bounded by one chunk whatever ``n``; the file appears only when complete.
    The first chunk uses ``seed`` itself, so up to a chunk the rows are those
    of ``run.sample_labels(n, seed=seed)``. ``progress(rows)`` is called after
    each chunk.
    """
    import shutil

    from .storage import atomic_path

    path = Path(path)
    generator = run.label_generator
    nodes = generator.nodes
    stage = run.image_stage if images else None
    chunk = IMAGE_CHUNK if images else LABEL_CHUNK
    # at least: labels as text, images at 4x compression (gzip rarely does better on photos)
    need = n * (2 * len(nodes) + (stage.size**2 * 3 // 4 if stage else 0))
    free = shutil.disk_usage(path.parent if path.parent.is_dir() else Path.cwd()).free
    if need > free:
        raise CkganError(
            f"{n} samples need at least {need / 1e9:.3g} GB and {path.parent} has "
            f"{free / 1e9:.3g} GB free: ask for fewer with --n, or write elsewhere"
        )
    accepted = []

    def chunks():
        for i, start in enumerate(range(0, n, chunk)):
            rows = min(chunk, n - start)
            chunk_seed = (
                seed if i == 0 else int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            )
            labels = generator.sample(rows, do=do, given=given, seed=chunk_seed)
            accepted.append(generator.last_acceptance)
            yield labels, (stage.generate(labels, seed=chunk_seed) if stage else None)
            if progress is not None:
                progress(rows)

    with atomic_path(path, exclusive=exclusive) as tmp:
        if stage is None:
            with open(tmp, "w") as f:
                f.write(",".join(nodes) + "\n")
                for labels, _ in chunks():
                    np.savetxt(f, labels, fmt="%d", delimiter=",")
        else:
            import h5py

            with h5py.File(tmp, "w") as f:
                side = stage.size
                data = f.create_dataset(
                    "images", (0, side, side, 3), np.uint8, maxshape=(None, side, side, 3),
                    chunks=(min(n, 64), side, side, 3), compression="gzip",
                )  # fmt: skip
                table = f.create_dataset("labels", (0, len(nodes)), np.uint8,
                                         maxshape=(None, len(nodes)))  # fmt: skip
                f.attrs["nodes"] = json.dumps(list(nodes))
                for key, value in {"do": dict(do or {}), "given": dict(given or {}),
                                   "seed": seed}.items():  # fmt: skip
                    f.attrs[key] = json.dumps(value)
                for labels, pictures in chunks():
                    end = len(table) + len(labels)
                    table.resize(end, axis=0)
                    data.resize(end, axis=0)
                    table[end - len(labels) :] = labels
                    data[end - len(labels) :] = pictures
    return float(np.mean(accepted)) if accepted else 1.0
