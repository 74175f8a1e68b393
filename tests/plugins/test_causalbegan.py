"""causalbegan: builds and trains a few steps at 16x16, saves and loads, samples per row."""

import json

import keras
import networkx as nx
import numpy as np
import pytest
from ckgan_plugins.causalbegan.began_autoencoder import BEGANAutoencoder
from ckgan_plugins.causalbegan.began_decoder import BEGANDecoder
from ckgan_plugins.causalbegan.began_encoder import BEGANEncoder
from ckgan_plugins.causalbegan.causal_began_stage import PRESETS, CausalBEGANStage
from fakes.images import Blocks, UniformLabels, spy_batches

from ckgan import CausalGraph, CkganError
from ckgan.images import CHECKPOINT_FILE, ImageStage
from ckgan.tabular import TabularLabelGenerator

NODES = ("A", "B")
HALVES = Blocks(NODES, rows=128)
TINY = {"size": 16, "noise_dim": 8, "width": 4, "labeler_width": 4, "code_dim": 8, "batch_size": 8}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    generator = TabularLabelGenerator(CausalGraph(nx.DiGraph([("A", "B")])))
    generator.fit(HALVES.labels(), verbose=0)
    stage = CausalBEGANStage(NODES, **TINY)
    folder = tmp_path_factory.mktemp("causalbegan")
    log = stage.fit(
        HALVES, generator, steps=4, checkpoint_every=2, verbose=0, directory=folder / "ckpt"
    )
    stage.save(folder)
    return stage, log, folder


def test_trains_with_finite_losses_and_moves_its_margins(trained):
    stage, log, folder = trained
    assert [entry["step"] for entry in log] == [2, 4]
    for entry in log:
        for key in ("d_loss", "g_loss", "recon_real", "recon_fake", "label_real", "convergence"):
            assert np.isfinite(entry[key]), key
    model = stage.model
    assert 0 < float(model.k_t.numpy()) <= 1 and 0 <= float(model.z_t.numpy()) <= 1
    assert int(model.step_counter.numpy()) == 4
    # the margins are part of the checkpoint: a new stage resumes them
    again = CausalBEGANStage(NODES, **TINY)
    again.fit(HALVES, UniformLabels(), steps=4, verbose=0, directory=folder / "ckpt", resume=True)
    assert float(again.model.k_t.numpy()) == float(model.k_t.numpy())


def test_save_load_gives_identical_images(trained):
    stage, _, folder = trained
    assert (folder / "ckpt" / CHECKPOINT_FILE).is_file()
    labels = np.array([[0, 0], [1, 0], [1, 1]])
    loaded = ImageStage.load(folder)  # through the registry
    assert type(loaded) is CausalBEGANStage and loaded.get_config() == stage.get_config()
    images = stage.generate(labels, seed=3)
    assert images.shape == (3, 16, 16, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(loaded.generate(labels, seed=3), images)
    assert float(loaded.model.k_t.numpy()) == float(stage.model.k_t.numpy())


def test_an_image_does_not_depend_on_its_batch(trained):
    stage, _, _ = trained
    labels = np.array([[1, 0], [0, 0], [1, 1], [0, 1]], "float32")
    batch = stage._generate(labels, np.random.default_rng(7))
    alone = stage._generate(labels[:1], np.random.default_rng(7))
    np.testing.assert_allclose(alone[0], batch[0], atol=1e-5)
    others = labels.copy()
    others[1:] = 1 - others[1:]
    np.testing.assert_allclose(
        stage._generate(others, np.random.default_rng(7))[0], batch[0], atol=1e-5
    )


def test_config_round_trip_and_presets():
    stage = CausalBEGANStage(NODES, **TINY, beta_1=0.5)
    config = stage.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["beta_1"] == 0.5 and config["preset"] == "quick"
    assert config["gamma"] == PRESETS["quick"]["gamma"] != PRESETS["paper"]["gamma"]
    again = CausalBEGANStage(config.pop("nodes"), **config)
    assert again.get_config() == stage.get_config()
    paper = CausalBEGANStage(NODES, preset="paper")
    assert paper.size == 64 and paper.options["width"] == 128 and paper.options["batch_size"] == 16
    assert paper.options["lr_halve_every"] == 100_000
    with pytest.raises(CkganError, match="unknown option 'gama'"):
        CausalBEGANStage(NODES, gama=0.7)
    with pytest.raises(CkganError, match="lr_halve_every"):
        CausalBEGANStage(NODES, lr_halve_every=-1)
    with pytest.raises(CkganError, match="option coarse_width"):
        CausalBEGANStage(NODES, coarse_width=-5)


def test_networks_follow_the_size_and_round_trip_their_config():
    decoder = BEGANDecoder(size=64, width=16)
    assert tuple(decoder(np.zeros((2, 10), "float32")).shape) == (2, 64, 64, 3)
    assert decoder.project.units == 8 * 8 * 16 and len(decoder.blocks) == 4
    encoder = BEGANEncoder(size=32, outputs=5, width=8)
    assert tuple(encoder(np.zeros((2, 32, 32, 3), "float32")).shape) == (2, 5)
    assert [block[0].filters for block in encoder.blocks] == [8, 16, 24]
    small = BEGANDecoder(size=16, width=4)
    assert small.base == 4 and tuple(small(np.zeros((1, 3), "float32")).shape) == (1, 16, 16, 3)
    autoencoder = BEGANAutoencoder(size=16, width=4, code_dim=6)
    assert tuple(autoencoder(np.zeros((2, 16, 16, 3), "float32")).shape) == (2, 16, 16, 3)
    for net in (decoder, encoder, small, autoencoder):
        assert type(net).from_config(net.get_config()).get_config() == net.get_config()


def test_mode_seeking_pairs_labels_with_other_noise_and_trains():
    stage = CausalBEGANStage(NODES, **TINY, mode_seeking=0.05)
    model = stage.model
    model.build_all()
    pool = np.random.default_rng(0).integers(0, 2, tuple(model.label_pool.shape))
    model.label_pool.assign(pool.astype("float32"))
    inputs, labels = (np.asarray(t) for t in model.generator_inputs(8))
    np.testing.assert_array_equal(labels[:4], labels[4:])
    assert len({tuple(row) for row in labels[:4]}) > 1  # not one label vector
    assert np.abs(inputs[:4, 2:] - inputs[4:, 2:]).min() > 0  # other z
    log = stage.fit(HALVES, UniformLabels(), steps=2, verbose=0)
    assert np.isfinite(log[-1]["g_loss"]) and log[-1]["spread"] > 0
    with pytest.raises(CkganError, match="mode_seeking"):
        CausalBEGANStage(NODES, mode_seeking=-1)


@pytest.mark.parametrize(
    ("option", "used"),
    [
        ("latent_constraint", 0.1),
        ("independent_rows", 0.25),
        ("hidden", 256),
        ("conditional_autoencoder", True),
        ("min_l_t", 0.01),
    ],
)
def test_a_run_saved_with_a_removed_option_loads_when_it_was_off(trained, tmp_path, option, used):
    stage, _, folder = trained
    for name in ("image_stage.json", "image_stage.h5"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    saved = json.loads((tmp_path / "image_stage.json").read_text())
    saved["config"][option] = 0.0  # as runs saved before its removal hold it
    (tmp_path / "image_stage.json").write_text(json.dumps(saved))
    loaded = ImageStage.load(tmp_path)
    assert option not in loaded.options
    labels = np.array([[1, 0]])
    np.testing.assert_array_equal(stage.generate(labels, seed=0), loaded.generate(labels, seed=0))
    saved["config"][option] = used
    (tmp_path / "image_stage.json").write_text(json.dumps(saved))
    with pytest.raises(CkganError, match=f"option {option}, which this version"):
        ImageStage.load(tmp_path)
    with pytest.raises(CkganError, match=f"unknown option '{option}'"):
        CausalBEGANStage(NODES, **{option: used})


def test_minibatch_std_sees_only_its_own_group_and_trains():
    encoder = BEGANEncoder(size=16, outputs=3, width=4, minibatch_std=True)
    x = np.random.default_rng(0).normal(size=(8, 16, 16, 3)).astype("float32")
    out = np.asarray(encoder(x, groups=2))
    changed_second = x.copy()
    changed_second[4:] *= 3.0
    np.testing.assert_allclose(np.asarray(encoder(changed_second, groups=2))[:4], out[:4])
    changed_first = x.copy()
    changed_first[1:4] *= 3.0  # row 0 is the same image, its group more varied
    assert not np.allclose(np.asarray(encoder(changed_first, groups=2))[0], out[0])
    plain = BEGANEncoder(size=16, outputs=3, width=4)
    plain(x)
    assert encoder.head.kernel.shape[0] == plain.head.kernel.shape[0] + 4 * 4  # + a channel
    stage = CausalBEGANStage(NODES, **TINY, minibatch_std=True)
    log = stage.fit(HALVES, UniformLabels(), steps=2, verbose=0)
    assert np.isfinite(log[-1]["d_loss"]) and stage.model.autoencoder.encoder.minibatch_std


def test_crossentropy_labels_push_where_the_labeler_is_sure_it_is_wrong():
    hard = {"label_smoothing": 0.0}  # the cross-entropy of hard labels
    stage = CausalBEGANStage(NODES, **TINY, label_loss="crossentropy", **hard)
    model = stage.model
    wrong = np.array([[-8.0, 8.0]], "float32")  # sure of A=0, B=1
    labels = np.array([[1.0, 0.0]], "float32")
    error = np.asarray(model.label_error(labels, wrong))
    np.testing.assert_allclose(error, [[8.0 + np.log1p(np.exp(-8.0))] * 2], rtol=1e-5)
    squared = CausalBEGANStage(NODES, **TINY, label_loss="squared", **hard).model
    squared = squared.label_error(labels, wrong)
    np.testing.assert_allclose(np.asarray(squared), (1 / (1 + np.exp(-8.0))) ** 2, rtol=1e-5)
    log = stage.fit(HALVES, UniformLabels(), steps=2, verbose=0)
    assert np.isfinite(log[-1]["label_fake"]) and log[-1]["label_real"] > 0
    # against fakes the Labeler learns the flipped labels, a loss bounded below
    # (maximising cross-entropy ran its logits off to infinity); squared: the paper's
    ones = np.ones_like(labels)
    right = -wrong  # sure of the labels asked for
    push = np.asarray(model.labeler_push(labels, right, ones, 0.0))
    np.testing.assert_allclose(push, 8.0 + np.log1p(np.exp(-8.0)), rtol=1e-5)
    assert float(model.labeler_push(labels, wrong, ones, 0.0)) == pytest.approx(
        np.log1p(np.exp(-8.0)), rel=1e-4
    )
    paper = CausalBEGANStage(NODES, **TINY, label_loss="squared", **hard).model
    assert paper.labeler_push(labels, wrong, ones, 0.3) == -0.3
    with pytest.raises(CkganError, match="label_loss"):
        CausalBEGANStage(NODES, label_loss="hinge")


def test_label_smoothing_stops_the_labeler_at_a_finite_logit():
    # with hard labels a right reading only gets cheaper as the logit grows, so a
    # Labeler that reads every label right grows its logits without end; smoothed,
    # the loss is 0 at logit log((1 - s) / s) and grows again beyond it
    labels = np.array([[1.0, 0.0]], "float32")
    best = np.log(0.95 / 0.05)

    def error(model, logit):
        logits = np.array([[logit, -logit]], "float32")  # both read right, as sure
        return np.asarray(model.label_error(labels, logits))[0]

    smooth = CausalBEGANStage(NODES, **TINY, label_loss="crossentropy", label_smoothing=0.05)
    hard = CausalBEGANStage(NODES, **TINY, label_loss="crossentropy", label_smoothing=0.0)
    np.testing.assert_allclose(error(smooth.model, best), 0.0, atol=1e-5)
    assert (error(smooth.model, 8.0) > error(smooth.model, best) + 0.1).all()
    assert (error(smooth.model, 1.0) > error(smooth.model, best) + 0.1).all()
    assert (error(hard.model, 8.0) < error(hard.model, best)).all()
    squared = CausalBEGANStage(NODES, **TINY, label_loss="squared", label_smoothing=0.05)
    np.testing.assert_allclose(error(squared.model, best), 0.0, atol=1e-6)
    log = smooth.fit(HALVES, UniformLabels(), steps=2, verbose=0)
    assert np.isfinite(log[-1]["d_loss"]) and log[-1]["label_real"] > 0
    assert smooth.model.get_config()["label_smoothing"] == 0.05
    assert CausalBEGANStage(NODES, preset="paper").options["label_smoothing"] == 0.0
    with pytest.raises(CkganError, match="label_smoothing"):
        CausalBEGANStage(NODES, label_smoothing=0.5)


def test_label_weight_is_a_floor_under_the_margin_weight():
    # z_t starts at 0, so the first step's generator loss is L(G) + label_weight Llab(G)
    for weight in (0.0, 0.5):
        stage = CausalBEGANStage(NODES, **TINY, label_weight=weight, mode_seeking=0.0)
        assert stage.model.get_config()["label_weight"] == weight
        (entry,) = stage.fit(HALVES, UniformLabels(), steps=1, verbose=0)
        expected = entry["recon_fake"] + weight * entry["label_fake"]
        assert entry["g_loss"] == pytest.approx(expected, rel=1e-5)
        assert entry["label_fake"] > 0
    assert CausalBEGANStage(NODES, preset="paper").options["label_weight"] == 0.0
    with pytest.raises(CkganError, match="label_weight"):
        CausalBEGANStage(NODES, label_weight=-1)


def test_max_l_t_caps_the_labelers_margin_weight():
    # gamma_label 1e6 makes b_l huge, so one step would take l_t to the cap
    for cap in (1.0, 0.05):
        stage = CausalBEGANStage(NODES, **TINY, gamma_label=1e6, lambda_l=1.0, max_l_t=cap)
        (entry,) = stage.fit(HALVES, UniformLabels(), steps=1, verbose=0)
        assert entry["label_real"] > 0 and entry["l_t"] == pytest.approx(cap)
    assert CausalBEGANStage(NODES, preset="paper").options["max_l_t"] == 1.0
    with pytest.raises(CkganError, match="max_l_t"):
        CausalBEGANStage(NODES, max_l_t=0)


def test_a_tapered_generator_is_wide_where_the_layout_is_decided_and_round_trips(tmp_path):
    tapered = BEGANDecoder(size=32, width=4, labels=2, coarse_width=16)
    x = np.zeros((2, 2 + 5), "float32")
    assert tuple(tapered(x).shape) == (2, 32, 32, 3)
    assert [convs[0].filters for convs in tapered.blocks] == [16, 8, 4]  # 8, 16, 32 px
    assert tapered.project.units == 8 * 8 * 16
    assert [film.units for film in tapered.films] == [32, 16, 8]
    assert [convs[0].filters for convs in BEGANDecoder(size=32, width=4).blocks] == [4, 4, 4]
    assert type(tapered).from_config(tapered.get_config()).channels == [16, 8, 4]
    stage = CausalBEGANStage(NODES, **TINY, film=True, coarse_width=8)
    assert [convs[0].filters for convs in stage.model.generator.blocks] == [8, 4, 4]  # 4..16 px
    assert stage.model.autoencoder.decoder.channels == [4, 4, 4]  # the generator's alone
    log = stage.fit(HALVES, UniformLabels(), steps=2, verbose=0)
    assert np.isfinite(log[-1]["g_loss"])
    stage.save(tmp_path)
    loaded = ImageStage.load(tmp_path)
    labels = np.array([[1, 0], [0, 1]])
    np.testing.assert_array_equal(loaded.generate(labels, seed=2), stage.generate(labels, seed=2))


def test_the_labelers_own_rate_halves_on_the_shared_schedule():
    stage = CausalBEGANStage(
        NODES, **TINY, learning_rate=1e-4, labeler_learning_rate=1e-3, lr_halve_every=10
    )
    optimizers = stage.model.optimizers
    rates = {name: float(opt.learning_rate) for name, opt in optimizers.items()}
    assert rates == pytest.approx({"generator": 1e-4, "discriminator": 1e-4, "labeler": 1e-3})
    for opt in optimizers.values():
        opt.iterations.assign(10)
    assert float(optimizers["labeler"].learning_rate) == pytest.approx(5e-4)
    assert float(optimizers["generator"].learning_rate) == pytest.approx(5e-5)


def test_labeler_batches_give_the_labeler_more_real_images(tmp_path):
    stage = CausalBEGANStage(NODES, **TINY, labeler_batches=2)
    stage.model.build_all()
    seen = spy_batches({"encoder": stage.model.autoencoder.encoder, "labeler": stage.model.labeler})
    log = stage.fit(HALVES, UniformLabels(), steps=2, verbose=0)
    assert all(np.isfinite(v) for v in log[-1].values())
    assert max(seen["encoder"]) == 16  # one real batch of 8 and the fakes
    assert max(seen["labeler"]) == 24  # those, then the second real batch
    stage.save(tmp_path)
    loaded = ImageStage.load(tmp_path)
    assert loaded.options["labeler_batches"] == loaded.model.labeler_batches == 2


def test_lost_labels_when_the_labeler_falls_back_to_guessing():
    model = CausalBEGANStage(NODES, **TINY, label_smoothing=0.0).model  # hard labels' chance
    model.build_all()
    pool = np.zeros(model.label_pool.shape, "float32")
    pool[: len(pool) // 4, 0] = 1.0  # A: 1 in a quarter of the rows, B: 1 in half
    pool[: len(pool) // 2, 1] = 1.0
    model.label_pool.assign(pool)
    entropy = [-(p * np.log(p) + (1 - p) * np.log(1 - p)) for p in (0.25, 0.5)]
    chance = model.chance_label_loss()
    np.testing.assert_allclose(chance, np.mean(entropy), rtol=1e-5)

    def log(*values):
        return [{"step": 250 * (i + 1), "label_real": v} for i, v in enumerate(values)]

    assert model.lost_labels(log(0.4, 0.01, 0.3 * chance)) == (
        f"the Labeler lost the real images' labels (label_real {0.3 * chance:.3g}, "
        f"0.01 at best, {chance:.3g} reading no image)"
    )
    assert model.lost_labels(log(0.4, 0.01, 0.2 * chance)) is None  # a slip, not a loss
    assert model.lost_labels(log(0.4, 0.3, 0.6 * chance)) is None  # it never learned
    assert model.lost_labels(log(0.01)) is None


def test_labeler_amsgrad_keeps_the_labelers_steps_from_growing_after_a_quiet_stretch():
    # plain Adam divides by a second moment that fades in a quiet stretch, so when
    # the gradients come back its steps are several learning rates long (the
    # Labeler's break on synthfaces, session 29); AMSGrad's stay near one
    longest = {}
    for amsgrad in (False, True):
        stage = CausalBEGANStage(
            NODES,
            **TINY,
            beta_1=0.5,
            beta_2=0.99,
            labeler_learning_rate=1e-3,
            labeler_amsgrad=amsgrad,
        )
        adam = stage.model.optimizers["labeler"]
        assert adam.amsgrad is amsgrad
        weight = keras.Variable(np.zeros(1, "float32"))
        adam.build([weight])
        moves = []
        for gradient in [1.0] * 300 + [1e-3] * 500 + [1.0] * 20:
            before = float(weight.numpy()[0])
            adam.apply_gradients([(np.array([gradient], "float32"), weight)])
            moves.append(abs(float(weight.numpy()[0]) - before))
        longest[amsgrad] = max(moves[-20:]) / 1e-3  # in learning rates
    assert longest[True] < 1.1 and longest[False] > 3.0


def test_labeler_amsgrad_resumes_its_largest_second_moment_and_needs_its_own_rate(tmp_path):
    options = {**TINY, "labeler_amsgrad": True}
    stage = CausalBEGANStage(NODES, **options)
    stage.fit(HALVES, UniformLabels(), steps=2, verbose=0, directory=tmp_path / "ckpt")
    stage.save(tmp_path / "run")
    loaded = ImageStage.load(tmp_path / "run")
    assert loaded.options["labeler_amsgrad"] is True
    assert loaded.model.get_config()["labeler_amsgrad"] is True
    again = CausalBEGANStage(NODES, **options)
    again.fit(HALVES, UniformLabels(), steps=2, verbose=0, directory=tmp_path / "ckpt", resume=True)
    kept = [v.numpy() for v in stage.model.optimizers["labeler"]._velocity_hats]
    assert kept and any(v.any() for v in kept)
    for want, got in zip(kept, again.model.optimizers["labeler"]._velocity_hats, strict=True):
        np.testing.assert_array_equal(got.numpy(), want)
    assert PRESETS["paper"]["labeler_amsgrad"] is False
    assert PRESETS["quick"]["labeler_amsgrad"] is True
    with pytest.raises(CkganError, match="labeler_learning_rate"):
        CausalBEGANStage(NODES, **options, labeler_learning_rate=0.0)
