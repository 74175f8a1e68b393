"""wgan's ``sampler="tables"``: the fitted controller sampled through the tables it defines."""

import networkx as nx
import numpy as np
import pytest
from ckgan_plugins.wgan.family_tables import family_counts, fill_unseen, pool, refine, shrink
from ckgan_plugins.wgan.wgan_label_generator import (
    SUPPORT_FILE,
    TABLES_FILE,
    WGANLabelGenerator,
)

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
    # the tables as the network defines them, not refined by the rows (refine: below)
    generator = WGANLabelGenerator(
        GRAPH, steps=200, table_prior_rows=0, pool_z=0, shrink_to_rows=False
    )
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


def test_fill_unseen_makes_what_no_row_shows_uniform():
    # C = A AND B in the tables, but no row has A=1 and B=1: that cell is a guess
    graph = CausalGraph(nx.DiGraph([("A", "C"), ("B", "C")]))
    rows = np.array([[0, 0, 0]] * 50 + [[1, 0, 0]] * 50 + [[0, 1, 0]] * 50, np.uint8)
    tables = {"A": np.array(0.33), "B": np.array(0.33), "C": np.array([[0.0, 0.1], [0.2, 1.0]])}
    filled, count = fill_unseen(tables, graph, family_counts(graph, rows))
    assert count == 1 and filled["C"][1, 1] == 0.5
    np.testing.assert_array_equal(filled["C"].ravel()[:3], [0.0, 0.1, 0.2])
    # a parent the table does not use (B: no change where both its states are seen)
    # is no reason to guess: the configuration is seen on the parent it uses
    tables["C"] = np.array([[0.3, 0.31], [0.9, 0.9]])
    filled, count = fill_unseen(tables, graph, family_counts(graph, rows))
    assert count == 0 and filled["C"][1, 1] == 0.9
    # unless C is certain wherever B is compared: B may matter only with A (win95pts'
    # PSERRMEM: no error without PostScript, whatever the memory), so (1, 1) is a guess
    tables["C"] = np.array([[0.0, 0.01], [0.9, 0.9]])
    filled, count = fill_unseen(tables, graph, family_counts(graph, rows))
    assert count == 1 and filled["C"][1, 1] == 0.5


def test_fill_unseen_on_categorical_nodes():
    graph = CausalGraph(
        nx.DiGraph([("A", "C")]), states={"A": ["x", "y", "z"], "C": ["u", "v", "w"]}
    )
    rows = np.array([[0, 0]] * 30 + [[1, 1]] * 30, np.uint8)  # A=2 never shows
    table = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]])
    tables = {"A": np.array([0.5, 0.5, 0.0]), "C": table}
    filled, count = fill_unseen(tables, graph, family_counts(graph, rows))
    assert count == 1
    np.testing.assert_allclose(filled["C"][2], [1 / 3] * 3)
    np.testing.assert_array_equal(filled["C"][:2], table[:2])


def test_family_counts_count_each_state_by_configuration():
    graph = CausalGraph(nx.DiGraph([("A", "C")]), states={"A": ["x", "y"], "C": ["u", "v", "w"]})
    rows = np.array([[0, 0]] * 3 + [[0, 2]] * 2 + [[1, 1]] * 4, np.uint8)
    counts = family_counts(graph, rows)
    np.testing.assert_array_equal(counts["A"], [5, 4])
    np.testing.assert_array_equal(counts["C"], [[3, 0, 2], [0, 4, 0]])


def test_refine_corrects_the_tables_where_the_rows_contradict_them():
    graph = CausalGraph(nx.DiGraph([("A", "C")]))
    # 400 rows with A=0, C=1 in all: the controller's 0.95 is contradicted; 4 with
    # A=1, C=1 in one: its 0.1 is not (the rows say 0.25, give or take 0.3)
    rows = np.array([[0, 1]] * 400 + [[1, 1]] + [[1, 0]] * 3, np.uint8)
    tables = {"A": np.array(0.01), "C": np.array([0.95, 0.1])}
    refined = refine(tables, graph, family_counts(graph, rows), prior_rows=20)
    assert refined["C"][0] == pytest.approx((400 + 20 * 0.95) / 420)  # 0.9976
    assert refined["C"][1] == 0.1
    assert refined["A"] == 0.01  # 4 of 404 rows: 0.0099
    tables["A"] = np.array(0.2)
    assert refine(tables, graph, family_counts(graph, rows), 20)["A"] < 0.02
    assert refine(tables, graph, family_counts(graph, rows), 0)["C"][0] == 0.95


def test_pool_averages_over_a_parent_the_rows_give_no_evidence_of():
    # C follows A only; B (3% of the rows) is an edge of an over-complete graph,
    # and the controller drew the noise of its few rows (0.75 where A=1, B=1)
    graph = CausalGraph(nx.DiGraph([("A", "C"), ("B", "C")]))
    truth = BayesNet(
        graph, {"A": np.array(0.5), "B": np.array(0.03), "C": np.array([[0.1, 0.1], [0.6, 0.6]])}
    )
    counts = family_counts(graph, truth.sample(20_000, rng=0))
    tables = {"A": np.array(0.5), "B": np.array(0.03), "C": np.array([[0.1, 0.15], [0.6, 0.75]])}
    pooled, rows = pool(tables, graph, counts, z=3.0)
    c = pooled["C"]
    assert c[0, 0] == c[0, 1] and c[1, 0] == c[1, 1]  # no dependence on B left
    assert c[1, 0] == pytest.approx(0.6, abs=0.01) and c[0, 0] == pytest.approx(0.1, abs=0.01)
    np.testing.assert_array_equal(rows["C"][1, 0], counts["C"][1].sum(axis=0))  # rows pooled too
    assert pool(tables, graph, counts, z=3.0)[0]["A"] == 0.5
    # a parent that changes the child stays: tables and counts as they were
    truth.cpts["C"][1, 1] = 0.9
    truth = BayesNet(graph, truth.cpts)
    counts = family_counts(graph, truth.sample(20_000, rng=0))
    tables["C"] = np.array([[0.1, 0.1], [0.6, 0.9]])
    kept, rows = pool(tables, graph, counts, z=3.0)
    np.testing.assert_array_equal(kept["C"], tables["C"])
    np.testing.assert_array_equal(rows["C"], counts["C"])


def test_pool_keeps_a_rare_parent_of_a_deterministic_child():
    # asia's either = lung OR tub, lung in 5% of the rows and tub in 1%
    graph = CausalGraph(nx.DiGraph([("lung", "either"), ("tub", "either")]))
    truth = BayesNet(
        graph,
        {
            "lung": np.array(0.05),
            "tub": np.array(0.01),
            "either": np.array([[0.0, 1.0], [1.0, 1.0]]),
        },
    )
    counts = family_counts(graph, truth.sample(20_000, rng=0))
    tables = {
        "lung": np.array(0.05),
        "tub": np.array(0.01),
        "either": np.array([[0.0, 0.98], [0.97, 0.99]]),
    }
    kept, _ = pool(tables, graph, counts, z=3.0)
    np.testing.assert_array_equal(kept["either"], tables["either"])
    # a value too rare to test stays a parent (win95pts' PrtThread=Corrupt_Buggy):
    # 2 rows of lung=1 are no evidence either way (G test: 2.3 standard deviations)
    rows = [[0, 0, 0]] * 4000 + [[0, 0, 1]] * 1000 + [[0, 1, 1]] * 100 + [[1, 0, 1]] * 2
    tables["either"] = np.array([[0.2, 0.98], [0.9, 0.99]])
    kept, _ = pool(tables, graph, family_counts(graph, np.array(rows, np.uint8)), z=3.0)
    np.testing.assert_array_equal(kept["either"], tables["either"])


def test_shrink_follows_the_rows_as_far_as_the_controller_errs():
    graph = CausalGraph(
        nx.DiGraph([("A", "C")]), states={"A": ["a", "b", "c", "d"], "C": ["u", "v"]}
    )
    truth = BayesNet(
        graph, {"A": np.array([0.4, 0.3, 0.29, 0.01]), "C": np.array([0.2, 0.4, 0.6, 0.8])}
    )
    counts = family_counts(graph, truth.sample(40_000, rng=0))
    share = counts["C"][:, 1] / counts["C"].sum(axis=1)
    # a controller that sits 0.05 off the rows everywhere: moved most of the way
    # where rows are thousands, less where they are 400
    off = {"A": truth.cpts["A"], "C": truth.cpts["C"] - 0.05}
    moved = shrink(off, graph, counts)["C"]
    gained = (moved - off["C"]) / (share - off["C"])
    assert (gained[:3] > 0.8).all() and 0.3 < gained[3] < gained[:3].min()
    # one as close to the rows as their noise allows is left as it is
    close = {"A": truth.cpts["A"], "C": share + np.array([0.002, -0.002, 0.002, -0.01])}
    np.testing.assert_array_equal(shrink(close, graph, counts)["C"], close["C"])


def test_a_configuration_the_data_never_show_is_drawn_uniformly(tmp_path):
    # (A=1, B=1) removed from the rows: the controller's C there is a guess
    rows = TRUTH.sample(20_000, rng=0)
    rows = rows[~((rows[:, GRAPH.index("A")] == 1) & (rows[:, GRAPH.index("B")] == 1))]
    generator = WGANLabelGenerator(GRAPH, steps=200)
    generator.fit(rows, seed=0, verbose=0)
    assert generator.tables().cpts["C"][1, 1] == 0.5
    assert generator.unseen_configurations == 1
    drawn = generator.sample(20_000, do={"A": 1, "B": 1}, seed=0)[:, GRAPH.index("C")]
    assert abs(drawn.mean() - 0.5) < 0.02
    # where the rows are many, the tables agree with them (refine)
    counts = family_counts(GRAPH, rows)["C"][..., 1].ravel()
    n = family_counts(GRAPH, rows)["C"].sum(axis=-1).ravel()
    table = generator.tables().cpts["C"].ravel()
    many = n >= 1000
    share = counts[many] / n[many]
    assert (np.abs(table[many] - share) < 3.5 * np.sqrt(share * (1 - share) / n[many])).all()
    # saved with the rows by configuration: tables rebuilt from the weights are the same
    generator.save(tmp_path / "labels")
    (tmp_path / "labels" / TABLES_FILE).unlink()
    rebuilt = LabelGenerator.load(tmp_path / "labels")
    assert rebuilt.tables().cpts["C"][1, 1] == 0.5
    np.testing.assert_allclose(rebuilt.tables().cpts["C"], generator.tables().cpts["C"])
    (tmp_path / "labels" / SUPPORT_FILE).write_bytes(b"garbage")
    with pytest.raises(CkganError, match=f"{SUPPORT_FILE}' is damaged .*delete it"):
        LabelGenerator.load(tmp_path / "labels")
