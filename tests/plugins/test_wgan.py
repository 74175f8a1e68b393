"""The neural label generators (``wgan``, ``gumbel``) on a 3-node chain A -> B -> C.

Each kind is fitted once per module (a second or so of training with small
batches) and then checked for the joint, ``do``, ``given``, seeds, storage and
config; the bounds are loose because the fits are short.
"""

import json

import networkx as nx
import numpy as np
import pytest

import ckgan
from ckgan.metrics import tv_distance

pytest.importorskip("keras")

from ckgan_plugins.wgan.causal_controller import (  # noqa: E402
    CausalController,
    topological_generations,
)
from ckgan_plugins.wgan.gumbel_label_generator import GumbelLabelGenerator  # noqa: E402
from ckgan_plugins.wgan.wgan_label_generator import WGANLabelGenerator  # noqa: E402

# strong effects: P(A)=0.3, P(B|A)=0.1/0.8, P(C|B)=0.2/0.9
CPTS = {"A": np.array(0.3), "B": np.array([0.1, 0.8]), "C": np.array([0.2, 0.9])}
# small batches and a fast, constant learning rate: converged in ~400 steps
FIT = {
    "batch_size": 128,
    "learning_rate": 2e-3,
    "lr_decay": 1.0,
    "ema_decay": 0.99,
    "steps_per_execution": 25,
}
STEPS = {"wgan": 800, "gumbel": 800}
CLASSES = {"wgan": WGANLabelGenerator, "gumbel": GumbelLabelGenerator}


@pytest.fixture(scope="module")
def chain():
    g = nx.DiGraph()
    g.add_edges_from([("A", "B"), ("B", "C")])
    graph = ckgan.CausalGraph(g, name="chain")
    truth = ckgan.BinaryBayesNet(graph, CPTS)
    return graph, truth, truth.sample(4000, rng=0)


@pytest.fixture(scope="module", params=["wgan", "gumbel"])
def fitted(request, chain):
    graph, truth, data = chain
    gen = CLASSES[request.param](graph, **FIT)

    def evaluate(g):
        return {"tv": tv_distance(g.sample(5000, seed=0), truth.pmf())}

    log = gen.fit(data, steps=STEPS[request.param], seed=0, evaluate=evaluate, verbose=0)
    return gen, truth, log


def test_fit_matches_the_joint(fitted):
    gen, truth, log = fitted
    tv = tv_distance(gen.sample(20_000, seed=1), truth.pmf())
    assert tv < 0.12, tv


def test_do_keeps_ancestors_and_drives_descendants(fitted):
    gen, truth, _ = fitted
    rows = gen.sample(20_000, do={"B": 1}, seed=2)
    assert (rows[:, 1] == 1).all()
    # A is upstream of B: do(B=1) leaves it alone (conditioning would push it to 0.77)
    assert abs(rows[:, 0].mean() - truth.marginals()["A"]) < 0.08
    assert abs(rows[:, 2].mean() - truth.marginals(do={"B": 1})["C"]) < 0.1


def test_given_shifts_ancestors(fitted):
    gen, truth, _ = fitted
    rows = gen.sample(3000, given={"C": 1}, seed=3)
    assert (rows[:, 2] == 1).all()
    p_a = rows[:, 0].mean()  # truth: 0.3 -> 0.55
    assert abs(p_a - truth.marginals(given={"C": 1})["A"]) < 0.12, p_a
    assert 0 < gen.last_acceptance < 1


def test_same_seed_same_samples(fitted):
    gen, _, _ = fitted
    a = gen.sample(1000, do={"A": 0}, seed=7)
    assert a.dtype == np.uint8 and a.shape == (1000, 3)
    assert np.array_equal(a, gen.sample(1000, do={"A": 0}, seed=7))
    assert not np.array_equal(a, gen.sample(1000, do={"A": 0}, seed=8))


def test_sample_probs_round_to_samples(fitted):
    gen, _, _ = fitted
    probs = gen.sample_probs(500, do={"B": 0}, seed=4)
    assert probs.shape == (500, 3) and ((probs >= 0) & (probs <= 1)).all()
    assert (probs[:, 1] == 0).all()
    rows = gen.sample(500, {"B": 0}, seed=4)
    if gen.controller_output == "sigmoid":  # rounded, as CausalGAN's controller
        assert np.array_equal((probs >= 0.5).astype(np.uint8), rows)
    else:  # drawn: the probabilities are the draws' rates
        assert np.abs(rows.mean(axis=0) - probs.mean(axis=0)).max() < 0.06


def test_save_load_through_the_registry(fitted, tmp_path):
    gen, _, _ = fitted
    gen.save(tmp_path / "gen")
    loaded = ckgan.LabelGenerator.load(tmp_path / "gen")
    assert type(loaded) is type(gen)
    assert loaded.get_config() == gen.get_config()
    for do in (None, {"B": 1}):
        assert np.array_equal(loaded.sample(2000, do, seed=5), gen.sample(2000, do, seed=5))


def test_config_round_trip(fitted):
    gen, _, _ = fitted
    config = json.loads(json.dumps(gen.get_config()))
    assert config == gen.get_config()
    assert type(gen)(gen.graph, **config).get_config() == config
    assert config["batch_size"] == 128 and config["preset"] == "tuned"


def test_fit_log(fitted):
    gen, _, log = fitted
    assert log[-1]["step"] == STEPS[gen.kind]
    times = [e["time"] for e in log]
    assert times == sorted(times) and times[0] > 0
    for key in ("critic_loss", "generator_loss", "wasserstein", "gradient_penalty", "tv"):
        assert all(np.isfinite(e[key]) for e in log), key
    assert len(log) == 10  # default eval_every: steps // 10


def test_same_seed_same_fit(chain):
    graph, _, data = chain
    samples = []
    for _ in range(2):
        gen = WGANLabelGenerator(graph, batch_size=32, steps_per_execution=5)
        log = gen.fit(data, steps=12, seed=3, eval_every=5, verbose=0)
        samples.append(gen.sample(500, seed=0))
    assert [e["step"] for e in log] == [5, 10, 12]  # a short last block: 12 is not a multiple
    assert np.array_equal(*samples)


def test_presets_and_options(chain):
    graph = chain[0]
    paper = WGANLabelGenerator(graph, preset="paper", batch_size=16)
    assert paper.options["hidden"] == [10] * 5 and paper.options["gp_weight"] == 0.1
    assert paper.options["n_critic"] == 20 and paper.options["batch_size"] == 16
    gumbel = GumbelLabelGenerator(graph, temperature_end=0.5)
    assert gumbel.options["temperature_start"] == 1.0 and gumbel.options["temperature_end"] == 0.5
    with pytest.raises(ckgan.CkganError, match="unknown preset"):
        WGANLabelGenerator(graph, preset="nope")
    with pytest.raises(ckgan.CkganError, match="unknown option 'temperature_start'"):
        WGANLabelGenerator(graph, temperature_start=1.0)
    with pytest.raises(ckgan.CkganError, match="batch_size"):
        WGANLabelGenerator(graph, batch_size=0)
    with pytest.raises(ckgan.CkganError, match="not fitted"):
        WGANLabelGenerator(graph).sample(3)


def test_controller_generations_and_do():
    # A -> C, B -> C, C -> D: generations [A, B], [C], [D]
    adjacency = np.zeros((4, 4))
    adjacency[0, 2] = adjacency[1, 2] = adjacency[2, 3] = 1
    assert topological_generations(adjacency) == [[0, 1], [2], [3]]
    ctrl = CausalController(adjacency, noise_dim=3, hidden=[8])
    noise = np.random.default_rng(0).uniform(-1, 1, (64, 4, 3)).astype("float32")
    out = np.asarray(ctrl(noise))
    assert out.shape == (64, 4) and ((out > 0) & (out < 1)).all()
    # do(C=1): A and B unchanged, D recomputed from C=1 only
    mask, values = np.array([0, 0, 1, 0.0]), np.array([0, 0, 1, 0.0])
    done = np.asarray(ctrl(noise, do_mask=mask, do_values=values))
    assert np.allclose(done[:, :2], out[:, :2]) and (done[:, 2] == 1).all()
    # D reads only C: changing A's and B's noise does not move D under do(C)
    other = noise.copy()
    other[:, :2] = -other[:, :2]
    again = np.asarray(ctrl(other, do_mask=mask, do_values=values))
    assert np.allclose(again[:, 3], done[:, 3]) and not np.allclose(again[:, 0], done[:, 0])


def test_keras_objects_config_round_trip():
    import keras
    from ckgan_plugins.wgan.label_critic import LabelCritic
    from ckgan_plugins.wgan.wgan_gp import WGANGP

    adjacency = [[0, 1], [0, 0]]
    ctrl = CausalController(adjacency, noise_dim=2, hidden=[4, 4], output_type="gumbel")
    model = WGANGP(ctrl, LabelCritic(2, [8]), noise_shape=(2, 3), n_critic=2, temperature=(1, 0.5))
    rebuilt = WGANGP.from_config(json.loads(json.dumps(model.get_config())))
    assert rebuilt.get_config() == model.get_config()
    assert rebuilt.generator.get_config() == ctrl.get_config()
    assert isinstance(
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(ctrl)),
        CausalController,
    )


def test_graph_without_edges_trains_every_weight():
    # no parent weights to leave without a gradient (Keras warned about them)
    import warnings

    empty = nx.DiGraph()
    empty.add_nodes_from("AB")
    graph = ckgan.CausalGraph(empty, name="none")
    gen = WGANLabelGenerator(graph, **FIT)
    rows = ckgan.BinaryBayesNet(graph, {"A": np.array(0.3), "B": np.array(0.7)}).sample(500, rng=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gen.fit(rows, steps=400, seed=0, verbose=0)
    assert not [w for w in caught if "Gradients do not exist" in str(w.message)]
    assert "parent_kernel" not in [w.name for w in gen.wgan.generator.weights]
    assert abs(gen.sample(4000, seed=0)[:, 1].mean() - 0.7) < 0.1


def test_edge_penalty_fades_an_edge_the_data_do_not_need(chain):
    # chain data on the complete graph: C does not depend on A given B
    graph, truth, data = chain
    complete = nx.DiGraph([("A", "B"), ("B", "C"), ("A", "C")])
    full = ckgan.CausalGraph(complete, name="complete")
    norms = {}
    for penalty in (0.0, 0.01):
        # the penalty against the adversarial loss alone, rounded sigmoids (the
        # likelihood, on by default, keeps fitting A -> C's weights to noise in
        # so short a run)
        gen = WGANLabelGenerator(full, **FIT, edge_penalty=penalty, likelihood_weight=0,
                                 draw_binary=False)  # fmt: skip
        gen.fit(data, steps=600, seed=0, verbose=0)
        norms[penalty] = np.asarray(gen.wgan.generator.edge_norms())
        assert tv_distance(gen.sample(5000, seed=0), truth.pmf()) < 0.08
    a, b, c = (full.nodes.index(n) for n in "ABC")
    assert norms[0.0][b, c] == 0 and norms[0.0][c, a] > 0  # (child, parent): no C -> B
    # A -> C shrinks much more than the needed B -> C
    ratio = {p: n[c, a] / n[c, b] for p, n in norms.items()}
    assert ratio[0.01] < 0.5 * ratio[0.0], ratio  # measured: 0.13 vs 0.47
    with pytest.raises(ckgan.CkganError, match="edge_penalty"):
        WGANLabelGenerator(full, edge_penalty=-1)
