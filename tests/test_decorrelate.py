"""A Labeler trained on decorrelated rows reads each attribute's own mark.

On ``Marked`` two labels agree in 97% of the rows and each has its own mark,
one easy to read (A) and one faint (B). A Labeler trained on the rows as they
come reads B off A's mark; one trained with ``decorrelate`` (rows weighed so
that the labels are independent) reads B's own mark.
"""

import keras
import numpy as np
import pytest
from ckgan_plugins.causalgan.causal_gan_stage import CausalGANStage
from fakes.images import Marked, UniformLabels

from ckgan import CkganError
from ckgan.image_gan import WEIGHT_TABLE, decorrelating_table, label_key


def test_the_weights_make_the_labels_independent():
    labels = Marked(rows=4000).labels()
    table = decorrelating_table(labels, clip=50.0)
    assert table.shape == (WEIGHT_TABLE,)
    weights = table[label_key(labels)]
    assert abs(weights.mean() - 1.0) < 1e-5
    a, b = labels[:, 0] == 1, labels[:, 1] == 1
    plain = (b[a].mean(), b[~a].mean())
    weighted = (np.average(b[a], weights=weights[a]), np.average(b[~a], weights=weights[~a]))
    assert plain[0] - plain[1] > 0.9
    assert abs(weighted[0] - weighted[1]) < 0.02
    assert abs(np.average(b, weights=weights) - b.mean()) < 0.02  # marginals kept


def test_the_clip_bounds_the_weights():
    labels = Marked(rows=4000).labels()
    table = decorrelating_table(labels, clip=2.0)
    weights = table[label_key(labels)]
    assert weights.max() / weights.min() <= 4.0 + 1e-4


def labeler_reading(decorrelate):
    """P(A), P(B) from a Labeler trained 150 steps: on A-only images, then B-only images."""
    keras.utils.set_random_seed(0)
    stage = CausalGANStage(
        ("A", "B"), 16, width=8, labeler_width=8, noise_dim=8, minibatch_kernels=0,
        projection=False, balance_labels=False, generator_updates=1, learning_rate=1e-3,
        film=False, labeler_augment=False,
        decorrelate=decorrelate,
    )  # fmt: skip
    stage.fit(Marked(), UniformLabels(2), steps=150, batch_size=64, verbose=0)
    probe = Marked.paint(np.array([[1, 0]] * 32 + [[0, 1]] * 32), 16, seed=9)
    p = keras.ops.convert_to_numpy(keras.ops.sigmoid(stage.model.labeler(probe)))
    return p[:32].mean(axis=0), p[32:].mean(axis=0)


@pytest.mark.parametrize("decorrelate", [0.0, 20.0])
def test_a_decorrelated_labeler_reads_each_mark_on_its_own(decorrelate):
    a_only, b_only = labeler_reading(decorrelate)
    assert a_only[0] > 0.9 and b_only[0] < 0.1  # A's mark is easy either way
    if decorrelate:  # B read off its own mark
        assert a_only[1] < 0.5 < b_only[1], (a_only, b_only)
    else:  # the shortcut: B read off A's mark
        assert a_only[1] > 0.5 > b_only[1], (a_only, b_only)


def test_decorrelate_is_checked():
    with pytest.raises(CkganError, match="decorrelate"):
        CausalGANStage(("A", "B"), 16, decorrelate=0.5)
