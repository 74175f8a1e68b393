"""``DCGANGenerator``: the CausalGAN generator, (label logits, z) to an image."""

from __future__ import annotations

import math

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="ckgan")
class DCGANGenerator(keras.Model):
    """DCGAN generator (Radford et al. 2016) whose depth follows the image size.

    Input: ``(batch, inputs)`` (CausalGAN: the noisy labels' logits then z).
    A dense layer to ``4 x 4 x width * 2^(n-1)``, then ``n = log2(size / 4)``
    stride-2 transposed convolutions halving the channels (batch norm + ReLU),
    the last to 3 channels with tanh: at 64 px and ``width=64``,
    4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64x3 (the paper's).

    Args:
        size: output side in pixels, a power of two >= 8.
        width: channels of the last hidden block.
        kernel_size: of the transposed convolutions (paper: 5).
        labels: 0 (the paper's: labels enter at the input only), or the
            number of leading input columns that are label logits: then every
            batch norm is class-conditional (de Vries et al. 2017, as in
            BigGAN), its scale and shift per channel a linear function of the
            rounded labels (``logit > 0``), so each block sees the labels.
    """

    def __init__(
        self, size: int = 64, width: int = 64, kernel_size: int = 5, labels: int = 0, **kwargs
    ):
        super().__init__(**kwargs)
        self.size, self.width, self.kernel_size = int(size), int(width), int(kernel_size)
        self.labels = int(labels)
        n = int(math.log2(self.size // 4))
        if 4 * 2**n != self.size or n < 1:
            raise ValueError(f"size must be 4 * 2^n with n >= 1, got {size}")
        self.blocks = n
        top = self.width * 2 ** (n - 1)
        self.project = layers.Dense(4 * 4 * top, use_bias=False, name="project")
        self.project_norm = layers.BatchNormalization(name="project_norm")
        self.reshape = layers.Reshape((4, 4, top))
        self.ups, self.norms = [], []
        for i in range(n - 1):
            filters = self.width * 2 ** (n - 2 - i)
            self.ups.append(
                layers.Conv2DTranspose(
                    filters, self.kernel_size, 2, padding="same", use_bias=False, name=f"up{i}"
                )
            )
            self.norms.append(layers.BatchNormalization(name=f"norm{i}"))
        self.to_rgb = layers.Conv2DTranspose(
            3, self.kernel_size, 2, padding="same", activation="tanh", name="to_rgb"
        )
        # class-conditional batch norm: per norm, a (scale, shift) pair from the labels,
        # zero at the start so that training begins from the unconditional network
        channels = [4 * 4 * top] + [self.width * 2 ** (n - 2 - i) for i in range(n - 1)]
        self.films = [
            layers.Dense(2 * c, kernel_initializer="zeros", name=f"film{i}")
            for i, c in enumerate(channels)
        ] if self.labels else []  # fmt: skip

    def _modulate(self, x, i, conditions):
        if not self.films:
            return x
        scale, shift = keras.ops.split(self.films[i](conditions), 2, axis=-1)
        if len(x.shape) == 4:
            scale, shift = scale[:, None, None, :], shift[:, None, None, :]
        return x * (1.0 + scale) + shift

    def call(self, inputs, training=None):
        conditions = None
        if self.labels:
            conditions = keras.ops.cast(inputs[:, : self.labels] > 0, inputs.dtype)
        x = self.project(inputs)
        x = self._modulate(self.project_norm(x, training=training), 0, conditions)
        x = self.reshape(keras.ops.relu(x))
        for i, (up, norm) in enumerate(zip(self.ups, self.norms, strict=True)):
            x = keras.ops.relu(self._modulate(norm(up(x), training=training), i + 1, conditions))
        return self.to_rgb(x)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "width": self.width,
            "kernel_size": self.kernel_size,
            "labels": self.labels,
        }
