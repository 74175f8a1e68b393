"""The family check: a generator whose tables match the data passes; a broken one is named."""

import json

import networkx as nx
import numpy as np
import pytest

import ckgan
from ckgan.fitcheck import family_check, family_counts
from ckgan.tabular import TabularLabelGenerator

# asia's core: either = lung OR tub, lung=1 in 5% of the rows, xray reads either
CPTS = {
    "lung": np.array(0.05),
    "tub": np.array(0.02),
    "either": np.array([[0.0, 1.0], [1.0, 1.0]]),
    "xray": np.array([0.05, 0.98]),
}


@pytest.fixture(scope="module")
def asia_core():
    g = nx.DiGraph([("lung", "either"), ("tub", "either"), ("either", "xray")])
    graph = ckgan.CausalGraph(g, name="asia_core")
    truth = ckgan.BinaryBayesNet(graph, {n: CPTS[n] for n in graph.nodes})
    data = truth.sample(20_000, rng=0)
    tab = TabularLabelGenerator(graph, alpha=0.0)  # exact frequencies: deterministic stays so
    tab.fit(data, verbose=0)
    return graph, data, tab


def test_family_counts_groups_rows_by_parent_configuration():
    labels = np.array([[0, 0, 1], [0, 1, 1], [0, 1, 0], [1, 1, 1]])
    configs, rows, ones = family_counts(labels, 2, [0, 1])
    assert configs.tolist() == [[0, 0], [0, 1], [1, 1]]
    assert rows.tolist() == [1, 2, 1] and ones.tolist() == [1, 1, 1]
    configs, rows, ones = family_counts(labels, 2, [])
    assert configs.shape == (1, 0) and rows.tolist() == [4] and ones.tolist() == [3]


def test_a_right_model_passes(asia_core):
    _, data, tab = asia_core
    report = family_check(tab, data, n=50_000, n_per_config=5_000)
    assert report["ok"], report["summary"]
    assert report["far_off"] == [] and report["impossible"] == []
    assert report["families_checked"] == 4 and report["configs_checked"] >= 7
    assert report["worst_difference"] < 0.05
    assert "every family matches" in report["summary"]
    json.dumps(report)  # fit for metrics.json


def test_configurations_too_thin_to_check_are_named(asia_core):
    # lung=1 and tub=1 together: 0.05 * 0.02 of 20k rows, about 20, under the 50 checked
    graph, data, tab = asia_core
    report = family_check(tab, data, n=50_000, n_per_config=5_000)
    both = int(np.sum((data[:, graph.index("lung")] == 1) & (data[:, graph.index("tub")] == 1)))
    assert 0 < both < 50
    rarest = report["thin"][0]
    assert rarest == {"node": "either", "parents": {"lung": 1, "tub": 1}, "support": both}
    assert len(report["thin"]) == report["configs_skipped"]
    assert f"rarest: either given lung=1, tub=1, {both} rows" in report["summary"]
    assert report["ok"]  # thin is not wrong: it is unchecked


def test_a_broken_deterministic_family_is_named(asia_core):
    graph, data, tab = asia_core
    broken = TabularLabelGenerator(graph, alpha=0.0)
    broken.fit(data, verbose=0)
    table = broken.model.cpts["either"].copy()  # axes in graph.parents("either") order
    axis = graph.parents("either").index("lung")
    index = [slice(None)] * 2
    index[axis] = 1
    table[tuple(index)] = 0.02  # either=0 given lung=1: the data never show it
    broken.model.cpts["either"] = table
    report = family_check(broken, data, n=50_000, n_per_config=5_000)
    assert not report["ok"]
    named = {(e["node"], tuple(sorted(e["parents"].items()))) for e in report["impossible"]}
    assert ("either", (("lung", 1), ("tub", 0))) in named
    worst = report["far_off"][0]
    assert worst["node"] == "either" and worst["parents"]["lung"] == 1
    assert worst["data_p"] == 1.0 and worst["model_p"] < 0.05 and worst["support"] > 500
    bad = report["impossible"][0]
    assert bad["model_p_other"] > 0.9 and bad["impossible_rate"] > 0.02
    assert "either" in report["summary"] and "not to be trusted" in report["summary"]
    # the healthy families stay out of it
    assert {e["node"] for e in report["far_off"]} == {"either"}
    json.dumps(report)


def test_a_slightly_off_family_is_flagged_only_beyond_the_tolerance(asia_core):
    graph, data, _ = asia_core
    off = TabularLabelGenerator(graph, alpha=0.0)
    off.fit(data, verbose=0)
    off.model.cpts["xray"] = np.array([0.05, 0.80])  # data: 0.98 given either=1
    assert family_check(off, data, n=20_000, n_per_config=5_000, tolerance=0.25)["ok"]
    report = family_check(off, data, n=20_000, n_per_config=5_000, tolerance=0.1)
    assert [e["node"] for e in report["far_off"]] == ["xray"]
    # rare parent configurations are skipped, not judged
    strict = family_check(off, data, n=20_000, n_per_config=5_000, min_support=10**6)
    assert strict["ok"] and strict["configs_checked"] == 0 and strict["configs_skipped"] > 0


def test_a_rare_value_the_model_never_draws_is_named(asia_core):
    # lung=1 in 5% of the rows (about 1,000): a model that never draws it is
    # off by only 0.05, under the tolerance, and still wrong under every do
    graph, data, _ = asia_core
    dead = TabularLabelGenerator(graph, alpha=0.0)
    dead.fit(data, verbose=0)
    dead.model.cpts["lung"] = np.array(0.0)
    report = family_check(dead, data, n=50_000, n_per_config=5_000)
    lost = [e for e in report["far_off"] if e["reason"] == "value lost"]
    assert [e["node"] for e in lost] == ["lung"] and lost[0]["model_p"] == 0.0
    assert not report["ok"]


def test_categorical_families_are_checked_state_by_state():
    """B copies A's 3 states; a model whose B is uniform at A=high is named, state and all."""
    states = {"A": ("low", "mid", "high"), "B": ("x", "y", "z")}
    graph = ckgan.CausalGraph(nx.DiGraph([("A", "B")]), states=states)
    a = np.random.default_rng(0).choice(3, 3000, p=[0.5, 0.3, 0.2])
    data = np.stack([a, a], axis=1).astype(np.uint8)
    good = TabularLabelGenerator(graph)  # add-one: 2 / (rows + 3) on the unseen states
    good.fit(data, verbose=0)
    report = family_check(good, data, n=50_000, n_per_config=5_000)
    assert report["ok"], report["summary"]
    broken = TabularLabelGenerator(graph)
    broken.fit(data, verbose=0)
    broken.model._full["B"][2] = [1 / 3, 1 / 3, 1 / 3]
    report = family_check(broken, data, n=50_000, n_per_config=5_000)
    worst = report["far_off"][0]
    assert worst["node"] == "B" and worst["parents"] == {"A": 2} and worst["state"] == "z"
    assert worst["model_p"] == pytest.approx(1 / 3, abs=0.03) and worst["data_p"] == 1.0
    assert len(worst["model_dist"]) == 3
    assert report["impossible"][0]["model_p_other"] == pytest.approx(2 / 3, abs=0.03)
    assert "P(B=z given A=high): data 1.00" in report["summary"]
    # few rows: add-one leaves (k - 1) / (rows + k) on unseen states, within 3 / rows
    few = data[np.r_[np.flatnonzero(a != 2), np.flatnonzero(a == 2)[:60]]]
    small = TabularLabelGenerator(graph)
    small.fit(few, verbose=0)
    assert not family_check(small, few, n=50_000, n_per_config=5_000)["impossible"]
