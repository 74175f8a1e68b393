import networkx as nx
import numpy as np
import pytest

from ckgan import BinaryBayesNet, CausalGraph, CkganError, LabelGenerator


class Sampler(LabelGenerator):
    """A label generator backed by a fixed Bayes net, to test the shared logic."""

    kind = "test-sampler"

    def __init__(self, graph, truth=None):
        super().__init__(graph)
        self.truth = truth

    def _sample(self, n, do, seed):
        return self.truth.sample(n, rng=seed, do=do)


@pytest.fixture
def sampler():
    graph = CausalGraph(nx.DiGraph([("A", "B")]))
    truth = BinaryBayesNet(graph, {"A": np.array(0.5), "B": np.array([1e-5, 0.6])})
    return Sampler(graph, truth)


def test_rejection_sampling_conditions_and_reports_acceptance(sampler):
    rows = sampler.sample(2000, given={"B": 1}, seed=0)
    assert rows.shape == (2000, 2) and (rows[:, 1] == 1).all()
    # P(A=1 | B=1) = .5*.6 / (.5*.6 + .5*1e-5)
    assert rows[:, 0].mean() == pytest.approx(1.0, abs=0.001)
    assert sampler.last_acceptance == pytest.approx(0.3, abs=0.03)
    np.testing.assert_array_equal(rows, sampler.sample(2000, given={"B": 1}, seed=0))


def test_impossible_evidence_fails_clearly_and_fast(sampler):
    with pytest.raises(CkganError, match=r"B=1 is \(nearly\) impossible.*--set"):
        sampler.sample(100, do={"A": 0}, given={"B": 1}, seed=0)


def test_fit_checks_labels(sampler):
    with pytest.raises(CkganError, match="2 columns"):
        sampler.fit(np.zeros((5, 3)))
    with pytest.raises(CkganError, match="0 or 1"):
        sampler.fit(np.full((5, 2), 2))
