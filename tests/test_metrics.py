import numpy as np
import pytest

from ckgan.metrics import empirical_pmf, marginals, single_node_interventions, tv_distance


def test_tv_counts_mass_outside_the_support():
    data = np.array([[0, 0], [0, 1]])
    generated = np.array([[1, 1], [1, 1]])  # never seen in the data
    assert tv_distance(data, generated) == pytest.approx(1.0)
    half = np.array([[0, 0], [1, 1]])
    assert tv_distance(data, half) == pytest.approx(0.5)


def test_tv_of_pmfs_and_shapes():
    p = np.array([0.5, 0.5, 0, 0])
    q = np.array([0.25, 0.25, 0.25, 0.25])
    assert tv_distance(p, q) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        tv_distance(p, np.ones(8) / 8)


def test_empirical_pmf_and_marginals():
    rows = np.array([[1, 0], [1, 1], [0, 0], [1, 0]])
    assert empirical_pmf(rows).tolist() == [0.25, 0, 0.5, 0.25]
    assert marginals(rows, ["A", "B"]) == {"A": 0.75, "B": 0.25}
    assert single_node_interventions(["A", "B"]) == [{"A": 0}, {"A": 1}, {"B": 0}, {"B": 1}]
