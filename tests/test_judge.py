import numpy as np
import pytest
from fakes.images import Tinted

from ckgan import Dataset
from ckgan.judge import Judge, frechet_distance


class Squares(Dataset):
    """16x16 images: A = a bright left half, B = a red top half; plus pixel noise."""

    name = "squares"
    attributes = ("A", "B")
    has_images = True
    cache_key = "squares-test"

    def labels(self, split="train", nodes=None):
        n = {"train": 768, "validation": 64, "test": 256}[split]
        rng = np.random.default_rng(["train", "validation", "test"].index(split))
        return rng.integers(0, 2, (n, 2)).astype(np.uint8)

    def tf_dataset(self, split="train", nodes=None, *, size=None, images=True, **_):
        import tensorflow as tf

        labels = self.labels(split)
        rng = np.random.default_rng(10)
        x = rng.uniform(-1, -0.5, (len(labels), 16, 16, 3)).astype("float32")
        x[labels[:, 0] == 1, :, :8, :] += 1.2
        x[labels[:, 1] == 1, :8, :, 0] += 1.2
        return tf.data.Dataset.from_tensor_slices((x, labels.astype("float32")))


def test_judge_learns_and_is_cached(monkeypatch):
    judge = Judge.for_dataset(Squares(), 16, epochs=3, verbose=0)
    assert set(judge.accuracy) == {"A", "B"}
    assert min(judge.accuracy.values()) > 0.95
    images = next(iter(Squares().tf_dataset("test").batch(32)))[0].numpy()
    assert judge.predict(images).shape == (32, 2)
    assert judge.features(images).shape == (32, 128)

    def no_training(*args, **kwargs):
        raise AssertionError("the cached judge was retrained")

    monkeypatch.setattr(Judge, "fit", no_training)
    again = Judge.for_dataset(Squares(), 16, epochs=3, verbose=0)
    np.testing.assert_allclose(again.predict(images), judge.predict(images), atol=1e-6)
    assert again.accuracy == judge.accuracy


def test_judge_reads_a_circular_factor_as_a_point_on_the_circle():
    data = Tinted()
    judge = Judge.for_dataset(data, 16, epochs=6, verbose=0)
    assert judge.circular == ("hue",)
    assert judge.nuisance_columns == {"hue": [0, 1], "light": [2]}
    assert judge.accuracy["A"] > 0.95
    assert judge.nuisance_r2["hue"] > 0.8 and judge.nuisance_r2["light"] > 0.8
    # hue 0.02 and 0.98 are one colour: read close together, far from hue 0.5
    rows = data._rows("test")
    images = data.images("test")
    read = judge.read_nuisance(images)
    assert read.shape == (len(rows), 3)
    near_0 = read[np.abs(rows[:, 1] - 0.02) < 0.02, :2].mean(axis=0)
    near_1 = read[np.abs(rows[:, 1] - 0.98) < 0.02, :2].mean(axis=0)
    half = read[np.abs(rows[:, 1] - 0.5) < 0.02, :2].mean(axis=0)
    assert np.linalg.norm(near_0 - near_1) < 0.5 < np.linalg.norm(near_0 - half)
    np.testing.assert_allclose(
        judge.embed_nuisance(np.array([[0.0, 0.3], [1.0, 0.3]]))[:, :2], [[1, 0], [1, 0]], atol=1e-6
    )


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 4))
    assert frechet_distance(a, rng.normal(size=(4000, 4))) < 0.05
    shifted = rng.normal(size=(4000, 4)) + np.array([1.0, 0, 0, 0])
    assert frechet_distance(a, shifted) == pytest.approx(1.0, abs=0.1)
    wide = rng.normal(size=(4000, 4)) * 2
    # trace terms: 4 + 16 - 2 * 4 * 2 = 4
    assert frechet_distance(a, wide) == pytest.approx(4.0, abs=0.3)
