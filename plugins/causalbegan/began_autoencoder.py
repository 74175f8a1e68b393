"""``BEGANAutoencoder``: the BEGAN discriminator, an autoencoder scored by its reconstruction."""

from __future__ import annotations

import keras

from .began_decoder import BEGANDecoder
from .began_encoder import BEGANEncoder


@keras.saving.register_keras_serializable(package="ckgan")
class BEGANAutoencoder(keras.Model):
    """``BEGANEncoder`` to a ``code_dim`` code, then ``BEGANDecoder`` back to the image.

    Args:
        size: image side in pixels.
        width: the encoder's first and the decoder's channels.
        code_dim: the code's dimension (paper: 64).
        minibatch_std: the encoder's (see ``BEGANEncoder``).
        labels: 0 (the paper's), or the number of 0/1 labels the decoder also
            reads: they join the code and modulate every block (FiLM, as the
            generator's), so the autoencoder reconstructs an image well only
            with labels that fit it: a discriminator conditioned on the labels.
    """

    def __init__(
        self,
        size: int = 64,
        width: int = 128,
        code_dim: int = 64,
        minibatch_std: bool = False,
        labels: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.size, self.width, self.code_dim = int(size), int(width), int(code_dim)
        self.minibatch_std = bool(minibatch_std)
        self.encoder = BEGANEncoder(
            self.size, self.code_dim, self.width, self.minibatch_std, name="encoder"
        )
        self.labels = int(labels)
        self.decoder = BEGANDecoder(self.size, self.width, labels=self.labels, name="decoder")

    def call(self, images, labels=None, training=None, groups: int = 1):
        return self.decode(self.encoder(images, groups=groups), labels)

    def decode(self, codes, labels=None):
        """The decoder's image of ``codes``, read with ``labels`` when conditioned
        (zeros when none are given)."""
        if self.labels:
            if labels is None:
                labels = keras.ops.zeros((codes.shape[0], self.labels))
            codes = keras.ops.concatenate([keras.ops.cast(labels, codes.dtype), codes], axis=-1)
        return self.decoder(codes)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "width": self.width,
            "code_dim": self.code_dim,
            "minibatch_std": self.minibatch_std,
            "labels": self.labels,
        }
