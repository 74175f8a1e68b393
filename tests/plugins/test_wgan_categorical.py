"""``wgan`` and ``gumbel`` with categorical nodes: a 3-state cause, a binary mediator, a 3-state
effect. Binary graphs keep their controller as it was (tests/test_legacy_runs.py trains one)."""

import networkx as nx
import numpy as np
import pytest

import ckgan
from ckgan import LabelGenerator
from ckgan.bayesnet import BayesNet
from ckgan.metrics import tv_distance

pytest.importorskip("keras")

from ckgan_plugins.wgan.causal_controller import CausalController  # noqa: E402
from ckgan_plugins.wgan.data_weights import clamp_slots, edge_effects  # noqa: E402
from ckgan_plugins.wgan.gumbel_label_generator import GumbelLabelGenerator  # noqa: E402
from ckgan_plugins.wgan.wgan_label_generator import WGANLabelGenerator  # noqa: E402

STATES = {"A": ("a0", "a1", "a2"), "B": ("no", "yes"), "C": ("c0", "c1", "c2")}
TABLES = {
    "A": [0.4, 0.35, 0.25],
    "B": [0.15, 0.5, 0.85],  # P(B = yes | A)
    "C": [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]],  # P(C | B)
}
FIT = {"batch_size": 128, "learning_rate": 2e-3, "lr_decay": 1.0, "ema_decay": 0.99,
       "steps_per_execution": 25}  # fmt: skip


@pytest.fixture(scope="module")
def truth():
    graph = ckgan.CausalGraph(nx.DiGraph([("A", "B"), ("B", "C")]), name="abc", states=STATES)
    return BayesNet(graph, TABLES)


@pytest.fixture(scope="module", params=["wgan", "gumbel"])
def fitted(request, truth):
    cls = {"wgan": WGANLabelGenerator, "gumbel": GumbelLabelGenerator}[request.param]
    gen = cls(truth.graph, **FIT)
    gen.fit(truth.sample(4000, rng=0), steps=1000, seed=0, verbose=0)
    return gen


def test_it_learns_the_joint_and_intervenes(fitted, truth):
    cards = truth.graph.cards
    rows = fitted.sample(40_000, seed=1)
    assert rows.dtype == np.uint8 and rows.max(axis=0).tolist() == [2, 1, 2]
    assert tv_distance(rows, truth.pmf(), cards) < 0.08
    # do on the categorical cause: B follows its mechanism at a2
    under = fitted.sample(20_000, do={"A": "a2"}, seed=2)
    assert (under[:, 0] == 2).all() and under[:, 1].mean() == pytest.approx(0.85, abs=0.08)
    # do on the binary mediator: C's mechanism, A untouched
    under = fitted.sample(20_000, do={"B": "yes"}, seed=3)
    assert np.bincount(under[:, 2], minlength=3) / len(under) == pytest.approx(
        [0.1, 0.2, 0.7], abs=0.08
    )
    assert np.bincount(under[:, 0], minlength=3) / len(under) == pytest.approx(
        TABLES["A"], abs=0.06
    )
    given = fitted.sample(2000, given={"C": "c2"}, seed=4)
    assert (given[:, 2] == 2).all() and given[:, 1].mean() > 0.6  # conditioning reasons back


def test_probabilities_are_model_vectors(fitted):
    probs = fitted.sample_probs(500, seed=5)
    assert probs.shape == (500, 7)  # A: 3 columns, B: 1, C: 3
    np.testing.assert_allclose(probs[:, :3].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probs[:, 4:].sum(axis=1), 1.0, atol=1e-5)
    # the same noise: a binary node rounds its sigmoid (draw_binary off) or draws;
    # a categorical one draws a state from its softmax, at the softmax's rates
    rows = fitted.sample(500, seed=5)
    if fitted.controller_output == "sigmoid":
        np.testing.assert_array_equal(rows[:, 1], probs[:, 3] >= 0.5)
    else:
        assert rows[:, 1].mean() == pytest.approx(probs[:, 3].mean(), abs=0.07)
    drawn = np.bincount(rows[:, 0], minlength=3) / 500
    assert drawn == pytest.approx(probs[:, :3].mean(axis=0), abs=0.07)


def test_saved_and_loaded_with_states(fitted, tmp_path):
    fitted.save(tmp_path / "g")
    back = LabelGenerator.load(tmp_path / "g")
    assert back.graph.states("C") == ("c0", "c1", "c2") and back.kind == fitted.kind
    np.testing.assert_array_equal(
        back.sample(300, do={"A": 1}, seed=6), fitted.sample(300, do={"A": "a1"}, seed=6)
    )


def test_a_binary_graph_keeps_the_controller_shapes():
    adjacency = [[0, 1], [0, 0]]
    binary = CausalController(adjacency, noise_dim=3, hidden=[4])
    assert binary.slots == 1 and tuple(binary.w_out.shape) == (2, 4, 1)
    assert tuple(binary.w_parents.shape) == (2, 2, 4) and binary.noise_channels == 3
    sigmoid = CausalController(adjacency, noise_dim=3, hidden=[4], cards=[3, 2])
    assert sigmoid.noise_channels == 6  # a uniform per slot for the categorical draws
    mixed = CausalController(adjacency, noise_dim=3, hidden=[4], output_type="gumbel", cards=[3, 2])
    assert mixed.slots == 3 and tuple(mixed.w_out.shape) == (2, 4, 3)
    assert tuple(mixed.w_parents.shape) == (2, 6, 4) and mixed.noise_channels == 6
    noise = np.random.default_rng(0).uniform(-1, 1, (64, 2, 6)).astype("float32")
    out = np.asarray(mixed(noise))
    assert out.shape == (64, 4)  # A one-hot (3), B (1)
    np.testing.assert_array_equal(out[:, :3].sum(axis=1), 1.0)  # hard one-hot draws
    assert set(np.unique(out)) <= {0.0, 1.0}
    # do(A = state 2): A's block is exactly that state's, whatever the noise
    values = np.array([0, 0, 1, 0], "float32")
    out = np.asarray(mixed(noise, do_mask=np.array([1, 0], "float32"), do_values=values))
    np.testing.assert_array_equal(out[:, :3], np.tile([0, 0, 1], (64, 1)))
    norms = np.asarray(mixed.edge_norms())
    assert norms.shape == (2, 2) and norms[1, 0] > 0 and norms[0, 1] == 0 and norms[0, 0] == 0


def test_data_weights_see_every_state():
    # C follows A only through A's third state: the effect shows, and each state gets a slot
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 6000)
    c = np.where(a == 2, rng.random(6000) < 0.9, rng.random(6000) < 0.1).astype(np.uint8)
    labels = np.stack([a, c], axis=1).astype(np.uint8)
    adjacency = np.array([[0, 1], [0, 0]])
    effects = edge_effects(labels, adjacency, cards=[3, 2])
    assert effects[1, 0] > 0.7 and effects[0, 1] == 0
    slots = clamp_slots(labels, adjacency, cards=[3, 2])
    assert slots["names"] == ["0=0", "0=1", "0=2"]
    assert slots["counts"].tolist() == np.bincount(a).tolist()
