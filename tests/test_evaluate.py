"""evaluate: the diversity of images that share a label vector, against the data's; rare
contexts; and the judge that reads each attribute on its own."""

from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
from fakes.images import Marked, Tinted

from ckgan import CausalGraph, Dataset
from ckgan.evaluate import JUDGES, context_probability, diversity, judge_for, rare_rows
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
    single = nx.DiGraph()
    single.add_node("A")
    graph = CausalGraph(single)
    return SimpleNamespace(dataset=Tinted(), graph=graph, image_stage=stage)


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


def correlated_labels(rows=4000, agree=0.97, seed=0):
    """Two labels: A a fair coin, B equal to A in ``agree`` of the rows."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, rows)
    b = np.where(rng.random(rows) < agree, a, 1 - a)
    return np.stack([a, b], axis=1).astype(np.uint8)


def test_context_probability_reads_the_other_labels():
    data = correlated_labels()
    rows = np.array([[0, 1], [1, 1]])  # do(B=1) on A=0 and on A=1
    p, marginal = context_probability(data, 1, 1, rows)
    assert abs(marginal - 0.5) < 0.03
    assert p[0] < 0.05 < 0.95 < p[1]


def test_rare_rows_are_those_whose_other_labels_make_the_value_rare():
    data = correlated_labels(agree=0.995)
    rows = np.array([[0, 1], [1, 1], [0, 0], [1, 0]])
    assert rare_rows(data, 1, 1, rows[:2]).tolist() == [True, False]
    assert rare_rows(data, 1, 0, rows[2:]).tolist() == [False, True]
    # labels that carry no information about B leave no context rare
    independent = np.random.default_rng(1).integers(0, 2, (4000, 2))
    assert not rare_rows(independent, 1, 1, rows[:2]).any()


def test_a_context_the_data_hardly_hold_is_not_called_rare():
    data = correlated_labels(rows=40, agree=1.0)  # 20-odd rows of A=0, none with B=1
    p, marginal = context_probability(data, 1, 1, np.array([[0, 1]]))
    assert p[0] > 0.1 * marginal  # shrunk towards the marginal by the prior
    assert not rare_rows(data, 1, 1, np.array([[0, 1]]))[0]


class Unnamed(Tinted):
    """Tinted without a cache key: its repr names an address, not the data."""

    cache_key = None


def test_a_dataset_without_a_cache_key_gets_a_judge_that_is_never_cached():
    from ckgan.storage import cache_dir

    before = set(cache_dir("judges").iterdir())
    judge = Judge.for_dataset(Unnamed(), 16, epochs=1, verbose=0)
    assert judge.nodes == ("A",) and set(judge.accuracy) == {"A"}
    assert set(cache_dir("judges").iterdir()) == before


class Twins(Dataset):
    """``Marked``'s two marks as images in memory; with ``agree=1.0`` B always equals A.

    ``independent()`` is the same images' world with A and B independent
    coins: what a judge that must read each mark on its own learns from.
    """

    name = "twins"
    attributes = ("A", "B")
    has_images = True
    cache_key = None  # trained afresh in each test, never cached

    def __init__(self, agree=1.0, rows=1024):
        self.agree, self.rows = agree, rows
        self._labels = Marked(rows=rows, agree=agree, seed=3).labels()

    def labels(self, split="train", nodes=None):
        columns = [self.attributes.index(n) for n in (nodes or self.attributes)]
        return self._labels[:, columns].copy()

    def images(self, split="train", size=16):
        x = Marked.paint(self._labels, size, seed={"train": 1, "validation": 2, "test": 3}[split])
        return np.clip((x + 1) * 127.5, 0, 255).round().astype(np.uint8)

    def independent(self):
        return Twins(agree=0.5, rows=self.rows)


def test_the_judge_learns_each_mark_on_its_own_from_the_independent_twin():
    import keras

    probe = Marked.paint(np.array([[1, 0]] * 64 + [[0, 1]] * 64), 16, seed=9)
    read = {}
    for kind in JUDGES:
        keras.utils.set_random_seed(0)
        judge, trained_on = judge_for(Twins(), 16, kind, verbose=0)
        read[trained_on] = judge.predict(probe)[:, 1]  # P(B) on A-only, then B-only images
    fair, data = read["independent labels"], read["data"]
    assert fair[:64].mean() < 0.2 and fair[64:].mean() > 0.8, fair  # B's own mark
    # where B always comes with A, the data's judge reads B off A's (easier) mark
    assert data[:64].mean() > 0.5 > data[64:].mean(), data


def test_a_dataset_that_cannot_render_gets_the_data_judge_and_says_so():
    from ckgan import CkganError

    assert Tinted().independent() is None
    judge, trained_on = judge_for(Unnamed(), 16, "independent", verbose=0)
    assert trained_on == "data" and judge.nodes == ("A",)
    with pytest.raises(CkganError, match="unknown judge 'fair'"):
        judge_for(Tinted(), 16, "fair")
