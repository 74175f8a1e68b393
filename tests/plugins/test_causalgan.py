"""causalgan: builds and trains a few steps at 16x16, saves and loads, samples per row."""

import json
import shutil

import networkx as nx
import numpy as np
import pytest
from ckgan_plugins.causalgan.causal_gan_stage import PRESETS, CausalGANStage
from ckgan_plugins.causalgan.conv_classifier import ConvClassifier
from ckgan_plugins.causalgan.dcgan_generator import DCGANGenerator
from fakes.images import Blocks, spy_batches

from ckgan import CausalGraph, CkganError
from ckgan.images import ImageStage, column_groups
from ckgan.tabular import TabularLabelGenerator

NODES = ("A", "B", "C")
TINY = {
    "size": 16, "noise_dim": 8, "width": 8, "labeler_width": 4, "kernel_size": 3,
    "minibatch_kernels": 4, "minibatch_dims": 3, "batch_size": 16,
}  # fmt: skip


@pytest.fixture(scope="module")
def label_generator():
    generator = TabularLabelGenerator(CausalGraph(nx.DiGraph([("A", "B"), ("B", "C")])))
    generator.fit(Blocks().labels(), verbose=0)
    return generator


@pytest.fixture(scope="module")
def trained(label_generator, tmp_path_factory):
    stage = CausalGANStage(NODES, **TINY)
    log = stage.fit(Blocks(), label_generator, steps=6, checkpoint_every=3, verbose=0)
    folder = tmp_path_factory.mktemp("causalgan")
    stage.save(folder)
    return stage, log, folder


def test_trains_with_finite_losses(trained):
    stage, log, _ = trained
    assert [entry["step"] for entry in log] == [3, 6]
    for entry in log:
        for key in ("d_loss", "g_loss", "labeler_loss", "anti_labeler_loss", "k_t"):
            assert np.isfinite(entry[key]), key
    assert log[-1]["k_t"] == pytest.approx(np.exp(-5 / 3000), rel=1e-3)  # mean over steps 4..6
    assert int(stage.model.step_counter.numpy()) == 6
    # the sampling generator is a moving average, not the raw weights
    raw = stage.model.generator.trainable_variables[0].numpy()
    avg = stage.model.ema_generator.trainable_variables[0].numpy()
    assert raw.shape == avg.shape and not np.array_equal(raw, avg)


def test_save_load_gives_identical_images(trained):
    stage, _, folder = trained
    labels = np.array([[0, 0, 0], [1, 0, 1], [1, 1, 1], [0, 1, 0]])
    loaded = ImageStage.load(folder)  # through the registry
    assert type(loaded) is CausalGANStage and loaded.get_config() == stage.get_config()
    images = stage.generate(labels, seed=3)
    assert images.shape == (4, 16, 16, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(loaded.generate(labels, seed=3), images)
    assert not np.array_equal(stage.generate(labels, seed=4), images)


def test_an_image_does_not_depend_on_its_batch(trained):
    stage, _, _ = trained
    labels = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0], [1, 1, 0]], "float32")
    batch = stage._generate(labels, np.random.default_rng(7))
    alone = stage._generate(labels[:1], np.random.default_rng(7))
    np.testing.assert_allclose(alone[0], batch[0], atol=1e-5)
    # the same first row among other labels: its image stays
    others = labels.copy()
    others[1:] = 1 - others[1:]
    np.testing.assert_allclose(
        stage._generate(others, np.random.default_rng(7))[0], batch[0], atol=1e-5
    )
    # and the labels do reach the image
    flipped = stage._generate(1 - labels[:1], np.random.default_rng(7))
    assert np.abs(flipped[0] - batch[0]).max() > 1e-4


def test_label_noise_maps_0_below_and_1_above_one_half():
    stage = CausalGANStage(NODES, **TINY, sample_label_noise="drawn")
    labels = np.tile([[0, 1, 1]], (20_000, 1))
    logits = stage.generator_inputs(labels, np.random.default_rng(0))[:, :3]
    p = 1 / (1 + np.exp(-logits))
    assert (p[:, 0] <= 0.5).all() and (p[:, 1:] >= 0.5).all()
    assert p[:, 0].mean() == pytest.approx(0.32, abs=0.01)
    assert p[:, 1:].mean() == pytest.approx(0.68, abs=0.01)


def test_sampling_at_the_label_noise_mean_keeps_z_and_the_signs(trained, tmp_path):
    labels = np.tile([[0, 1, 1]], (2000, 1))
    inputs = {
        mode: CausalGANStage(NODES, **TINY, sample_label_noise=mode).generator_inputs(
            labels, np.random.default_rng(0)
        )
        for mode in ("drawn", "mean")
    }
    drawn, mean = inputs["drawn"], inputs["mean"]
    np.testing.assert_array_equal(mean[:, 3:], drawn[:, 3:])  # the same z
    np.testing.assert_array_equal(np.sign(mean[:, :3]), np.sign(drawn[:, :3]))
    np.testing.assert_allclose(np.abs(mean[:, :3]), np.sqrt(2 / np.pi), rtol=1e-6)
    assert np.abs(drawn[:, :3]).mean() == pytest.approx(np.sqrt(2 / np.pi), abs=0.02)
    assert np.abs(drawn[:, :3]).std() > 0.5  # drawn: from near 0 (p about 0.5) up
    assert PRESETS["quick"]["sample_label_noise"] == "mean"
    assert PRESETS["paper"]["sample_label_noise"] == "drawn"
    # a stage saved before the option samples as it did: drawn
    stage, _, folder = trained
    old = shutil.copytree(folder, tmp_path / "old")
    saved = json.loads((old / "image_stage.json").read_text())
    del saved["config"]["sample_label_noise"]
    (old / "image_stage.json").write_text(json.dumps(saved))
    loaded = ImageStage.load(old)
    assert loaded.options["sample_label_noise"] == "drawn"
    assert stage.options["sample_label_noise"] == "mean"  # TINY runs on the quick preset
    few = labels[:4]
    assert not np.array_equal(loaded.generate(few, seed=1), stage.generate(few, seed=1))
    with pytest.raises(CkganError, match="sample_label_noise"):
        CausalGANStage(NODES, sample_label_noise="median")


def test_config_round_trip_and_presets():
    stage = CausalGANStage(NODES, **TINY, learning_rate=1e-3)
    config = stage.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["size"] == 16 and config["learning_rate"] == 1e-3 and config["preset"] == "quick"
    again = CausalGANStage(config.pop("nodes"), **config)
    assert again.get_config() == stage.get_config()
    paper = CausalGANStage(NODES, preset="paper")
    assert paper.size == 64 and paper.options["width"] == 64 and paper.noise_dim == 100
    assert paper.options["generator_updates"] == 6
    assert CausalGANStage(NODES).size == PRESETS["quick"]["size"] == 32
    with pytest.raises(CkganError, match="unknown option 'widht'"):
        CausalGANStage(NODES, widht=3)
    with pytest.raises(CkganError, match="unknown preset"):
        CausalGANStage(NODES, preset="huge")
    with pytest.raises(CkganError, match="size 48"):
        CausalGANStage(NODES, size=48)
    with pytest.raises(CkganError, match="unknown option 'do_fraction'"):  # removed
        CausalGANStage(NODES, do_fraction=0.2)


def test_networks_follow_the_size_and_round_trip_their_config():
    generator = DCGANGenerator(size=64, width=64, kernel_size=5)
    assert tuple(generator(np.zeros((2, 109), "float32")).shape) == (2, 64, 64, 3)
    assert [layer.filters for layer in generator.ups] == [256, 128, 64]
    assert generator.project.units == 4 * 4 * 512
    critic = ConvClassifier(size=32, outputs=5, width=16, minibatch_kernels=6)
    assert tuple(critic(np.zeros((4, 32, 32, 3), "float32")).shape) == (4, 5)
    assert [conv.filters for conv in critic.convs] == [16, 32, 64]
    for net in (generator, critic):
        assert type(net).from_config(net.get_config()).get_config() == net.get_config()


def test_minibatch_features_see_only_their_group():
    critic = ConvClassifier(size=16, outputs=1, width=4, minibatch_kernels=3)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 4, 16, 16, 3)).astype("float32")
    together = critic(np.concatenate([a, b]), groups=2).numpy()
    np.testing.assert_allclose(together[:4], critic(a).numpy(), atol=1e-5)
    np.testing.assert_allclose(together[4:], critic(b).numpy(), atol=1e-5)


def test_balanced_label_weights_follow_the_pool_rates():
    stage = CausalGANStage(NODES, **TINY, balance_labels=True)
    model = stage.model
    model.build_all()
    rows = len(model.label_pool.numpy())
    pool = np.zeros((rows, 3), "float32")
    pool[: rows // 10, 0] = 1  # A: rate 0.1
    pool[: rows // 2, 1] = 1  # B: rate 0.5
    pool[:, 2] = 1  # C: always 1, its rate clipped to 0.99
    model.label_pool.assign(pool)
    weights = np.asarray(model.label_weights(np.array([[1, 1, 1], [0, 0, 1]], "float32")))
    np.testing.assert_allclose(weights[0], [5.0, 1.0, 0.5 / 0.99], rtol=1e-3)
    np.testing.assert_allclose(weights[1], [0.5 / 0.9, 1.0, 0.5 / 0.99], rtol=1e-3)
    # over the pool, each attribute's weights average to 1 (unless clipped)
    mean = np.asarray(model.label_weights(pool)).mean(axis=0)
    np.testing.assert_allclose(mean[:2], [1.0, 1.0], rtol=1e-3)
    assert PRESETS["quick"]["balance_labels"] and not PRESETS["paper"]["balance_labels"]
    plain = CausalGANStage(NODES, **TINY, balance_labels=False).model
    assert (np.asarray(plain.label_weights(pool[:4])) == 1).all()


def test_a_projection_discriminator_judges_the_labels_too(label_generator):
    critic = ConvClassifier(size=16, outputs=1, width=4, kernel_size=3, projection=3)
    images = np.random.default_rng(0).normal(size=(4, 16, 16, 3)).astype("float32")
    labels = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    logits = np.asarray(critic(images, labels=labels))
    assert logits.shape == (4, 1)
    assert not np.allclose(np.asarray(critic(images, labels=1 - labels)), logits)
    with pytest.raises(ValueError, match="needs the labels"):
        critic(images)
    again = ConvClassifier.from_config(critic.get_config())
    assert again.projection == 3 and again.get_config() == critic.get_config()
    stage = CausalGANStage(NODES, **TINY, projection=True)
    log = stage.fit(Blocks(), label_generator, steps=2, verbose=0)
    assert np.isfinite(log[-1]["d_loss"]) and stage.model.discriminator.projection == 3
    assert CausalGANStage(NODES, **TINY, projection=False).model.discriminator.embed is None


def test_labeler_augment_softens_what_the_labelers_see():
    images = np.random.default_rng(0).uniform(-1, 1, (64, 16, 16, 3)).astype("float32")
    plain = CausalGANStage(NODES, **TINY, labeler_augment=False).model
    np.testing.assert_array_equal(np.asarray(plain.soften(images)), images)
    model = CausalGANStage(NODES, **TINY, labeler_augment=True).model
    seen = np.asarray(model.soften(images))
    assert seen.shape == images.shape
    residual = seen - images
    assert 0.08 < residual.std() < 0.5  # noise everywhere, blur on some
    blurred = np.abs(residual).mean(axis=(1, 2, 3)) > 0.3  # a 3x3 mean moves noise a lot
    assert 10 < blurred.sum() < 54  # about half of them


def test_independent_rows_ask_for_combinations_the_pool_never_holds(label_generator, tmp_path):
    stage = CausalGANStage(NODES, **TINY, independent_rows=0.5)
    log = stage.fit(Blocks(), label_generator, steps=2, verbose=0)
    assert all(np.isfinite(v) for v in log[-1].values())
    model = stage.model
    rows = len(model.label_pool.numpy())
    pool = np.zeros((rows, 3), "float32")
    pool[: rows // 5] = 1  # A = B = C in every row, 1 in a fifth of them
    model.label_pool.assign(pool)
    drawn = np.asarray(model.draw_independent_labels(20_000))
    np.testing.assert_allclose(drawn.mean(axis=0), 0.2, atol=0.02)  # the marginals kept
    mixed = (drawn.min(axis=1) != drawn.max(axis=1)).mean()
    assert abs(mixed - (1 - 0.2**3 - 0.8**3)) < 0.02  # independence: 0.488 of rows mixed
    # a categorical node's one-hot columns come from one row together
    pool = np.eye(2, dtype="float32")[np.random.default_rng(0).integers(0, 2, rows)]
    model.label_pool.assign(np.concatenate([pool, pool[:, :1]], axis=1))
    drawn = np.asarray(model.draw_independent_labels(5000, groups=[0, 0, 1]))
    assert (drawn[:, :2].sum(axis=1) == 1).all()
    assert 0.4 < (drawn[:, 0] != drawn[:, 2]).mean() < 0.6
    stage.save(tmp_path)
    loaded = ImageStage.load(tmp_path)
    assert loaded.options["independent_rows"] == 0.5 and loaded.model.column_groups == [0, 1, 2]
    assert PRESETS["paper"]["independent_rows"] == 0
    assert column_groups(["A", "age=old", "age=young", "B"]) == [0, 1, 1, 2]


def test_labeler_batches_give_the_labeler_more_real_images(label_generator, tmp_path):
    batches = 2
    stage = CausalGANStage(NODES, **TINY, labeler_batches=batches)
    stage.model.build_all()
    model = stage.model
    seen = spy_batches({"discriminator": model.discriminator, "labeler": model.labeler})
    log = stage.fit(Blocks(), label_generator, steps=2, verbose=0)
    assert all(np.isfinite(v) for v in log[-1].values())
    assert max(seen["labeler"]) == 16 * batches  # every real batch of the step
    assert max(seen["discriminator"]) == 32  # one real batch and the fakes
    assert PRESETS["paper"]["labeler_batches"] == 1
    stage.save(tmp_path)
    loaded = ImageStage.load(tmp_path)
    assert loaded.options["labeler_batches"] == loaded.model.labeler_batches == batches
