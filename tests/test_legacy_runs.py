"""Run folders saved before categorical labels still load and sample exactly as they did.

``tests/data/legacy`` holds run folders written by the code of commit e2d302f
(``make_legacy_runs.py``) with what ``ckgan sample`` drew from them then; binary
labels must keep their files, codes and draws.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ckgan.cli import cli
from ckgan.runfolder import Run

LEGACY = Path(__file__).parent / "data" / "legacy"
CASES = {
    "obs": [],
    "do": ["--set", "{node}=1"],
    "given": ["--given", "{given}=1"],
    "both": ["--set", "{node}=0", "--given", "{given}=0"],
}


@pytest.mark.parametrize("run", ["tabular", "wgan", "gumbel", "images"])
def test_a_run_saved_before_samples_the_same_rows(run, tmp_path):
    folder = tmp_path / run
    shutil.copytree(LEGACY / run, folder)
    node, given = ("Mustache", "Male") if run == "images" else ("A", "B")
    for tag, options in CASES.items():
        out = tmp_path / f"{run}-{tag}.csv"
        args = [a.format(node=node, given=given) for a in options]
        result = CliRunner().invoke(
            cli, ["sample", "--run", str(folder), "--n", "300", "--seed", "5", *args,
                  "--out", str(out)]
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert out.read_text() == (LEGACY / run / f"expected_{tag}.csv").read_text(), tag


def test_a_run_saved_before_draws_the_same_images(tmp_path):
    folder = tmp_path / "images"
    shutil.copytree(LEGACY / "images", folder)
    run = Run(folder)
    expected = np.load(LEGACY / "images" / "expected.npz")
    labels = run.sample_labels(6, do={"Bald": 1}, seed=2)
    np.testing.assert_array_equal(labels, expected["labels"])
    images = run.image_stage.generate(labels, seed=4)
    # the same weights and noise; float rounding may differ between machines by one level
    assert np.abs(images.astype(int) - expected["images"].astype(int)).max() <= 1


def test_binary_run_folders_keep_their_saved_form(tmp_path):
    """Loading and saving a binary generator again writes the same config (and the options
    added since, at the values it trained with)."""
    from ckgan.labels import CONFIG_FILE, LabelGenerator

    for run in ("tabular", "wgan"):
        generator = LabelGenerator.load(LEGACY / run / "labels")
        generator.save(tmp_path / run)
        saved = json.loads((tmp_path / run / CONFIG_FILE).read_text())
        before = json.loads((LEGACY / run / "labels" / CONFIG_FILE).read_text())
        # options added since are written with the value the run trained with
        added = type(generator).added_options
        assert {k: saved["options"].pop(k) for k in added} == added
        assert saved == before


@pytest.mark.parametrize("run", ["tabular", "wgan", "gumbel"])
def test_the_family_check_of_a_binary_run_is_unchanged(run):
    """The check, now per state, gives binary runs the very report it stored then."""
    import json

    from ckgan import load_dataset
    from ckgan.fitcheck import family_check

    folder = LEGACY / run
    generator = Run(folder).label_generator
    labels = load_dataset(LEGACY / "d.csv").labels("train", generator.nodes)
    stored = json.loads((folder / "metrics.json").read_text())["labels"]["family_check"]
    report = family_check(generator, labels, seed=3)
    # added since: the configurations too thin to check, named after the summary's count
    thin = report.pop("thin")
    summary, stored_summary = report.pop("summary"), stored.pop("summary")
    assert summary.startswith(stored_summary.rstrip(")"))
    assert report == stored
    assert thin and len(thin) <= stored["configs_skipped"]
    assert all(entry["support"] < stored["min_support"] for entry in thin)


def _weights(path):
    import h5py

    out = {}
    with h5py.File(path) as f:
        f.visititems(
            lambda name, item: out.update({name: item[()]}) if hasattr(item, "shape") else None
        )
    return out


# the defaults these weights were written with, before the family likelihood
BEFORE_LIKELIHOOD = ["--label-option", "likelihood_weight=0", "--label-option", "draw_binary=false",
                     "--label-option", "edge_effect_scale=0.05",
                     "--label-option", "clamp_min_rows=20"]  # fmt: skip


@pytest.mark.parametrize("kind", ["wgan", "gumbel"])
def test_training_a_binary_generator_gives_the_weights_it_gave_before(kind, tmp_path):
    """The categorical code paths leave binary training as it was, step for step.

    Five steps (``steps5/``, see ``make_legacy_runs.py``): after 40, rounding that differs
    between CPUs has grown to 1e-3, as much as one step less; after 5 it is 6e-6 while
    one step less still moves the weights by 1e-3.
    """
    out = tmp_path / kind
    args = ["run", "--labels", kind, "--label-steps", "5", "--graph", str(LEGACY / "g.dot"),
            "--data", str(LEGACY / "d.csv"), "--image", "none", "--out", str(out), "--quiet",
            "--seed", "3", *BEFORE_LIKELIHOOD]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    for name in ("controller", "controller_ema", "critic"):
        new = _weights(out / "labels" / f"{name}.weights.h5")
        old = _weights(LEGACY / "steps5" / kind / f"{name}.weights.h5")
        assert new.keys() == old.keys()
        for key in old:
            np.testing.assert_allclose(new[key], old[key], rtol=1e-4, atol=1e-4, err_msg=key)
