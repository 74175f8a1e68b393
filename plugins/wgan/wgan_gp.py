"""``WGANGP``: a Wasserstein GAN with gradient penalty as a ``keras.Model``.

One ``step`` is ``n_critic`` critic updates and one generator update,
fused in one compiled step so that small steps are not dominated by per-step
overhead. The step receives the whole real data set (``fit`` on
``ckgan.backend.repeated_dataset(data)``) and draws its batches by random
indices. An exponential moving average of the generator's weights can be kept
in a second generator of the same architecture.

Rare values get their own share of every batch (``clamp``): rows drawn
value by value, whose non-descendants the generator takes from the data
(a per-row ``do``) and whose descendants it generates, so the critic judges
the generator's mechanisms where a ``do`` of a rare value needs them.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ckgan import backend
from ckgan.training import GANModel


@keras.saving.register_keras_serializable(package="ckgan")
class WGANGP(GANModel):
    """WGAN-GP on data rows (Gulrajani et al. 2017).

    ``L_critic = E f(fake) - E f(real) + gp_weight * E (||grad f(x_hat)|| - 1)^2``,
    ``L_gen = -E f(fake)``.

    Args:
        generator: maps noise of shape ``(batch, *noise_shape)`` to rows; it
            takes a ``temperature`` keyword (``CausalController``).
        critic: maps rows to scores ``(batch,)``.
        noise_shape: the generator's noise shape without the batch axis;
            the noise is ``U[-1, 1]``.
        n_critic: critic updates per generator update.
        gp_weight: the gradient penalty's weight (lambda).
        batch_size: real and fake rows per update.
        ema_generator: optional generator of the same architecture that holds
            an exponential moving average of ``generator``'s weights.
        ema_decay: the average's decay (warmed up as ``(1 + t) / (10 + t)``).
        edge_penalty: initial weight of the sum of the generator's
            ``edge_norms()`` (group lasso) in its loss, fading linearly to 0
            over ``total_steps``; 0: off.
        edge_weights: ``(k, k)`` weight of each edge's norm in that sum,
            ``(child, parent)`` as ``edge_norms()`` (``None``: all 1); edges
            whose effect the data show clearly are weighed down to 0.
        clamp: rows by slot from ``data_weights.clamp_slots`` (``None``: no
            clamped rows); data, not configuration (``get_config`` leaves it out).
        clamp_fraction: share of each batch's rows drawn slot by slot, a
            slot (node X, value v) picked uniformly, then one of its rows;
            the generator completes X's descendants given the row's other values.
        likelihood_weight: weight of the generator's family likelihood loss
            (``generator.family_nll`` on a batch of real rows, the clamped
            ones counted for their value's descendants; 0: off, the
            adversarial loss alone).
        row_weights: ``(rows, k)`` weight of each data row's term of each node
            in that loss (``data_weights.config_weights``; ``None``: 1); data,
            not configuration.
        temperature: ``(start, end)`` to anneal the generator's temperature
            geometrically over ``total_steps`` generator steps, or ``None``.
        total_steps: the run's length in generator steps (for the temperature;
            ``set_total_steps`` changes it before a ``fit``).
        seed: seeds the ``keras.random.SeedGenerator`` of all its randomness.
    """

    def __init__(
        self,
        generator,
        critic,
        noise_shape,
        n_critic: int = 5,
        gp_weight: float = 10.0,
        batch_size: int = 512,
        ema_generator=None,
        ema_decay: float = 0.999,
        edge_penalty: float = 0.0,
        edge_weights=None,
        clamp=None,
        clamp_fraction: float = 0.0,
        likelihood_weight: float = 0.0,
        row_weights=None,
        temperature=None,
        total_steps: int = 1,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic
        self.ema_generator = ema_generator
        self.noise_shape = tuple(int(d) for d in noise_shape)
        self.n_critic = int(n_critic)
        self.gp_weight = float(gp_weight)
        self.batch_size = int(batch_size)
        self.ema_decay = float(ema_decay)
        self.edge_penalty = float(edge_penalty)
        self.edge_weights = None
        if edge_weights is not None:
            self.edge_weights = np.asarray(edge_weights, dtype="float32")
        self.clamp_fraction = float(clamp_fraction)
        self.clamp_rows = 0
        if clamp is not None and self.clamp_fraction > 0:
            self.clamp_rows = min(max(int(round(self.clamp_fraction * batch_size)), 1), batch_size)
            self.clamp_index = keras.Variable(clamp["rows"], dtype="int32", trainable=False)
            self.clamp_offsets = keras.Variable(clamp["offsets"], dtype="int32", trainable=False)
            self.clamp_counts = keras.Variable(clamp["counts"], dtype="int32", trainable=False)
            self.clamp_masks = keras.Variable(clamp["masks"], dtype="float32", trainable=False)
        self.likelihood_weight = float(likelihood_weight)
        self.row_weights = None
        if row_weights is not None:
            self.row_weights = keras.Variable(row_weights, dtype="float32", trainable=False)
        self.temperature = None if temperature is None else tuple(float(t) for t in temperature)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.generator_steps = keras.Variable(0, dtype="int32", trainable=False, name="g_steps")
        self.total_steps = keras.Variable(
            max(int(total_steps), 1), dtype="int32", trainable=False, name="total_steps"
        )
        self.critic_loss_tracker = keras.metrics.Mean(name="critic_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.wasserstein_tracker = keras.metrics.Mean(name="wasserstein")
        self.penalty_tracker = keras.metrics.Mean(name="gradient_penalty")

    def compile(self, generator_optimizer, critic_optimizer, jit_compile="auto", **kwargs):
        """Set the two players' optimizers; ``kwargs`` go to ``Model.compile``.

        Their slots are built now, outside the compiled step.
        """
        self.generator_optimizer, self.critic_optimizer = generator_optimizer, critic_optimizer
        self.compile_players(
            {"generator": generator_optimizer, "critic": critic_optimizer},
            {
                "generator": self.generator.trainable_variables,
                "critic": self.critic.trainable_variables,
            },
            jit_compile=jit_compile,
            **kwargs,
        )

    @property
    def metrics(self):
        return [
            self.critic_loss_tracker,
            self.generator_loss_tracker,
            self.wasserstein_tracker,
            self.penalty_tracker,
        ]

    def set_total_steps(self, steps: int) -> None:
        self.total_steps.assign(max(int(steps), 1))

    def current_temperature(self):
        """The annealed generator temperature at the current step (1.0 without annealing)."""
        if self.temperature is None:
            return 1.0
        start, end = self.temperature
        progress = ops.minimum(
            ops.cast(self.generator_steps, "float32") / ops.cast(self.total_steps, "float32"),
            1.0,
        )
        return start * (end / start) ** progress

    def current_edge_penalty(self):
        """The edge penalty's weight now: ``edge_penalty`` at the start, fading linearly to 0.

        Early on it selects the edges the data need; as it fades, the kept
        edges fit without its shrinkage (the faded ones get little gradient).
        """
        progress = ops.minimum(
            ops.cast(self.generator_steps, "float32") / ops.cast(self.total_steps, "float32"),
            1.0,
        )
        return self.edge_penalty * (1.0 - progress)

    def _noise(self, batches: int = 1):
        shape = (batches * self.batch_size, *self.noise_shape)
        return backend.shard_batch(keras.random.uniform(shape, -1.0, 1.0, seed=self.seed_generator))

    def _batches(self, real_all, batches: int):
        """``batches`` batches of real rows, the per-row ``do`` mask of the clamped ones,
        and the rows' indices.

        Each batch is ``batch_size - clamp_rows`` rows drawn uniformly, then
        ``clamp_rows`` drawn slot by slot; the mask is ``None`` without clamping.
        """
        n = ops.shape(real_all)[0]
        b, c = self.batch_size, self.clamp_rows
        if not c:
            index = keras.random.randint((batches * b,), 0, n, seed=self.seed_generator)
            return backend.shard_batch(ops.take(real_all, index, axis=0)), None, index
        k = ops.shape(self.clamp_masks)[1]  # nodes (real rows are model vectors)
        slots = ops.shape(self.clamp_counts)[0]
        slot = keras.random.randint((batches * c,), 0, slots, seed=self.seed_generator)
        counts = ops.take(self.clamp_counts, slot)
        u = keras.random.uniform((batches * c,), seed=self.seed_generator)
        within = ops.minimum(ops.cast(u * ops.cast(counts, "float32"), "int32"), counts - 1)
        rows = ops.take(self.clamp_index, ops.take(self.clamp_offsets, slot) + within)
        free = keras.random.randint((batches, b - c), 0, n, seed=self.seed_generator)
        index = ops.concatenate([free, ops.reshape(rows, (batches, c))], axis=1)
        masks = ops.take(self.clamp_masks, slot, axis=0)
        mask = ops.concatenate(
            [ops.zeros((batches, b - c, k)), ops.reshape(masks, (batches, c, k))], axis=1
        )
        index = ops.reshape(index, (-1,))
        reals = ops.take(real_all, index, axis=0)
        return backend.shard_batch(reals), backend.shard_batch(ops.reshape(mask, (-1, k))), index

    def _generate(self, noise, mask, reals, temperature):
        kwargs = {"temperature": temperature, "training": True}
        if mask is None:
            return self.generator(noise, **kwargs)
        return self.generator(noise, do_mask=mask, do_values=reals, **kwargs)

    def step(self, data):
        if isinstance(data, tuple | list):  # a PyDataset's batch arrives as (x,)
            (data,) = data
        real_all = ops.convert_to_tensor(data, "float32")
        b, steps = self.batch_size, self.n_critic
        temperature = self.current_temperature()
        critic_vars = self.critic.trainable_variables
        # The generator is fixed during the critic updates: draw all their
        # batches at once (one generator pass instead of n_critic).
        reals, mask, _ = self._batches(real_all, steps)
        fakes = ops.stop_gradient(self._generate(self._noise(steps), mask, reals, temperature))
        alphas = keras.random.uniform((steps * b, 1), seed=self.seed_generator)
        mixes = alphas * reals + (1.0 - alphas) * fakes
        for i in range(steps):
            batch = slice(i * b, (i + 1) * b)
            rows = ops.concatenate([reals[batch], fakes[batch], mixes[batch]], axis=0)

            def critic_loss(rows=rows):
                # one critic pass over real, fake and interpolates; the penalty
                # reads the interpolates' rows of the input gradient
                scores, grad = backend.input_gradient(lambda x: self.critic(x, training=True), rows)
                norm = ops.sqrt(ops.sum(ops.square(grad[2 * b :]), axis=-1) + 1e-12)
                penalty = ops.mean(ops.square(norm - 1.0))
                w = ops.mean(scores[:b]) - ops.mean(scores[b : 2 * b])
                return -w + self.gp_weight * penalty, (w, penalty)

            c_loss, (w, penalty), grads = backend.value_and_grad(critic_loss, critic_vars)
            self.critic_optimizer.apply(grads, critic_vars)

        noise = self._noise()
        g_reals, g_mask, g_index = (
            self._batches(real_all, 1) if self.clamp_rows else (None, None, None)
        )
        if self.likelihood_weight:
            if self.clamp_rows:
                # the generator's batch, clamped rows included: a row drawn for its
                # value of X counts for X's descendants only (whose tables do not
                # depend on how X was picked), so a rare value's children are
                # fitted on its rows as often as a common value's
                rows, counted, index = g_reals, 1.0 - g_mask, g_index
            else:
                rows, _, index = self._batches(real_all, 1)
                counted = None
            if self.row_weights is not None:  # rows of thin parent configurations count more
                weights = ops.take(self.row_weights, index, axis=0)
                counted = weights if counted is None else counted * weights
            if counted is not None:  # each node's weights sum to the batch size, as 1s do
                total = ops.maximum(ops.sum(counted, axis=0, keepdims=True), 1e-6)
                counted = counted * (b / total)

        def generator_loss():
            fake = self._generate(noise, g_mask, g_reals, temperature)
            loss = -ops.mean(self.critic(fake, training=True))
            if self.edge_penalty:
                penalty = self.current_edge_penalty()
                norms = self.generator.edge_norms()
                if self.edge_weights is not None:
                    norms = norms * ops.convert_to_tensor(self.edge_weights)
                loss = loss + penalty * ops.sum(norms)
            if self.likelihood_weight:
                nll = ops.mean(self.generator.family_nll(noise, rows, weights=counted))
                loss = loss + self.likelihood_weight * nll
            return loss, ()

        gen_vars = self.generator.trainable_variables
        g_loss, _, grads = backend.value_and_grad(generator_loss, gen_vars)
        self.generator_optimizer.apply(grads, gen_vars)
        self.generator_steps.assign_add(1)
        if self.ema_generator is not None:
            t = ops.cast(self.generator_steps, "float32")
            decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
            for avg, var in zip(self.ema_generator.trainable_variables, gen_vars, strict=True):
                avg.assign(decay * avg + (1.0 - decay) * var)

        self.critic_loss_tracker.update_state(c_loss)
        self.generator_loss_tracker.update_state(g_loss)
        self.wasserstein_tracker.update_state(w)
        self.penalty_tracker.update_state(penalty)
        return {m.name: m.result() for m in self.metrics}

    def call(self, noise, training=None):
        return self.generator(noise, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "critic": keras.saving.serialize_keras_object(self.critic),
            "ema_generator": keras.saving.serialize_keras_object(self.ema_generator),
            "noise_shape": list(self.noise_shape),
            "n_critic": self.n_critic,
            "gp_weight": self.gp_weight,
            "batch_size": self.batch_size,
            "ema_decay": self.ema_decay,
            "edge_penalty": self.edge_penalty,
            "edge_weights": None if self.edge_weights is None else self.edge_weights.tolist(),
            "clamp_fraction": self.clamp_fraction,
            "likelihood_weight": self.likelihood_weight,
            "temperature": None if self.temperature is None else list(self.temperature),
            "total_steps": int(self.total_steps.numpy()),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "critic", "ema_generator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
