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
    Labeler's k logits). Rows never mix, unless ``minibatch_std``.

    Args:
        size: input side in pixels.
        outputs: size of the output vector.
        width: channels of the first block (paper: 128, so 128..512 at 64 px).
        minibatch_std: append, before the dense layer, a channel holding the
            mean standard deviation of the features across each group of the
            batch (Karras et al. 2018): a discriminator that sees how varied a
            batch is can punish a generator that draws one image (off: the
            paper's).
    """

    def __init__(
        self,
        size: int = 64,
        outputs: int = 64,
        width: int = 128,
        minibatch_std: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.size, self.num_outputs, self.width = int(size), int(outputs), int(width)
        self.minibatch_std = bool(minibatch_std)
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

    def call(self, images, training=None, groups: int = 1):
        x = self.stem(images)
        for block in self.blocks:
            for layer in block:
                x = layer(x)
        if self.minibatch_std:
            n, h, w, c = x.shape
            grouped = keras.ops.reshape(x, (groups, -1, h, w, c))
            std = keras.ops.sqrt(keras.ops.var(grouped, axis=1) + 1e-8)
            per_group = keras.ops.mean(std, axis=(1, 2, 3))  # (groups,)
            rows = keras.ops.repeat(per_group, n // groups)
            channel = keras.ops.ones_like(x[..., :1]) * keras.ops.reshape(rows, (-1, 1, 1, 1))
            x = keras.ops.concatenate([x, channel], axis=-1)
        return self.head(self.flatten(x))

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "outputs": self.num_outputs,
            "width": self.width,
            "minibatch_std": self.minibatch_std,
        }
