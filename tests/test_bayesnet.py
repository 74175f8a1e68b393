import networkx as nx
import numpy as np
import pytest

from ckgan import BinaryBayesNet, CausalGraph, CkganError
from ckgan.bayesnet import all_configs, config_index
from ckgan.metrics import tv_distance


@pytest.fixture
def collider():
    # A -> C <- B, A -> B
    graph = CausalGraph(nx.DiGraph([("A", "B"), ("A", "C"), ("B", "C")]))
    cpts = {
        "A": np.array(0.3),
        "B": np.array([0.2, 0.9]),
        "C": np.array([[0.1, 0.5], [0.6, 0.95]]),
    }
    return BinaryBayesNet(graph, cpts)


def test_config_index_order():
    configs = all_configs(3)
    assert configs[5].tolist() == [1, 0, 1]
    assert config_index(configs).tolist() == list(range(8))


def test_pmf_matches_hand_computation(collider):
    p = collider.pmf()
    assert p.sum() == pytest.approx(1)
    # P(A=1, B=0, C=1) = 0.3 * 0.1 * 0.6
    assert p[config_index(np.array([[1, 0, 1]]))[0]] == pytest.approx(0.3 * 0.1 * 0.6)


def test_do_and_given(collider):
    assert collider.prob({"A": 1}, do={"B": 1}) == pytest.approx(0.3)
    # conditioning on B=1 changes A: P(A=1|B=1) = .3*.9 / (.3*.9 + .7*.2)
    assert collider.prob({"A": 1}, given={"B": 1}) == pytest.approx(0.27 / (0.27 + 0.14))
    assert collider.prob({"C": 1}, do={"B": 1}) == pytest.approx(0.3 * 0.95 + 0.7 * 0.5)
    m = collider.marginals(do={"A": 0})
    assert m["A"] == 0 and m["B"] == pytest.approx(0.2)


def test_sampling_matches_pmf(collider):
    rows = collider.sample(200_000, rng=0)
    assert tv_distance(rows, collider.pmf()) < 0.01
    rows = collider.sample(200_000, rng=1, do={"B": 0})
    assert (rows[:, 1] == 0).all()
    assert tv_distance(rows, collider.pmf(do={"B": 0})) < 0.01


def test_same_noise_gives_counterfactuals(collider):
    noise = np.random.default_rng(0).random((1000, 3))
    obs = collider.sample(1000, noise=noise)
    cf = collider.sample(1000, noise=noise, do={"B": 1})
    assert (obs[:, 0] == cf[:, 0]).all()  # A is upstream of B: unchanged


def test_fit_recovers_tables(collider):
    rows = collider.sample(100_000, rng=2)
    fitted = BinaryBayesNet.fit(collider.graph, rows)
    assert tv_distance(fitted.pmf(), collider.pmf()) < 0.01
    assert fitted.cpts["C"].shape == (2, 2)


def test_bad_input(collider):
    with pytest.raises(CkganError, match="values must be 0 or 1"):
        collider.pmf(do={"A": 2})
    with pytest.raises(CkganError, match="unknown node 'Z'"):
        collider.pmf(given={"Z": 1})
    with pytest.raises(CkganError, match="probability 0"):
        collider.pmf(do={"A": 0}, given={"A": 1})
    with pytest.raises(CkganError, match="shape"):
        BinaryBayesNet(collider.graph, {**collider.cpts, "C": np.array([0.5, 0.5])})
