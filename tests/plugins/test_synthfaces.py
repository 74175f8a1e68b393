"""synthfaces: the exact label model, the renderer and the cached dataset."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
from ckgan_plugins.synthfaces import synth_faces
from ckgan_plugins.synthfaces.render import NUISANCE, REGIONS, render, sample_nuisance, to_pixels
from ckgan_plugins.synthfaces.scm import ATTRIBUTES, CELEBA_RATES, causal_model
from ckgan_plugins.synthfaces.synth_faces import SynthFaces

import ckgan
from ckgan.metrics import tv_distance

N = 2000  # faces in the dataset tests: 1600 / 200 / 200


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CKGAN_CACHE", str(tmp_path))
    return tmp_path / "synthfaces"


@pytest.fixture
def truth():
    return causal_model()


# -- the label model ------------------------------------------------------------


def test_model_is_the_paper_graph_with_tables_strictly_inside(truth):
    assert truth.graph == ckgan.CausalGraph.load("paper")
    assert truth.nodes == ATTRIBUTES
    for node, table in truth.cpts.items():
        assert np.all((table > 0) & (table < 1)), node


def test_marginals_match_celeba(truth):
    marginals = truth.marginals()
    for node, rate in CELEBA_RATES.items():
        assert abs(marginals[node] - rate) <= 0.02, node


def test_celeba_like_dependencies(truth):
    p = truth.prob
    assert p({"Male": 1}, given={"Mustache": 1}) >= 0.95
    assert p({"Male": 1}, given={"Bald": 1}) >= 0.95
    assert p({"Male": 0}, given={"Wearing_Lipstick": 1}) >= 0.95
    assert p({"Smiling": 1}, given={"Mouth_Slightly_Open": 1}) == pytest.approx(0.76, abs=0.02)
    assert p({"Smiling": 1}, given={"Narrow_Eyes": 1}) == pytest.approx(0.59, abs=0.02)
    for node in ("Bald", "Eyeglasses"):
        assert p({node: 1}, given={"Young": 0}) > 2 * p({node: 1}, given={"Young": 1})


def test_intervening_on_mustache_leaves_sex_alone(truth):
    p_male = truth.prob({"Male": 1})
    assert p_male == pytest.approx(0.417, abs=1e-12)
    # exact up to float rounding in the sums over the 512 configurations
    assert truth.prob({"Male": 1}, do={"Mustache": 1}) == pytest.approx(p_male, abs=1e-12)
    assert truth.prob({"Male": 1}, given={"Mustache": 1}) >= 0.95


def test_dataset_labels_follow_the_model(cache, truth):
    data = SynthFaces(n=100_000, seed=3)
    labels = np.concatenate([data.labels(s) for s in ("train", "validation", "test")])
    assert tv_distance(labels, truth.pmf()) <= 0.015
    for node, rate in CELEBA_RATES.items():
        assert abs(labels[:, ATTRIBUTES.index(node)].mean() - rate) <= 0.02, node
    assert not list(cache.glob("*px.h5")), "labels alone must not render images"


# -- the renderer ---------------------------------------------------------------


def _faces(n, seed=0):
    labels = causal_model().sample(n, rng=seed)
    return labels, sample_nuisance(n, seed + 1)


def test_render_is_deterministic_and_batch_independent():
    labels, nuisance = _faces(12)
    a = render(labels, nuisance, 64)
    assert a.dtype == np.uint8 and a.shape == (12, 64, 64, 3)
    assert np.array_equal(a, render(labels, nuisance, 64))
    one = render(labels[5:6], {k: v[5:6] for k, v in nuisance.items()}, 64)
    assert np.array_equal(one[0], a[5])
    for size in (16, 32, 48):
        assert render(labels, nuisance, size).shape == (12, size, size, 3)


def test_render_rejects_bad_input():
    labels, nuisance = _faces(3)
    with pytest.raises(ckgan.CkganError, match="columns"):
        render(labels[:, :4], nuisance)
    with pytest.raises(ckgan.CkganError, match="too small"):
        render(labels, nuisance, 8)
    with pytest.raises(ckgan.CkganError, match="rotation"):
        render(labels, {k: v for k, v in nuisance.items() if k != "rotation"})


def _head_frame(nuisance, size):
    """Head-frame coordinates ``(u, v)`` of every pixel centre, ``(n, size, size)`` each."""
    cx, cy = to_pixels(0.0, 0.0, nuisance, size)
    ux, uy = to_pixels(1.0, 0.0, nuisance, size)
    vx, vy = to_pixels(0.0, 1.0, nuisance, size)
    ex = np.stack([ux - cx, uy - cy], -1)[:, 0]  # (n, 2): pixels per unit u
    ey = np.stack([vx - cx, vy - cy], -1)[:, 0]
    yy, xx = np.mgrid[:size, :size] + 0.5
    dx, dy = xx[None] - cx[:, :, None], yy[None] - cy[:, :, None]
    det = ex[:, 0] * ey[:, 1] - ex[:, 1] * ey[:, 0]
    u = (dx * ey[:, 1, None, None] - dy * ey[:, 0, None, None]) / det[:, None, None]
    v = (dy * ex[:, 0, None, None] - dx * ex[:, 1, None, None]) / det[:, None, None]
    return u, v, np.hypot(*ex.T), np.hypot(*ey.T)


def _inside(u, v, box, margin_u, margin_v):
    u0, v0, u1, v1 = box
    mu, mv = margin_u[:, None, None], margin_v[:, None, None]
    return (u >= u0 - mu) & (u <= u1 + mu) & (v >= v0 - mv) & (v <= v1 + mv)


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("node", sorted(REGIONS))
def test_each_attribute_shows_in_its_region(node, size):
    labels, nuisance = _faces(60, seed=7)
    j = ATTRIBUTES.index(node)
    flipped = labels.copy()
    flipped[:, j] ^= 1
    before = render(labels, nuisance, size).astype(int)
    after = render(flipped, nuisance, size).astype(int)
    diff = np.abs(after - before).sum(-1)
    u, v, pu, pv = _head_frame(nuisance, size)
    inside = _inside(u, v, REGIONS[node], 1.5 / pu, 1.5 / pv)  # 1.5 px of slack
    assert not np.any((diff > 0) & ~inside), f"{node} changed pixels outside its region"
    strong = (diff > 60).sum(axis=(1, 2))  # plainly visible: many clearly changed pixels
    assert strong.min() >= (4 if size == 32 else 20), f"{node} barely visible: {strong.min()}"


@pytest.mark.parametrize("node", ["Young", "Male"])
def test_age_and_sex_leave_eyes_and_mouth_alone(node):
    labels, nuisance = _faces(60, seed=11)
    labels[:, ATTRIBUTES.index("Mustache")] = 0  # a mustache takes the hair's colour
    flipped = labels.copy()
    flipped[:, ATTRIBUTES.index(node)] ^= 1
    diff = np.abs(render(flipped, nuisance, 64).astype(int) - render(labels, nuisance, 64)).sum(-1)
    assert (diff > 60).sum(axis=(1, 2)).min() >= 50
    u, v, pu, pv = _head_frame(nuisance, 64)
    for box in [(-0.55, -0.2, 0.55, 0.08), (-0.3, 0.5, 0.3, 0.9)]:
        assert not np.any((diff > 0) & _inside(u, v, box, -1.5 / pu, -1.5 / pv))


def test_every_nuisance_factor_changes_the_image_but_no_label():
    labels = np.array([[1, 0, 1, 0, 0, 1, 1, 0, 0]], dtype=np.uint8)  # glasses, lipstick
    base = {k: np.array([0.3], np.float32) for k in NUISANCE}
    image = render(labels, base, 64)
    for name in NUISANCE:
        moved = dict(base, **{name: np.array([0.8], np.float32)})
        assert not np.array_equal(render(labels, moved, 64), image), name
    a, b = sample_nuisance(5, 1), sample_nuisance(5, 1)
    assert all(np.array_equal(a[k], b[k]) and a[k].dtype == np.float32 for k in NUISANCE)


# -- the dataset ----------------------------------------------------------------


def test_registered_and_described(cache):
    data = ckgan.load_dataset("synthfaces", n=N, seed=1)
    assert isinstance(data, SynthFaces)
    assert data.name == "synthfaces" and data.attributes == ATTRIBUTES
    assert data.has_images and data.image_sizes == (32, 64)
    assert data.truth.graph == ckgan.CausalGraph.load("paper")


def test_splits_sizes_disjoint_and_nodes(cache):
    data = SynthFaces(n=N, seed=1)
    sizes = {s: len(data.labels(s)) for s in ("train", "validation", "test")}
    assert sizes == {"train": 1600, "validation": 200, "test": 200}
    rows = [map(tuple, data.noise(s)) for s in sizes]
    sets = [set(r) for r in rows]
    assert sum(len(s) for s in sets) == N and len(set.union(*sets)) == N
    both = data.labels("validation", ["Smiling", "Young"])
    full = data.labels("validation")
    assert both.dtype == np.uint8 and np.array_equal(both, full[:, [5, 0]])
    assert set(data.nuisance("test")) == set(NUISANCE)
    with pytest.raises(ckgan.CkganError, match="Beard"):
        data.labels("train", ["Beard"])
    with pytest.raises(ckgan.CkganError, match="split"):
        data.labels("dev")
    with pytest.raises(ckgan.CkganError, match="size"):
        data.images("train", 8)
    with pytest.raises(ckgan.CkganError, match="at least 10"):
        SynthFaces(n=5)


def test_nuisance_is_independent_of_the_labels(cache):
    data = SynthFaces(n=20_000, seed=4)
    labels = data.labels().astype(float)
    nuisance = np.stack([data.nuisance()[k] for k in NUISANCE], 1).astype(float)
    corr = np.corrcoef(labels, nuisance, rowvar=False)[: labels.shape[1], labels.shape[1] :]
    assert np.abs(corr).max() < 0.04


def test_importing_the_dataset_does_not_import_tensorflow():
    code = (
        "import sys, ckgan_plugins.synthfaces.synth_faces; "
        "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_same_seed_same_data_other_seed_other_data(cache):
    a, b, c = SynthFaces(n=N, seed=1), SynthFaces(n=N, seed=1), SynthFaces(n=N, seed=2)
    assert np.array_equal(a.labels(), b.labels())
    assert not np.array_equal(a.labels(), c.labels())


def test_images_are_cached_and_reused(cache, monkeypatch):
    data = SynthFaces(n=N, seed=1)
    images = data.images("test", 32)
    assert images.shape == (200, 32, 32, 3) and images.dtype == np.uint8
    path = data.cache_path(32)
    assert path.exists() and path.parent == cache and not data.cache_path(64).exists()
    stamp = os.stat(path).st_mtime_ns

    rendered = []

    def counting(labels, nuisance, size=64):
        rendered.append(len(labels))
        return render(labels, nuisance, size)

    monkeypatch.setattr(synth_faces, "render", counting)
    again = SynthFaces(n=N, seed=1).images("test", 32)
    assert np.array_equal(again, images)
    assert sum(rendered) <= synth_faces._SPOT_CHECKS  # spot checks only, no re-render
    assert os.stat(path).st_mtime_ns == stamp
    examples, labels = data.examples(5, 32, "test")
    assert np.array_equal(examples, images[:5])
    assert np.array_equal(labels, data.labels("test")[:5])


def test_a_damaged_label_file_is_regenerated(cache):
    labels = SynthFaces(n=N, seed=1).labels()
    path = SynthFaces(n=N, seed=1).cache_path()
    path.write_bytes(b"not an hdf5 file")
    with pytest.warns(UserWarning, match="unusable"):
        assert np.array_equal(SynthFaces(n=N, seed=1).labels(), labels)
    with h5py.File(path, "r") as f:  # rewritten as a valid file
        assert f["labels"].shape == (N, 9)


def test_a_damaged_or_stale_image_file_is_regenerated(cache):
    images = SynthFaces(n=N, seed=1).images("validation", 32).copy()
    path = SynthFaces(n=N, seed=1).cache_path(32)
    path.write_bytes(b"\x89HDF\r\n garbage")
    with pytest.warns(UserWarning, match="unusable"):
        assert np.array_equal(SynthFaces(n=N, seed=1).images("validation", 32), images)
    with h5py.File(path, "r+") as f:  # right shape, wrong pixels (e.g. an older renderer)
        f["images"][0] = 255 - f["images"][0]
    with pytest.warns(UserWarning, match="differs"):
        assert np.array_equal(SynthFaces(n=N, seed=1).images("validation", 32), images)


def test_a_cache_with_wrong_shapes_is_regenerated(cache):
    data = SynthFaces(n=N, seed=1)
    labels = data.labels()
    with h5py.File(data.cache_path(), "r+") as f:
        del f["labels"]
        f["labels"] = np.zeros((3, 9), np.uint8)
    with pytest.warns(UserWarning, match="labels"):
        assert np.array_equal(SynthFaces(n=N, seed=1).labels(), labels)


@pytest.mark.parametrize("node", ATTRIBUTES)
def test_counterfactuals_change_only_the_node_and_its_descendants(cache, node):
    data = SynthFaces(n=N, seed=1)
    factual = data.labels("test")
    idx = np.arange(0, 200, 2)
    graph = data.truth.graph
    moved = {node, *graph.descendants(node)}
    for value in (0, 1):
        _, cf = data.counterfactual("test", idx, {node: value}, size=16)
        assert np.all(cf[:, ATTRIBUTES.index(node)] == value)
        for j, other in enumerate(ATTRIBUTES):
            if other not in moved:
                assert np.array_equal(cf[:, j], factual[idx, j]), other


def test_counterfactual_of_the_factual_value_is_the_factual_image(cache):
    data = SynthFaces(n=N, seed=1)
    factual = data.labels("validation")
    idx = np.flatnonzero(factual[:, ATTRIBUTES.index("Male")] == 1)[:6]
    images, labels = data.counterfactual("validation", idx, {"Male": 1}, size=32)
    assert np.array_equal(labels, factual[idx])
    assert np.array_equal(images, data.images("validation", 32)[idx])
    women, _ = data.counterfactual("validation", idx, {"Male": 0}, size=32)
    assert not np.array_equal(women, images)
    with pytest.raises(ckgan.CkganError, match="out of range"):
        data.counterfactual("validation", [200], {"Male": 0})


def test_tf_dataset_shapes_types_and_ranges(cache):
    data = SynthFaces(n=N, seed=1)
    ds = data.tf_dataset(
        "validation", ["Male", "Smiling"], size=32, batch_size=8, shuffle=True, augment=True, seed=0
    )
    x, y = next(iter(ds))
    assert tuple(x.shape) == (8, 32, 32, 3) and x.dtype.name == "float32"
    assert tuple(y.shape) == (8, 2) and y.dtype.name == "float32"
    assert float(x.numpy().min()) >= -1.0 and float(x.numpy().max()) <= 1.0
    assert set(np.unique(y.numpy())) <= {0.0, 1.0}
    plain = data.tf_dataset("validation", size=32)
    x0, y0 = next(iter(plain))
    expected = data.images("validation", 32)[0].astype(np.float32) / 127.5 - 1.0
    assert np.allclose(x0.numpy(), expected) and y0.shape == (9,)
    labels_only = next(iter(data.tf_dataset("test", images=False, batch_size=4)))
    assert tuple(labels_only.shape) == (4, 9)
