"""wgan's ``sampler="tables"``: the fitted controller sampled through the tables it defines."""

import networkx as nx
import numpy as np
import pytest
from ckgan_plugins.wgan.wgan_label_generator import TABLES_FILE, WGANLabelGenerator

from ckgan import CausalGraph, CkganError, LabelGenerator
from ckgan.bayesnet import BayesNet

GRAPH = CausalGraph(nx.DiGraph([("A", "C"), ("B", "C"), ("C", "D")]))
TRUTH = BayesNet(
    GRAPH,
    {"A": np.array(0.05), "B": np.array(0.3), "C": np.array([[0.02, 0.6], [0.97, 0.99]]),
     "D": np.array([0.1, 0.8])},
)  # fmt: skip
N = 200_000


def pmf(rows):
    return np.bincount(rows.astype(int) @ (1 << np.arange(3, -1, -1)), minlength=16) / len(rows)


def tv(a, b):
    return 0.5 * np.abs(pmf(a) - pmf(b)).sum()


@pytest.fixture(scope="module")
def fitted():
    generator = WGANLabelGenerator(GRAPH, steps=200)
    generator.fit(TRUTH.sample(20_000, rng=0), seed=0, verbose=0)
    return generator


def network_rows(generator, **kwargs):
    generator.options["sampler"] = "network"
    try:
        return generator.sample(N, **kwargs)
    finally:
        generator.options["sampler"] = "tables"


@pytest.mark.parametrize("do", [None, {"A": 1}, {"C": 0}])
def test_tables_draw_what_the_network_draws(fitted, do):
    assert fitted.tables() is not None
    tables, network = fitted.sample(N, do=do, seed=1), network_rows(fitted, do=do, seed=2)
    # two draws of 200k rows from one distribution over 16 cells: TV about 0.003
    assert tv(tables, network) < 0.012
    if do:
        assert (tables[:, [GRAPH.index(k) for k in do]] == list(do.values())).all()


def test_while_training_the_network_is_sampled():
    seen = []
    generator = WGANLabelGenerator(GRAPH, steps=20)
    generator.fit(
        TRUTH.sample(2_000, rng=0),
        seed=0,
        verbose=0,
        evaluate=lambda g: seen.append(g.tables()) or {},
        eval_every=10,
    )
    assert seen and all(t is None for t in seen)
    assert generator.tables() is not None


def test_saved_tables_load_and_a_damaged_file_names_the_fix(fitted, tmp_path):
    fitted.save(tmp_path / "labels")
    assert (tmp_path / "labels" / TABLES_FILE).is_file()
    loaded = LabelGenerator.load(tmp_path / "labels")
    np.testing.assert_array_equal(loaded.sample(1000, seed=3), fitted.sample(1000, seed=3))
    (tmp_path / "labels" / TABLES_FILE).write_bytes(b"garbage")
    with pytest.raises(CkganError, match=f"{TABLES_FILE}' is damaged .*delete it"):
        LabelGenerator.load(tmp_path / "labels")
    (tmp_path / "labels" / TABLES_FILE).unlink()  # rebuilt from the weights, the same
    rebuilt = LabelGenerator.load(tmp_path / "labels")
    np.testing.assert_array_equal(rebuilt.sample(1000, seed=3), fitted.sample(1000, seed=3))


def test_the_network_sampler_writes_no_tables(tmp_path):
    generator = WGANLabelGenerator(GRAPH, steps=10, sampler="network")
    generator.fit(TRUTH.sample(2_000, rng=0), seed=0, verbose=0)
    assert generator.tables() is None
    generator.save(tmp_path / "labels")
    assert not (tmp_path / "labels" / TABLES_FILE).exists()
    with pytest.raises(CkganError, match="sampler='gpu'"):
        WGANLabelGenerator(GRAPH, sampler="gpu")
