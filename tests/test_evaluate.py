"""evaluate: the diversity of images that share a label vector, against the data's."""

from types import SimpleNamespace

import numpy as np
import pytest
from fakes.images import Tinted

from ckgan.evaluate import diversity
from ckgan.judge import Judge


class Painter:
    """An image stage that paints Tinted images for the labels asked, hue fixed or free."""

    def __init__(self, hue=None):
        self.hue = hue

    def generate(self, labels, seed=None):
        rows = np.random.default_rng(seed).random((len(labels), 3))
        rows[:, 0] = np.where(np.asarray(labels)[:, 0] >= 0.5, 0.25, 0.75)  # A = row < 0.5
        if self.hue is not None:
            rows[:, 1] = self.hue
        return Tinted.render(rows)


@pytest.fixture(scope="module")
def judge():
    return Judge.for_dataset(Tinted(), 16, epochs=6, verbose=0)


def run_of(stage):
    return SimpleNamespace(dataset=Tinted(), graph=SimpleNamespace(nodes=("A",)), image_stage=stage)


def test_a_generator_as_varied_as_the_data_scores_about_one(judge):
    result = diversity(run_of(Painter()), judge, per_vector=64)
    assert len(result["per_vector"]) == 2  # both values of A
    assert set(result["nuisance"]) == {"hue", "light"}
    for factor, spread in result["nuisance"].items():
        assert 0.75 < spread < 1.3, (factor, spread)


def test_a_factor_the_generator_never_varies_scores_near_zero(judge):
    result = diversity(run_of(Painter(hue=0.3)), judge, per_vector=64)
    assert result["nuisance"]["hue"] < 0.2
    assert 0.75 < result["nuisance"]["light"] < 1.3
