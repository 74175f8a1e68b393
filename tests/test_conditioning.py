"""Labels in every generator block: conditional batch norm (DCGAN) and FiLM (BEGAN).

Each network builds, round-trips its config and its weights, and with
trained (here: random) modulation weights an image changes with its labels
through every block; a stage with ``film`` trains, saves and loads, and a
stage saved before the option existed still loads.
"""

import json

import keras
import networkx as nx
import numpy as np
import pytest
from ckgan_plugins.causalbegan.began_decoder import BEGANDecoder
from ckgan_plugins.causalbegan.causal_began_stage import CausalBEGANStage
from ckgan_plugins.causalgan.causal_gan_stage import CausalGANStage
from ckgan_plugins.causalgan.dcgan_generator import DCGANGenerator
from fakes.images import Blocks

from ckgan import CausalGraph, CkganError
from ckgan.images import CONFIG_FILE, ImageStage
from ckgan.tabular import TabularLabelGenerator

NODES = ("A", "B", "C")


def networks():
    return [
        DCGANGenerator(16, 8, 3, labels=3, name="dcgan"),
        BEGANDecoder(16, 8, labels=3, name="began"),
    ]


def inputs(labels, seed=0):
    """Rows of (labels as +-1 logits, z): both generators read ``labels > 0`` as 1."""
    z = np.random.default_rng(seed).uniform(-1, 1, (len(labels), 8))
    return np.concatenate([2.0 * np.asarray(labels) - 1.0, z], axis=1).astype("float32")


def randomise_films(net, seed=0):
    rng = np.random.default_rng(seed)
    for film in net.films:
        for w in film.weights:
            w.assign(rng.normal(0, 0.5, w.shape).astype("float32"))


@pytest.mark.parametrize("net", networks(), ids=["dcgan", "began"])
def test_a_conditioned_generator_round_trips_config_and_weights(net, tmp_path):
    x = inputs([[0, 1, 0], [1, 0, 1]])
    net(x, training=False)
    randomise_films(net)
    assert len(net.films) == len(net.blocks if isinstance(net, BEGANDecoder) else net.norms) + (
        1 if isinstance(net, DCGANGenerator) else 0
    )
    config = net.get_config()
    assert config["labels"] == 3
    twin = type(net).from_config(config)
    twin(x, training=False)
    assert twin.get_config() == config
    net.save_weights(tmp_path / "w.weights.h5")
    twin.load_weights(tmp_path / "w.weights.h5")
    out, back = (keras.ops.convert_to_numpy(m(x, training=False)) for m in (net, twin))
    np.testing.assert_array_equal(out, back)


@pytest.mark.parametrize("net", networks(), ids=["dcgan", "began"])
def test_every_block_sees_the_labels(net):
    z_only = inputs([[0, 0, 0]])
    net(z_only, training=False)
    randomise_films(net)
    flipped = inputs([[1, 0, 0]])
    a, b = (keras.ops.convert_to_numpy(net(x, training=False)) for x in (z_only, flipped))
    assert np.abs(a - b).mean() > 1e-3
    # the modulation starts at zero: a fresh network is the unconditional one
    fresh = type(net).from_config({**net.get_config(), "name": "fresh"})
    fresh(z_only, training=False)
    for film in fresh.films:
        assert not np.any(keras.ops.convert_to_numpy(film.kernel))


def test_without_labels_a_generator_has_no_modulation():
    for net in (DCGANGenerator(16, 8, 3), BEGANDecoder(16, 8)):
        net(np.zeros((2, 11), "float32"))
        assert net.films == [] and net.get_config()["labels"] == 0


@pytest.fixture(scope="module")
def label_generator():
    generator = TabularLabelGenerator(CausalGraph(nx.DiGraph([("A", "B"), ("B", "C")])))
    generator.fit(Blocks().labels(), verbose=0)
    return generator


STAGES = [
    (CausalGANStage, {"width": 8, "labeler_width": 4, "kernel_size": 3, "minibatch_kernels": 4}),
    (CausalBEGANStage, {"width": 4, "labeler_width": 4, "code_dim": 8}),
]


@pytest.mark.parametrize(("cls", "options"), STAGES, ids=["causalgan", "causalbegan"])
def test_a_stage_with_film_trains_saves_and_loads(cls, options, label_generator, tmp_path):
    stage = cls(NODES, 16, noise_dim=8, batch_size=8, film=True, **options)
    stage.fit(Blocks(), label_generator, steps=2, verbose=0)
    assert stage.model.generator.labels == 3
    stage.save(tmp_path)
    loaded = ImageStage.load(tmp_path)
    assert loaded.get_config() == stage.get_config()
    labels = np.array([[0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(stage.generate(labels, seed=1), loaded.generate(labels, seed=1))


@pytest.mark.parametrize(("cls", "options"), STAGES, ids=["causalgan", "causalbegan"])
def test_a_stage_saved_before_the_new_options_still_loads(cls, options, tmp_path):
    stage = cls(NODES, 16, noise_dim=8, **{**options, **cls.added_options})  # as trained before
    stage.save(tmp_path)
    saved = json.loads((tmp_path / CONFIG_FILE).read_text())
    for key in cls.added_options:
        del saved["config"][key]
    saved["config"]["decorrelate"] = 0.0  # removed since, off: it loads
    (tmp_path / CONFIG_FILE).write_text(json.dumps(saved))
    loaded = ImageStage.load(tmp_path)
    assert loaded.options["film"] is False and loaded.options["labeler_learning_rate"] == 0
    for key, value in cls.added_options.items():
        assert loaded.options[key] == value, key
    assert "decorrelate" not in loaded.options
    labels = np.array([[1, 0, 1]])
    np.testing.assert_array_equal(stage.generate(labels, seed=2), loaded.generate(labels, seed=2))
    saved["config"]["decorrelate"] = 20.0  # trained with it: a clear error, not another model
    (tmp_path / CONFIG_FILE).write_text(json.dumps(saved))
    with pytest.raises(CkganError, match="decorrelate"):
        ImageStage.load(tmp_path)


@pytest.mark.parametrize(("cls", "options"), STAGES, ids=["causalgan", "causalbegan"])
def test_the_paper_preset_keeps_the_papers_losses_and_trains(cls, options, label_generator):
    stage = cls(NODES, 16, preset="paper", noise_dim=8, batch_size=8, **options)
    for key in (
        "film", "labeler_augment", "labeler_learning_rate", "balance_labels", "projection",
        "labeler_amsgrad",
    ):  # fmt: skip
        assert not stage.options.get(key), key
    log = stage.fit(Blocks(), label_generator, steps=2, verbose=0)
    assert all(np.isfinite(v) for v in log[-1].values())
    model = stage.model
    assert model.generator.labels == 0
    if hasattr(model, "soften"):
        x = np.ones((2, 16, 16, 3), "float32")
        np.testing.assert_array_equal(np.asarray(model.soften(x)), x)


@pytest.mark.parametrize(("cls", "options"), STAGES, ids=["causalgan", "causalbegan"])
def test_a_labeler_with_its_own_learning_rate_trains_saves_and_loads(
    cls, options, label_generator, tmp_path
):
    stage = cls(NODES, 16, noise_dim=8, batch_size=8, labeler_learning_rate=1e-3, **options)
    log = stage.fit(Blocks(), label_generator, steps=2, verbose=0)
    assert all(np.isfinite(v) for v in log[-1].values())
    rates = {
        name: float(keras.ops.convert_to_numpy(opt.learning_rate))
        for name, opt in stage.model.optimizers.items()
    }
    assert rates["labeler"] == pytest.approx(1e-3)
    assert rates["generator"] == pytest.approx(stage.options["learning_rate"])
    stage.save(tmp_path)
    loaded = ImageStage.load(tmp_path)
    assert loaded.options["labeler_learning_rate"] == 1e-3
    labels = np.array([[0, 1, 0], [1, 0, 1]])
    np.testing.assert_array_equal(stage.generate(labels, seed=1), loaded.generate(labels, seed=1))
