"""``ConvClassifier``: a DCGAN conv stack with a logit head (discriminator, (Anti-)Labeler)."""

from __future__ import annotations

import math

import keras
from keras import layers

from .minibatch_discrimination import MinibatchDiscrimination


@keras.saving.register_keras_serializable(package="ckgan")
class ConvClassifier(keras.Model):
    """``log2(size / 4)`` stride-2 convolutions (leaky ReLU) doubling from ``width``, then logits.

    At 64 px and ``width=64``: 64, 128, 256, 512 channels to 4x4 (the
    paper's). Rows never mix unless ``minibatch_kernels > 0``, which appends
    minibatch-discrimination features before the head.

    Args:
        size: input side in pixels.
        outputs: number of logits (1 for a discriminator, k for a Labeler).
        width: channels of the first convolution.
        kernel_size: of the convolutions (paper: 5).
        minibatch_kernels, minibatch_dims: minibatch discrimination (0: none).
        norm: ``"none"`` or ``"layer"`` (per-sample layer normalisation after
            each convolution but the first; never batch norm, which would mix
            real and fake statistics and make a row depend on its batch).
        negative_slope: of the leaky ReLUs.
        projection: number of labels the logit is also conditioned on by a
            projection (Miyato & Koyama 2018): ``+ <embed(labels), features>``;
            0: none (an unconditional discriminator, the paper's).
    """

    def __init__(
        self,
        size: int = 64,
        outputs: int = 1,
        width: int = 64,
        kernel_size: int = 5,
        minibatch_kernels: int = 0,
        minibatch_dims: int = 5,
        norm: str = "none",
        negative_slope: float = 0.2,
        projection: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.size, self.num_outputs, self.width = int(size), int(outputs), int(width)
        self.kernel_size = int(kernel_size)
        self.minibatch_kernels, self.minibatch_dims = int(minibatch_kernels), int(minibatch_dims)
        if norm not in ("none", "layer"):
            raise ValueError(f"norm must be 'none' or 'layer', got {norm!r}")
        self.norm, self.negative_slope = norm, float(negative_slope)
        n = int(math.log2(self.size // 4))
        self.convs, self.norms = [], []
        for i in range(n):
            self.convs.append(
                layers.Conv2D(
                    self.width * 2**i, self.kernel_size, 2, padding="same", name=f"conv{i}"
                )
            )
            use_norm = norm == "layer" and i > 0
            self.norms.append(layers.LayerNormalization(name=f"norm{i}") if use_norm else None)
        self.flatten = layers.Flatten()
        self.minibatch = (
            MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_dims, name="minibatch")
            if self.minibatch_kernels
            else None
        )
        self.head = layers.Dense(self.num_outputs, name="logits")
        self.projection = int(projection)
        features = 16 * self.width * 2 ** (n - 1) + self.minibatch_kernels
        self.embed = (
            layers.Dense(features, use_bias=False, name="embed") if self.projection else None
        )

    def call(self, images, groups: int = 1, labels=None):
        x = images
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = conv(x)
            if norm is not None:
                x = norm(x)
            x = keras.ops.leaky_relu(x, self.negative_slope)
        x = self.flatten(x)
        if self.minibatch is not None:
            x = self.minibatch(x, groups=groups)
        if self.embed is None:
            return self.head(x)
        if labels is None:
            raise ValueError("a projection discriminator needs the labels of its images")
        return self.head(x) + keras.ops.sum(self.embed(labels) * x, axis=-1, keepdims=True)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "outputs": self.num_outputs,
            "width": self.width,
            "kernel_size": self.kernel_size,
            "minibatch_kernels": self.minibatch_kernels,
            "minibatch_dims": self.minibatch_dims,
            "norm": self.norm,
            "negative_slope": self.negative_slope,
            "projection": self.projection,
        }
