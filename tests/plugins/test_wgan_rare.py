"""Rare parents and deterministic children: C = A OR B, A=1 in 5% of the rows, B=1 in 2%.

asia's lung -> either: as they were (the edge penalty blind to the data, all
rows drawn alike), the defaults learnt C from the common rows only, and
under do(A=1) drew C=0, a configuration the data never show, in 96% of the
rows (measured with this file's short run; an edge penalty that spares
A -> C alone still 93%). The defaults must draw no impossible row there.
"""

import networkx as nx
import numpy as np
import pytest

import ckgan

pytest.importorskip("keras")

from ckgan_plugins.wgan.data_weights import (  # noqa: E402
    MAX_ROW_WEIGHT,
    clamp_slots,
    config_weights,
    edge_effects,
    edge_penalty_weights,
)
from ckgan_plugins.wgan.gumbel_label_generator import GumbelLabelGenerator  # noqa: E402
from ckgan_plugins.wgan.wgan_label_generator import WGANLabelGenerator  # noqa: E402

# the defaults but a short run: small batches, a fast constant learning rate; the
# tables as the network defines them, not corrected by the rows (``refine``: below)
SHORT = {"batch_size": 128, "learning_rate": 2e-3, "lr_decay": 1.0, "steps_per_execution": 25,
         "table_prior_rows": 0, "pool_z": 0, "shrink_to_rows": False}  # fmt: skip
STEPS = 600
# the defaults as they were: the edge penalty weighs every edge 1, no clamped rows,
# nodes start where fresh weights put them, adversarial loss alone, rounded sigmoids
BLIND = {"edge_effect_scale": 0.0, "clamp_fraction": 0.0, "init_rates": False,
         "likelihood_weight": 0.0, "draw_binary": False}  # fmt: skip


@pytest.fixture(scope="module")
def or_data():
    graph = ckgan.CausalGraph(nx.DiGraph([("A", "C"), ("B", "C")]), name="or")
    cpts = {"A": np.array(0.05), "B": np.array(0.02), "C": np.array([[0.0, 1.0], [1.0, 1.0]])}
    truth = ckgan.BinaryBayesNet(graph, {n: cpts[n] for n in graph.nodes})
    return graph, truth.sample(8000, rng=0)


def impossible_share(gen, graph, do, seed=1) -> float:
    rows = gen.sample(20_000, do=do, seed=seed)
    a, b, c = (graph.index(n) for n in "ABC")
    return float(np.mean((rows[:, c] == 0) & ((rows[:, a] == 1) | (rows[:, b] == 1))))


def test_edge_effects_see_the_rare_deterministic_edge(or_data):
    graph, data = or_data
    adjacency = np.asarray(graph.adjacency())
    a, b, c = (graph.index(n) for n in "ABC")
    effects = edge_effects(data, adjacency)
    # A flips C from 0 to 1 where B=0 (~400 rows), B where A=0 (~150 rows)
    assert effects[c, a] > 0.9 and effects[c, b] > 0.9
    assert effects[a, c] == 0 and effects[b, a] == 0  # no such edges
    weights = edge_penalty_weights(data, adjacency, 0.2)
    assert weights[c, a] == 0 and weights[c, b] == 0
    assert (edge_penalty_weights(data, adjacency, 0.0) == adjacency.T).all()
    # independent data: no effect, the full penalty
    noise = np.random.default_rng(0).integers(0, 2, (8000, 3))
    assert (edge_penalty_weights(noise, adjacency, 0.2)[c, [a, b]] > 0.6).all()


def test_clamp_slots_are_values_of_nodes_with_descendants(or_data):
    graph, data = or_data
    slots = clamp_slots(data, np.asarray(graph.adjacency()), min_rows=20)
    a, b, c = (graph.index(n) for n in "ABC")
    assert sorted(slots["names"]) == sorted([f"{a}=0", f"{a}=1", f"{b}=0", f"{b}=1"])
    for name, offset, count, mask in zip(
        slots["names"], slots["offsets"], slots["counts"], slots["masks"], strict=True
    ):
        node, value = map(int, name.split("="))
        rows = slots["rows"][offset : offset + count]
        assert (data[rows, node] == value).all() and count == (data[:, node] == value).sum()
        assert mask[c] == 0 and mask[node] == 1  # C is generated, the node is kept
    assert clamp_slots(data[:10], np.asarray(graph.adjacency()), min_rows=20) is None


def test_defaults_draw_no_impossible_row_under_do_of_the_rare_parent(or_data):
    graph, data = or_data
    gen = WGANLabelGenerator(graph, **SHORT)
    gen.fit(data, steps=STEPS, seed=0, verbose=0)
    # measured 0 to 1 row in 20,000 (blind: 0.96)
    assert impossible_share(gen, graph, {"A": 1}) < 1e-3
    assert impossible_share(gen, graph, {"B": 1}) < 1e-3
    assert impossible_share(gen, graph, None) < 0.01


def test_gumbel_defaults_nearly_never_draw_the_impossible_row(or_data):
    # Gumbel nodes are Bernoulli draws: a short run leaves a little mass
    graph, data = or_data
    gen = GumbelLabelGenerator(graph, **SHORT)
    gen.fit(data, steps=STEPS, seed=0, verbose=0)
    assert impossible_share(gen, graph, {"A": 1}) < 0.03  # measured 0.005 (blind: 0.94)


def test_the_data_blind_penalty_fails_it(or_data):
    # what the test guards against: the old default removes A -> C
    graph, data = or_data
    gen = WGANLabelGenerator(graph, **SHORT, **BLIND)
    gen.fit(data, steps=STEPS, seed=0, verbose=0)
    assert impossible_share(gen, graph, {"A": 1}) > 0.5  # measured 0.96
    # the rows contradict its C given A=1 (400 rows, all C=1): the refined tables
    # (the default table_prior_rows) draw it as the rows show it
    gen.options["table_prior_rows"] = WGANLabelGenerator(graph).options["table_prior_rows"]
    gen._tables = None
    assert impossible_share(gen, graph, {"A": 1}) < 0.01


def test_controller_takes_one_intervention_per_row():
    from ckgan_plugins.wgan.causal_controller import CausalController

    # A -> C, B -> C, C -> D; rows 0-31 under do(C=1), rows 32-63 under do(A=0, B=1)
    adjacency = np.zeros((4, 4))
    adjacency[0, 2] = adjacency[1, 2] = adjacency[2, 3] = 1
    ctrl = CausalController(adjacency, noise_dim=3, hidden=[8])
    noise = np.random.default_rng(0).uniform(-1, 1, (64, 4, 3)).astype("float32")
    first = (np.array([0, 0, 1, 0.0]), np.array([0, 0, 1, 0.0]))
    second = (np.array([1, 1, 0, 0.0]), np.array([0, 1, 0, 0.0]))
    mask = np.concatenate([np.tile(first[0], (32, 1)), np.tile(second[0], (32, 1))])
    values = np.concatenate([np.tile(first[1], (32, 1)), np.tile(second[1], (32, 1))])
    rows = np.asarray(ctrl(noise, do_mask=mask, do_values=values))
    assert np.allclose(rows[:32], np.asarray(ctrl(noise[:32], *first)), atol=1e-6)
    assert np.allclose(rows[32:], np.asarray(ctrl(noise[32:], *second)), atol=1e-6)


def test_config_weights_count_thin_parent_configurations_more(or_data):
    graph, data = or_data
    adjacency = np.asarray(graph.adjacency())
    a, b, c = (graph.index(n) for n in "ABC")
    weights = config_weights(data, adjacency, rows=400)
    assert (weights[:, [a, b]] == 1).all()  # no parents: nothing to balance
    both = (data[:, a] == 1) & (data[:, b] == 1)  # about 8 of 8000 rows
    assert weights[both, c].min() == MAX_ROW_WEIGHT
    common = (data[:, a] == 0) & (data[:, b] == 0)
    assert (weights[common, c] == 1).all()
    only_a = (data[:, a] == 1) & (data[:, b] == 0)
    np.testing.assert_allclose(weights[only_a, c], min(400 / only_a.sum(), MAX_ROW_WEIGHT))
    assert (config_weights(data, adjacency, rows=0) == 1).all()
