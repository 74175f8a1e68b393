"""ckgan.viz: PNG grids with captions and row titles, and label captions."""

import numpy as np
import pytest
from PIL import Image

from ckgan import CkganError
from ckgan.viz import label_caption, save_grid, to_uint8

NODES = ("Young", "Male", "Eyeglasses", "Bald", "Mustache", "Smiling")


def _images(n, size=16):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_grid_size_and_nearest_upscale(tmp_path):
    images = _images(10)
    path = save_grid(images, tmp_path / "grid.png", ncols=4, min_cell=64)
    assert path == tmp_path / "grid.png"
    grid = np.asarray(Image.open(path).convert("RGB"))
    # 3 rows x 4 columns of 64 px cells (16 px upscaled 4x) with 4 px gaps
    assert grid.shape == (3 * 68 + 4, 4 * 68 + 4, 3)
    assert np.array_equal(grid[4:68:4, 4:68:4], images[0])
    assert np.all(grid[-4:] == 255)  # white margin
    assert not list(tmp_path.glob(".*.tmp")), "written atomically, nothing left behind"


def test_captions_and_row_titles_render(tmp_path):
    images = np.zeros((4, 16, 16, 3), np.uint8) + 255  # white cells: only text is dark
    captions = ["young male", "bald\nmustache", "smile", "none"]
    plain = np.asarray(Image.open(save_grid(images, tmp_path / "a.png", ncols=2, min_cell=96)))
    path = save_grid(
        images,
        tmp_path / "b.png",
        ncols=2,
        captions=captions,
        row_titles=["observed", "do(X=1)"],
        min_cell=96,
    )
    grid = np.asarray(Image.open(path).convert("RGB"))
    assert grid.shape[0] > plain.shape[0] and grid.shape[1] > plain.shape[1]
    dark = grid.sum(-1) < 300
    title_w = grid.shape[1] - plain.shape[1]
    under_first = dark[4 + 96 : 4 + 96 + 30, title_w : title_w + 100]
    assert under_first.sum() > 10, "caption text under the first cell"
    assert dark[:, : title_w - 2].sum() > 10, "row titles on the left"


def test_float_images_in_minus_one_one():
    x = np.array([-1.0, 0.0, 1.0, 2.0], np.float32).reshape(1, 2, 2, 1)
    out = to_uint8(x)
    assert out.dtype == np.uint8 and out.shape == (1, 2, 2, 3)
    assert out[0, :, :, 0].ravel().tolist() == [0, 128, 255, 255]


def test_grid_rejects_mismatched_captions(tmp_path):
    with pytest.raises(CkganError, match="captions"):
        save_grid(_images(3), tmp_path / "x.png", captions=["a"])
    with pytest.raises(CkganError, match="row titles"):
        save_grid(_images(3), tmp_path / "x.png", ncols=2, row_titles=["a"])


def test_label_caption():
    assert label_caption([0] * 6, NODES) == "none"
    assert label_caption([1, 1, 0, 0, 0, 1], NODES) == "young male smile"
    wrapped = label_caption([1, 1, 1, 1, 1, 1], NODES, width=12)
    assert wrapped.split("\n")[0] == "young male" and all(len(x) <= 12 for x in wrapped.split("\n"))
    assert label_caption([0.9, 0.1], ["Big_Nose", "Wearing_Necktie_And_Hat"]) == "big nose"
    assert label_caption([0, 1], ["Big_Nose", "Wearing_Necktie_And_Hat"]) == "WNAH"
    with pytest.raises(CkganError, match="node names"):
        label_caption([1, 0], NODES)
