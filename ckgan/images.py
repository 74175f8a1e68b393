"""``ImageStage``: the image half of a causal implicit generative model.

An image stage is a conditional GAN that turns (labels, noise) into an image.
It trains on (image, labels) pairs while a frozen label generator supplies the
labels the generator is asked to draw. This base class owns what every stage
shares: the input pipeline, the Keras ``fit`` loop with atomic checkpoints
(resumable after a kill), a NaN guard, sample grids during training, and
sampling with batch norm in inference mode. Subclasses build the Keras model.

Subclass contract:
  * ``build_model() -> keras.Model`` with ``compile_stage()``, a custom
    ``train_step((images, labels))``, a non-trainable ``label_pool`` variable
    the step draws the generator's labels from, and ``optimizers`` (a dict);
  * ``noise_dim`` and ``_generate(labels, rng) -> float images in [-1, 1]``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import load_variables, read_header, save_variables
from .errors import CkganError
from .storage import atomic_write_text

CONFIG_FILE = "image_stage.json"
WEIGHTS_FILE = "image_stage.h5"
CHECKPOINT_FILE = "checkpoint.h5"
LABEL_POOL = 65_536


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Float images in [-1, 1] to uint8 pixels."""
    return np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)


class ImageStage:
    """Base class of image stages; ``kind`` is the name it is registered under.

    Args:
        nodes: the label names, in the causal graph's order.
        size: image side in pixels (the architecture follows it).
        **options: the stage's own options, kept for ``get_config``.
    """

    kind: str = "image stage"
    sizes: tuple[int, ...] = (16, 32, 64)

    def __init__(self, nodes: Sequence[str], size: int = 32, **options: Any):
        if size not in self.sizes:
            raise CkganError(
                f"image size {size} is not supported by '{self.kind}' "
                f"(sizes: {', '.join(map(str, self.sizes))})"
            )
        self.nodes = tuple(nodes)
        self.size = size
        self.options = options
        self._model = None

    # -- the model -------------------------------------------------------------------

    @property
    def model(self):
        if self._model is None:
            self._model = self.build_model()
        return self._model

    def build_model(self):
        raise NotImplementedError

    noise_dim: int = 64

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
        batch_size: int = 64,
        seed: int = 0,
        directory: str | Path | None = None,
        checkpoint_every: int = 250,
        resume: bool = False,
        verbose: int = 1,
        on_checkpoint: Callable[[ImageStage, int], None] | None = None,
        jit_compile: bool | str = "auto",
    ) -> list[dict[str, float]]:
        """Train for ``steps`` steps in total; returns the log (one entry per checkpoint).

        With ``directory``, a checkpoint is written there every
        ``checkpoint_every`` steps (atomically), and ``resume=True`` continues
        from it. ``on_checkpoint(stage, step)`` runs after each (sample grids).
        Training that goes NaN stops with a ``CkganError``; the last good
        checkpoint stays.
        """
        import keras

        if dataset.has_images is False:
            raise CkganError(f"dataset '{dataset.name}' has no images to train an image stage")
        keras.utils.set_random_seed(seed)
        model = self.model
        model.compile_stage(jit_compile=jit_compile)
        pool = label_generator.sample(LABEL_POOL, seed=seed).astype("float32")
        model.label_pool.assign(pool)
        model.build_all()

        step = 0
        log: list[dict[str, float]] = []
        ckpt = Path(directory) / CHECKPOINT_FILE if directory else None
        if resume:
            if ckpt is None:
                raise CkganError("resuming needs the run folder that holds the checkpoint")
            header = load_variables(ckpt, self._state_groups())
            step = int(header["step"])
            log = list(header.get("log", []))
        per_epoch = max(1, min(checkpoint_every, steps))
        epochs = math.ceil(steps / per_epoch)
        initial_epoch = step // per_epoch
        if step >= steps:
            return log
        data = self._pipeline(dataset, batch_size, seed + step)
        nan_guard, checkpointer = _callbacks()
        guard = nan_guard(per_epoch)
        callbacks = [guard, checkpointer(self, ckpt, per_epoch, steps, log, on_checkpoint)]
        start = time.perf_counter()
        model.fit(
            data,
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=per_epoch,
            callbacks=callbacks,
            verbose=verbose,
        )
        if guard.bad is not None:
            where = f"the last good checkpoint is kept in '{ckpt}'" if ckpt else "no checkpoint"
            raise CkganError(
                f"training went NaN at step {guard.bad} ({guard.what}); {where}: "
                "lower the learning rate or change the seed, then resume"
            )
        if log:
            log[-1]["seconds_this_session"] = time.perf_counter() - start
        return log

    def _pipeline(self, dataset, batch_size: int, seed: int):
        import tensorflow as tf

        ds = dataset.tf_dataset(
            "train",
            list(self.nodes),
            size=self.size,
            images=True,
            shuffle=True,
            augment=True,
            seed=seed,
        )
        ds = ds.repeat().batch(batch_size, drop_remainder=True)
        return ds.prefetch(tf.data.AUTOTUNE)

    # -- sampling --------------------------------------------------------------------

    def generate(self, labels: np.ndarray, seed: int | None = None, batch_size: int = 256):
        """Images for ``(n, k)`` 0/1 labels, uint8 ``(n, size, size, 3)``.

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
    def load(cls, directory: str | Path) -> ImageStage:
        directory = Path(directory)
        path = directory / CONFIG_FILE
        if not path.is_file():
            raise CkganError(f"no image stage in '{directory}' (missing {CONFIG_FILE})")
        try:
            saved = json.loads(path.read_text())
            kind, config = saved["kind"], dict(saved["config"])
        except (ValueError, KeyError, TypeError) as e:
            raise CkganError(f"'{path}' is corrupt ({e})") from None
        if cls is ImageStage:
            from .plugins import get_registry

            klass = get_registry().get("image", kind).load()
        else:
            klass = cls
        nodes = config.pop("nodes")
        stage = klass(nodes, **config)
        read_header(directory / WEIGHTS_FILE)
        load_variables(directory / WEIGHTS_FILE, stage._state_groups())
        return stage


_CALLBACKS: tuple | None = None


def _callbacks():
    """The Keras callback classes, defined on first use so importing this module needs no Keras."""
    global _CALLBACKS
    if _CALLBACKS is not None:
        return _CALLBACKS
    import keras

    class NaNGuard(keras.callbacks.Callback):
        """Stops training at the first non-finite loss and remembers where."""

        def __init__(self, per_epoch):
            super().__init__()
            self.per_epoch = per_epoch
            self.epoch = 0
            self.bad = None
            self.what = ""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            for key, value in (logs or {}).items():
                if not np.isfinite(float(value)):
                    self.bad = self.epoch * self.per_epoch + batch + 1
                    self.what = f"{key} = {float(value)}"
                    self.model.stop_training = True
                    return

    class Checkpointer(keras.callbacks.Callback):
        """At each epoch end: log, checkpoint atomically, call ``on_checkpoint``."""

        def __init__(self, stage, path, per_epoch, steps, log, on_checkpoint):
            super().__init__()
            self.stage, self.path, self.per_epoch, self.steps = stage, path, per_epoch, steps
            self.log, self.on_checkpoint = log, on_checkpoint

        def on_epoch_end(self, epoch, logs=None):
            if self.model.stop_training:  # NaN: keep the last good checkpoint
                return
            step = min((epoch + 1) * self.per_epoch, self.steps)
            entry = {"step": step, **{k: float(v) for k, v in (logs or {}).items()}}
            self.log.append(entry)
            if self.path is not None:
                save_variables(
                    self.path, self.stage._state_groups(), {"step": step, "log": self.log}
                )
            if self.on_checkpoint is not None:
                self.on_checkpoint(self.stage, step)

    _CALLBACKS = (NaNGuard, Checkpointer)
    return _CALLBACKS
