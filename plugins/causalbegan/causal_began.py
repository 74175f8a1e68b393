"""``CausalBEGAN``: the CausalBEGAN image stage's training as a ``keras.Model``.

Kocaoglu et al. 2018, section 6: a BEGAN (Berthelot et al. 2017) whose
autoencoder discriminator is joined by a Labeler, with a third margin that
weighs the labels in the generator's loss only once the images are good
enough. One ``train_step`` updates the generator and the discriminator side
(autoencoder and Labeler) simultaneously from one forward pass, as BEGAN does.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from ckgan import backend
from ckgan.image_gan import ImageGAN


@keras.saving.register_keras_serializable(package="ckgan")
class CausalBEGAN(ImageGAN):
    """CausalBEGAN: generator, autoencoder discriminator and Labeler.

    With ``L(v) = mean |AE(v) - v|``, ``p = sigmoid(labeler)``,
    ``Llab(x) = mean (p(x) - l_real)^2`` and ``Llab(G) = mean (p(G) - l_fake)^2``:
      * discriminator side: ``L(x) - k_t L(G) + Llab(x) - l_t Llab(G)``
        (with the cross-entropy label loss, ``+ l_t CE(1 - l_fake)`` in place
        of ``- l_t Llab(G)``: ``labeler_push``);
      * generator: ``L(G) + (z_t + label_weight) Llab(G)``;
      * ``b_k = gamma L(x) - L(G)``, ``b_l = gamma_label Llab(x) - Llab(G)``,
        ``b_z = zeta relu(b_k) - relu(b_l)``; ``k_t``, ``l_t``, ``z_t`` move by
        ``lambda_k b_k``, ``lambda_l b_l``, ``lambda_z b_z`` a step, clipped
        to [0, 1], from 0; convergence ``M = L(x) + |b_k|``.

    Args:
        generator, ema_generator: two ``BEGANDecoder`` fed the rounded labels
            then z; the second holds the moving average that samples.
        autoencoder: ``BEGANAutoencoder``.
        labeler: ``BEGANEncoder`` with ``num_labels`` outputs.
        num_labels: k.
        noise_dim: z's dimension (``U[-1, 1]``).
        pool_size: rows of ``label_pool``.
        learning_rate, beta_1, beta_2: Adam's, for both sides.
        labeler_learning_rate: 0 (the paper's: the Labeler shares the
            autoencoder's optimizer), or the Labeler's own Adam learning rate
            (a third optimizer, ``"labeler"``).
        labeler_amsgrad: the Labeler's own Adam keeps the largest second
            moment it has seen (AMSGrad; Reddi et al. 2018), so that after a
            quiet stretch its steps cannot grow as its gradients come back
            (off: plain Adam). Needs ``labeler_learning_rate``.
        balance_labels: weigh both label losses per attribute value by its
            rarity in the label pool (``label_weights``), so that Bald (2%)
            counts as much as not-Bald (off: the paper's plain mean).
        labeler_augment: the Labeler sees every image, real and generated,
            blurred half the time and with a little noise (``soften``), so
            that it reads shapes rather than the fine texture that tells
            real from generated (off: the paper's).
        lr_halve_every: halve the learning rate every so many steps (0: never).
        gamma, gamma_label, zeta: the three margins.
        lambda_k, lambda_l, lambda_z: the rates of ``k_t``, ``l_t``, ``z_t``.
        ema_decay: of the moving average (warmed up as ``(1 + t) / (10 + t)``).
        mode_seeking: weight of ``1 / spread`` in the generator's loss, where
            ``spread`` = mean |G(l, z1) - G(l, z2)| / mean |z1 - z2| over
            pairs of the batch (sharing labels when on; Mao et al. 2019).
            0: off, the paper's loss.
        seed: of the ``keras.random.SeedGenerator``.
        label_loss: ``"squared"`` (the paper's ``(p - l)^2``) or
            ``"crossentropy"``, for the Labeler and the generator's label term.
        label_weight: a floor under the generator's label weight, added to
            ``z_t`` (0: the paper's, ``z_t`` alone). BEGAN's ``k_t`` holds
            ``b_k`` near 0, so ``z_t``, which grows with ``relu(b_k)``, stays
            near 0 for thousands of steps and the labels barely reach the
            generator.
        max_l_t: the most ``l_t`` may reach (1: the paper's clip). When the
            Labeler slips on real images, ``b_l`` reads that as the fakes'
            labels being too easy and ``l_t`` climbs, which pushes the Labeler
            further from the real labels: on synthfaces this ran ``l_t`` to 1
            and wrecked the labels twice, at steps 6500 and 10750.
        label_smoothing: every label term reads a label ``l`` as ``s + l (1 -
            2s)`` and measures the distance to it (cross-entropy less the
            target's entropy, so a perfect reading still costs 0). 0: the
            paper's hard labels, with which a Labeler that reads rendered
            labels perfectly drives its loss to 1e-7 and its logits past
            +-16, and breaks within 20 steps once the generator's images
            shift (beacons, step 3100); on synthfaces a Labeler broke with
            0.05 all the same (step 4000).
    """

    network_names = ("generator", "ema_generator", "autoencoder", "labeler")
    config_keys = (
        "learning_rate", "beta_1", "beta_2", "lr_halve_every", "gamma", "gamma_label",
        "zeta", "lambda_k", "lambda_l", "lambda_z", "mode_seeking", "labeler_learning_rate",
        "balance_labels", "labeler_augment", "label_loss", "label_weight", "max_l_t",
        "label_smoothing", "labeler_amsgrad",
    )  # fmt: skip
    metric_names = (
        "d_loss", "g_loss", "recon_real", "recon_fake", "label_real", "label_fake",
        "k_t", "l_t", "z_t", "convergence", "spread",
    )  # fmt: skip

    def __init__(
        self,
        generator,
        ema_generator,
        autoencoder,
        labeler,
        num_labels: int,
        noise_dim: int = 64,
        pool_size: int = 65_536,
        learning_rate: float = 8e-5,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        lr_halve_every: int = 0,
        gamma: float = 0.5,
        gamma_label: float = 0.5,
        zeta: float = 0.5,
        lambda_k: float = 0.001,
        lambda_l: float = 8e-5,
        lambda_z: float = 0.01,
        ema_decay: float = 0.999,
        mode_seeking: float = 0.0,
        seed: int | None = None,
        labeler_learning_rate: float = 0.0,
        balance_labels: bool = False,
        labeler_augment: bool = False,
        label_loss: str = "squared",
        label_weight: float = 0.0,
        max_l_t: float = 1.0,
        label_smoothing: float = 0.0,
        labeler_amsgrad: bool = False,
        **kwargs,
    ):
        super().__init__(
            {
                "generator": generator,
                "ema_generator": ema_generator,
                "autoencoder": autoencoder,
                "labeler": labeler,
            },
            num_labels,
            noise_dim,
            pool_size,
            ema_decay,
            seed,
            **kwargs,
        )
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.lr_halve_every = int(lr_halve_every)
        self.gamma, self.gamma_label, self.zeta = float(gamma), float(gamma_label), float(zeta)
        self.lambda_k, self.lambda_l = float(lambda_k), float(lambda_l)
        self.lambda_z = float(lambda_z)
        self.mode_seeking = float(mode_seeking)
        self.max_l_t = float(max_l_t)
        self.label_smoothing = float(label_smoothing)
        self.k_t = keras.Variable(0.0, trainable=False, name="k_t")
        self.l_t = keras.Variable(0.0, trainable=False, name="l_t")
        self.z_t = keras.Variable(0.0, trainable=False, name="z_t")

        self.labeler_learning_rate = float(labeler_learning_rate)
        self.labeler_amsgrad = bool(labeler_amsgrad)
        if self.labeler_amsgrad and not self.labeler_learning_rate:
            raise ValueError("labeler_amsgrad needs the Labeler's own labeler_learning_rate")
        self.balance_labels = bool(balance_labels)
        self.labeler_augment = bool(labeler_augment)
        if label_loss not in ("squared", "crossentropy"):
            raise ValueError(f"label_loss must be 'squared' or 'crossentropy', got {label_loss!r}")
        self.label_loss = label_loss
        self.label_weight = float(label_weight)

        def adam(name, lr=learning_rate, amsgrad=False):
            if self.lr_halve_every > 0:
                lr = keras.optimizers.schedules.ExponentialDecay(
                    lr, self.lr_halve_every, 0.5, staircase=True
                )
            return keras.optimizers.Adam(
                lr, beta_1=beta_1, beta_2=beta_2, amsgrad=amsgrad, name=name
            )

        self.optimizers = {
            "generator": adam("generator_adam"),
            "discriminator": adam("discriminator_adam"),
        }
        if self.labeler_learning_rate:
            self.optimizers["labeler"] = adam(
                "labeler_adam", self.labeler_learning_rate, self.labeler_amsgrad
            )

    def optimizer_variables(self):
        if not self.labeler_learning_rate:
            return {
                "generator": self.generator.trainable_variables,
                "discriminator": self._discriminator_variables(),
            }
        return {
            "generator": self.generator.trainable_variables,
            "discriminator": self.autoencoder.trainable_variables,
            "labeler": self.labeler.trainable_variables,
        }

    def _discriminator_variables(self):
        return self.autoencoder.trainable_variables + self.labeler.trainable_variables

    def label_error(self, labels, logits):
        """Each label's loss: ``(p - l)^2`` (the paper's) or, with ``label_loss``
        ``"crossentropy"``, ``-l log p - (1 - l) log(1 - p)``, whose gradient
        does not vanish where the Labeler is sure the label is wrong. With
        ``label_smoothing`` s the target is ``s + l (1 - 2s)``, and the
        cross-entropy less that target's entropy (the same for 0 and 1)."""
        s = self.label_smoothing
        target = s + labels * (1.0 - 2.0 * s) if s else labels
        if self.label_loss == "crossentropy":
            error = ops.binary_crossentropy(target, logits, from_logits=True)
            if s:
                error = error + (s * math.log(s) + (1.0 - s) * math.log(1.0 - s))
            return error
        return ops.square(ops.sigmoid(logits) - target)

    def chance_label_loss(self) -> float:
        """The real-image label loss of a Labeler that reads no image.

        It says each label's rate in the label pool (as ``s + p (1 - 2s)``
        with label smoothing), weighed as ``label_real`` weighs its terms.
        """
        rate = ops.mean(ops.cast(self.label_pool >= 0.5, "float32"), axis=0)
        s = self.label_smoothing
        guess = ops.clip(s + rate * (1.0 - 2.0 * s), 1e-6, 1.0 - 1e-6)
        logits = ops.expand_dims(ops.log(guess) - ops.log(1.0 - guess), 0)
        ones = ops.ones_like(logits)
        zeros = ops.zeros_like(logits)
        chance = rate * self.label_error(ones, logits) * self.label_weights(ones)
        chance += (1.0 - rate) * self.label_error(zeros, logits) * self.label_weights(zeros)
        return float(ops.convert_to_numpy(ops.mean(chance)))

    def lost_labels(self, log):
        """The Labeler lost the real images' labels: in the newest span ``label_real``
        rose above a quarter of ``chance_label_loss`` after an earlier span had it
        below a tenth. So began every break of this stage's quick preset seen
        (synthfaces, rendered scenes): the generator's images shift, the Labeler
        misreads real images, then ``l_t`` runs away. In the preset's runs of
        sessions 20-24 it fired at those breaks only; synthfaces' ``label_real``
        otherwise stayed at most 0.11 of chance."""
        if len(log) < 2:
            return None
        chance = self.chance_label_loss()
        best = min(entry["label_real"] for entry in log[:-1])
        now = log[-1]["label_real"]
        if best < chance / 10 and now > chance / 4:
            return (
                f"the Labeler lost the real images' labels (label_real {now:.3g}, "
                f"{best:.3g} at best, {chance:.3g} reading no image)"
            )
        return None

    def labeler_push(self, fake_labels, fake_logits, weights, label_fake):
        """The Labeler's term against the generator's images, weighed by ``l_t``.

        Squared (the paper's): ``-Llab(G)``, bounded since ``(p - l)^2 <= 1``.
        Cross-entropy has no bound: maximised, the Labeler's logits on fakes
        run off to infinity (measured: Llab 484 on real images by step 250),
        so it learns the flipped labels instead, ``CE(1 - l)`` on fakes,
        as a GAN's non-saturating loss does.
        """
        if self.label_loss == "crossentropy":
            return ops.mean(weights * self.label_error(1.0 - fake_labels, fake_logits))
        return -label_fake

    def generator_inputs(self, batch: int):
        """``(inputs, labels)``: labels drawn from the pool and rounded, then z.

        With mode seeking, the second half of the batch repeats the first
        half's labels with other z.
        """
        rows = (batch + 1) // 2 if self.mode_seeking else batch
        labels = self.draw_labels(rows)
        if self.mode_seeking:
            labels = ops.concatenate([labels, labels], axis=0)[:batch]
        z = keras.random.uniform((batch, self.noise_dim), -1.0, 1.0, seed=self.seed_generator)
        inputs = ops.concatenate([labels, z], axis=-1)
        return backend.shard_batch(inputs), backend.shard_batch(labels)

    def step(self, data):
        images, labels = data
        images = ops.convert_to_tensor(images, "float32")
        labels = ops.cast(ops.convert_to_tensor(labels) >= 0.5, "float32")
        b = self.discriminator_rows(images)
        rates = self.label_rates() if self.balance_labels else None
        w_real = self.label_weights(labels, rates)  # every real row, the Labeler's
        more, more_labels = images[b:], labels[b:]  # real rows for the Labeler only
        images, labels = images[:b], labels[:b]
        inputs, fake_labels = self.generator_inputs(b)
        g_vars = self.generator.trainable_variables
        d_vars = self._discriminator_variables()
        k_t, l_t, z_t = (ops.convert_to_tensor(v) for v in (self.k_t, self.l_t, self.z_t))
        w_fake = self.label_weights(fake_labels, rates)

        def losses():
            fake = self.generator(inputs, training=True)
            both = ops.concatenate([images, fake], axis=0)
            codes = self.autoencoder.encoder(both, groups=2)  # real and fake apart
            both_labels = ops.concatenate([labels, fake_labels], axis=0)
            recon = ops.abs(self.autoencoder.decoder(codes) - both)
            recon_real = ops.mean(recon[:b])
            recon_fake = ops.mean(recon[b:])
            # the extra real rows go last (none with labeler_batches 1)
            seen = ops.concatenate([both, more], axis=0)
            seen_labels = ops.concatenate([both_labels, more_labels], axis=0)
            logits = self.labeler(self.soften(seen))
            error = self.label_error(seen_labels, logits)
            real_error = ops.concatenate([error[:b], error[2 * b :]], axis=0)
            label_real = ops.mean(w_real * real_error)
            label_fake = ops.mean(w_fake * error[b : 2 * b])
            push = self.labeler_push(fake_labels, logits[b : 2 * b], w_fake, label_fake)
            d_loss = recon_real - k_t * recon_fake + label_real + l_t * push
            g_loss = recon_fake + (z_t + self.label_weight) * label_fake
            # mode seeking (Mao et al. 2019): images of the same labels must move with z
            half = b // 2
            z = inputs[:, self.num_labels :]
            spread = ops.mean(ops.abs(fake[:half] - fake[half : 2 * half])) / ops.mean(
                ops.abs(z[:half] - z[half : 2 * half])
            )
            if self.mode_seeking:
                g_loss = g_loss + self.mode_seeking / (spread + 1e-5)
            aux = (recon_real, recon_fake, label_real, label_fake, spread)
            return (d_loss, g_loss), aux

        (d_loss, g_loss), aux, (d_grads, g_grads) = backend.values_and_grads(
            losses, [d_vars, g_vars]
        )
        recon_real, recon_fake, label_real, label_fake, spread = aux
        if self.labeler_learning_rate:  # the autoencoder's and the Labeler's own steps
            n = len(self.autoencoder.trainable_variables)
            self.optimizers["discriminator"].apply(d_grads[:n], d_vars[:n])
            self.optimizers["labeler"].apply(d_grads[n:], d_vars[n:])
        else:
            self.optimizers["discriminator"].apply(d_grads, d_vars)
        self.optimizers["generator"].apply(g_grads, g_vars)

        b_k = self.gamma * recon_real - recon_fake
        b_l = self.gamma_label * label_real - label_fake
        b_z = self.zeta * ops.relu(b_k) - ops.relu(b_l)
        self.k_t.assign(ops.clip(k_t + self.lambda_k * b_k, 0.0, 1.0))
        self.l_t.assign(ops.clip(l_t + self.lambda_l * b_l, 0.0, self.max_l_t))
        self.z_t.assign(ops.clip(z_t + self.lambda_z * b_z, 0.0, 1.0))

        self.end_step()

        values = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "recon_real": recon_real,
            "recon_fake": recon_fake,
            "label_real": label_real,
            "label_fake": label_fake,
            "k_t": self.k_t,
            "l_t": self.l_t,
            "z_t": self.z_t,
            "convergence": recon_real + ops.abs(b_k),
            "spread": spread,
        }
        return self.record(values)
