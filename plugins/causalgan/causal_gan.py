"""``CausalGAN``: the CausalGAN image stage's training as a ``keras.Model``.

Kocaoglu et al. 2018, section 5: an unconditional discriminator with
minibatch features, a Labeler trained on real images and an Anti-Labeler
trained on generated ones. The generator draws the labels it is asked for
from a pool sampled from the (frozen) label stage, and an exponential moving
average of its weights is the generator that samples.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ckgan import backend


def _bce(targets, logits):
    """Mean sigmoid cross-entropy, from logits."""
    return ops.mean(ops.binary_crossentropy(targets, logits, from_logits=True))


def _weighted_bce(targets, logits, weights):
    """Mean sigmoid cross-entropy with a weight per element."""
    return ops.mean(weights * ops.binary_crossentropy(targets, logits, from_logits=True))


def label_logits(labels, magnitudes):
    """CausalGAN's continuous label noise, as logits.

    A label rounded to 0 becomes a probability in (0, 0.5], a 1 one in
    [0.5, 1): ``sigmoid(+-|n|)`` with ``n ~ N(0, 1)`` (means 0.32 and 0.68),
    fed to the generator as its logit ``+-|n|``. ``magnitudes`` are the ``|n|``.
    """
    signs = 2.0 * ops.cast(labels >= 0.5, "float32") - 1.0
    return signs * magnitudes


@keras.saving.register_keras_serializable(package="ckgan")
class CausalGAN(keras.Model):
    """The CausalGAN image stage (generator, discriminator, Labeler, Anti-Labeler).

    Losses (sigmoid cross-entropy CE, D a logit, L and AL k logits):
      * D: ``CE(D(x), 1) + CE(D(G), 0)``;
      * Labeler: ``CE(L(x), l_real)``; Anti-Labeler: ``CE(AL(G), l_fake)``;
      * G: ``CE(D(G), 1) + label_weight * CE(L(G), l_fake) - k_t CE(AL(G), l_fake)``
        with ``k_t = exp(-t / k_decay_steps)`` at train step ``t``.

    One ``train_step`` is one update of D, Labeler and Anti-Labeler together
    (one tape: their losses share no variables), then ``generator_updates``
    generator updates, each on freshly drawn labels and noise, then the
    moving-average update.

    Args:
        generator, ema_generator: two ``DCGANGenerator`` of one architecture;
            the second holds the moving average (it samples).
        discriminator: ``ConvClassifier`` with one output.
        labeler, anti_labeler: ``ConvClassifier`` with ``num_labels`` outputs.
        num_labels: k.
        noise_dim: z's dimension (``U[-1, 1]``); the generator's input is the
            k label logits then z.
        pool_size: rows of ``label_pool``.
        learning_rate, beta_1, beta_2: Adam's, for all four networks.
        generator_updates: generator updates per train step.
        label_weight: of the Labeler term in the generator's loss.
        k_decay_steps: the Anti-Labeler's weight decays by ``exp(-1/k_decay_steps)`` a step.
        ema_decay: of the moving average (warmed up as ``(1 + t) / (10 + t)``).
        balance_labels: weigh the Labeler's and the generator's label losses
            per attribute value by its rarity (``label_weights``); off: the
            paper's plain mean, where rare values barely count.
        seed: of the ``keras.random.SeedGenerator``.
    """

    def __init__(
        self,
        generator,
        ema_generator,
        discriminator,
        labeler,
        anti_labeler,
        num_labels: int,
        noise_dim: int = 100,
        pool_size: int = 65_536,
        learning_rate: float = 2e-4,
        beta_1: float = 0.5,
        beta_2: float = 0.999,
        generator_updates: int = 1,
        label_weight: float = 1.0,
        k_decay_steps: float = 3000.0,
        ema_decay: float = 0.999,
        balance_labels: bool = False,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.ema_generator = ema_generator
        self.discriminator = discriminator
        self.labeler = labeler
        self.anti_labeler = anti_labeler
        self.num_labels, self.noise_dim = int(num_labels), int(noise_dim)
        self.pool_size = int(pool_size)
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.generator_updates = int(generator_updates)
        self.label_weight = float(label_weight)
        self.k_decay_steps = float(k_decay_steps)
        self.ema_decay = float(ema_decay)
        self.balance_labels = bool(balance_labels)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.label_pool = keras.Variable(
            np.zeros((self.pool_size, self.num_labels), "float32"),
            trainable=False,
            name="label_pool",
        )
        self.step_counter = keras.Variable(0, dtype="int32", trainable=False, name="step")
        self.optimizers = {
            name: keras.optimizers.Adam(
                learning_rate, beta_1=beta_1, beta_2=beta_2, name=f"{name}_adam"
            )
            for name in ("generator", "discriminator", "labeler", "anti_labeler")
        }
        names = (
            "d_loss", "g_loss", "g_adversarial", "labeler_loss", "g_label_loss",
            "anti_labeler_loss", "g_anti_label_loss", "d_real", "d_fake", "k_t",
        )  # fmt: skip
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self._all_built = False

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile_stage(self, jit_compile: bool | str = "auto") -> None:
        """``Model.compile`` for ``fit``: XLA as asked (``"auto"``: on with a GPU only)."""
        super().compile(optimizer=None, jit_compile=backend.resolve_jit_compile(jit_compile))

    def build_all(self) -> None:
        """Create every network's and optimizer's variables; the average starts as a copy."""
        if self._all_built:
            return
        x = ops.zeros((2, self.num_labels + self.noise_dim))
        self.generator(x, training=False)
        self.ema_generator(x, training=False)
        images = ops.zeros((2, self.generator.size, self.generator.size, 3))
        for net in (self.discriminator, self.labeler, self.anti_labeler):
            net(images)
        for avg, var in zip(self.ema_generator.variables, self.generator.variables, strict=True):
            avg.assign(var)
        nets = self._networks()
        for name, optimizer in self.optimizers.items():
            optimizer.build(nets[name].trainable_variables)
        self.built = True
        self._all_built = True

    def _networks(self):
        return {
            "generator": self.generator,
            "discriminator": self.discriminator,
            "labeler": self.labeler,
            "anti_labeler": self.anti_labeler,
        }

    def generator_inputs(self, batch: int):
        """``(inputs, labels)``: labels drawn from the pool, rounded, as noisy logits, then z."""
        index = keras.random.randint((batch,), 0, self.pool_size, seed=self.seed_generator)
        labels = ops.cast(ops.take(self.label_pool, index, axis=0) >= 0.5, "float32")
        normal = keras.random.normal((batch, self.num_labels), seed=self.seed_generator)
        z = keras.random.uniform((batch, self.noise_dim), -1.0, 1.0, seed=self.seed_generator)
        return ops.concatenate([label_logits(labels, ops.abs(normal)), z], axis=-1), labels

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

    def k_t(self):
        return ops.exp(-ops.cast(self.step_counter, "float32") / self.k_decay_steps)

    def train_step(self, data):
        images, labels = data
        images = ops.convert_to_tensor(images, "float32")
        labels = ops.cast(ops.convert_to_tensor(labels) >= 0.5, "float32")
        b = int(images.shape[0])
        k_t = self.k_t()
        # the pool is fixed during fit: its rates once per step, for every label loss
        rates = self.label_rates() if self.balance_labels else None

        # Discriminator, Labeler and Anti-Labeler: one tape over all three.
        inputs, fake_labels = self.generator_inputs(b)
        fake = ops.stop_gradient(self.generator(inputs, training=True))
        nets = (self.discriminator, self.labeler, self.anti_labeler)
        var_lists = [net.trainable_variables for net in nets]

        def critics_loss():
            logits = self.discriminator(ops.concatenate([images, fake], axis=0), groups=2)
            real, fake_logits = logits[:b], logits[b:]
            d_loss = _bce(ops.ones_like(real), real) + _bce(
                ops.zeros_like(fake_logits), fake_logits
            )
            weights = self.label_weights(labels, rates)
            l_loss = _weighted_bce(labels, self.labeler(images), weights)
            a_loss = _bce(fake_labels, self.anti_labeler(fake))
            return d_loss + l_loss + a_loss, (d_loss, l_loss, a_loss, real, fake_logits)

        _, aux, grads = backend.value_and_grad(critics_loss, sum(var_lists, []))
        d_loss, l_loss, a_loss, real_logits, fake_logits = aux
        start = 0
        for name, variables in zip(
            ("discriminator", "labeler", "anti_labeler"), var_lists, strict=True
        ):
            self.optimizers[name].apply(grads[start : start + len(variables)], variables)
            start += len(variables)

        # Generator.
        g_vars = self.generator.trainable_variables
        for _ in range(self.generator_updates):
            inputs, fake_labels = self.generator_inputs(b)

            def generator_loss(inputs=inputs, fake_labels=fake_labels):
                fake = self.generator(inputs, training=True)
                logits = self.discriminator(fake)
                adversarial = _bce(ops.ones_like(logits), logits)
                weights = self.label_weights(fake_labels, rates)
                label = _weighted_bce(fake_labels, self.labeler(fake), weights)
                anti = _bce(fake_labels, self.anti_labeler(fake))
                loss = adversarial + self.label_weight * label - k_t * anti
                return loss, (adversarial, label, anti)

            g_loss, (adversarial, g_label, g_anti), grads = backend.value_and_grad(
                generator_loss, g_vars
            )
            self.optimizers["generator"].apply(grads, g_vars)

        self.step_counter.assign_add(1)
        t = ops.cast(self.step_counter, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
        for avg, var in zip(self.ema_generator.variables, self.generator.variables, strict=True):
            avg.assign(decay * avg + (1.0 - decay) * var)

        values = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "g_adversarial": adversarial,
            "labeler_loss": l_loss,
            "g_label_loss": g_label,
            "anti_labeler_loss": a_loss,
            "g_anti_label_loss": g_anti,
            "d_real": ops.mean(ops.sigmoid(real_logits)),
            "d_fake": ops.mean(ops.sigmoid(fake_logits)),
            "k_t": k_t,
        }
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def call(self, inputs, training=False):
        return self.ema_generator(inputs, training=training)

    def get_config(self):
        nets = {
            key: keras.saving.serialize_keras_object(getattr(self, key))
            for key in ("generator", "ema_generator", "discriminator", "labeler", "anti_labeler")
        }
        return {
            **super().get_config(),
            **nets,
            "num_labels": self.num_labels,
            "noise_dim": self.noise_dim,
            "pool_size": self.pool_size,
            "learning_rate": self.learning_rate,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "generator_updates": self.generator_updates,
            "label_weight": self.label_weight,
            "k_decay_steps": self.k_decay_steps,
            "ema_decay": self.ema_decay,
            "balance_labels": self.balance_labels,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "ema_generator", "discriminator", "labeler", "anti_labeler"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
