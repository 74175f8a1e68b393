"""``BEGANDecoder``: the CausalBEGAN generator, and the second half of its autoencoder."""

from __future__ import annotations

import math

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="ckgan")
class BEGANDecoder(keras.Model):
    """A vector to an image (Berthelot et al. 2017): no batch norm, so rows never mix.

    A dense layer to ``base x base x width`` (``base`` = 8, or 4 at 16 px),
    then blocks of two 3x3 ELU convolutions of ``width`` channels with
    nearest-neighbour upsampling between them up to ``size``, then a 3x3
    convolution to 3 channels (linear: no tanh, as the reference).

    Args:
        size: output side in pixels (16, 32, 64, ...).
        width: channels of every block (paper: 128).
        labels: 0 (the paper's: labels enter at the input only), or the
            number of leading input columns that are 0/1 labels: then each
            block's output is modulated by them (FiLM, Perez et al. 2018),
            ``x * (1 + scale(l)) + shift(l)`` per channel, so every block sees
            the labels.
        coarse_width: channels of the first (coarsest) block, halving at each
            upsampling down to ``width`` (0: ``width`` everywhere, the
            paper's). The coarse blocks decide the layout (long hair or
            short, a bald crown) and cost a quarter as much per channel
            squared at each halving of the side, so width there is cheap.
    """

    def __init__(
        self,
        size: int = 64,
        width: int = 128,
        labels: int = 0,
        coarse_width: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.size, self.width = int(size), int(width)
        self.labels, self.coarse_width = int(labels), int(coarse_width)
        self.base = 4 if self.size <= 16 else 8
        ups = int(math.log2(self.size // self.base))
        if self.base * 2**ups != self.size:
            raise ValueError(f"size must be {self.base} * 2^n, got {size}")
        self.channels = [max(self.width, self.coarse_width >> i) for i in range(ups + 1)]
        first = self.channels[0]
        self.project = layers.Dense(self.base * self.base * first, name="project")
        self.reshape = layers.Reshape((self.base, self.base, first))
        self.blocks = []
        for i, filters in enumerate(self.channels):
            convs = [
                layers.Conv2D(filters, 3, padding="same", activation="elu", name=f"conv{i}_{j}")
                for j in range(2)
            ]
            self.blocks.append(convs)
        self.upsample = layers.UpSampling2D(2, interpolation="nearest")
        self.to_rgb = layers.Conv2D(3, 3, padding="same", name="to_rgb")
        # zero at the start: training begins from the unconditional network
        self.films = [
            layers.Dense(2 * filters, kernel_initializer="zeros", name=f"film{i}")
            for i, filters in enumerate(self.channels)
        ] if self.labels else []  # fmt: skip

    def call(self, inputs, training=None):
        x = self.reshape(self.project(inputs))
        for i, (first, second) in enumerate(self.blocks):
            x = second(first(x))
            if self.films:
                scale, shift = keras.ops.split(self.films[i](inputs[:, : self.labels]), 2, axis=-1)
                x = x * (1.0 + scale[:, None, None, :]) + shift[:, None, None, :]
            if i < len(self.blocks) - 1:
                x = self.upsample(x)
        return self.to_rgb(x)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "width": self.width,
            "labels": self.labels,
            "coarse_width": self.coarse_width,
        }
