"""The causal controller's family likelihood (``CausalController.family_nll``).

Fitted by it alone, each explicit node's probabilities given its parents
become the data's, a rare parent value included; sigmoid nodes, whose
distribution is implicit, are left out of it.
"""

import keras
import networkx as nx
import numpy as np
import pytest

import ckgan
from ckgan import backend
from ckgan.bayesnet import BayesNet

pytest.importorskip("keras")

from ckgan_plugins.wgan.causal_controller import CausalController  # noqa: E402


def _fit_by_likelihood(controller, rows, steps=150, seed=0):
    """Adam on the mean family likelihood of ``rows`` (model vectors) alone."""
    rng = np.random.default_rng(seed)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.03, steps))
    variables = controller.trainable_variables
    optimizer.build(variables)
    for _ in range(steps):
        batch = rows[rng.integers(len(rows), size=1024)]
        noise = rng.uniform(-1, 1, (1024, controller.num_nodes, controller.noise_channels))
        noise = noise.astype("float32")

        def loss(batch=batch, noise=noise):
            return keras.ops.mean(controller.family_nll(noise, batch)), ()

        _, _, grads = backend.value_and_grad(loss, variables)
        optimizer.apply(grads, variables)


def _probs_under_do(controller, do_values, n=2000):
    noise = np.random.default_rng(1).uniform(-1, 1, (n, controller.num_nodes,
                                                     controller.noise_channels))  # fmt: skip
    mask = np.array([1.0] + [0.0] * (controller.num_nodes - 1))
    probs = controller(noise.astype("float32"), do_mask=mask, do_values=np.asarray(do_values,
                       "float32"), return_probs=True)  # fmt: skip
    return keras.ops.convert_to_numpy(probs).mean(axis=0)


def test_a_rare_parent_s_child_is_fitted_from_its_few_rows():
    # A in 3% of rows; B = A or noise (0.2): B=1 whenever A=1
    rng = np.random.default_rng(0)
    a = (rng.random(20_000) < 0.03).astype("float32")
    b = np.maximum(a, (rng.random(20_000) < 0.2).astype("float32"))
    rows = np.stack([a, b], axis=1)
    keras.utils.set_random_seed(0)
    ctrl = CausalController([[0, 1], [0, 0]], noise_dim=3, hidden=[16], output_type="gumbel")
    _fit_by_likelihood(ctrl, rows)
    assert _probs_under_do(ctrl, [1.0, 0.0])[1] > 0.95  # P(B=1 | A=1) = 1
    assert abs(_probs_under_do(ctrl, [0.0, 0.0])[1] - 0.2) < 0.03
    # a sigmoid controller's binary nodes are implicit: no likelihood
    sigmoid = CausalController([[0, 1], [0, 0]], noise_dim=3, hidden=[16])
    assert not sigmoid.explicit_nodes().any()
    noise = rng.uniform(-1, 1, (8, 2, 3)).astype("float32")
    assert np.allclose(keras.ops.convert_to_numpy(sigmoid.family_nll(noise, rows[:8])), 0.0)


def test_categorical_families_match_their_tables():
    states = {"A": ("a0", "a1", "a2"), "B": ("no", "yes"), "C": ("c0", "c1", "c2")}
    tables = {"A": [0.6, 0.35, 0.05], "B": [0.1, 0.5, 0.9],
              "C": [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]]}  # fmt: skip
    graph = ckgan.CausalGraph(nx.DiGraph([("A", "B"), ("B", "C")]), name="abc", states=states)
    truth = BayesNet(graph, tables)
    rows = graph.encoding.encode(truth.sample(20_000, rng=0))
    keras.utils.set_random_seed(0)
    # a sigmoid controller: its categorical nodes draw, its binary node B does not
    ctrl = CausalController(graph.adjacency(), noise_dim=3, hidden=[16], cards=graph.cards)
    assert ctrl.explicit_nodes().tolist() == [True, False, True]
    _fit_by_likelihood(ctrl, rows)
    probs = _probs_under_do(ctrl, [0, 0, 1, 0, 0, 0, 0])  # do(A=a2): columns a0 a1 a2 B c0 c1 c2
    assert np.allclose(probs[:3], [0, 0, 1])
    # C's table given B is fitted; A's own rates too (B, a sigmoid node, is not scored)
    free = np.random.default_rng(2).uniform(-1, 1, (4000, 3, ctrl.noise_channels))
    free = keras.ops.convert_to_numpy(ctrl(free.astype("float32"), return_probs=True))
    assert np.abs(free[:, :3].mean(axis=0) - tables["A"]).max() < 0.03
    given_b = {}
    for value in (0.0, 1.0):
        forced = np.random.default_rng(3).uniform(-1, 1, (2000, 3, ctrl.noise_channels))
        mask, values = np.array([0.0, 1.0, 0.0]), np.array([0, 0, 0, value, 0, 0, 0], "float32")
        out = ctrl(forced.astype("float32"), do_mask=mask, do_values=values, return_probs=True)
        given_b[value] = keras.ops.convert_to_numpy(out)[:, 4:].mean(axis=0)
    assert np.abs(given_b[0.0] - tables["C"][0]).max() < 0.03
    assert np.abs(given_b[1.0] - tables["C"][1]).max() < 0.03


@pytest.mark.parametrize("kind", ["sigmoid", "gumbel", "categorical"])
def test_the_one_pass_family_logits_are_those_of_a_do_of_every_node(kind):
    """``given_parents`` (all nodes at once) gives the logits the generation-by-generation
    pass gives under a do of every node, on a graph four generations deep."""
    edges = [("A", "B"), ("B", "C"), ("A", "C"), ("C", "D"), ("A", "E")]
    states = {"B": ("b0", "b1", "b2")} if kind == "categorical" else None
    graph = ckgan.CausalGraph(nx.DiGraph(edges), name="deep", states=states)
    keras.utils.set_random_seed(3)
    ctrl = CausalController(graph.adjacency(), noise_dim=3, hidden=[8, 8],
                            output_type="gumbel" if kind == "gumbel" else "sigmoid",
                            cards=graph.cards)  # fmt: skip
    rng = np.random.default_rng(0)
    codes = (rng.random((64, 5)) * np.asarray(graph.cards)).astype(np.uint8)
    values = graph.encoding.encode(codes).astype("float32")
    noise = rng.uniform(-1, 1, (64, 5, ctrl.noise_channels)).astype("float32")
    _, expected = ctrl(noise, do_mask=np.ones(5, "float32"), do_values=values, return_logits=True)
    got = ctrl.given_parents(noise, values)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(expected), atol=1e-5
    )
