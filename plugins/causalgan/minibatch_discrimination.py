"""``MinibatchDiscrimination``: features that let a discriminator see a whole batch."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ckgan")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016), appended to the input features.

    Each row's features ``f`` are projected to ``kernels`` vectors of ``dims``
    values, ``M = f T``; for each kernel ``b``, row ``i`` gets
    ``o_b(i) = mean_{j != i} exp(-||M_b(i) - M_b(j)||_1)`` over the other
    rows of its group (Salimans et al. sum; the mean keeps it in [0, 1]). A
    generator that draws near-copies makes these large, which the
    discriminator learns to punish: they fight collapse.

    Args:
        kernels: number of projections (B).
        dims: values per projection (C).

    Call with ``groups=g`` to split the batch into ``g`` equal groups that do
    not see each other (real and fake images in one call).
    """

    def __init__(self, kernels: int = 50, dims: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.kernels = int(kernels)
        self.dims = int(dims)

    def build(self, input_shape):
        self.projection = self.add_weight(
            shape=(int(input_shape[-1]), self.kernels * self.dims),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="projection",
        )

    def call(self, features, groups: int = 1):
        m = ops.matmul(features, self.projection)
        m = ops.reshape(m, (groups, -1, self.kernels, self.dims))
        # (g, n, 1, B, C) - (g, 1, n, B, C) -> L1 over C -> (g, n, n, B)
        l1 = ops.sum(ops.abs(m[:, :, None] - m[:, None, :]), axis=-1)
        # the mean over the other rows (the row itself contributes exp(0) = 1):
        # in [0, 1] whatever the batch size, so the head's scale does not follow it
        n = ops.cast(ops.shape(l1)[1], l1.dtype)
        o = (ops.sum(ops.exp(-l1), axis=2) - 1.0) / ops.maximum(n - 1.0, 1.0)
        o = ops.reshape(o, (-1, self.kernels))
        return ops.concatenate([features, o], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.kernels)

    def get_config(self):
        return {**super().get_config(), "kernels": self.kernels, "dims": self.dims}
