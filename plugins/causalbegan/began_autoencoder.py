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
    """

    def __init__(
        self,
        size: int = 64,
        width: int = 128,
        code_dim: int = 64,
        minibatch_std: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.size, self.width, self.code_dim = int(size), int(width), int(code_dim)
        self.minibatch_std = bool(minibatch_std)
        self.encoder = BEGANEncoder(
            self.size, self.code_dim, self.width, self.minibatch_std, name="encoder"
        )
        self.decoder = BEGANDecoder(self.size, self.width, name="decoder")

    def call(self, images, training=None, groups: int = 1):
        return self.decoder(self.encoder(images, groups=groups))

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "width": self.width,
            "code_dim": self.code_dim,
            "minibatch_std": self.minibatch_std,
        }
