"""``BEGANEncoder``: BEGAN's encoder, the first half of its autoencoder and the Labeler."""

from __future__ import annotations

import math

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="ckgan")
class BEGANEncoder(keras.Model):
    """An image to ``outputs`` values (Berthelot et al. 2017): 3x3 ELU convolutions.

    A 3x3 convolution of ``width`` channels, then blocks ``i = 0..n`` of two
    3x3 convolutions of ``width * (i + 1)`` channels, each block but the last
    followed by a stride-2 convolution, down to ``base x base`` (8, or 4 at
    16 px); then a dense layer to ``outputs`` (the 64-dim code, or a
    Labeler's k logits). Rows never mix.

    Args:
        size: input side in pixels.
        outputs: size of the output vector.
        width: channels of the first block (paper: 128, so 128..512 at 64 px).
    """

    def __init__(self, size: int = 64, outputs: int = 64, width: int = 128, **kwargs):
        super().__init__(**kwargs)
        self.size, self.num_outputs, self.width = int(size), int(outputs), int(width)
        self.base = 4 if self.size <= 16 else 8
        downs = int(math.log2(self.size // self.base))
        if self.base * 2**downs != self.size:
            raise ValueError(f"size must be {self.base} * 2^n, got {size}")

        def conv(filters, name, strides=1):
            return layers.Conv2D(filters, 3, strides, padding="same", activation="elu", name=name)

        self.stem = conv(self.width, "stem")
        self.blocks = []
        for i in range(downs + 1):
            filters = self.width * (i + 1)
            block = [conv(filters, f"conv{i}_0"), conv(filters, f"conv{i}_1")]
            if i < downs:
                block.append(conv(filters, f"down{i}", strides=2))
            self.blocks.append(block)
        self.flatten = layers.Flatten()
        self.head = layers.Dense(self.num_outputs, name="head")

    def call(self, images, training=None):
        x = self.stem(images)
        for block in self.blocks:
            for layer in block:
                x = layer(x)
        return self.head(self.flatten(x))

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "outputs": self.num_outputs,
            "width": self.width,
        }
