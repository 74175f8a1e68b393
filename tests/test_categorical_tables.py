"""Tabular labels with k-state nodes, checked against tables computed by hand."""

import networkx as nx
import numpy as np
import pytest

from ckgan import CausalGraph, CkganError, LabelGenerator
from ckgan.bayesnet import BayesNet, all_configs, config_index
from ckgan.metrics import empirical_pmf, marginals, tv_distance, tv_to_truth
from ckgan.tabular import TabularLabelGenerator

STATES = {"A": ("lo", "mid", "hi"), "B": ("no", "yes"), "C": ("x", "y", "z")}
# (A, B, C) codes and how many rows show them: 8 rows
ROWS = {(0, 0, 0): 2, (0, 1, 1): 1, (1, 0, 2): 3, (2, 1, 2): 1, (2, 1, 0): 1}


@pytest.fixture
def fitted():
    graph = CausalGraph(nx.DiGraph([("A", "B"), ("A", "C")]), name="abc", states=STATES)
    rows = np.array([r for r, n in ROWS.items() for _ in range(n)], dtype=np.uint8)
    gen = TabularLabelGenerator(graph)
    gen.fit(rows)
    return graph, gen


def test_add_one_tables_by_hand(fitted):
    graph, gen = fitted
    cpts = gen.model.cpts
    # A: counts 3, 3, 2 of 8 -> (c + 1) / (8 + 3)
    np.testing.assert_allclose(cpts["A"], [4 / 11, 4 / 11, 3 / 11])
    # B is binary: P(B = yes | A), (ones + 1) / (rows + 2): 1 of 3, 0 of 3, 2 of 2
    np.testing.assert_allclose(cpts["B"], [2 / 5, 1 / 5, 3 / 4])
    # C | A: counts (2, 1, 0), (0, 0, 3), (1, 0, 1) -> (c + 1) / (rows + 3)
    np.testing.assert_allclose(
        cpts["C"], [[3 / 6, 2 / 6, 1 / 6], [1 / 6, 1 / 6, 4 / 6], [2 / 5, 1 / 5, 2 / 5]]
    )
    assert cpts["B"].shape == (3,) and cpts["C"].shape == (3, 3)


def test_exact_pmf_do_and_conditioning_by_hand(fitted):
    graph, gen = fitted
    pmf = gen.pmf()
    assert len(pmf) == 18 and pmf.sum() == pytest.approx(1.0)
    configs = all_configs(graph.cards)
    index = config_index(np.array([[2, 1, 0]]), graph.cards)[0]
    assert tuple(configs[index]) == (2, 1, 0)
    assert pmf[index] == pytest.approx(3 / 11 * 3 / 4 * 2 / 5)
    # P(C = z) = 4/11 * 1/6 + 4/11 * 4/6 + 3/11 * 2/5 = 68/165
    assert gen.model.prob({"C": "z"}) == pytest.approx(68 / 165)
    # conditioning reasons back to A, an intervention does not
    assert gen.model.prob({"A": "hi"}, given={"C": "z"}) == pytest.approx(9 / 34)
    assert gen.model.prob({"A": "hi"}, do={"C": "z"}) == pytest.approx(3 / 11)
    assert gen.model.prob({"C": 2}, do={"A": "hi"}) == pytest.approx(2 / 5)
    m = gen.model.marginals(do={"A": "hi"})
    assert m == pytest.approx({"A=lo": 0, "A=mid": 0, "A=hi": 1, "B": 3 / 4,
                               "C=x": 2 / 5, "C=y": 1 / 5, "C=z": 2 / 5})  # fmt: skip


def test_sampling_follows_the_tables(fitted):
    graph, gen = fitted
    rows = gen.sample(200_000, seed=0)
    assert rows.dtype == np.uint8 and rows.max(axis=0).tolist() == [2, 1, 2]
    assert tv_distance(rows, gen.pmf(), graph.cards) < 0.01
    under = gen.sample(100_000, do={"A": "mid"}, seed=1)
    assert (under[:, 0] == 1).all()
    assert np.bincount(under[:, 2], minlength=3) / len(under) == pytest.approx(
        [1 / 6, 1 / 6, 4 / 6], abs=0.01
    )
    given = gen.sample(50_000, given={"C": "z"}, seed=2)
    assert (given[:, 2] == 2).all() and (given[:, 0] == 2).mean() == pytest.approx(9 / 34, abs=0.01)
    assert marginals(rows, graph)["C=z"] == pytest.approx(68 / 165, abs=0.01)
    result = tv_to_truth(gen.sample, gen.model, n=50_000, seed=3)
    assert set(result["tv_do"]) == {"A=lo", "A=mid", "A=hi", "B=no", "B=yes", "C=x", "C=y", "C=z"}
    assert max(result["tv_do"].values()) < 0.02


def test_a_bayesnet_samples_categorical_states_by_their_intervals():
    graph = CausalGraph(nx.DiGraph([("A", "B")]), states={"A": ("a", "b", "c")})
    net = BayesNet(graph, {"A": [0.2, 0.5, 0.3], "B": [0.0, 1.0, 0.5]})
    noise = np.array([[0.1, 0.9], [0.2, 0.9], [0.69, 0.1], [0.7, 0.4], [0.99, 0.6]])
    np.testing.assert_array_equal(
        net.sample(5, noise=noise), [[0, 0], [1, 1], [1, 1], [2, 1], [2, 0]]
    )
    with pytest.raises(CkganError, match="rows that do not sum to 1"):
        BayesNet(graph, {"A": [0.2, 0.5, 0.4], "B": [0.0, 1.0, 0.5]})
    with pytest.raises(CkganError, match=r"expected \(3,\)"):
        BayesNet(graph, {"A": [0.2, 0.5, 0.3], "B": [0.0, 1.0]})


def test_tables_saved_and_loaded_with_their_states(fitted, tmp_path):
    graph, gen = fitted
    gen.save(tmp_path / "t")
    back = LabelGenerator.load(tmp_path / "t")
    assert back.graph == graph and back.graph.states("A") == ("lo", "mid", "hi")
    np.testing.assert_array_equal(back.pmf(), gen.pmf())
    np.testing.assert_array_equal(back.sample(100, seed=4), gen.sample(100, seed=4))


def test_codes_outside_a_node_s_states_are_refused(fitted):
    graph, gen = fitted
    with pytest.raises(CkganError, match=r"labels of 'C' must be codes 0-2 of its states"):
        gen.fit(np.array([[0, 1, 3]], dtype=np.uint8))
    with pytest.raises(CkganError, match=r"--set A=ancient: 'A' has the states lo, mid, hi"):
        gen.sample(5, do={"A": "ancient"})
    # a name matches ignoring case, as CSV cells do
    assert (gen.sample(5, do={"A": "HI"}, seed=0)[:, 0] == 2).all()
    with pytest.raises(CkganError, match="values must be 0 or 1"):
        TabularLabelGenerator(CausalGraph(nx.DiGraph([("X", "Y")]))).sample(5, do={"X": 2})
    assert empirical_pmf(np.array([[2, 1, 0]]), graph.cards).argmax() == 2 * 6 + 1 * 3 + 0
