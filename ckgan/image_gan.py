"""``ImageGAN``: what the image stages' Keras models share.

Each stage's model is a conditional GAN whose generator draws labels from a
pool sampled from the frozen label stage and whose samples come from a moving
average of the generator's weights. This base class holds those parts (the
label pool, the step counter, the random state, the moving average, the
metric trackers and the config round trip) so that every stage checkpoints
them alike; a subclass adds its critics, optimizers, losses and
``step``.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
from keras import ops

from .training import GANModel


class ImageGAN(GANModel):
    """Base of the image stages' models: generator, its moving average, critics.

    Subclasses set ``network_names`` (``"generator"``, ``"ema_generator"``,
    then the critics, which are built on images), ``config_keys`` (constructor
    arguments ``get_config`` returns as they are) and ``metric_names``, create
    ``self.optimizers`` and implement ``optimizer_variables`` and
    ``step`` (``GANModel``), which ends with ``end_step`` and ``record``.

    Args:
        networks: ``{name: network}`` for every name of ``network_names``.
        num_labels: k.
        noise_dim: z's dimension.
        pool_size: rows of ``label_pool``.
        ema_decay: of the moving average (warmed up as ``(1 + t) / (10 + t)``).
        seed: of the ``keras.random.SeedGenerator``.
        independent_rows: the share of a generator batch ``draw_batch_labels``
            draws with independent nodes (0: every row from the pool).
        column_groups: each label column's node (a categorical node's one-hot
            columns share one); ``None``: one node per column.
        labeler_batches: real batches per step: the Labeler learns from all
            of them, the discriminator from the first (``discriminator_rows``);
            ``ImageStage`` joins that many pipeline batches into a step's.
    """

    network_names: tuple[str, ...] = ("generator", "ema_generator")
    #: weigh the label losses by each value's rarity (``label_weights``); a stage option
    balance_labels: bool = False
    #: the Labelers see softened images (``soften``); a stage option
    labeler_augment: bool = False
    config_keys: tuple[str, ...] = ()
    metric_names: tuple[str, ...] = ()

    def __init__(
        self,
        networks: Mapping[str, keras.Model],
        num_labels: int,
        noise_dim: int,
        pool_size: int,
        ema_decay: float,
        seed: int | None,
        *,
        independent_rows: float = 0.0,
        column_groups=None,
        labeler_batches: int = 1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name in self.network_names:  # this order is the checkpoint's order
            setattr(self, name, networks[name])
        self.num_labels, self.noise_dim = int(num_labels), int(noise_dim)
        self.pool_size = int(pool_size)
        self.ema_decay = float(ema_decay)
        self.seed = seed
        self.independent_rows = float(independent_rows)
        self.labeler_batches = int(labeler_batches)
        self.column_groups = None if column_groups is None else [int(g) for g in column_groups]
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.label_pool = keras.Variable(
            np.zeros((self.pool_size, self.num_labels), "float32"),
            trainable=False,
            name="label_pool",
        )
        self.step_counter = keras.Variable(0, dtype="int32", trainable=False, name="step")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.optimizers: dict[str, keras.optimizers.Optimizer] = {}
        self._all_built = False

    @property
    def metrics(self):
        return list(self.trackers.values())

    def networks(self) -> dict[str, keras.Model]:
        """The trained networks by name: the generator and the critics."""
        return {name: getattr(self, name) for name in self.network_names if name != "ema_generator"}

    def optimizer_variables(self) -> dict[str, list]:
        """``{optimizer name: the variables it updates}``."""
        raise NotImplementedError

    def compile_stage(self, jit_compile: bool | str = "auto") -> None:
        """Build everything and compile for ``fit`` with XLA as asked (``"auto"``: per backend)."""
        self.build_all()
        self.compile_players(self.optimizers, self.optimizer_variables(), jit_compile=jit_compile)

    def build_all(self) -> None:
        """Create every network's and optimizer's variables; the average starts as a copy."""
        if self._all_built:
            return
        x = ops.zeros((2, self.num_labels + self.noise_dim))
        self.generator(x, training=False)
        self.ema_generator(x, training=False)
        self.build_critics(ops.zeros((2, self.generator.size, self.generator.size, 3)))
        for avg, var in zip(self.ema_generator.variables, self.generator.variables, strict=True):
            avg.assign(var)
        for name, variables in self.optimizer_variables().items():
            self.optimizers[name].build(variables)
        self.built = True
        self._all_built = True

    def build_critics(self, images) -> None:
        """Call each critic once on ``images`` (zeros) to create its variables."""
        for name in self.network_names[2:]:
            getattr(self, name)(images)

    def discriminator_rows(self, images) -> int:
        """How many of a step's real images the discriminator sees: the first
        ``1 / labeler_batches`` of them (the Labeler sees them all)."""
        return int(images.shape[0]) // self.labeler_batches

    def draw_labels(self, rows: int):
        """``rows`` label vectors drawn from the pool at random, rounded to 0/1."""
        index = keras.random.randint((rows,), 0, self.pool_size, seed=self.seed_generator)
        return ops.cast(ops.take(self.label_pool, index, axis=0) >= 0.5, "float32")

    def independent_count(self, rows: int) -> int:
        """How many of ``rows`` label vectors ``draw_batch_labels`` draws with
        independent nodes: ``round(rows * independent_rows)``, leaving one pooled."""
        return min(rows - 1, round(rows * self.independent_rows))

    def draw_batch_labels(self, rows: int):
        """``rows`` label vectors for a generator batch: from the pool, the last
        ``independent_count(rows)`` with independent nodes (``draw_independent_labels``)."""
        extra = self.independent_count(rows)
        labels = self.draw_labels(rows - extra)
        if extra:
            independent = self.draw_independent_labels(extra, self.column_groups)
            labels = ops.concatenate([labels, independent], axis=0)
        return labels

    def draw_independent_labels(self, rows: int, groups=None):
        """``rows`` label vectors whose nodes are independent: each node's block of
        columns taken from its own random row of the pool (the product of the
        pool's marginals). ``groups[j]``: column ``j``'s node (``None``: each
        column its own node); a categorical node's one-hot block stays whole.
        """
        k = self.num_labels
        groups = list(range(k)) if groups is None else [int(g) for g in groups]
        picks = keras.random.randint(
            (rows, max(groups) + 1), 0, self.pool_size, seed=self.seed_generator
        )
        columns = ops.convert_to_tensor(np.arange(k, dtype="int32"))
        index = ops.take(picks, np.asarray(groups, "int32"), axis=1) * k + columns
        flat = ops.take(ops.reshape(self.label_pool, (-1,)), ops.reshape(index, (-1,)))
        return ops.cast(ops.reshape(flat, (rows, k)) >= 0.5, "float32")

    def label_rates(self):
        """Each attribute's rate of 1s in the label pool, clipped to [0.01, 0.99]."""
        rate = ops.mean(ops.cast(self.label_pool >= 0.5, "float32"), axis=0)
        return ops.clip(rate, 0.01, 0.99)

    def label_weights(self, targets, rates=None):
        """Per-element weights of the label losses: 1, or class-balanced per attribute.

        Balanced: a 1 of an attribute with rate ``p`` in the label pool weighs
        ``0.5 / p``, a 0 ``0.5 / (1 - p)``, so a rare value (Bald, 2%) counts
        as much as a common one instead of 1/50 as much. ``rates``: the
        pool's ``label_rates()``, when the caller has them already.
        """
        if not self.balance_labels:
            return ops.ones_like(targets)
        rate = self.label_rates() if rates is None else rates
        return targets * (0.5 / rate) + (1.0 - targets) * (0.5 / (1.0 - rate))

    def soften(self, images):
        """``images`` as the Labelers see them: unchanged, or softened (``labeler_augment``)."""
        if not self.labeler_augment:
            return images
        b = images.shape[0]
        blurred = ops.average_pool(images, 3, strides=1, padding="same")
        pick = keras.random.uniform((b, 1, 1, 1), seed=self.seed_generator) < 0.5
        noise = keras.random.normal(ops.shape(images), stddev=0.1, seed=self.seed_generator)
        return ops.where(pick, blurred, images) + noise

    def end_step(self) -> None:
        """Count the step and move the generator's average towards its weights."""
        self.step_counter.assign_add(1)
        t = ops.cast(self.step_counter, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
        for avg, var in zip(self.ema_generator.variables, self.generator.variables, strict=True):
            avg.assign(decay * avg + (1.0 - decay) * var)

    def record(self, values: Mapping) -> dict:
        """Feed the step's values to the trackers; their running means, for ``fit``."""
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def lost_labels(self, log: list[dict[str, float]]) -> str | None:
        """Why the span of ``log[-1]`` lost what the critics had learned, or ``None``.

        ``ImageStage.fit`` asks after every checkpoint span when the stage's
        ``rollbacks`` option allows a step back; this base never says so.
        """
        return None

    def call(self, inputs, training=False):
        return self.ema_generator(inputs, training=training)

    def get_config(self):
        nets = {
            name: keras.saving.serialize_keras_object(getattr(self, name))
            for name in self.network_names
        }
        base = {
            "num_labels": self.num_labels,
            "noise_dim": self.noise_dim,
            "pool_size": self.pool_size,
            "ema_decay": self.ema_decay,
            "seed": self.seed,
            "labeler_batches": self.labeler_batches,
        }
        own = {key: getattr(self, key) for key in self.config_keys}
        return {**super().get_config(), **nets, **base, **own}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.network_names:
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
