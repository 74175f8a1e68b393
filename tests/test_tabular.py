import networkx as nx
import numpy as np
import pytest

import ckgan
from ckgan import BinaryBayesNet, CausalGraph, CkganError
from ckgan.metrics import tv_distance
from ckgan.tabular import TabularLabelGenerator


@pytest.fixture
def chain():
    graph = CausalGraph(nx.DiGraph([("A", "B"), ("B", "C")]), name="chain")
    truth = BinaryBayesNet(
        graph, {"A": np.array(0.4), "B": np.array([0.1, 0.8]), "C": np.array([0.3, 0.9])}
    )
    return graph, truth, truth.sample(5000, rng=0)


def test_fit_matches_exact_probabilities(chain):
    graph, truth, rows = chain
    gen = TabularLabelGenerator(graph)
    log = gen.fit(rows)
    assert log[0]["step"] == 1
    # add-one smoothed counts, checked by hand for one cell
    a = rows[:, 0]
    expected = (rows[a == 1, 1].sum() + 1) / ((a == 1).sum() + 2)
    assert gen.model.cpts["B"][1] == pytest.approx(expected)
    assert tv_distance(gen.pmf(), truth.pmf()) < 0.03


def test_do_and_given(chain):
    graph, truth, rows = chain
    gen = TabularLabelGenerator(graph)
    gen.fit(rows)
    s = gen.sample(20_000, do={"B": 1}, seed=1)
    assert (s[:, 1] == 1).all()
    assert s[:, 0].mean() == pytest.approx(rows[:, 0].mean(), abs=0.02)  # parent unchanged
    assert s[:, 2].mean() == pytest.approx(gen.model.cpts["C"][1], abs=0.02)
    g = gen.sample(20_000, given={"C": 1}, seed=2)
    assert (g[:, 2] == 1).all()
    assert g[:, 0].mean() == pytest.approx(gen.model.prob({"A": 1}, given={"C": 1}), abs=0.02)
    assert g[:, 0].mean() > rows[:, 0].mean() + 0.05  # conditioning moves the ancestor


def test_same_node_in_do_and_given_is_an_error(chain):
    graph, _, rows = chain
    gen = TabularLabelGenerator(graph)
    gen.fit(rows)
    with pytest.raises(CkganError, match="both set"):
        gen.sample(10, do={"B": 1}, given={"B": 1})
    with pytest.raises(CkganError, match="values must be 0 or 1"):
        gen.sample(10, do={"B": 2})


def test_save_load_same_samples(chain, tmp_path):
    graph, _, rows = chain
    gen = TabularLabelGenerator(graph)
    gen.fit(rows)
    gen.save(tmp_path / "m")
    loaded = ckgan.LabelGenerator.load(tmp_path / "m")
    assert isinstance(loaded, TabularLabelGenerator)
    assert loaded.graph == graph
    for kwargs in ({}, {"do": {"A": 0}}, {"given": {"C": 0}}):
        np.testing.assert_array_equal(
            gen.sample(500, seed=3, **kwargs), loaded.sample(500, seed=3, **kwargs)
        )


def test_corrupt_state_is_a_clear_error(chain, tmp_path):
    graph, _, rows = chain
    gen = TabularLabelGenerator(graph)
    gen.fit(rows)
    gen.save(tmp_path / "m")
    (tmp_path / "m" / "tables.h5").write_bytes(b"not hdf5")
    with pytest.raises(CkganError, match="corrupt"):
        ckgan.LabelGenerator.load(tmp_path / "m")
    (tmp_path / "m" / "label_generator.json").write_text("{")
    with pytest.raises(CkganError, match="corrupt"):
        ckgan.LabelGenerator.load(tmp_path / "m")
