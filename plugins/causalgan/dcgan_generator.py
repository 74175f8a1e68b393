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
    """

    def __init__(self, size: int = 64, width: int = 64, kernel_size: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.size, self.width, self.kernel_size = int(size), int(width), int(kernel_size)
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

    def call(self, inputs, training=None):
        x = self.project(inputs)
        x = keras.ops.relu(self.project_norm(x, training=training))
        x = self.reshape(x)
        for up, norm in zip(self.ups, self.norms, strict=True):
            x = keras.ops.relu(norm(up(x), training=training))
        return self.to_rgb(x)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "width": self.width,
            "kernel_size": self.kernel_size,
        }
