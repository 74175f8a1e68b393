"""A Labeler that learns fast enough reads each attribute's own mark.

On ``Marked`` two labels agree in 97% of the rows and each has its own mark,
one easy to read (A) and one faint (B). A Labeler that learns at the
generator's pace reads B off A's mark, the shortcut the data offer; one with
its own, higher learning rate (``labeler_learning_rate``) learns B's own mark
in the same steps. On synthfaces the same holds for Bald, which comes with
Male and age: a Labeler trained for 1500 steps at the shared rate calls grey or
light hair bald (precision 0.2-0.4), and the generator obliges.
"""

import keras
import numpy as np
import pytest
from ckgan_plugins.causalgan.causal_gan_stage import CausalGANStage
from fakes.images import Marked, UniformLabels

from ckgan import CkganError


def labeler_reading(labeler_learning_rate):
    """P(A), P(B) from a Labeler trained 150 steps: on A-only images, then B-only images."""
    keras.utils.set_random_seed(0)
    stage = CausalGANStage(
        ("A", "B"), 16, width=8, labeler_width=8, noise_dim=8, minibatch_kernels=0,
        projection=False, balance_labels=False, generator_updates=1, learning_rate=1e-3,
        film=False, labeler_augment=False, labeler_learning_rate=labeler_learning_rate,
    )  # fmt: skip
    stage.fit(Marked(), UniformLabels(2), steps=150, batch_size=64, verbose=0)
    probe = Marked.paint(np.array([[1, 0]] * 32 + [[0, 1]] * 32), 16, seed=9)
    p = keras.ops.convert_to_numpy(keras.ops.sigmoid(stage.model.labeler(probe)))
    return p[:32].mean(axis=0), p[32:].mean(axis=0)


@pytest.mark.parametrize("labeler_learning_rate", [0.0, 4e-3])
def test_a_fast_labeler_reads_each_mark_on_its_own(labeler_learning_rate):
    a_only, b_only = labeler_reading(labeler_learning_rate)
    assert a_only[0] > 0.9 and b_only[0] < 0.1  # A's mark is easy either way
    if labeler_learning_rate:  # B read off its own mark
        assert a_only[1] < 0.5 < b_only[1], (a_only, b_only)
    else:  # the shortcut: B read off A's mark
        assert a_only[1] > 0.5 > b_only[1], (a_only, b_only)


def test_the_labeler_learning_rate_is_checked():
    with pytest.raises(CkganError, match="labeler_learning_rate"):
        CausalGANStage(("A", "B"), 16, labeler_learning_rate=-1.0)
