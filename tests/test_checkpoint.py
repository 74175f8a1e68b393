"""Checkpoints: whole training state to one HDF5 file, atomically, refused when it does not fit."""

import h5py
import keras
import numpy as np
import pytest

from ckgan import CkganError
from ckgan.checkpoint import (
    CHECKPOINT_FIX,
    NO_CHECKPOINT,
    load_variables,
    read_header,
    save_variables,
)


def variables(*shapes, value=0.0):
    return [keras.Variable(np.full(shape, value, "float32")) for shape in shapes]


def test_round_trip_with_header(tmp_path):
    path = tmp_path / "c.h5"
    saved = {"model": variables((2, 3), (4,), value=1.5), "optimizer": variables((), value=7.0)}
    save_variables(path, saved, {"step": 12, "log": [{"step": 12, "loss": 0.5}]})
    target = {"model": variables((2, 3), (4,)), "optimizer": variables(())}
    header = load_variables(path, target)
    assert header == {"step": 12, "log": [{"step": 12, "loss": 0.5}]} == read_header(path)
    assert all((v.numpy() == 1.5).all() for v in target["model"])
    assert float(target["optimizer"][0].numpy()) == 7.0


def test_another_model_is_refused_and_nothing_is_assigned(tmp_path):
    path = tmp_path / "c.h5"
    save_variables(path, {"model": variables((2, 3), (4,), value=1.0)})
    target = variables((2, 3), (5,))
    with pytest.raises(CkganError, match=r"shape \(4,\), the model expects \(5,\)"):
        load_variables(path, {"model": target})
    assert (target[0].numpy() == 0).all()  # the first one, which fits, is untouched too
    with pytest.raises(CkganError, match="holds 2 variables for 'model', the model has 3"):
        load_variables(path, {"model": variables((2, 3), (4,), (1,))})
    with pytest.raises(CkganError, match="holds 0 variables for 'optimizer'"):
        load_variables(path, {"model": variables((2, 3), (4,)), "optimizer": variables(())})


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign", "missing"])
def test_damaged_files_are_clear_errors(tmp_path, damage):
    path = tmp_path / "c.h5"
    save_variables(path, {"model": variables((64, 64), value=2.0)}, {"step": 1})
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(bytes(range(256)) * 8)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) - 4096])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":
        path.unlink()
        with h5py.File(path, "w") as f:
            f.create_dataset("x", data=[1, 2])
    else:
        path.unlink()
    with pytest.raises(CkganError, match="corrupt|not a ckgan checkpoint|missing") as e:
        load_variables(path, {"model": variables((64, 64))})
    # each says what to do: a file that is not there cannot be deleted
    assert str(e.value).endswith(NO_CHECKPOINT if damage == "missing" else CHECKPOINT_FIX)


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "c.h5"
    save_variables(path, {"model": variables((3,), value=1.0)}, {"step": 1})

    class Broken:
        shape = (3,)

        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_variables(path, {"model": [*variables((3,), value=9.0), Broken()]}, {"step": 2})
    assert read_header(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["c.h5"]  # no temporary file left
