"""``ImageStage``: the image half of a causal implicit generative model.

An image stage is a conditional GAN that turns (labels, noise) into an image.
It trains on (image, labels) pairs while a frozen label generator supplies the
labels the generator is asked to draw. This base class owns what every stage
shares: options with presets, the input pipeline, the Keras ``fit`` loop with
atomic checkpoints (resumable after a kill, exactly ``steps`` steps in all), a
NaN guard, steps back to a healthy checkpoint, sample grids during training,
and sampling with batch norm in inference mode. Subclasses build the Keras
model.

Subclass contract:
  * ``build_model() -> keras.Model`` whose model has
      - ``compile_stage(jit_compile)``: ``Model.compile`` with XLA on or off
        (``"auto"`` resolved by the model: on with a GPU, off on a CPU);
      - ``step((images, labels))``: one training step on a batch of real
        images and their labels; the labels the generator is asked to draw
        come from the non-trainable ``label_pool`` variable ``(LABEL_POOL, k)``
        by random indices (``keras.random`` + ``keras.ops.take``, never a slice
        at a runtime offset, which XLA recompiles on every call);
      - ``build_all()``: creates every variable (all sub-networks and every
        optimizer's slots) so that a checkpoint can be restored before training;
      - ``optimizers``: a dict ``{name: keras optimizer}``;
      - ``seed_generator``: the ``keras.random.SeedGenerator`` of all its
        randomness (its state is checkpointed with the model);
      - metrics from ``keras.metrics.Mean`` trackers, finite while training is
        healthy (the NaN guard watches them);
      - optionally ``lost_labels(log) -> str | None``: why the newest span of
        the log lost what the critics had learned (``ImageGAN``'s says never),
        which the ``rollbacks`` option undoes.
    ``model.variables`` (which Keras lists without the metrics' state) plus
    the optimizers' variables are the whole training state a checkpoint holds.
  * ``noise_dim`` and ``_generate(labels, rng) -> float images in [-1, 1]``:
    draw each row's noise from ``rng`` row by row (one ``(n, d)`` block of
    draws split into columns), so that row ``i`` of ``generate(labels, seed)``
    depends on its own labels, ``seed`` and ``i`` only, and run the networks
    in inference mode.
  * ``presets`` (``{name: {option: value}}``) and ``_check_options``, if the
    stage takes a ``preset``: ``resolve_options`` merges a preset with the
    options given and rejects unknown ones. ``batch_size`` and
    ``jit_compile`` options are the defaults of ``fit``.
"""

from __future__ import annotations

import json
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import load_variables, read_header, read_values, save_variables
from .errors import CkganError, TrainingWarning
from .options import resolve
from .storage import atomic_write_text

CONFIG_FILE = "image_stage.json"
WEIGHTS_FILE = "image_stage.h5"
CHECKPOINT_FILE = "checkpoint.h5"
#: prefix of the groups that hold, in a checkpoint, the healthy state before its own
PREVIOUS = "previous_"
LABEL_POOL = 65_536
#: what to do about a trained model file that is missing or corrupt: it cannot be re-derived
MODEL_FIX = "restore the run folder from a copy, or train the run again into a new folder"


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Float images in [-1, 1] to uint8 pixels."""
    return np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)


def column_groups(columns: Sequence[str]) -> list[int]:
    """Each model-vector column's node, numbered in order: a categorical node's
    one-hot columns (``age=old``, ``age=young``) share one, a binary node has its own."""
    nodes: dict[str, int] = {}
    return [nodes.setdefault(column.split("=", 1)[0], len(nodes)) for column in columns]


def label_pool(label_generator, nodes, seed: int, do_fraction: float = 0.0) -> np.ndarray:
    """The ``(LABEL_POOL, columns)`` model vectors the generator practises on, float 0/1.

    The label stage's samples (as model vectors: one-hot blocks for nodes of
    three or more states); with ``do_fraction`` > 0, that share of the rows is
    drawn under single-node interventions instead, ``do(X=x)`` for every
    state of every node alike. The observational rows alone rarely ask for
    an image outside the data's support (a bald woman, a woman with a
    mustache), which is what ``do`` samples need. ``nodes`` names the stage's
    columns; a label generator without a graph draws them as binary nodes.
    """
    graph = getattr(label_generator, "graph", None)
    if graph is not None:
        encode = graph.encoding.encode
        settings = [(n, v) for n, k in zip(graph.nodes, graph.cards, strict=True) for v in range(k)]
    else:
        encode = np.asarray
        settings = [(node, value) for node in nodes for value in (0, 1)]
    extra = round(LABEL_POOL * float(do_fraction))
    blocks = [label_generator.sample(LABEL_POOL - extra, seed=seed)]
    for i, (node, value) in enumerate(settings):
        rows = extra * (i + 1) // len(settings) - extra * i // len(settings)
        if rows:
            blocks.append(label_generator.sample(rows, do={node: value}, seed=seed + 1 + i))
    return encode(np.concatenate(blocks)).astype("float32")


class ImageStage:
    """Base class of image stages; ``kind`` is the name it is registered under.

    Args:
        nodes: the label names, in the causal graph's order.
        size: image side in pixels (the architecture follows it).
        **options: the stage's own options, kept for ``get_config``.
    """

    kind: str = "image stage"
    sizes: tuple[int, ...] = (16, 32, 64)
    #: option values per preset; an explicit constructor argument overrides them
    presets: dict[str, dict[str, Any]] = {}
    #: allowed ranges of options, in interval notation (``ckgan.options``); subclasses extend it
    option_ranges: dict[str, str] = {
        "learning_rate": "(0, inf)", "beta_1": "[0, 1)", "beta_2": "[0, 1)",
        "batch_size": "[1, inf)", "steps": "[1, inf)", "noise_dim": "[1, inf)",
        "ema_decay": "[0, 1)", "jit_compile": (True, False, "auto"),
    }  # fmt: skip
    #: options added since stages were first saved, with the value a saved
    #: config that lacks one had in effect (``load`` fills them in)
    added_options: dict[str, Any] = {}
    #: options removed since, with the value that did nothing: a saved config
    #: holding that value loads without it, any other is a clear error
    removed_options: dict[str, Any] = {}

    def __init__(self, nodes: Sequence[str], size: int = 32, **options: Any):
        if size not in self.sizes:
            raise CkganError(
                f"image size {size} is not supported by '{self.kind}' "
                f"(sizes: {', '.join(map(str, self.sizes))})"
            )
        self.nodes = tuple(nodes)
        if not self.nodes:
            raise CkganError(f"the '{self.kind}' image stage needs at least one label")
        self.size = size
        self.options = options
        self._model = None
        #: the step-backs of the last ``fit`` (``{"step", "to", "why"}``; option ``rollbacks``)
        self.rollbacks: list[dict[str, Any]] = []

    @classmethod
    def resolve_options(
        cls, preset: str, given: dict[str, Any], extra: dict[str, Any]
    ) -> dict[str, Any]:
        """``preset``'s options overridden by ``given`` (the non-``None`` arguments) and
        ``extra`` (keyword arguments the constructor did not name), checked against
        ``option_ranges`` (``ckgan.options.resolve``)."""
        return resolve(cls, preset, given, extra, f"'{cls.kind}' image stage")

    # -- the model -------------------------------------------------------------------

    @property
    def model(self):
        if self._model is None:
            self._model = self.build_model()
        return self._model

    def build_model(self):
        raise NotImplementedError

    @property
    def noise_dim(self) -> int:
        """Size of the generator's noise input (the ``noise_dim`` option)."""
        return int(self.options.get("noise_dim", 64))

    def _generate(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _state_groups(self) -> dict[str, list]:
        """Every variable that makes up the training state, by group."""
        model = self.model
        model.build_all()
        groups = {"model": list(model.variables)}
        for name, optimizer in model.optimizers.items():
            groups[f"optimizer_{name}"] = list(optimizer.variables)
        return groups

    # -- training --------------------------------------------------------------------

    def fit(
        self,
        dataset,
        label_generator,
        *,
        steps: int,
        batch_size: int | None = None,
        seed: int = 0,
        directory: str | Path | None = None,
        checkpoint_every: int = 250,
        resume: bool = False,
        verbose: int = 1,
        on_checkpoint: Callable[[ImageStage, int], None] | None = None,
        jit_compile: bool | str | None = None,
        on_log: Callable[[dict[str, float]], None] | None = None,
    ) -> list[dict[str, float]]:
        """Train until ``steps`` steps in total; returns the log (one entry per checkpoint).

        With ``directory``, a checkpoint is written there every
        ``checkpoint_every`` steps and at the end (atomically), and
        ``resume=True`` continues from it, to the same total (the random
        state comes back with the checkpoint; the input pipeline restarts,
        seeded by ``seed`` plus the step). ``seed`` fixes the initial weights
        (when the model is built here), the labels asked for and the data
        order. ``on_checkpoint(stage, step)`` runs after each (sample grids),
        ``on_log(entry)`` with each new log entry once it is checkpointed.
        Training that goes NaN stops with a ``CkganError``; the last good
        checkpoint stays. With the stage option ``rollbacks`` N, a span after
        which the model says it lost what its critics had learned
        (``lost_labels``) is undone, up to N times a run: training goes back
        two checkpoints (further if an earlier step-back went there) and on
        with other batches, with a ``TrainingWarning`` (``self.rollbacks``
        lists them); with
        ``rollback_refill`` R, up to N times in any R steps instead (a
        step-back comes back R steps after the step it undid). ``batch_size``
        and ``jit_compile`` default to the stage's options (else 64 and
        ``"auto"``).
        """
        import keras

        if not dataset.has_images:
            raise CkganError(f"dataset '{dataset.name}' has no images to train an image stage")
        steps = int(steps)
        if steps < 1 or checkpoint_every < 1:
            raise CkganError("steps and checkpoint_every must be at least 1")
        batch_size = int(batch_size or self.options.get("batch_size", 64))
        if jit_compile is None:
            jit_compile = self.options.get("jit_compile", "auto")
        keras.utils.set_random_seed(seed)
        model = self.model
        model.compile_stage(jit_compile=jit_compile)
        pool = label_pool(label_generator, self.nodes, seed, self.options.get("do_fraction", 0))
        if pool.shape != tuple(model.label_pool.shape):
            raise CkganError(
                f"the label generator draws {pool.shape[1]} labels, the image stage "
                f"expects {len(self.nodes)} ({', '.join(self.nodes)})"
            )
        model.label_pool.assign(pool)
        model.build_all()

        step = 0
        log: list[dict[str, float]] = []
        rollbacks: list[dict[str, Any]] = []
        ckpt = Path(directory) / CHECKPOINT_FILE if directory else None
        if resume:
            if ckpt is None:
                raise CkganError("resuming needs the run folder that holds the checkpoint")
            header = read_header(ckpt)
            if header.get("kind", self.kind) != self.kind:
                raise CkganError(
                    f"checkpoint '{ckpt}' was written by the '{header['kind']}' image stage, "
                    f"not by '{self.kind}': resume with the stage that wrote it"
                )
            header = load_variables(ckpt, self._state_groups())
            step = int(header["step"])
            log = list(header.get("log", []))
            rollbacks = list(header.get("rollbacks", []))
        self.rollbacks = rollbacks
        if step >= steps:
            return log
        nan_guard, checkpointer = _callbacks()
        guard = nan_guard()
        saver = checkpointer(self, ckpt, steps, log, on_checkpoint, guard, on_log)
        saver.rollbacks = rollbacks
        if resume:
            saver.keep_earlier(header)
        saver.keep_snapshot(step)
        salt = 0  # moves the data order on after each step back
        start = time.perf_counter()
        # Keras epochs are the spans between checkpoints: up to the next multiple
        # of checkpoint_every, whole spans, then what is left, so the run ends at
        # exactly `steps` whatever step it resumed from.
        while step < steps:
            epochs, per_epoch = _segments(step, steps, checkpoint_every)[0]
            guard.start = saver.start = step
            guard.per_epoch = saver.per_epoch = per_epoch
            model.fit(
                self._pipeline(dataset, batch_size, seed + step + salt),
                epochs=epochs,
                steps_per_epoch=per_epoch,
                callbacks=[guard, saver],
                verbose=verbose,
                shuffle=False,  # the pipeline shuffles
            )
            if guard.bad is not None:
                where = f"the last good checkpoint is kept in '{ckpt}'" if ckpt else "no checkpoint"
                raise CkganError(
                    f"training went NaN by step {guard.bad} ({guard.what}); {where}: "
                    "lower the learning rate or change the seed, then resume"
                )
            if saver.lost is None:
                step += epochs * per_epoch
                continue
            step = saver.roll_back()
            salt += 1_000_003
        if log:
            log[-1]["seconds_this_session"] = time.perf_counter() - start
        return log

    def _pipeline(self, dataset, batch_size: int, seed: int):
        """Endless shuffled, flipped training batches as numpy (no TensorFlow needed).

        With ``labeler_batches`` N, each step's batch is N consecutive batches
        (the Labeler's), so a split needs only ``batch_size`` images.
        """
        from . import backend

        nodes = list(self.nodes)
        batches = dataset.batches(
            "train", nodes, size=self.size, batch_size=batch_size, augment=True, seed=seed
        )
        groups = int(self.options.get("labeler_batches", 1))
        if groups > 1:
            batches = _grouped(batches, groups, batch_size)
        return backend.fit_input(batches)

    # -- sampling --------------------------------------------------------------------

    def generate(self, labels: np.ndarray, seed: int | None = None, batch_size: int = 256):
        """Images for ``(n, columns)`` 0/1 model vectors, uint8 ``(n, size, size, 3)``.

        For a graph with categorical nodes the vectors hold their one-hot
        blocks (``CausalGraph.encoding.encode``; ``Run.generate_images`` does it).

        Batch norm runs in inference mode, so an image depends on its own
        labels and noise only, never on the rest of its batch.
        """
        labels = np.asarray(labels, dtype="float32")
        if labels.ndim != 2 or labels.shape[1] != len(self.nodes):
            raise CkganError(
                f"labels must have {len(self.nodes)} columns ({', '.join(self.nodes)})"
            )
        rng = np.random.default_rng(seed)
        out = [
            self._generate(labels[i : i + batch_size], rng)
            for i in range(0, len(labels), batch_size)
        ]
        if not out:
            return np.zeros((0, self.size, self.size, 3), np.uint8)
        return to_uint8(np.concatenate(out))

    # -- storage ---------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes), "size": self.size, **self.options}

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_variables(directory / WEIGHTS_FILE, self._state_groups(), {"kind": self.kind})
        config = {"kind": self.kind, "config": self.get_config()}
        atomic_write_text(directory / CONFIG_FILE, json.dumps(config, indent=2))

    @classmethod
    def from_config(cls, config: dict[str, Any], where: str | Path) -> ImageStage:
        """A stage built, untrained, from a saved ``get_config()`` (``where`` names its file).

        Options added since it was saved take the value in effect then
        (``added_options``), so that a saved run trains and samples on as it did.
        """
        config = dict(config)
        for key, value in cls.added_options.items():
            config.setdefault(key, value)
        for key, value in cls.removed_options.items():
            if key in config and config.pop(key) != value:
                raise CkganError(
                    f"'{where}' was trained with option {key}, which this version of "
                    f"the '{cls.kind}' image stage no longer has: load it with the ckgan "
                    "that trained it"
                )
        try:
            return cls(config.pop("nodes"), **config)
        except (KeyError, TypeError) as e:
            raise CkganError(
                f"'{where}' does not fit the '{cls.kind}' image stage installed ({e}): "
                "it was saved by another version"
            ) from None

    @classmethod
    def load(cls, directory: str | Path) -> ImageStage:
        directory = Path(directory)
        path = directory / CONFIG_FILE
        if not path.is_file():
            raise CkganError(f"no image stage in '{directory}' (missing {CONFIG_FILE})")
        kind, config = read_config(path)
        if cls is ImageStage:
            from .plugins import get_registry

            klass = get_registry().get("image", kind).load()
        else:
            klass = cls
        stage = klass.from_config(config, path)
        header = read_header(directory / WEIGHTS_FILE, MODEL_FIX)
        if header.get("kind", kind) != kind:
            raise CkganError(
                f"'{directory / WEIGHTS_FILE}' holds a '{header['kind']}' image stage, "
                f"its config says '{kind}': the folder is inconsistent"
            )
        load_variables(directory / WEIGHTS_FILE, stage._state_groups(), MODEL_FIX)
        return stage


def read_config(path: str | Path) -> tuple[str, dict[str, Any]]:
    """``(kind, config)`` of a saved stage's ``CONFIG_FILE``; a clear error if corrupt."""
    try:
        saved = json.loads(Path(path).read_text())
        return saved["kind"], dict(saved["config"])
    except (ValueError, KeyError, TypeError) as e:
        raise CkganError(
            f"'{path}' is corrupt ({e}): restore the run folder from a copy, "
            "or train its image stage again"
        ) from None


def _segments(step: int, steps: int, every: int) -> list[tuple[int, int]]:
    """``[(epochs, steps_per_epoch), ...]`` from ``step`` to ``steps``.

    Spans end on multiples of ``every``, the last one at ``steps``.
    """
    plan = []
    first = min(-step % every, steps - step)
    if first:
        plan.append((1, first))
        step += first
    full, rest = divmod(steps - step, every)
    if full:
        plan.append((full, every))
    if rest:
        plan.append((1, rest))
    return plan


_CALLBACKS: tuple | None = None


def _callbacks():
    """The Keras callback classes, defined on first use so importing this module needs no Keras."""
    global _CALLBACKS
    if _CALLBACKS is not None:
        return _CALLBACKS
    import keras

    class NaNGuard(keras.callbacks.Callback):
        """Stops training at the end of a checkpoint span whose metrics are not finite.

        Checked once per span, not per step: a step's check would pull its
        metrics to the host and stall the device; a metric that went NaN at
        any step leaves the span's running mean NaN, and that span is not saved.
        """

        def __init__(self):
            super().__init__()
            self.start = self.per_epoch = 0
            self.bad = None
            self.what = ""

        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                if not np.isfinite(float(value)):
                    self.bad = self.start + (epoch + 1) * self.per_epoch
                    self.what = f"{key} = {float(value)}"
                    self.model.stop_training = True
                    return

    class Checkpointer(keras.callbacks.Callback):
        """At each epoch end: check the weights, log, checkpoint atomically, ``on_checkpoint``.

        Weights that are not finite stop training like a NaN metric does
        (a NaN can hide from the losses: NaN input pixels were seen to leave them
        finite while the weights went NaN). While a step-back is left
        (``left``), a span whose log the model calls lost (``lost_labels``) is
        neither logged nor saved: training stops there and ``roll_back``
        restores the state of the healthy checkpoint before the one the lost
        span began from, and never one that an earlier step-back went to (on
        synthfaces a run that went back one span lost its labels again in the
        same span, from two it went on healthy; beacons went back to the same
        state twice and lost them a third time). The states are kept in
        memory, and the checkpoint file holds the one before it too
        (``previous_*`` groups), so a resumed run can go back as far.
        """

        def __init__(self, stage, path, steps, log, on_checkpoint, guard, on_log=None):
            super().__init__()
            self.stage, self.path, self.steps = stage, path, steps
            self.log, self.on_checkpoint, self.guard = log, on_checkpoint, guard
            self.on_log = on_log
            self.start = self.per_epoch = 0
            self.allowed = int(stage.options.get("rollbacks", 0))
            self.refill = int(stage.options.get("rollback_refill", 0))
            self.lost: tuple[int, str] | None = None
            self.rollbacks: list[dict[str, Any]] = []
            self.snapshots: deque = deque(maxlen=3)  # (step, values) of healthy checkpoints

        def on_epoch_end(self, epoch, logs=None):
            if self.model.stop_training:  # NaN: keep the last good checkpoint
                return
            step = self.start + (epoch + 1) * self.per_epoch
            for variable in self.model.variables:
                value = np.asarray(variable)
                if value.dtype.kind == "f" and not np.isfinite(value).all():
                    self.guard.bad = step
                    self.guard.what = f"{variable.path} is not finite"
                    self.model.stop_training = True
                    return
            entry = {"step": step, **{k: float(v) for k, v in (logs or {}).items()}}
            if self.left(step) > 0:
                why = self.model.lost_labels([*self.log, entry])
                if why:
                    self.lost = (step, why)
                    self.model.stop_training = True
                    return
            self.log.append(entry)
            self._save(step)
            self.keep_snapshot(step)
            if self.on_log is not None:
                self.on_log(entry)
            if self.on_checkpoint is not None:
                self.on_checkpoint(self.stage, step)

        def left(self, step: int) -> int:
            """Step-backs left for the span that ends at ``step``: ``rollbacks``
            less those taken, or with ``rollback_refill`` R those taken at a
            step less than R before."""
            spent = [r for r in self.rollbacks if not self.refill or step - r["step"] < self.refill]
            return self.allowed - len(spent)

        def keep_snapshot(self, step: int) -> None:
            """Keep the state at ``step`` in memory while a step back may still come."""
            if self.may_step_back(step):
                self.snapshots.append((step, _snapshot(self.stage._state_groups())))

        def may_step_back(self, step: int) -> bool:
            """A step back may still come after ``step`` (one is left now, or a
            spent one comes back)."""
            return self.allowed > 0 and bool(self.refill or self.left(step) > 0)

        def keep_earlier(self, header: dict[str, Any]) -> None:
            """On resuming: keep the state the checkpoint holds from before its
            own (if it does, and a step back may come), as if never stopped."""
            earlier = header.get("previous_step")
            if earlier is None or self.path is None or not self.may_step_back(header["step"]):
                return
            values = read_values(self.path, self.stage._state_groups(), PREVIOUS)
            if values is not None:
                self.snapshots.append((int(earlier), values))

        def _save(self, step):
            if self.path is not None:
                header = {"kind": self.stage.kind, "step": step, "log": self.log}
                if self.rollbacks:
                    header["rollbacks"] = self.rollbacks
                groups = self.stage._state_groups()
                earlier = [kept for kept in self.snapshots if kept[0] < step]
                if earlier and self.may_step_back(step):  # for a resumed run
                    header["previous_step"], values = earlier[-1]
                    groups = {**groups, **{PREVIOUS + k: v for k, v in values.items()}}
                save_variables(self.path, groups, header)

        def roll_back(self) -> int:
            """After a lost span, restore the healthy checkpoint before the one the
            span began from, passing over any that an earlier step-back went to
            (or the oldest kept, if no other is); returns its step."""
            step, why = self.lost
            if len(self.snapshots) > 1:  # the state that began the lost span may be doomed
                self.snapshots.pop()
            been = {r["to"] for r in self.rollbacks}
            while len(self.snapshots) > 1 and self.snapshots[-1][0] in been:
                self.snapshots.pop()  # it led to a loss once already
            to, values = self.snapshots[-1]
            _restore(self.stage._state_groups(), values)
            self.log[:] = [entry for entry in self.log if entry["step"] <= to]
            self.rollbacks.append({"step": step, "to": to, "why": why})
            self._save(to)
            per = f" in {self.refill} steps" if self.refill else ""
            warnings.warn(
                f"image stage, step {step}: {why}; training went back to step {to} "
                f"and on with other batches (step-back {len(self.rollbacks)}, "
                f"{self.left(step)} of {self.allowed}{per} left, options rollbacks "
                "and rollback_refill)",
                TrainingWarning,
                stacklevel=2,
            )
            self.lost = None
            self.model.stop_training = False
            return to

    _CALLBACKS = (NaNGuard, Checkpointer)
    return _CALLBACKS


def _snapshot(groups: dict[str, list]) -> dict[str, list[np.ndarray]]:
    """A copy of every variable's value (``np.array`` copies: a torch tensor's
    ``np.asarray`` would share its memory)."""
    return {name: [np.array(v) for v in variables] for name, variables in groups.items()}


def _restore(groups: dict[str, list], values: dict[str, list[np.ndarray]]) -> None:
    for name, variables in groups.items():
        for variable, value in zip(variables, values[name], strict=True):
            variable.assign(value)


def _grouped(batches, groups: int, batch_size: int):
    """``groups`` consecutive batches as one: a ``tf.data.Dataset`` stays one."""
    if hasattr(batches, "unbatch"):  # a streamed dataset's endless tf.data pipeline
        return batches.unbatch().batch(groups * batch_size, drop_remainder=True).prefetch(-1)
    batches = iter(batches)

    def joined():
        while True:
            parts = [next(batches) for _ in range(groups)]
            yield tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    return joined()
