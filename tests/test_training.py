"""Every stage trains on whichever Keras backend runs the tests, and a run moves between backends.

Marked ``backends``: tox runs this module on TensorFlow (``tests``) and on
JAX without TensorFlow installed (``tests-jax``). Each case is one short
end-to-end run (a few steps on 300 tiny faces): it proves the training
base, the data path and the run folder on the backend, not quality.
"""

import importlib.util
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from fakes.images import TinyFaces

from ckgan import plugins
from ckgan.run import Run, train

pytestmark = [
    pytest.mark.backends,
    # 20 label steps fit the tables poorly, and the run says so: expected here
    pytest.mark.filterwarnings("ignore::ckgan.errors.DataWarning"),
]


@pytest.fixture(autouse=True)
def tiny_faces():
    plugins.get_plugin_manager().register(TinyFaces(), name="tinyfaces-plugin")


SMALL = {"steps_per_execution": 1, "batch_size": 64}


@pytest.mark.parametrize(
    "labels, image, image_options",
    [
        ("wgan", "none", {}),
        ("gumbel", "causalgan", {"width": 8, "labeler_width": 8}),
        ("tabular", "causalbegan", {"width": 8}),
    ],
)
def test_each_stage_trains_and_samples(tmp_path, labels, image, image_options):
    out = tmp_path / "run"
    label_options = {} if labels == "tabular" else {**SMALL, "steps": 20}
    train(
        out,
        labels=labels,
        image=image,
        data="tinyfaces",
        label_options=label_options,
        image_options=image_options,
        size=16,
        image_steps=3,
        verbose=0,
    )
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "done" and config["backend"] == keras.backend.backend()
    run = Run(out)
    drawn = run.sample_labels(500, do={"Mustache": 1}, seed=0)
    assert drawn.shape == (500, 9) and set(np.unique(drawn)) <= {0, 1}
    assert (drawn[:, run.graph.index("Mustache")] == 1).all()
    if image != "none":
        images = run.image_stage.generate(drawn[:8], seed=0)
        assert images.shape == (8, 16, 16, 3) and images.dtype == np.uint8
        assert images.std() > 0  # not a constant image


def _other_backend():
    for name in ("jax", "torch", "tensorflow"):
        if name != keras.backend.backend() and importlib.util.find_spec(name):
            return name
    return None


def test_a_run_samples_alike_on_another_backend(tmp_path):
    other = _other_backend()
    if other is None:
        pytest.skip("a second Keras backend is not installed")
    out = tmp_path / "run"
    train(
        out,
        labels="wgan",
        image="causalgan",
        data="tinyfaces",
        label_options={**SMALL, "steps": 10},
        image_options={"width": 8, "labeler_width": 8},
        size=16,
        image_steps=2,
        verbose=0,
    )
    code = (
        "import sys, numpy as np; from ckgan.run import Run; run = Run(sys.argv[1]); "
        "labels = run.sample_labels(2000, seed=3); "
        "np.savez(sys.argv[2], labels=labels, images=run.image_stage.generate(labels[:16], seed=4))"
    )
    here, there = tmp_path / "here.npz", tmp_path / "there.npz"
    env = dict(os.environ, CKGAN_LOAD_PLUGINS="")
    for backend, path in ((keras.backend.backend(), here), (other, there)):
        subprocess.run(
            [sys.executable, "-c", code, str(out), str(path)],
            env={**env, "KERAS_BACKEND": backend},
            check=True,
            capture_output=True,
            timeout=600,
        )
    with np.load(here) as a_file, np.load(there) as b_file:  # closed: no unraisable warning
        a, b = dict(a_file), dict(b_file)
    assert a["labels"].shape == b["labels"].shape == (2000, 9)
    # same weights, same numpy noise: the same draws up to float rounding at 0.5
    assert (a["labels"] == b["labels"]).mean() > 0.999
    assert a["images"].shape == b["images"].shape == (16, 16, 16, 3)
    assert np.abs(a["images"].astype(int) - b["images"].astype(int)).max() <= 2
