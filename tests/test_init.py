"""``import ckgan``: the process settings it makes before any backend starts."""

import os
import subprocess
import sys

import pytest

#: run in a fresh interpreter: TensorFlow picks its CPU allocator once a process
PROBE = """
import ckgan
import tensorflow as tf
x = tf.ones((64, 64))
x = x @ x
try:
    print(tf.config.experimental.get_memory_info("CPU:0")["peak"] > 0)
except ValueError:  # only a BFC allocator keeps these counts
    print("plain")
"""


def _probe(**env) -> str:
    pytest.importorskip("tensorflow")
    base = {k: v for k, v in os.environ.items() if k != "TF_CPU_ALLOCATOR_USE_BFC"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_tensorflow_keeps_the_cpu_memory_it_frees():
    # its BFC allocator reuses freed buffers; the default one maps them anew each step
    assert _probe() == "True"


def test_the_users_allocator_setting_wins():
    assert _probe(TF_CPU_ALLOCATOR_USE_BFC="false") == "plain"
