"""The whole CLI path with an image stage, on a tiny synthfaces: run, intervene, sample, resume."""

import json

import h5py
import numpy as np
import pytest
from ckgan_plugins.causalgan.causal_gan_stage import PRESETS
from click.testing import CliRunner
from fakes.images import TinyFaces

import ckgan
from ckgan import plugins
from ckgan.cli import cli
from ckgan.run import Run


@pytest.fixture(autouse=True)
def tiny_faces():
    plugins.get_plugin_manager().register(TinyFaces(), name="tinyfaces-plugin")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


TRAIN = ["run", "--labels", "tabular", "--image", "causalgan", "--data", "tinyfaces",
         "--size", "16", "--quiet"]  # fmt: skip


def test_run_intervene_and_sample(tmp_path):
    out = tmp_path / "run"
    # the steps from the stage's own option: --image-steps is only an override
    result = invoke(*TRAIN, "--image-option", "steps=4", "--image-option", "width=8", "--out", out)
    assert result.exit_code == 0, result.output
    assert (out / "image" / "image_stage.json").is_file()
    assert Run(out).image_stage.options["width"] == 8  # the preset's is 32
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step0000004.png"]
    assert {p.name for p in (out / "interventions").iterdir()} >= {"Mustache=1.png"}
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "done" and config["size"] == 16 and config["image_steps"] == 4

    grid = tmp_path / "grid.png"
    result = invoke("intervene", "--run", out, "--set", "Mustache=1", "--n", 4, "--out", grid)
    assert result.exit_code == 0, result.output
    assert grid.is_file() and "do(Mustache=1)" in result.output
    male = next(line for line in result.output.splitlines() if line.startswith("Male "))
    values = [
        float(v) for v in male.replace("(", " ").replace(")", " ").replace("/", " ").split()[1:]
    ]
    assert values[2] == pytest.approx(0.417, abs=0.01)  # exact P(Male | do(Mustache=1))
    assert values[3] > 0.95  # exact P(Male | Mustache=1)
    # the model's own draws (tables fitted on 240 rows): the do keeps Male's marginal,
    # conditioning on a mustache makes most people male; a model that conditioned
    # under do, or ignored the evidence, fails
    assert values[0] == pytest.approx(values[2], abs=0.05)
    assert values[1] > 0.75 and values[1] - values[0] > 0.3

    h5 = tmp_path / "bald.h5"
    result = invoke("sample", "--run", out, "--n", 6, "--set", "Bald=1", "--out", h5)
    assert result.exit_code == 0, result.output
    with h5py.File(h5) as f:
        assert f["images"].shape == (6, 16, 16, 3) and f["images"].dtype == np.uint8
        nodes = json.loads(f.attrs["nodes"])
        assert (f["labels"][:, nodes.index("Bald")] == 1).all()


def test_unknown_image_option_writes_nothing(tmp_path):
    out = tmp_path / "run"
    result = invoke(*TRAIN, "--image-option", "gamma=0.7", "--out", out)  # a causalbegan option
    assert result.exit_code == 1
    assert "unknown option 'gamma' for the 'causalgan' image stage" in result.output
    assert not out.exists()


def test_resume_after_an_interruption(tmp_path, monkeypatch):
    out = tmp_path / "run"
    import ckgan.viz

    real_save_grid = ckgan.viz.save_grid

    def interrupted(*args, **kwargs):  # the first sample grid comes after the step-2 checkpoint
        raise KeyboardInterrupt

    monkeypatch.setattr(ckgan.viz, "save_grid", interrupted)
    result = invoke(*TRAIN, "--image-steps", 4, "--checkpoint-every", 2, "--out", out)
    assert result.exit_code == 130 and f"`ckgan run --resume {out}`" in result.output
    assert json.loads((out / "config.json").read_text())["status"] == "training"
    assert not (out / "image" / "image_stage.json").exists()

    result = invoke("sample", "--run", out, "--out", tmp_path / "x.csv")
    assert result.exit_code == 1 and "--resume" in result.output

    monkeypatch.setattr(ckgan.viz, "save_grid", real_save_grid)
    # a preset that changed since the run began does not change the run
    monkeypatch.setitem(PRESETS["quick"], "ema_decay", 0.5)
    left = out / "samples" / ".step0000002.png.kill9.tmp"  # what a kill mid-write leaves
    left.parent.mkdir(exist_ok=True)
    left.write_bytes(b"")
    result = invoke("run", "--resume", out, "--quiet")
    assert not left.exists()
    assert result.exit_code == 0, result.output
    log = json.loads((out / "image_log.json").read_text())
    assert [entry["step"] for entry in log] == [2, 4]
    # TensorBoard's curves: one event file per session, each step once
    from ckgan.events import read_scalars

    files = sorted((out / "tensorboard" / "image").iterdir())
    assert len(files) == 2
    assert [step for f in files for step, _ in read_scalars(f)] == [2, 4]
    (labels_file,) = (out / "tensorboard" / "labels").iterdir()
    label_log = json.loads((out / "label_log.json").read_text())
    assert [step for step, _ in read_scalars(labels_file)] == [e["step"] for e in label_log]
    assert json.loads((out / "config.json").read_text())["status"] == "done"
    assert Run(out).image_stage.options["ema_decay"] == 0.999
    result = invoke("run", "--resume", out)
    assert result.exit_code == 1 and "nothing to resume" in result.output


def test_a_finished_run_trains_on_with_more_image_steps(tmp_path, monkeypatch):
    out = tmp_path / "run"
    result = invoke(*TRAIN, "--image-steps", 2, "--checkpoint-every", 2, "--out", out)
    assert result.exit_code == 0, result.output
    (out / "evaluation.json").write_text("{}")  # what `ckgan evaluate` leaves: of 2 steps
    (out / "report.html").write_text("<html></html>")
    labels = {p: p.read_bytes() for p in (out / "labels").iterdir()}
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for steps in (1, 2):  # not more than it has: refused, nothing touched
        result = invoke("run", "--resume", out, "--image-steps", steps, "--quiet")
        assert result.exit_code == 1
        assert "is finished at 2 image steps; to train it on, give more than 2" in result.output
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    result = invoke("run", "--resume", out)
    assert result.exit_code == 1 and "--image-steps above 2" in result.output

    # as a run saved before config.json recorded the stage's options: image_stage.json
    # says what it trained with (an option added since: the value in effect then)
    config = json.loads((out / "config.json").read_text())
    began = config.pop("image_stage")
    (out / "config.json").write_text(json.dumps(config))
    saved = json.loads((out / "image" / "image_stage.json").read_text())
    del saved["config"]["labeler_batches"]
    (out / "image" / "image_stage.json").write_text(json.dumps(saved))
    assert PRESETS["quick"]["labeler_batches"] == 2
    monkeypatch.setitem(PRESETS["quick"], "ema_decay", 0.5)
    result = invoke("run", "--resume", out, "--image-steps", 4, "--quiet")
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "done" and config["image_steps"] == 4
    assert config["image_stage"] == {**began, "labeler_batches": 1}
    assert Run(out).image_stage.options["ema_decay"] == 0.999
    assert [entry["step"] for entry in json.loads((out / "image_log.json").read_text())] == [2, 4]
    images = json.loads((out / "metrics.json").read_text())["images"]
    assert images["steps"] == 4 and images["rollbacks"] == []
    # it went on from step 2 (a second session's curves start there), the labels kept
    from ckgan.events import read_scalars

    files = sorted((out / "tensorboard" / "image").iterdir())
    assert [[step for step, _ in read_scalars(f)] for f in files] == [[2], [4]]
    assert {p: p.read_bytes() for p in (out / "labels").iterdir()} == labels
    assert {p.name for p in (out / "samples").iterdir()} == {"step0000002.png", "step0000004.png"}
    assert not (out / "evaluation.json").exists() and not (out / "report.html").exists()
    assert Run(out).image_stage is not None


def test_an_interrupted_run_takes_more_image_steps_but_not_fewer(tmp_path, monkeypatch):
    out = tmp_path / "run"
    import ckgan.viz

    real_save_grid = ckgan.viz.save_grid
    monkeypatch.setattr(
        ckgan.viz, "save_grid", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    invoke(*TRAIN, "--image-steps", 4, "--checkpoint-every", 2, "--out", out)
    monkeypatch.setattr(ckgan.viz, "save_grid", real_save_grid)
    result = invoke("run", "--resume", out, "--image-steps", 3, "--quiet")
    assert result.exit_code == 1 and "trains 4 image steps and can only go on" in result.output
    result = invoke("run", "--resume", out, "--image-steps", 6, "--quiet")
    assert result.exit_code == 0, result.output
    log = json.loads((out / "image_log.json").read_text())
    assert [entry["step"] for entry in log] == [2, 4, 6]


def test_corrupt_checkpoint_on_resume_is_a_clear_error(tmp_path, monkeypatch):
    out = tmp_path / "run"
    import ckgan.viz

    monkeypatch.setattr(
        ckgan.viz, "save_grid", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    invoke(*TRAIN, "--image-steps", 4, "--checkpoint-every", 2, "--out", out)
    checkpoint = out / "image" / "checkpoint.h5"
    checkpoint.write_bytes(b"garbage")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = invoke("run", "--resume", out, "--quiet")
    assert result.exit_code == 1 and "corrupt" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_evaluate_json_on_a_tiny_image_run(tmp_path):
    out = tmp_path / "run"
    assert invoke(*TRAIN, "--image-steps", 2, "--out", out).exit_code == 0
    result = invoke("evaluate", "--run", out, "--json", "--n", 50)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    nodes = ckgan.CausalGraph.load("paper").nodes
    assert set(data) >= {"labels", "images", "judge"}
    assert "tv_observational" in data["labels"] and len(data["labels"]["tv_do"]) == 18
    assert set(data["judge"]["accuracy"]) == set(nodes)
    # tinyfaces (synthfaces) render to order: the judge learns from independent labels
    assert data["judge"]["trained_on"] == "independent labels"
    images = data["images"]
    assert set(images) >= {"consistency", "do_vs_condition", "frechet", "diversity"}
    assert set(images["consistency"]["observational"]) == set(nodes)
    shown = images["shown_under_do"]
    assert set(shown) == {f"{n}={v}" for n in nodes for v in (0, 1)}
    for key, value in shown.items():  # the set node's own agreement under its do
        node = key.split("=")[0]
        assert value == images["consistency"]["do"][key][node]
    summary = images["shown_under_do_summary"]
    assert summary["worst_value"] == min(shown.values())
    assert summary["mean"] == pytest.approx(np.mean(list(shown.values())))
    assert shown[f"{summary['worst']}"] == summary["worst_value"]
    table = images["do_vs_condition"]
    assert set(table) == {f"{n}={v}" for n in nodes for v in (0, 1)}
    row = table["Mustache=1"]
    assert set(row) >= {"do", "condition", "exact_do", "exact_condition"}
    # judged from 50 generated images each: fractions of 50, not the exact values
    for p in row["do"].values():
        assert abs(p * 50 - round(p * 50)) < 1e-6
    assert row["exact_do"]["Male"] == pytest.approx(0.417, abs=1e-3)
    assert set(row["do"]) == set(nodes)  # the intervened node is judged too
    assert (out / "report.html").is_file()
    text = invoke("evaluate", "--run", out, "--n", 50)
    assert text.exit_code == 0, text.output
    assert f"worst do({summary['worst']}) {summary['worst_value']:.3f}" in text.output
