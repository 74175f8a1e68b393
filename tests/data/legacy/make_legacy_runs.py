"""Writes the run folders of ``tests/test_legacy_runs.py``: run once, with the code before
categorical labels (commit e2d302f), so that the test checks that folders saved then still
load and sample the same. Run from the repository root:

    CKGAN_LOAD_PLUGINS= python tests/data/legacy/make_legacy_runs.py

It trains three label-only runs (tabular, wgan, gumbel; a few steps) and one with a tiny
causalgan image stage on a 300-face synthfaces, and stores what ``ckgan sample`` drew
from each (labels as CSV, images as ``expected.npz``).

``images/image/image_stage.h5`` was then repacked with gzip (every dataset, group and
attribute copied by h5py, the values checked equal): 3.8 MB to 1.7 MB, under the
repository's 2 MiB limit on a file. HDF5 reads the compressed datasets as it did the
plain ones.

``steps5/`` (added later, written by the same commit's code with
``make_legacy_runs.py steps5``, which writes nothing else) holds the label weights of
the wgan and gumbel runs after 5 steps. Forty steps of GAN training turn float
rounding that differs between CPUs (oneDNN on or off, another vector width) into
differences of 1e-3 in the weights, as large as one step less; after 5 steps they are
6e-6, and one step less still moves the weights by 1e-3, so the comparison of
training step for step holds on any machine.
"""

import shutil
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

import ckgan
from ckgan import plugins
from ckgan.cli import cli
from ckgan.run import Run

HERE = Path(__file__).parent
CSV = (
    "A,B,C,D\n"
    + "".join(f"{a},{b},{a ^ b},{int(a and not b)}\n" for a in (0, 1) for b in (0, 1)) * 40
    + "1,1,1,1\n0,0,1,0\n" * 5
)
DOT = "digraph { A -> C; B -> C; A -> D; C -> D }"


class TinyFaces:
    @ckgan.hookimpl
    def register_datasets(self, register):
        from ckgan_plugins.synthfaces.synth_faces import SynthFaces

        register("tinyfaces", lambda: SynthFaces(n=300, seed=1))


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def short_runs():
    """The label weights of wgan and gumbel after 5 steps, in ``steps5/<kind>/``."""
    data = ["--graph", HERE / "g.dot", "--data", HERE / "d.csv", "--image", "none"]
    for kind in ("wgan", "gumbel"):
        out = HERE / "steps5" / kind
        shutil.rmtree(out, ignore_errors=True)
        run = HERE / "steps5" / f"{kind}-run"
        invoke("run", "--labels", kind, "--label-steps", 5, *data, "--out", run, "--quiet",
               "--seed", 3)  # fmt: skip
        out.mkdir(parents=True)
        for name in ("controller", "controller_ema", "critic"):
            shutil.copy(run / "labels" / f"{name}.weights.h5", out)
        shutil.rmtree(run)


def main():
    if sys.argv[1:] == ["steps5"]:
        short_runs()
        return
    plugins.reset()
    plugins.get_plugin_manager().register(TinyFaces(), name="tinyfaces-plugin")
    (HERE / "d.csv").write_text(CSV)
    (HERE / "g.dot").write_text(DOT)
    data = ["--graph", HERE / "g.dot", "--data", HERE / "d.csv", "--image", "none"]
    runs = {
        "tabular": ["--labels", "tabular", *data],
        "wgan": ["--labels", "wgan", "--label-steps", 40, *data],
        "gumbel": ["--labels", "gumbel", "--label-steps", 40, *data],
        "images": ["--labels", "tabular", "--image", "causalgan", "--data", "tinyfaces",
                   "--size", 16, "--image-steps", 3, "--image-option", "width=8",
                   "--image-option", "labeler_width=8", "--checkpoint-every", 3],
    }  # fmt: skip
    for name, args in runs.items():
        out = HERE / name
        shutil.rmtree(out, ignore_errors=True)
        invoke("run", *args, "--out", out, "--quiet", "--seed", 3)
        shutil.rmtree(out / "samples", ignore_errors=True)
        shutil.rmtree(out / "interventions", ignore_errors=True)
        for extra in ("label_tv.png", "image/checkpoint.h5"):
            (out / extra).unlink(missing_ok=True)
        node = "Mustache" if name == "images" else "A"
        given = "Male" if name == "images" else "B"
        for tag, opts in {
            "obs": [],
            "do": ["--set", f"{node}=1"],
            "given": ["--given", f"{given}=1"],
            "both": ["--set", f"{node}=0", "--given", f"{given}=0"],
        }.items():
            invoke("sample", "--run", out, "--n", 300, "--seed", 5, *opts,
                   "--out", out / f"expected_{tag}.csv")  # fmt: skip
        if name == "images":
            run = Run(out)
            labels = run.sample_labels(6, do={"Bald": 1}, seed=2)
            images = run.image_stage.generate(labels, seed=4)
            np.savez_compressed(out / "expected.npz", labels=labels, images=images)


if __name__ == "__main__":
    main()
