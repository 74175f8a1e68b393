"""``CausalGAN``: the CausalGAN image stage's training as a ``keras.Model``.

Kocaoglu et al. 2018, section 5: an unconditional discriminator with
minibatch features, a Labeler trained on real images and an Anti-Labeler
trained on generated ones. The generator draws the labels it is asked for
from a pool sampled from the (frozen) label stage, and an exponential moving
average of its weights is the generator that samples.
"""

from __future__ import annotations

import keras
from keras import ops

from ckgan import backend
from ckgan.image_gan import ImageGAN


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
class CausalGAN(ImageGAN):
    """The CausalGAN image stage (generator, discriminator, Labeler, Anti-Labeler).

    Losses (sigmoid cross-entropy CE, D a logit, L and AL k logits):
      * D: ``CE(D(x), 1) + CE(D(G), 0)``;
      * Labeler: ``CE(L(x), l_real)``; Anti-Labeler: ``CE(AL(G), l_fake)``;
      * G: ``CE(D(G), 1) + label_weight * CE(L(G), l_fake) - k_t CE(AL(G), l_fake)``
        with ``k_t = exp(-t / k_decay_steps)`` at train step ``t``.
    A projection discriminator (``ConvClassifier(projection=k)``) also sees
    the labels: the data's for real images, the ones asked for on fakes.

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
        labeler_learning_rate: the Labeler's and Anti-Labeler's learning rate
            (0: ``learning_rate``).
        generator_updates: generator updates per train step.
        label_weight: of the Labeler term in the generator's loss.
        k_decay_steps: the Anti-Labeler's weight decays by ``exp(-1/k_decay_steps)`` a step.
        ema_decay: of the moving average (warmed up as ``(1 + t) / (10 + t)``).
        balance_labels: weigh the Labeler's and the generator's label losses
            per attribute value by its rarity (``label_weights``); off: the
            paper's plain mean, where rare values barely count.
        seed: of the ``keras.random.SeedGenerator``.
        labeler_augment: the Labeler and Anti-Labeler see every image, real
            or generated (also in the generator's label terms), softened at
            random: half of them blurred (3x3 mean), all with Gaussian pixel
            noise (0.1), so the generator cannot satisfy them with
            high-frequency patterns the judge does not read as the label.
        independent_rows: the share of each generator batch whose labels are
            drawn with independent nodes (``draw_independent_labels``: bald
            women, women with mustaches) and which only the Labeler term
            trains: the discriminator and the Anti-Labeler judge the other
            rows, so realism is learnt where the data are and the labels
            where they are not (0: the paper's, every row from the pool).
        column_groups: each label column's node (a categorical node's one-hot
            columns share one); ``None``: one node per column.
    """

    network_names = ("generator", "ema_generator", "discriminator", "labeler", "anti_labeler")
    config_keys = (
        "learning_rate", "beta_1", "beta_2", "generator_updates", "label_weight",
        "k_decay_steps", "balance_labels", "labeler_augment",
        "labeler_learning_rate", "independent_rows", "column_groups",
    )  # fmt: skip
    metric_names = (
        "d_loss", "g_loss", "g_adversarial", "labeler_loss", "g_label_loss",
        "anti_labeler_loss", "g_anti_label_loss", "d_real", "d_fake", "k_t",
    )  # fmt: skip

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
        labeler_augment: bool = False,
        labeler_learning_rate: float = 0.0,
        independent_rows: float = 0.0,
        column_groups=None,
        **kwargs,
    ):
        super().__init__(
            {
                "generator": generator,
                "ema_generator": ema_generator,
                "discriminator": discriminator,
                "labeler": labeler,
                "anti_labeler": anti_labeler,
            },
            num_labels,
            noise_dim,
            pool_size,
            ema_decay,
            seed,
            independent_rows=independent_rows,
            column_groups=column_groups,
            **kwargs,
        )
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.generator_updates = int(generator_updates)
        self.label_weight = float(label_weight)
        self.k_decay_steps = float(k_decay_steps)
        self.balance_labels = bool(balance_labels)
        self.labeler_augment = bool(labeler_augment)
        self.labeler_learning_rate = float(labeler_learning_rate)
        rates = dict.fromkeys(("generator", "discriminator"), learning_rate)
        labeler_rate = self.labeler_learning_rate or learning_rate
        rates.update(dict.fromkeys(("labeler", "anti_labeler"), labeler_rate))
        self.optimizers = {
            name: keras.optimizers.Adam(rate, beta_1=beta_1, beta_2=beta_2, name=f"{name}_adam")
            for name, rate in rates.items()
        }

    def optimizer_variables(self):
        return {name: net.trainable_variables for name, net in self.networks().items()}

    def build_critics(self, images) -> None:
        labels = ops.zeros((images.shape[0], self.num_labels))
        self.discriminator(images, labels=labels)
        self.labeler(images)
        self.anti_labeler(images)

    def generator_inputs(self, batch: int, independent: bool = False):
        """``(inputs, labels)``: labels drawn from the pool, rounded, as noisy logits, then z;
        with ``independent``, the last rows' labels with independent nodes
        (``draw_batch_labels``)."""
        labels = self.draw_batch_labels(batch) if independent else self.draw_labels(batch)
        normal = keras.random.normal((batch, self.num_labels), seed=self.seed_generator)
        z = keras.random.uniform((batch, self.noise_dim), -1.0, 1.0, seed=self.seed_generator)
        inputs = ops.concatenate([label_logits(labels, ops.abs(normal)), z], axis=-1)
        return backend.shard_batch(inputs), backend.shard_batch(labels)

    def k_t(self):
        return ops.exp(-ops.cast(self.step_counter, "float32") / self.k_decay_steps)

    def step(self, data):
        images, labels = data
        images = ops.convert_to_tensor(images, "float32")
        labels = ops.cast(ops.convert_to_tensor(labels) >= 0.5, "float32")
        b = self.discriminator_rows(images)
        seen, seen_labels = images, labels  # the Labeler's: every real batch of the step
        images, labels = images[:b], labels[:b]
        k_t = self.k_t()
        # the pool is fixed during fit: its rates once per step, for every label loss
        rates = self.label_rates() if self.balance_labels else None

        # Discriminator, Labeler and Anti-Labeler: one tape over all three.
        inputs, fake_labels = self.generator_inputs(b)
        fake = ops.stop_gradient(self.generator(inputs, training=True))
        nets = (self.discriminator, self.labeler, self.anti_labeler)
        var_lists = [net.trainable_variables for net in nets]

        def critics_loss():
            logits = self.discriminator(
                ops.concatenate([images, fake], axis=0),
                groups=2,
                labels=ops.concatenate([labels, fake_labels], axis=0),
            )
            real, fake_logits = logits[:b], logits[b:]
            d_loss = _bce(ops.ones_like(real), real) + _bce(
                ops.zeros_like(fake_logits), fake_logits
            )
            weights = self.label_weights(seen_labels, rates)
            l_loss = _weighted_bce(seen_labels, self.labeler(self.soften(seen)), weights)
            a_loss = _bce(fake_labels, self.anti_labeler(self.soften(fake)))
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
        # the last rows' labels are independent; D and the Anti-Labeler see the others
        extra = self.independent_count(b)
        for _ in range(self.generator_updates):
            inputs, fake_labels = self.generator_inputs(b, independent=True)

            def generator_loss(inputs=inputs, fake_labels=fake_labels):
                fake = self.generator(inputs, training=True)
                pooled, pooled_labels = fake[: b - extra], fake_labels[: b - extra]
                logits = self.discriminator(pooled, labels=pooled_labels)
                adversarial = _bce(ops.ones_like(logits), logits)
                weights = self.label_weights(fake_labels, rates)
                seen = self.soften(fake)
                label = _weighted_bce(fake_labels, self.labeler(seen), weights)
                anti = _bce(pooled_labels, self.anti_labeler(seen[: b - extra]))
                loss = adversarial + self.label_weight * label - k_t * anti
                return loss, (adversarial, label, anti)

            g_loss, (adversarial, g_label, g_anti), grads = backend.value_and_grad(
                generator_loss, g_vars
            )
            self.optimizers["generator"].apply(grads, g_vars)

        self.end_step()

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
        return self.record(values)
