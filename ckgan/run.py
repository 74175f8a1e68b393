"""Training runs: ``train`` writes a run folder (``ckgan.runfolder``), label stage then image stage.

The folder is locked while it is written, a new run takes only a new or
empty folder, and ``resume=True`` continues an interrupted one. ``Run``,
``contrast`` and the writers live in ``runfolder``, ``interventions`` and
``writers``; the names are re-exported here for the Python API.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .bayesnet import MAX_CONFIGS, config_count
from .dataset import Dataset
from .errors import CkganError, DataWarning
from .events import EVENTS_DIR, EventWriter, write_log
from .fitcheck import family_check
from .graph import CausalGraph

# The Python API's names for what a run holds and writes, importable from here as before.
from .interventions import contrast, intervention_grid, write_do_vs_condition_grids  # noqa: E402
from .labels import LabelGenerator
from .metrics import empirical_pmf, marginals, tv_distance, tv_to_truth
from .options import check_options
from .plugins import get_registry
from .runfolder import CONFIG, Run, read_run_config, reorder_pmf, reordered_truth, run_dataset
from .storage import (
    EVALUATION_OUTPUTS,
    LOCK_FILE,
    atomic_write_text,
    clean_temp_files,
    is_run_folder,
    run_lock,
)
from .writers import IMAGE_CHUNK, LABEL_CHUNK, plot_log, write_samples  # noqa: E402

__all__ = [
    "IMAGE_CHUNK", "LABEL_CHUNK", "PRESETS", "Run", "contrast", "intervention_grid",
    "label_metrics", "read_run_config", "reordered_truth", "train",
    "write_do_vs_condition_grids", "write_samples",
]  # fmt: skip

MONITOR_SAMPLES = 200_000
#: fewer training rows than this get a warning
MIN_ROWS = 100
FINAL_SAMPLES = 1_000_000


def _dump(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def label_evaluator(dataset: Dataset, graph: CausalGraph, data_labels: np.ndarray, n: int):
    """A training monitor: TV to the exact truth when the dataset knows it, else to the data."""
    if config_count(graph.cards) > MAX_CONFIGS:
        return None
    truth = dataset.truth
    if truth is not None and set(truth.nodes) == set(graph.nodes):
        target = reorder_pmf(truth.pmf(), truth.nodes, graph.nodes, truth.cards)
        name = "tv"
    else:
        target = empirical_pmf(data_labels, graph.cards)
        name = "tv_data"

    def evaluate(generator: LabelGenerator) -> dict[str, float]:
        return {name: tv_distance(generator.sample(n, seed=12345), target, graph.cards)}

    return evaluate


def label_metrics(
    generator: LabelGenerator, dataset: Dataset, data_labels: np.ndarray, n: int = FINAL_SAMPLES
) -> dict[str, Any]:
    """Final label-stage metrics: TV to the data, marginals, and TV to the truth if known."""
    graph = generator.graph
    out: dict[str, Any] = {}
    samples = generator.sample(n, seed=2024)
    out["marginals"] = marginals(samples, graph)
    out["data_marginals"] = marginals(data_labels, graph)
    if config_count(graph.cards) <= MAX_CONFIGS:
        out["tv_data"] = tv_distance(samples, empirical_pmf(data_labels, graph.cards), graph.cards)
    truth = dataset.truth
    if truth is not None and set(truth.nodes) == set(graph.nodes):
        exact = tv_to_truth(generator.sample, reordered_truth(truth, graph), n=n, seed=2024)
        out.update(exact)
        out["tv_do_worst"] = max(exact["tv_do"].values())
    return out


PRESETS = {
    # Run settings of the built-in presets where the image stage's preset of the
    # same name has none (size, steps and batch size are the stage's own).
    # quick: 32x32 on a 2-core CPU in about 15 minutes; paper: the paper's (GPU).
    # A stage's other presets take its size and steps and a checkpoint every
    # twelfth of the steps.
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
    devices: int | str | None = None,
    verbose: int = 1,
) -> Run:
    """Train a run into the folder ``out`` (label stage, then image stage) and return it.

    A new run needs a folder that holds no run (nothing is ever overwritten);
    ``resume=True`` continues an interrupted run in ``out`` with the settings
    it was started with: a finished label stage is kept, the image stage
    continues from its last checkpoint. With ``image_steps`` as well, the
    image stage trains on to that many steps in total, finished or not (a
    run that fell short of a target can go on instead of starting over;
    its evaluation, which described the shorter model, is removed). ``label_options`` and
    ``image_options`` override the plugins' constructor options (for
    ``image_options``, on top of ``preset``). ``devices`` (a count or
    ``"all"``) trains data-parallel on that many devices (JAX only; see
    ``ckgan.devices``). The Keras backend in use is recorded in config.json.
    """
    out = Path(out)
    if resume:
        config = _read_config(out, image_steps)
    else:
        _check_new_folder(out)
        if image == "none" and image_options:
            raise CkganError(
                f"--image-option {next(iter(image_options))}=... is for an image stage, "
                "and this run has none (--image none): leave it out"
            )
        settings = PRESETS.get(preset, {}) if image != "none" else {}
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
    from . import backend
    from .devices import resolve_devices

    config["backend"] = backend.name()  # the latest session's: a run moves between backends
    config["devices"] = resolve_devices(devices if devices is not None else config.get("devices"))
    registry = get_registry()
    generator_cls = registry.get("labels", config["labels"]).load()
    stage_cls = None
    if config["image"] != "none":
        stage_cls = registry.get("image", config["image"]).load()
    causal_graph = _run_graph(out, config) if resume else CausalGraph.load(config["graph"])
    dataset = run_dataset(config)
    causal_graph = _with_data_states(causal_graph, dataset)
    if causal_graph.declared_states:
        config["states"] = {n: list(s) for n, s in causal_graph.declared_states.items()}
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
        saved = _began_with(out, config) if resume else None
        if saved is not None:  # resumed as it began, whatever the presets say now
            stage = stage_cls.from_config(*saved)
        else:
            size = {"size": config["size"]} if config["size"] else {}  # else the preset's
            stage = _construct(
                stage_cls, f"image stage '{config['image']}'", causal_graph.encoding.columns,
                preset=config["preset"], **size, **config.get("image_options", {}),
            )  # fmt: skip
        config["size"] = stage.size
        config["image_stage"] = stage.get_config()
        if not config["image_steps"]:
            steps = stage.options.get("steps") or PRESETS[config["preset"]]["image_steps"]
            config["image_steps"] = int(steps)
        if not config["checkpoint_every"]:
            config["checkpoint_every"] = max(1, config["image_steps"] // 12)

    from .devices import use_devices

    batches = [new_generator.options.get("batch_size", 1)]
    if stage is not None:
        batches.append(int(config.get("batch_size") or stage.options.get("batch_size", 64)))
    use_devices(config["devices"], tuple(int(b) for b in batches))

    # From here on the folder is written: by this process only.
    with run_lock(out):
        if resume:
            _read_config(out, image_steps)  # again: finished by another process meanwhile?
            clean_temp_files(out)
            if image_steps:
                _dump(out / CONFIG, config)
                _drop_stale_evaluation(out, verbose)
        else:
            _check_new_folder(out)  # again, now that no one else can write it
            atomic_write_text(out / "graph.adjlist", causal_graph.to_adjlist())
            _dump(out / CONFIG, config)
        if verbose:
            print(f"training curves: tensorboard --logdir {out / EVENTS_DIR}")
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
    """The graph a run was started with: the copy in its folder, not the file it came from,
    with the states it was trained with (``config.json``, for nodes that are not 0/1)."""
    name = Path(config["graph"]).stem if os.path.isabs(config["graph"]) else config["graph"]
    graph = CausalGraph.read(out / "graph.adjlist", name=name)
    return graph.with_states(config.get("states") or {})


def _with_data_states(graph: CausalGraph, dataset: Dataset) -> CausalGraph:
    """``graph`` with each node's states: those it declares (a BIF file), checked against
    the data and used to read it, else the data's own (``Dataset.node_states``)."""
    dataset.check_nodes(graph.nodes)
    if graph.declared_states:
        dataset.use_states(graph.declared_states)
    return graph.with_states(dataset.node_states(graph.nodes))


def _began_with(out: Path, config: dict) -> tuple[dict, Path] | None:
    """The image stage's options the run in ``out`` began with, and the file they are in.

    Recorded in config.json since runs began keeping them, else in a finished
    stage's own file; ``None`` for a run interrupted before either (the presets
    of today fill in what its options do not say).
    """
    from .images import CONFIG_FILE, read_config

    if isinstance(config.get("image_stage"), dict):
        return config["image_stage"], out / CONFIG
    path = out / "image" / CONFIG_FILE
    if not path.is_file():
        return None
    kind, options = read_config(path)
    if kind != config["image"]:
        raise CkganError(
            f"'{path}' holds a '{kind}' image stage, the run's config says '{config['image']}': "
            "the folder is inconsistent"
        )
    return options, path


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
    write_log(out / EVENTS_DIR / "labels", log)
    plot_log(log, out / "label_tv.png", title=f"{config['labels']} on {graph.name}")
    metrics["labels"] = label_metrics(generator, dataset, train_labels)
    metrics["labels"]["train_seconds"] = seconds
    # parent configurations no training row shows, drawn uniformly (wgan, gumbel)
    unseen = getattr(generator, "unseen_configurations", None)
    if unseen is not None:
        metrics["labels"]["unseen_configurations"] = unseen
    check = family_check(generator, train_labels, seed=config["seed"])
    metrics["labels"]["family_check"] = check
    if not check["ok"]:
        warnings.warn(
            f"the label model does not match the data family by family: {check['summary']} "
            "(details: labels.family_check in metrics.json)",
            DataWarning,
            stacklevel=2,
        )
    _dump(out / "metrics.json", metrics)
    return generator


def _train_images(out, config, stage, graph, dataset, generator, resume, verbose):
    from .images import CHECKPOINT_FILE

    image_dir = out / "image"
    checkpoint = image_dir / CHECKPOINT_FILE
    grid_dir = out / "samples"
    fixed = graph.encoding.encode(generator.sample(32, seed=config["seed"] + 1))

    def on_checkpoint(stage, step):
        from .viz import label_caption, save_grid

        images = stage.generate(fixed, seed=0)
        captions = [label_caption(row, graph.encoding.columns) for row in fixed]
        save_grid(images, grid_dir / f"step{step:07d}.png", captions=captions)

    events = EventWriter(out / EVENTS_DIR / "image")
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
        on_log=lambda entry: events.scalars(int(entry["step"]), entry),
    )
    stage.save(out / "image")
    _dump(out / "image_log.json", log)
    metrics = _read_json(out / "metrics.json")
    metrics["images"] = {
        "steps": config["image_steps"],
        "train_seconds_last_session": time.perf_counter() - start,
        "final": log[-1] if log else {},
        # each time training went back to a healthy checkpoint (option rollbacks)
        "rollbacks": stage.rollbacks,
    }
    _dump(out / "metrics.json", metrics)
    write_do_vs_condition_grids(Run(out, require_done=False), out / "interventions")


def _read_config(out: Path, image_steps: int | None = None) -> dict:
    """The config of the run in ``out`` to resume: interrupted, or given more image steps.

    ``image_steps`` (the new total) may only lengthen the image stage; the
    config returned carries it, with the status back at "training".
    """
    if not (out / CONFIG).is_file():
        raise CkganError(f"'{out}' holds no run to resume (no {CONFIG})")
    config = read_run_config(out / CONFIG)
    done = config.get("status") == "done"
    trained = config.get("image_steps")
    if image_steps is None:
        if done:
            more = f" (to train its image stage on: --image-steps above {trained})"
            raise CkganError(
                f"the run in '{out}' is finished: nothing to resume" + (more if trained else "")
            )
        return config
    if config.get("image", "none") == "none" or not trained:
        raise CkganError(
            f"--image-steps: the run in '{out}' has no image stage to train on; leave it out"
        )
    if done and image_steps <= trained:
        raise CkganError(
            f"--image-steps {image_steps}: the run in '{out}' is finished at {trained} "
            f"image steps; to train it on, give more than {trained}"
        )
    if image_steps < trained:
        raise CkganError(
            f"--image-steps {image_steps}: the run in '{out}' trains {trained} image steps "
            f"and can only go on; give {trained} or more"
        )
    from .images import CHECKPOINT_FILE

    if done and not (out / "image" / CHECKPOINT_FILE).is_file():
        raise CkganError(
            f"the run in '{out}' has no {CHECKPOINT_FILE} in image/ to go on from: "
            "train a new run with --image-steps instead"
        )
    return {**config, "image_steps": int(image_steps), "status": "training"}


def _drop_stale_evaluation(out: Path, verbose: int) -> None:
    """An evaluation of the shorter model would pass for one of the longer: remove it."""
    stale = [out / name for name in EVALUATION_OUTPUTS if (out / name).exists()]
    for path in stale:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    if stale and verbose:
        print(f"removed {', '.join(p.name for p in stale)} (the shorter model's): "
              f"run `ckgan evaluate --run {out}` again once training ends")  # fmt: skip


#: what every config.json has, by type
def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}
