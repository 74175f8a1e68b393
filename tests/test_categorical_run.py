"""Categorical labels end to end through the CLI: run, sample, intervene, reload, resume,
BIF graphs, and a tiny image stage on a user's image folder."""

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ckgan.cli import cli
from ckgan.run import Run

AGES = ("young", "adult", "old")


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def rows(n=600, seed=0):
    """age -> smoke -> cough, age -> cough; smoking rarer among the young."""
    rng = np.random.default_rng(seed)
    age = rng.choice(3, n, p=[0.3, 0.45, 0.25])
    smoke = rng.random(n) < np.array([0.1, 0.4, 0.3])[age]
    cough = rng.random(n) < np.where(smoke, 0.7, 0.1) + 0.1 * (age == 2)
    return age, smoke.astype(int), cough.astype(int)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cat")
    age, smoke, cough = rows()
    lines = ["smoke,age,cough"] + [
        f"{'yes' if s else 'no'},{AGES[a]},{c}" for a, s, c in zip(age, smoke, cough, strict=True)
    ]
    (folder / "d.csv").write_text("\n".join(lines) + "\n")
    (folder / "g.dot").write_text("digraph { age -> smoke; smoke -> cough; age -> cough }")
    (folder / "g.bif").write_text(
        "variable age {\n  type discrete [ 3 ] { young, adult, old };\n}\n"
        "variable smoke {\n  type discrete [ 2 ] { yes, no };\n}\n"
        "variable cough {\n  type discrete [ 2 ] { 0, 1 };\n}\n"
        "probability ( age ) {\n  table 0.3, 0.45, 0.25;\n}\n"
        "probability ( smoke | age ) {\n  (young) 0.1, 0.9;\n  (adult) 0.4, 0.6;\n"
        "  (old) 0.3, 0.7;\n}\n"
        "probability ( cough | smoke, age ) {\n  table 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0;\n}\n"
    )
    return folder


@pytest.fixture(scope="module")
def tabular_run(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tab"
    invoke("run", "--labels", "tabular", "--image", "none", "--graph", inputs / "g.dot",
           "--data", inputs / "d.csv", "--out", out, "--quiet")  # fmt: skip
    return out


def test_a_categorical_run_is_saved_with_its_states(tabular_run):
    config = json.loads((tabular_run / "config.json").read_text())
    assert config["states"] == {"age": ["adult", "old", "young"], "smoke": ["no", "yes"]}
    saved = json.loads((tabular_run / "labels" / "label_generator.json").read_text())
    assert saved["graph"]["states"] == config["states"]
    assert "# states of age: adult, old, young" in (tabular_run / "graph.adjlist").read_text()
    metrics = json.loads((tabular_run / "metrics.json").read_text())["labels"]
    assert set(metrics["marginals"]) == {"age=adult", "age=old", "age=young", "smoke", "cough"}
    assert metrics["marginals"]["age=adult"] == pytest.approx(0.45, abs=0.05)
    assert metrics["family_check"]["ok"], metrics["family_check"]["summary"]


def test_set_a_state_by_name_or_code(tabular_run, tmp_path):
    out = tmp_path / "old.csv"
    invoke("sample", "--run", tabular_run, "--n", 500, "--set", "age=old", "--out", out)
    lines = out.read_text().splitlines()
    assert lines[0] == "age,smoke,cough" and len(lines) == 501  # graph order
    cells = [line.split(",") for line in lines[1:]]
    assert {c[0] for c in cells} == {"old"} and {c[1] for c in cells} == {"yes", "no"}
    assert {c[2] for c in cells} == {"0", "1"}  # cough: binary 0/1, written as before
    by_code = tmp_path / "code.csv"
    invoke("sample", "--run", tabular_run, "--n", 500, "--set", "age=1", "--out", by_code)
    assert by_code.read_text() == out.read_text()  # code 1 of (adult, old, young)
    given = tmp_path / "given.csv"
    result = invoke("sample", "--run", tabular_run, "--n", 400, "--given", "smoke=yes",
                    "--out", given)  # fmt: skip
    assert "acceptance" in result.output
    cells = [line.split(",") for line in given.read_text().splitlines()[1:]]
    assert {c[1] for c in cells} == {"yes"}
    # the young rarely smoke: conditioning on smoking makes them rarer, do does not
    assert sum(c[0] == "young" for c in cells) / len(cells) < 0.2


def test_intervene_shows_every_state(tabular_run):
    result = invoke("intervene", "--run", tabular_run, "--set", "smoke=yes")
    lines = result.output.splitlines()
    assert "do(smoke=yes)" in lines[0] and "given smoke=yes" in lines[0]
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in lines[1:]}
    assert set(rows) == {"age=adult", "age=old", "age=young", "smoke", "cough"}
    assert rows["smoke"] == [1.0, 1.0]
    do, given = rows["age=young"]
    assert do == pytest.approx(0.3, abs=0.05) and given < do - 0.1


def test_a_reloaded_run_samples_the_same(tabular_run):
    first = Run(tabular_run).sample_labels(200, do={"age": "young"}, seed=3)
    again = Run(tabular_run)
    assert again.graph.states("age") == ("adult", "old", "young")
    np.testing.assert_array_equal(again.sample_labels(200, do={"age": 2}, seed=3), first)


def test_a_bif_graph_declares_the_order(inputs, tmp_path):
    out = tmp_path / "bif"
    invoke("run", "--labels", "tabular", "--image", "none", "--graph", inputs / "g.bif",
           "--data", inputs / "d.csv", "--out", out, "--quiet")  # fmt: skip
    run = Run(out)
    assert run.graph.states("age") == AGES and run.graph.states("smoke") == ("yes", "no")
    assert run.graph.states("cough") == ("0", "1")
    young = run.sample_labels(2000, do={"age": 0}, seed=1)
    assert (young[:, run.graph.index("age")] == 0).all()
    # smoke: code 0 is "yes" now; the young smoke about 10% of the time
    assert (young[:, run.graph.index("smoke")] == 0).mean() == pytest.approx(0.1, abs=0.05)
    assert run.dataset.labels("train", ["smoke"]).mean() > 0.5  # "no" (code 1) is common


def test_wgan_and_resume_with_categorical_states(inputs, tmp_path):
    out = tmp_path / "w"
    invoke("run", "--labels", "gumbel", "--label-steps", 30, "--image", "none", "--graph",
           inputs / "g.dot", "--data", inputs / "d.csv", "--out", out, "--quiet")  # fmt: skip
    rows = Run(out).sample_labels(300, do={"age": "old"}, seed=0)
    assert (rows[:, Run(out).graph.index("age")] == 1).all()
    # an interrupted run resumes with the states it started with
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "status": "training"}))
    (out / "metrics.json").unlink()
    invoke("run", "--resume", out, "--quiet")
    assert Run(out).graph.states("age") == ("adult", "old", "young")


def paint(age: int, smoke: int) -> np.ndarray:
    """A 24x24 image: age sets the red level, smoking adds a grey bar at the top."""
    image = np.zeros((24, 24, 3), np.uint8)
    image[..., 0] = (60, 150, 240)[age]
    image[..., 2] = 80
    if smoke:
        image[:6] = 200
    return image


def test_an_image_stage_trains_samples_and_evaluates_on_categorical_labels(tmp_path):
    folder = tmp_path / "pics"
    folder.mkdir()
    age, smoke, cough = rows(n=130, seed=1)
    lines = ["filename,age,smoke,cough"]
    for i, (a, s, c) in enumerate(zip(age, smoke, cough, strict=True)):
        Image.fromarray(paint(a, s)).save(folder / f"{i}.png")
        lines.append(f"{i}.png,{AGES[a]},{s},{c}")
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "g.dot").write_text("digraph { age -> smoke; smoke -> cough; age -> cough }")
    out = tmp_path / "run"
    invoke("run", "--labels", "tabular", "--image", "causalgan", "--size", 32, "--graph",
           tmp_path / "g.dot", "--data", folder, "--image-steps", 4, "--image-option", "width=8",
           "--image-option", "labeler_width=8", "--out", out, "--quiet")  # fmt: skip
    stage = json.loads((out / "image" / "image_stage.json").read_text())["config"]
    assert stage["nodes"] == ["age=adult", "age=old", "age=young", "smoke", "cough"]
    h5 = tmp_path / "old.h5"
    invoke("sample", "--run", out, "--n", 6, "--set", "age=old", "--out", h5)
    with h5py.File(h5) as f:
        assert f["images"].shape == (6, 32, 32, 3)
        states = json.loads(f.attrs["states"])
        assert states["age"] == ["adult", "old", "young"]
        assert (f["labels"][:, json.loads(f.attrs["nodes"]).index("age")] == 1).all()
    invoke("intervene", "--run", out, "--set", "age=young", "--n", 2, "--out", tmp_path / "g.png")
    result = invoke("evaluate", "--run", out, "--n", 50, "--json", "--quiet")
    images = json.loads(result.output)["images"]
    assert set(images["shown_under_do"]) == {
        "age=adult", "age=old", "age=young", "smoke=0", "smoke=1", "cough=0", "cough=1",
    }  # fmt: skip
    assert set(images["do_vs_condition"]["age=old"]["do"]) == set(stage["nodes"])
    assert (out / "report.html").is_file()
    invoke("data", "show", folder, "--n", 4, "--size", 32, "--out", tmp_path / "data.png")
