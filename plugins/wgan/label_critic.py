"""``LabelCritic``: the WGAN critic over a whole label vector.

A plain MLP with leaky ReLUs and a linear output, no normalisation: the
gradient penalty needs each row's score to depend on that row alone.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="ckgan")
class LabelCritic(keras.Model):
    """Scores ``(batch, num_labels)`` label vectors; higher means "more like the data".

    Args:
        num_labels: the number of label columns.
        hidden: widths of the hidden layers.
        negative_slope: of the leaky ReLUs.
    """

    def __init__(self, num_labels: int, hidden=(64, 64, 64), negative_slope: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.num_labels = int(num_labels)
        self.hidden = [int(h) for h in hidden]
        self.negative_slope = float(negative_slope)
        self.hidden_layers = [
            keras.layers.Dense(width, name=f"dense_{i}") for i, width in enumerate(self.hidden)
        ]
        self.score = keras.layers.Dense(1, name="score")
        self.build((None, self.num_labels))

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.hidden_layers:
            layer.build(shape)
            shape = (*shape[:-1], layer.units)
        self.score.build(shape)

    def call(self, labels, training=None):
        h = labels
        for layer in self.hidden_layers:
            h = keras.ops.leaky_relu(layer(h), self.negative_slope)
        return self.score(h)[..., 0]

    def get_config(self):
        return {
            **super().get_config(),
            "num_labels": self.num_labels,
            "hidden": self.hidden,
            "negative_slope": self.negative_slope,
        }
