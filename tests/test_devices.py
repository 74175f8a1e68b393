"""Data-parallel training on 2 virtual CPU devices (JAX), against one device.

Each case runs ``fakes.parallel_worker`` in a JAX process that sees 2 CPU
devices (``XLA_FLAGS=--xla_force_host_platform_device_count=2``): the flag
must be set before JAX starts, so never in this process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")
# they run JAX in subprocesses whatever the backend: tox runs them once, in tests-jax
pytestmark = [pytest.mark.backends, pytest.mark.devices]


def worker(*args, devices=2):
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        CKGAN_LOAD_PLUGINS="",
        XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
        PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
    )
    done = subprocess.run(
        [sys.executable, "-m", "fakes.parallel_worker", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_devices_train_as_one_on_the_same_global_batch():
    # same seed, same global batch of 64: the draws are the same global arrays
    # (JAX's partitionable random bits), only the order of the sums differs
    one, two = worker("losses", 1, devices=1), worker("losses", 2)
    for key in ("critic_loss", "generator_loss"):
        assert len(one[key]) == len(two[key]) == 6
        np.testing.assert_allclose(two[key], one[key], rtol=1e-3, atol=1e-4)


def test_each_device_draws_its_own_noise():
    out = worker("halves")
    first, second = (np.asarray(s) for s in out["shards"])
    assert out["shape"][0] == 64  # one batch of the generator's noise
    assert first.shape[0] == second.shape[0] == out["shape"][0] // 2
    assert not np.allclose(first, second)
    assert np.corrcoef(first.ravel(), second.ravel())[0, 1] < 0.1


def test_resume_on_two_devices(tmp_path):
    out = worker("resume", tmp_path)
    assert out["steps"] == [2, 4]
    assert out["finite"]
    assert (tmp_path / "checkpoint.h5").is_file()
