"""``ImageStage``'s training loop with a tiny in-test stage: resume, checkpoints, NaN guard."""

import h5py
import keras
import numpy as np
import pytest
from fakes.images import UniformLabels
from keras import ops

from ckgan import CkganError, Dataset, backend
from ckgan.checkpoint import read_header
from ckgan.errors import TrainingWarning
from ckgan.images import CHECKPOINT_FILE, LABEL_POOL, ImageStage, _segments, label_pool
from ckgan.training import GANModel

NODES = ("A", "B")


class Squares(Dataset):
    """8 images per label pair; ``poison_after`` images, the rest of the data is NaN."""

    name = "squares"
    attributes = NODES
    has_images = True

    def __init__(self, poison_after=None):
        self.poison_after = poison_after

    def labels(self, split="train", nodes=None):
        return np.tile(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.uint8), (16, 1))

    def tf_dataset(self, split="train", nodes=None, *, size=16, images=True, **_):
        import tensorflow as tf

        labels = self.labels()
        x = np.full((len(labels), size, size, 3), -0.8, "float32")
        x[labels[:, 0] == 1, :, : size // 2] = 0.8
        x[labels[:, 1] == 1, : size // 2, :, 1] = 0.5
        if self.poison_after is not None:
            x = np.concatenate([x] * 8)
            x[self.poison_after :] = np.nan
            labels = np.concatenate([labels] * 8)
        return tf.data.Dataset.from_tensor_slices((x, labels.astype("float32")))


class TinyGAN(GANModel):
    """The smallest model that honours the contract: dense generator and critic."""

    def __init__(self, size, width, learning_rate, nan_after=None, lose_at=()):
        super().__init__()
        self.size, self.nan_after = size, nan_after
        self.lose_at = list(lose_at)  # the test's hook: the spans lost_labels calls lost, in turn
        self.counter = keras.Variable(0, dtype="int32", trainable=False)
        self.generator = keras.Sequential(
            [
                keras.layers.Dense(size * size * 3, activation="tanh"),
                keras.layers.Reshape((size, size, 3)),
            ]
        )
        self.critic = keras.Sequential(
            [
                keras.layers.Flatten(),
                keras.layers.Dense(width, activation="relu"),
                keras.layers.Dense(1),
            ]
        )
        self.seed_generator = keras.random.SeedGenerator(0)
        self.label_pool = keras.Variable(np.zeros((LABEL_POOL, 2), "float32"), trainable=False)
        self.optimizers = {
            "generator": keras.optimizers.Adam(learning_rate),
            "critic": keras.optimizers.Adam(learning_rate),
        }
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def compile_stage(self, jit_compile="auto"):
        self.build_all()
        variables = {
            "generator": self.generator.trainable_variables,
            "critic": self.critic.trainable_variables,
        }
        self.compile_players(self.optimizers, variables, jit_compile=jit_compile)

    def build_all(self):
        self.generator(ops.zeros((1, 6)))
        self.critic(ops.zeros((1, self.size, self.size, 3)))
        self.optimizers["generator"].build(self.generator.trainable_variables)
        self.optimizers["critic"].build(self.critic.trainable_variables)
        self.built = True

    def lost_labels(self, log):
        if self.lose_at and log[-1]["step"] == self.lose_at[0]:
            self.lose_at.pop(0)
            return "lost its way"
        return None

    def inputs(self, b):
        index = keras.random.randint((b,), 0, LABEL_POOL, seed=self.seed_generator)
        labels = ops.take(self.label_pool, index, axis=0)
        z = keras.random.uniform((b, 4), seed=self.seed_generator)
        return ops.concatenate([labels, z], axis=-1)

    def step(self, data):
        images, _ = data
        b = int(images.shape[0])
        fake = self.generator(self.inputs(b))

        def critic_loss():
            return ops.mean(self.critic(fake)) - ops.mean(self.critic(images)), ()

        loss, _, grads = backend.value_and_grad(critic_loss, self.critic.trainable_variables)
        self.optimizers["critic"].apply(grads, self.critic.trainable_variables)
        z = self.inputs(b)

        def generator_loss():
            return -ops.mean(self.critic(self.generator(z))), ()

        _, _, grads = backend.value_and_grad(generator_loss, self.generator.trainable_variables)
        self.optimizers["generator"].apply(grads, self.generator.trainable_variables)
        self.counter.assign_add(1)
        if self.nan_after is not None:  # the test's hook: a NaN loss from that step on
            loss = loss + ops.where(self.counter > self.nan_after, float("nan"), 0.0)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


class TinyStage(ImageStage):
    kind = "tiny"
    sizes = (8, 16)

    def __init__(
        self, nodes, size=8, width=4, learning_rate=1e-3, batch_size=8, nan_after=None, **more
    ):
        options = {"width": width, "learning_rate": learning_rate, "batch_size": batch_size}
        super().__init__(nodes, size, **options, nan_after=nan_after, **more)

    noise_dim = 4

    def build_model(self):
        o = self.options
        lose_at = o.get("lose_at", ())
        return TinyGAN(self.size, o["width"], o["learning_rate"], o["nan_after"], lose_at)

    def _generate(self, labels, rng):
        self.model.build_all()
        z = rng.random((len(labels), 4))
        x = np.concatenate([labels, z], axis=1).astype("float32")
        return ops.convert_to_numpy(self.model.generator(x))


def fit(stage, folder, steps, **kwargs):
    kwargs = {"checkpoint_every": 2, "verbose": 0, "seed": 1, **kwargs}
    return stage.fit(Squares(), UniformLabels(), steps=steps, directory=folder, **kwargs)


def weights(stage):
    return [v.numpy() for v in stage.model.generator.trainable_variables]


def test_segments_end_on_multiples_and_at_the_total():
    assert _segments(0, 6, 2) == [(3, 2)]
    assert _segments(0, 7, 3) == [(2, 3), (1, 1)]
    assert _segments(4, 11, 3) == [(1, 2), (1, 3), (1, 2)]
    assert _segments(5, 6, 10) == [(1, 1)]


def test_resume_after_a_kill_continues_to_the_same_total(tmp_path):
    full = fit(TinyStage(NODES), tmp_path / "full", 7)
    assert [e["step"] for e in full] == [2, 4, 6, 7]

    class Killed(Exception):
        pass

    def kill_at_4(stage, step):
        if step == 4:
            raise Killed

    folder = tmp_path / "killed"
    with pytest.raises(Killed):
        fit(TinyStage(NODES), folder, 7, on_checkpoint=kill_at_4)
    assert read_header(folder / CHECKPOINT_FILE)["step"] == 4
    saved = [np.asarray(h5py.File(folder / CHECKPOINT_FILE)["model"][str(i)]) for i in range(2)]

    stage = TinyStage(NODES)  # a new object: everything comes from the checkpoint
    seen = []
    log = fit(stage, folder, 7, resume=True, on_checkpoint=lambda s, step: seen.append(step))
    assert seen == [6, 7]
    assert [e["step"] for e in log] == [2, 4, 6, 7]
    header = read_header(folder / CHECKPOINT_FILE)
    assert header["step"] == 7 and header["kind"] == "tiny"
    assert [e["step"] for e in header["log"]] == [2, 4, 6, 7]
    assert int(stage.model.optimizers["critic"].iterations.numpy()) == 7
    assert not np.array_equal(weights(stage)[0], saved[0])
    # resuming a finished run changes nothing
    again = TinyStage(NODES)
    assert [e["step"] for e in fit(again, folder, 7, resume=True)] == [2, 4, 6, 7]
    np.testing.assert_array_equal(weights(again)[0], weights(stage)[0])


def test_a_lost_span_goes_back_to_the_last_healthy_checkpoint(tmp_path):
    plain = TinyStage(NODES, rollbacks=2)
    fit(plain, tmp_path / "plain", 8)
    assert plain.rollbacks == []
    np.testing.assert_array_equal(weights(plain)[0], fit_stage(tmp_path / "off", 8))

    stage = TinyStage(NODES, rollbacks=2, lose_at=[6])
    with pytest.warns(TrainingWarning, match="step 6: lost its way; training went back to step 2"):
        log = fit(stage, tmp_path / "once", 8)
    assert [e["step"] for e in log] == [2, 4, 6, 8]
    assert stage.rollbacks == [{"step": 6, "to": 2, "why": "lost its way"}]
    assert read_header(tmp_path / "once" / CHECKPOINT_FILE)["rollbacks"] == stage.rollbacks
    # the whole state came back: 8 steps count, not 12, and as every batch of
    # Squares is alike, the run ends exactly where one that never went back does
    assert int(stage.model.optimizers["critic"].iterations.numpy()) == 8
    np.testing.assert_array_equal(weights(stage)[0], weights(plain)[0])

    # lost again in the span straight after going back: one checkpoint further back
    again = TinyStage(NODES, rollbacks=2, lose_at=[6, 4])
    with pytest.warns(TrainingWarning):
        fit(again, tmp_path / "twice", 8)
    assert [(r["step"], r["to"]) for r in again.rollbacks] == [(6, 2), (4, 0)]

    # no more step-backs than the option allows, counting a resumed run's own
    spent = TinyStage(NODES, rollbacks=1, lose_at=[6, 8])
    with pytest.warns(TrainingWarning):
        log = fit(spent, tmp_path / "spent", 8)
    assert [r["step"] for r in spent.rollbacks] == [6] and log[-1]["step"] == 8
    assert "previous_step" not in read_header(tmp_path / "spent" / CHECKPOINT_FILE)
    resumed = TinyStage(NODES, rollbacks=1, lose_at=[10])
    fit(resumed, tmp_path / "spent", 10, resume=True)
    assert [r["step"] for r in resumed.rollbacks] == [6]


def test_a_spent_step_back_comes_back_after_rollback_refill_steps(tmp_path):
    # spent at step 6: asked again from step 12 on (6 steps later), not before
    stage = TinyStage(NODES, rollbacks=1, rollback_refill=6, lose_at=[6, 12])
    with pytest.warns(TrainingWarning, match=r"0 of 1 in 6 steps left"):
        log = fit(stage, tmp_path / "refill", 16)
    assert [(r["step"], r["to"]) for r in stage.rollbacks] == [(6, 2), (12, 8)]
    assert [e["step"] for e in log] == [2, 4, 6, 8, 10, 12, 14, 16]
    # without the refill the one step-back is spent for good
    once = TinyStage(NODES, rollbacks=1, lose_at=[6, 12])
    with pytest.warns(TrainingWarning):
        fit(once, tmp_path / "once", 16)
    assert [(r["step"], r["to"]) for r in once.rollbacks] == [(6, 2)]


def test_a_step_back_never_returns_to_a_state_that_led_to_a_loss(tmp_path):
    # lost at 6 twice: the second time 2 (where the first went) is passed over
    stage = TinyStage(NODES, rollbacks=2, lose_at=[6, 6])
    with pytest.warns(TrainingWarning):
        log = fit(stage, tmp_path / "twice", 8)
    assert [(r["step"], r["to"]) for r in stage.rollbacks] == [(6, 2), (6, 0)]
    assert [e["step"] for e in log] == [2, 4, 6, 8]


def test_a_resumed_run_can_go_back_as_far_as_one_never_stopped(tmp_path):
    fit(TinyStage(NODES, rollbacks=1), tmp_path / "run", 6)
    header = read_header(tmp_path / "run" / CHECKPOINT_FILE)
    assert header["previous_step"] == 4
    resumed = TinyStage(NODES, rollbacks=1, lose_at=[8])
    with pytest.warns(TrainingWarning, match="step 8: lost its way; training went back to step 4"):
        fit(resumed, tmp_path / "run", 10, resume=True)
    # the state at 4 came back whole: its steps count, and the end matches a plain run
    assert int(resumed.model.optimizers["critic"].iterations.numpy()) == 10
    np.testing.assert_array_equal(weights(resumed)[0], fit_stage(tmp_path / "off", 10))
    # without step-backs a checkpoint holds its own state only, as before
    fit(TinyStage(NODES), tmp_path / "plain", 4)
    assert "previous_step" not in read_header(tmp_path / "plain" / CHECKPOINT_FILE)


def fit_stage(folder, steps):
    """The generator's first weights after ``steps`` steps of a stage without step-backs."""
    stage = TinyStage(NODES)
    fit(stage, folder, steps)
    return weights(stage)[0]


def test_resume_needs_a_checkpoint_of_the_same_model(tmp_path):
    fit(TinyStage(NODES), tmp_path, 2)
    with pytest.raises(CkganError, match="shape"):
        fit(TinyStage(NODES, width=5), tmp_path, 4, resume=True)
    other = TinyStage(NODES)
    other.kind = "other"
    with pytest.raises(CkganError, match="written by the 'tiny' image stage"):
        fit(other, tmp_path, 4, resume=True)
    with pytest.raises(CkganError, match="missing"):
        fit(TinyStage(NODES), tmp_path / "nothing", 4, resume=True)
    assert read_header(tmp_path / CHECKPOINT_FILE)["step"] == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_checkpoint_is_a_clear_error_and_touches_nothing(tmp_path, damage):
    fit(TinyStage(NODES), tmp_path, 2)
    path = tmp_path / CHECKPOINT_FILE
    data = path.read_bytes()
    path.write_bytes(
        b"\x89HDF\r\n garbage " * 50 if damage == "garbage" else data[: len(data) // 2]
    )
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(CkganError, match="corrupt"):
        fit(TinyStage(NODES), tmp_path, 4, resume=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    stage = TinyStage(NODES, nan_after=5)
    with pytest.raises(CkganError, match="NaN by step 6 \\(loss = nan\\)"):
        fit(stage, tmp_path, 10)
    header = read_header(tmp_path / CHECKPOINT_FILE)
    assert header["step"] == 4 and [e["step"] for e in header["log"]] == [2, 4]
    # the checkpoint resumes (here without the hook) to the end
    log = fit(TinyStage(NODES), tmp_path, 10, resume=True)
    assert [e["step"] for e in log] == [2, 4, 6, 8, 10]


def test_nan_weights_stop_training_even_when_the_loss_hides_them(tmp_path):
    # batches of 8: steps 1-4 see finite images, then NaN pixels poison the critic
    with pytest.raises(CkganError, match="NaN by step 6"):
        TinyStage(NODES).fit(
            Squares(poison_after=32), UniformLabels(), steps=8, directory=tmp_path,
            checkpoint_every=2, verbose=0,
        )  # fmt: skip
    header = read_header(tmp_path / CHECKPOINT_FILE)
    assert header["step"] == 4
    with h5py.File(tmp_path / CHECKPOINT_FILE) as f:
        assert all(np.isfinite(np.asarray(f["model"][key])).all() for key in f["model"])


def test_save_load_and_generate(tmp_path, monkeypatch):
    stage = TinyStage(NODES, size=16)
    fit(stage, None, 2)
    stage.save(tmp_path)

    class Entry:
        def load(self):
            return TinyStage

    class Registry:
        def get(self, kind, name):
            assert (kind, name) == ("image", "tiny")
            return Entry()

    monkeypatch.setattr("ckgan.plugins.get_registry", lambda: Registry())
    loaded = ImageStage.load(tmp_path)
    labels = np.array([[0, 1], [1, 1]])
    np.testing.assert_array_equal(loaded.generate(labels, seed=2), stage.generate(labels, seed=2))
    assert stage.generate(np.zeros((0, 2)), seed=0).shape == (0, 16, 16, 3)
    with pytest.raises(CkganError, match="2 columns"):
        stage.generate(np.zeros((3, 5)))
    with pytest.raises(CkganError, match="missing"):
        ImageStage.load(tmp_path / "none")


def test_bad_arguments_are_clear_errors():
    with pytest.raises(CkganError, match="size 32"):
        TinyStage(NODES, size=32)

    class NoImages(Squares):
        has_images = False

    with pytest.raises(CkganError, match="no images"):
        TinyStage(NODES).fit(NoImages(), UniformLabels(), steps=1, verbose=0)

    class ThreeLabels(UniformLabels):
        def sample(self, n, do=None, seed=None):
            return np.zeros((n, 3), np.uint8)

    with pytest.raises(CkganError, match="draws 3 labels"):
        TinyStage(NODES).fit(Squares(), ThreeLabels(), steps=1, verbose=0)


class RareChain:
    """Labels A -> B with A = 1 in 1% of rows and B = A: do(B=1) with A=0 never occurs."""

    def __init__(self):
        self.calls = []

    def sample(self, n, do=None, seed=None):
        self.calls.append((n, dict(do or {})))
        a = (np.random.default_rng(seed).random(n) < 0.01).astype(np.uint8)
        a = np.full(n, do["A"], np.uint8) if do and "A" in do else a
        b = np.full(n, do["B"], np.uint8) if do and "B" in do else a
        return np.stack([a, b], axis=1)


def test_label_pool_draws_its_do_share_under_every_single_node_intervention():
    chain = RareChain()
    plain = label_pool(chain, ["A", "B"], seed=0)
    assert plain.shape == (LABEL_POOL, 2) and plain.dtype == np.float32
    assert chain.calls == [(LABEL_POOL, {})]
    assert not np.any((plain[:, 0] == 0) & (plain[:, 1] == 1))

    chain = RareChain()
    pool = label_pool(chain, ["A", "B"], seed=0, do_fraction=0.25)
    assert pool.shape == (LABEL_POOL, 2)
    settings = [do for _, do in chain.calls[1:]]
    assert settings == [{"A": 0}, {"A": 1}, {"B": 0}, {"B": 1}]
    assert sum(n for n, _ in chain.calls) == LABEL_POOL
    assert chain.calls[0][0] == LABEL_POOL - LABEL_POOL // 4
    # do(B=1) asks for B without A, which the observational rows never do
    off_support = np.mean((pool[:, 0] == 0) & (pool[:, 1] == 1))
    assert off_support == pytest.approx(0.25 / 4 * 0.99, abs=0.005)
    np.testing.assert_array_equal(label_pool(RareChain(), ["A", "B"], 0, 0.25), pool)
