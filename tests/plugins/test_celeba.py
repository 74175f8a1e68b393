"""CelebA from fake official files: the path a user's real files take, without the network."""

import shutil
import socket

import numpy as np
import pytest
from ckgan_plugins.celeba.celeb_a import CelebA
from fakes.celeba import ATTRIBUTES, write_fake_celeba

import ckgan
from ckgan import CkganError

N = 24  # 16 train, 4 validation, 4 test
SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """No sockets, no real tfds data dir, no CelebA folder from the environment."""

    def refuse(*args, **kwargs):
        raise AssertionError("a CelebA test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds_default"))
    monkeypatch.setenv("CKGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CKGAN_CELEBA_DIR", raising=False)


@pytest.fixture(scope="module", params=[True, False], ids=["zipped", "extracted"])
def prepared(request, tmp_path_factory):
    """Fake files, and a CelebA over them whose tfds dataset is prepared once per module."""
    root = tmp_path_factory.mktemp("zipped" if request.param else "extracted")
    written = write_fake_celeba(root / "src", n=N, zipped=request.param)
    dataset = CelebA(path=root / "src", data_dir=str(root / "tfds"))
    dataset.tf_dataset("test")  # prepares
    return root, written, dataset


def expected_labels(written, split, nodes):
    rows = written["values"][written["partition"] == SPLIT_IDS[split]]
    columns = [ATTRIBUTES.index(n) for n in nodes]
    return ((rows[:, columns] + 1) // 2).astype(np.uint8)


def collect(ds):
    images, labels = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.stack(images), np.stack(labels)


def sort_rows(a):
    return a[np.lexsort(a.T[::-1])]


def test_labels_match_the_rows_written(tmp_path):
    written = write_fake_celeba(tmp_path / "src", n=N)
    dataset = CelebA(path=tmp_path / "src")
    assert dataset.attributes == tuple(ATTRIBUTES)
    nodes = ["Smiling", "5_o_Clock_Shadow", "Young", "Male"]
    for split in SPLIT_IDS:
        got = dataset.labels(split, nodes)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected_labels(written, split, nodes))
    assert dataset.labels().shape == (16, 40)
    assert [len(dataset.labels(s)) for s in SPLIT_IDS] == [16, 4, 4]
    with pytest.raises(CkganError, match="no attribute 'Smiles'"):
        dataset.labels("train", ["Smiling", "Smiles"])
    assert not (tmp_path / "cache").exists()  # labels never prepare the images


def test_load_dataset_by_name_and_from_the_environment(tmp_path, monkeypatch):
    write_fake_celeba(tmp_path / "src", n=N)
    monkeypatch.setenv("CKGAN_CELEBA_DIR", str(tmp_path / "src"))
    dataset = ckgan.load_dataset("celeb_a")
    assert isinstance(dataset, CelebA) and dataset.folder == tmp_path / "src"
    assert dataset.labels("test").shape == (4, 40)


def test_images_and_labels(prepared):
    _, written, dataset = prepared
    nodes = ["Male", "Smiling"]
    for split, n in (("train", 16), ("validation", 4), ("test", 4)):
        images, labels = collect(dataset.tf_dataset(split, nodes, size=32))
        assert images.shape == (n, 32, 32, 3) and images.dtype == np.float32
        assert images.min() >= -1.0 and images.max() <= 1.0 and images.std() > 0.1
        assert labels.dtype == np.float32
        np.testing.assert_array_equal(
            sort_rows(labels), sort_rows(expected_labels(written, split, nodes).astype("float32"))
        )
    images, labels = collect(dataset.tf_dataset("validation", ATTRIBUTES))
    assert images.shape == (4, 64, 64, 3)  # the default size
    # Each image is the centre 108x108 of what was written, area-resized
    # (JPEG makes it approximate): find it by its 40 labels.
    import tensorflow as tf

    rows = ((written["values"] + 1) // 2).astype("float32")
    for image, label in zip(images, labels, strict=True):
        (index,) = np.flatnonzero((rows == label).all(axis=1))
        errors = {}
        for top, left in ((55, 35), (51, 35), (55, 31)):
            crop = written["images"][index][top : top + 108, left : left + 108]
            reference = tf.image.resize(crop, (64, 64), method="area").numpy() / 127.5 - 1
            errors[top, left] = np.abs(image - reference).mean()
        assert errors[55, 35] < 0.03 and min(errors.values()) == errors[55, 35]


def test_flip_only_when_augmenting_train(prepared):
    _, _, dataset = prepared
    plain, _ = collect(dataset.tf_dataset("train", ["Male"]))
    augmented, _ = collect(dataset.tf_dataset("train", ["Male"], augment=True, seed=1))
    flipped = [np.array_equal(a, p[:, ::-1]) for a, p in zip(augmented, plain, strict=True)]
    same = [np.array_equal(a, p) for a, p in zip(augmented, plain, strict=True)]
    assert all(f or s for f, s in zip(flipped, same, strict=True))
    assert any(flipped) and any(same)
    for split in ("validation", "test"):
        plain, _ = collect(dataset.tf_dataset(split, ["Male"]))
        augmented, _ = collect(dataset.tf_dataset(split, ["Male"], augment=True, seed=1))
        np.testing.assert_array_equal(augmented, plain)


def test_batches_shuffle_and_labels_alone(prepared):
    _, written, dataset = prepared
    batches = list(dataset.tf_dataset("train", ["Young"], batch_size=5, shuffle=True, seed=3))
    assert [b[0].shape[0] for b in batches] == [5, 5, 5, 1]
    alone = np.concatenate([y.numpy() for y in dataset.tf_dataset("test", ["Young"], images=False)])
    np.testing.assert_array_equal(alone, expected_labels(written, "test", ["Young"]).ravel())
    with pytest.raises(CkganError, match="no image size 48"):
        dataset.tf_dataset("train", size=48)
    with pytest.raises(CkganError, match="unknown split 'dev'"):
        dataset.tf_dataset("dev")


def test_prepared_once_then_reused_and_rebuilt_when_files_change(prepared, tmp_path):
    root, _, _ = prepared
    data_path = root / "tfds" / "ckgan_celeb_a" / "1.0.0"
    before = {p.name: p.stat().st_mtime_ns for p in data_path.iterdir()}
    again = CelebA(path=root / "src", data_dir=str(root / "tfds"))
    assert len(list(again.tf_dataset("test"))) == 4
    assert {p.name: p.stat().st_mtime_ns for p in data_path.iterdir()} == before
    # Other files in a folder holding an older preparation: rebuilt from them.
    shutil.copytree(root / "tfds", tmp_path / "tfds")
    write_fake_celeba(tmp_path / "src", n=36, seed=1)
    changed = CelebA(path=tmp_path / "src", data_dir=str(tmp_path / "tfds"))
    assert len(list(changed.tf_dataset("train"))) == 24
    assert sorted(p.name for p in (tmp_path / "tfds" / "ckgan_celeb_a").iterdir()) == ["1.0.0"]


def test_a_failed_preparation_leaves_nothing(tmp_path):
    write_fake_celeba(tmp_path / "src", n=N, zipped=False)
    (tmp_path / "src" / "img_align_celeba" / "000007.jpg").unlink()
    dataset = CelebA(path=tmp_path / "src", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(CkganError, match="image 000007.jpg is listed"):
        dataset.tf_dataset("train")
    assert list((tmp_path / "tfds").rglob("*")) == []
    write_fake_celeba(tmp_path / "src", n=N, zipped=False)  # the user fixes the folder
    killed = tmp_path / "tfds" / "ckgan_celeb_a" / "incomplete.ABCDEF_1.0.0"
    killed.mkdir(parents=True)  # what a killed preparation leaves
    fixed = CelebA(path=tmp_path / "src", data_dir=str(tmp_path / "tfds"))
    assert len(list(fixed.tf_dataset())) == 16
    assert sorted(p.name for p in killed.parent.iterdir()) == ["1.0.0"]


def test_missing_files_one_clear_error_and_nothing_written(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CkganError) as e:
        CelebA(path=tmp_path / "empty", data_dir=str(tmp_path / "tfds"))
    message = str(e.value)
    assert "\n" not in message
    for part in (
        str(tmp_path / "empty"),
        "img_align_celeba.zip",
        "img_align_celeba/",
        "list_attr_celeba.txt",
        "list_eval_partition.txt",
        "CKGAN_CELEBA_DIR",
        "path=",
    ):
        assert part in message
    # Without path=: the environment's folder, then tfds's manual dir.
    monkeypatch.setenv("CKGAN_CELEBA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(CkganError, match="no such folder") as e:
        ckgan.load_dataset("celeb_a")
    assert str(tmp_path / "nowhere") in str(e.value)
    assert str(tmp_path / "tfds_default" / "downloads" / "manual") in str(e.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_labels_without_images(tmp_path):
    write_fake_celeba(tmp_path / "src", n=N, zipped=False)
    shutil.rmtree(tmp_path / "src" / "img_align_celeba")
    dataset = CelebA(path=tmp_path / "src", data_dir=str(tmp_path / "tfds"))
    assert dataset.labels("validation", ["Bald"]).shape == (4, 1)
    with pytest.raises(CkganError, match=r"missing img_align_celeba\.zip"):
        dataset.tf_dataset("train")
    assert not (tmp_path / "tfds").exists() and not (tmp_path / "cache").exists()


def test_a_prepared_stock_celeb_a_is_used_first(prepared, tmp_path):
    root, written, _ = prepared
    # tfds's own builder has the same image and attributes features.
    shutil.copytree(root / "tfds" / "ckgan_celeb_a" / "1.0.0", tmp_path / "d" / "celeb_a" / "2.1.0")
    (tmp_path / "empty").mkdir()
    dataset = CelebA(path=tmp_path / "empty", data_dir=str(tmp_path / "d"))
    nodes = ["Bald", "Male"]
    np.testing.assert_array_equal(
        sort_rows(dataset.labels("train", nodes)),
        sort_rows(expected_labels(written, "train", nodes)),
    )
    images, _ = collect(dataset.tf_dataset("test", nodes))
    assert images.shape == (4, 64, 64, 3)
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["celeb_a"]


def test_the_judge_cache_key_follows_the_files(tmp_path):
    from ckgan_plugins.celeba.celeb_a import CelebA
    from fakes.celeba import write_fake_celeba

    write_fake_celeba(tmp_path / "a", n=12, seed=0)
    write_fake_celeba(tmp_path / "b", n=12, seed=1)
    key = CelebA(tmp_path / "a").cache_key
    assert key == CelebA(tmp_path / "a").cache_key and key.startswith("celeb_a-")
    assert CelebA(tmp_path / "b").cache_key != key
