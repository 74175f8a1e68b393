"""`ckgan run` / `ckgan sample` on the label stage, with a small fake dataset plugin."""

import csv
import json

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner

import ckgan
from ckgan import BinaryBayesNet, CausalGraph, Dataset, plugins
from ckgan.cli import cli
from ckgan.run import Run

GRAPH = CausalGraph(nx.DiGraph([("A", "B"), ("B", "C")]), name="chain")
TRUTH = BinaryBayesNet(
    GRAPH, {"A": np.array(0.4), "B": np.array([0.1, 0.8]), "C": np.array([0.3, 0.9])}
)


class ChainData(Dataset):
    name = "chaindata"
    attributes = ("A", "B", "C")
    truth = TRUTH

    def labels(self, split="train", nodes=None):
        rows = TRUTH.sample(4000, rng=0)
        nodes = nodes or self.attributes
        self.check_nodes(nodes)
        return rows[:, [self.attributes.index(n) for n in nodes]]


class ChainPlugin:
    @ckgan.hookimpl
    def register_datasets(self, register):
        register("chaindata", ChainData)

    @ckgan.hookimpl
    def register_graphs(self, register):
        register("chain", GRAPH.nx)
        register("chain_reversed", nx.DiGraph([("C", "B"), ("B", "A")]))


@pytest.fixture(autouse=True)
def chain_plugin():
    plugins.get_plugin_manager().register(ChainPlugin(), name="chain-plugin")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def run_dir(tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "run", "--labels", "tabular", "--image", "none", "--graph", "chain",
        "--data", "chaindata", "--out", out, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_run_writes_the_run_folder(run_dir):
    assert {p.name for p in run_dir.iterdir()} >= {
        "config.json", "graph.adjlist", "labels", "metrics.json", "label_log.json",
    }  # fmt: skip
    config = json.loads((run_dir / "config.json").read_text())
    assert config["labels"] == "tabular" and config["graph"] == "chain" and config["seed"] == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())["labels"]
    assert metrics["tv_observational"] < 0.05
    assert set(metrics["tv_do"]) == {f"{n}={v}" for n in "ABC" for v in (0, 1)}
    assert CausalGraph.read(run_dir / "graph.adjlist") == GRAPH


def test_truth_is_matched_in_another_node_order(tmp_path):
    # A graph whose node order differs from the truth's: pmfs must be re-indexed.
    result = invoke(
        "run", "--labels", "tabular", "--image", "none", "--graph", "chain_reversed",
        "--data", "chaindata", "--out", tmp_path / "r", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())["labels"]
    assert metrics["tv_observational"] < 0.05  # the fit is fine, only the order differs
    assert metrics["tv_do"]["B=1"] > 0.1  # the wrong graph gets do() wrong


def test_run_refuses_to_overwrite(run_dir):
    before = (run_dir / "config.json").read_text()
    result = invoke("run", "--labels", "tabular", "--image", "none", "--graph", "chain",
                    "--data", "chaindata", "--out", run_dir)  # fmt: skip
    assert result.exit_code == 1 and "already holds a run" in result.output
    assert (run_dir / "config.json").read_text() == before


def _read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=int)


def test_sample_csv_do_and_given(run_dir, tmp_path):
    out = tmp_path / "s.csv"
    result = invoke("sample", "--run", run_dir, "--n", 3000, "--set", "B=1", "--out", out)
    assert result.exit_code == 0, result.output
    header, rows = _read_csv(out)
    assert header == ["A", "B", "C"] and rows.shape == (3000, 3)
    assert (rows[:, 1] == 1).all() and abs(rows[:, 0].mean() - 0.4) < 0.04
    before = out.read_bytes()
    result = invoke("sample", "--run", run_dir, "--n", 2000, "--given", "B=1", "--out", out)
    assert result.exit_code == 1 and "exists: choose another name, or --force" in result.output
    assert out.read_bytes() == before
    args = ["sample", "--run", run_dir, "--n", 2000, "--given", "B=1", "--out", out, "--force"]
    result = invoke(*args)
    assert result.exit_code == 0 and "acceptance" in result.output
    _, rows = _read_csv(out)
    exact = TRUTH.prob({"A": 1}, given={"B": 1})
    assert (rows[:, 1] == 1).all() and abs(rows[:, 0].mean() - exact) < 0.05


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--set", "Mustache=1"], "unknown node 'Mustache'"),
        (["--set", "B=2"], "--set B=2: values must be 0 or 1"),
        (["--given", "B"], "--given B: write NODE=0, NODE=1 or NODE=STATE"),
        (["--set", "B=1", "--given", "B=0"], "'B' is both set (do) and given"),
    ],
)
def test_sample_errors(run_dir, tmp_path, extra, message):
    out = tmp_path / "bad.csv"
    result = invoke("sample", "--run", run_dir, "--out", out, *extra)
    assert result.exit_code != 0
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_sample_from_a_folder_that_is_no_run(tmp_path):
    result = invoke("sample", "--run", tmp_path, "--out", tmp_path / "x.csv")
    assert result.exit_code == 1 and "is not a ckgan run" in result.output


def test_run_errors(tmp_path):
    result = invoke("run", "--labels", "nope", "--out", tmp_path / "x")
    assert result.exit_code == 1 and "unknown label generator 'nope'" in result.output
    result = invoke("run", "--labels", "tabular", "--image", "none", "--graph", "paper",
                    "--data", "chaindata", "--out", tmp_path / "y")  # fmt: skip
    assert result.exit_code == 1 and "has no attribute 'Young'" in result.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    result = invoke("run", "--resume", tmp_path / "nothing")
    assert result.exit_code == 1 and "holds no run to resume" in result.output


def test_more_image_steps_for_a_run_without_an_image_stage(run_dir):
    before = _snapshot(run_dir)
    result = invoke("run", "--resume", run_dir, "--image-steps", 5)
    assert result.exit_code == 1 and "has no image stage to train on" in result.output
    assert len(result.output.strip().splitlines()) == 1 and _snapshot(run_dir) == before


@pytest.mark.parametrize(
    "given",
    [["--seed", 3], ["--image-option", "gamma=0.7"], ["--label-steps", 9, "--graph", "full"]],
)
def test_resume_refuses_a_setting_it_would_ignore(run_dir, given):
    before = _snapshot(run_dir)
    result = invoke("run", "--resume", run_dir, *given, "--quiet")
    assert result.exit_code == 1, result.output
    assert "--resume continues a run with its own settings: leave out" in result.output
    assert all(str(flag) in result.output for flag in given if str(flag).startswith("--"))
    assert len(result.output.strip().splitlines()) == 1 and _snapshot(run_dir) == before


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("alpha", "--label-option alpha: write KEY=VALUE"),
        ("nope=1", "bad option for the label generator 'tabular'"),
    ],
)
def test_bad_label_option_writes_nothing(tmp_path, option, message):
    out = tmp_path / "run"
    result = invoke("run", "--labels", "tabular", "--image", "none", "--graph", "chain",
                    "--data", "chaindata", "--out", out, "--label-option", option)  # fmt: skip
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_label_option_reaches_the_generator(run_dir, tmp_path):
    out = tmp_path / "smoothed"
    result = invoke("run", "--labels", "tabular", "--image", "none", "--graph", "chain",
                    "--data", "chaindata", "--out", out, "--label-option", "alpha=50")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["label_options"] == {"alpha": 50}
    # add-50 smoothing pulls P(B=1 | A=0) = 0.1 towards 0.5: ~0.116 on these rows, ~0.100 add-one
    smoothed = Run(out).label_generator.model.cpts["B"][0]
    default = Run(run_dir).label_generator.model.cpts["B"][0]
    assert smoothed - default > 0.01


def test_intervene_prints_do_and_condition_statistics(run_dir):
    result = invoke("intervene", "--run", run_dir, "--set", "B=1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "do(B=1)" in lines[0] and "given B=1" in lines[0] and "exact" in lines[0]
    a_row = next(line for line in lines if line.startswith("A "))
    values = [
        float(v) for v in a_row.replace("(", " ").replace(")", " ").replace("/", " ").split()[1:]
    ]
    do_a, cond_a, exact_do_a, exact_cond_a = values
    assert exact_do_a == pytest.approx(0.4, abs=1e-3)  # do on a child leaves the parent alone
    assert exact_cond_a == pytest.approx(TRUTH.prob({"A": 1}, given={"B": 1}), abs=1e-3)
    assert abs(do_a - exact_do_a) < 0.03 and abs(cond_a - exact_cond_a) < 0.03


def test_intervene_needs_an_image_stage_for_a_grid(run_dir, tmp_path):
    result = invoke("intervene", "--run", run_dir, "--set", "B=1", "--out", tmp_path / "g.png")
    assert result.exit_code == 1 and "has no image stage" in result.output
    result = invoke("intervene", "--run", run_dir)
    assert result.exit_code == 1 and "--set NODE=V" in result.output


def test_evaluate_labels_only_run(run_dir):
    result = invoke("evaluate", "--run", run_dir, "--json", "--n", 100)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["labels"]["tv_observational"] < 0.05
    assert set(data["labels"]["tv_do"]) == {f"{n}={v}" for n in "ABC" for v in (0, 1)}
    assert "images" not in data
    assert (run_dir / "evaluation.json").is_file() and (run_dir / "report.html").is_file()


def test_run_on_a_users_csv_and_dot_graph(tmp_path):
    rng = np.random.default_rng(0)
    rain = rng.random(3000) < 0.3
    sprinkler = rng.random(3000) < np.where(rain, 0.1, 0.5)
    wet = rng.random(3000) < np.where(rain | sprinkler, 0.9, 0.05)
    lines = ["id,Rain,Sprinkler,Wet"] + [
        f"{i},{int(r)},{'true' if s else 'false'},{1 if w else -1}"
        for i, (r, s, w) in enumerate(zip(rain, sprinkler, wet, strict=True))
    ]
    data = tmp_path / "garden.csv"
    data.write_text("\n".join(lines) + "\n")
    graph = tmp_path / "garden.dot"
    graph.write_text("digraph { Rain -> Sprinkler; Rain -> Wet; Sprinkler -> Wet }")
    out = tmp_path / "run"
    result = invoke("run", "--labels", "tabular", "--image", "none", "--graph", graph,
                    "--data", data, "--out", out, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "TV to the data" in result.output
    result = invoke(
        "sample", "--run", out, "--n", 4000, "--set", "Sprinkler=1", "--out", tmp_path / "s.csv"
    )
    assert result.exit_code == 0, result.output
    header, rows = _read_csv(tmp_path / "s.csv")
    assert header == ["Rain", "Sprinkler", "Wet"]
    assert abs(rows[:, 0].mean() - rain.mean()) < 0.03  # do(Sprinkler) leaves Rain alone
    assert rows[:, 2].mean() > 0.85


def _snapshot(*folders):
    """Every file below ``folders`` with its bytes, to prove a command left them alone."""
    return {p: p.read_bytes() for folder in folders for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize(
    "target", ["labels/tables.h5", "labels/new.h5", "metrics.csv", "samples/x.csv"]
)
def test_sample_never_writes_into_the_runs_own_files(run_dir, target, force):
    before = _snapshot(run_dir)
    extra = ["--force"] if force else []
    result = invoke("sample", "--run", run_dir, "--n", 4, "--out", run_dir / target, *extra)
    if target == "metrics.csv":  # a new name beside the run's files is the user's to take
        assert result.exit_code == 0, result.output
        (run_dir / target).unlink()
    else:
        assert result.exit_code == 1 and "is one of the files of the run" in result.output
    assert _snapshot(run_dir) == before


def test_run_refuses_a_folder_with_other_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "graph.adjlist").write_text("# my notes\nA B\n")
    (out / "metrics.json").write_text('{"mine": 1}')
    before = _snapshot(out)
    result = invoke("run", "--labels", "tabular", "--image", "none", "--graph", "chain",
                    "--data", "chaindata", "--out", out, "--quiet")  # fmt: skip
    assert result.exit_code == 1
    assert "is not empty (2 entries, e.g. 'graph.adjlist') and holds no run" in result.output
    assert _snapshot(out) == before and sorted(p.name for p in out.iterdir()) == [
        "graph.adjlist", "metrics.json",
    ]  # fmt: skip
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("run", "--labels", "tabular", "--image", "none", "--graph", "chain",
                    "--data", "chaindata", "--out", empty, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output


LOCK_HOLDER = """
import sys, time
from ckgan.storage import run_lock
with run_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_locked_run_folder_is_refused_and_a_killed_holder_leaves_no_lock(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ["run", "--labels", "tabular", "--image", "none", "--graph", "chain",
                "--data", "chaindata", "--out", out, "--quiet"]  # fmt: skip
        result = invoke(*args)
        assert result.exit_code == 1
        assert result.output.strip() == (
            f"Error: '{out}' is in use by another ckgan process (pid {holder.pid}): "
            "wait for it to end, or choose another folder"
        )
        assert not (out / "config.json").exists()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert Run(out).config["status"] == "done"
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_corrupt_label_weights_are_a_one_line_error(tmp_path):
    out = tmp_path / "run"
    result = invoke("run", "--labels", "wgan", "--image", "none", "--graph", "chain",
                    "--data", "chaindata", "--label-steps", 2, "--out", out, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    weights = out / "labels" / "controller_ema.weights.h5"
    for damage in (weights.read_bytes()[:200], b"garbage"):
        weights.write_bytes(damage)
        before = _snapshot(out)
        result = invoke("sample", "--run", out, "--n", 4, "--out", tmp_path / "x.csv")
        assert result.exit_code == 1
        assert f"the label generator in '{out / 'labels'}' is corrupt" in result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
        assert _snapshot(out) == before and not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("text", ["[1, 2]", '"run"', "3", '{"labels": 5}'])
def test_config_that_is_not_an_object_is_a_clear_error(run_dir, tmp_path, text):
    (run_dir / "config.json").write_text(text)
    for args in (["sample", "--run", run_dir, "--out", tmp_path / "x.csv"],
                 ["run", "--resume", run_dir]):  # fmt: skip
        result = invoke(*args)
        assert result.exit_code == 1 and "config.json' is corrupt" in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_sample_streams_large_n_in_chunks(run_dir, tmp_path, monkeypatch):
    import ckgan.writers

    small = tmp_path / "small.csv"
    assert invoke("sample", "--run", run_dir, "--n", 100, "--out", small).exit_code == 0
    monkeypatch.setattr(ckgan.writers, "LABEL_CHUNK", 100)
    big = tmp_path / "big.csv"
    result = invoke("sample", "--run", run_dir, "--n", 250, "--set", "B=1", "--out", big)
    assert result.exit_code == 0, result.output
    _, rows = _read_csv(big)
    assert rows.shape == (250, 3) and (rows[:, 1] == 1).all()
    assert len({tuple(r) for r in rows[:100]}) > 1 and (rows[:100] != rows[100:200]).any()
    result = invoke("sample", "--run", run_dir, "--n", 250, "--out", tmp_path / "obs.csv")
    _, obs = _read_csv(tmp_path / "obs.csv")
    assert (obs[:100] == _read_csv(small)[1]).all()  # the first chunk is the small draw


def test_sample_refuses_what_the_disk_cannot_hold(run_dir, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    out = tmp_path / "huge.csv"
    result = invoke("sample", "--run", run_dir, "--n", 1_000_000_000, "--out", out)
    assert result.exit_code == 1 and "need at least 6 GB" in result.output
    assert not out.exists()


def test_intervene_draws_the_do_row_when_the_conditioning_is_impossible(run_dir, monkeypatch):
    from ckgan.tabular import TabularLabelGenerator

    real = TabularLabelGenerator._sample_given

    def never_c(self, n, do, given, seed):
        if given.get("C") == 1:
            raise ckgan.CkganError("the evidence C=1 is (nearly) impossible under this model")
        return real(self, n, do, given, seed)

    monkeypatch.setattr(TabularLabelGenerator, "_sample_given", never_c)
    result = invoke("intervene", "--run", run_dir, "--set", "C=1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    a_row = next(line for line in lines if line.startswith("A "))
    assert "never drawn" in a_row and float(a_row.split()[1]) == pytest.approx(0.4, abs=0.03)
    assert "given C=1: the model (nearly) never draws this evidence" in result.output
    result = invoke("intervene", "--run", run_dir, "--given", "C=1")
    assert result.exit_code == 0 and "never drawn" in result.output  # observational still drawn


def test_rejection_sampling_gives_up_at_one_budget(run_dir):
    generator = Run(run_dir).label_generator
    drawn = []
    generator.min_draws = 5000
    real = generator._sample

    def counting(n, do, seed):
        drawn.append(n)
        return real(n, do, seed)

    generator._sample = counting
    with pytest.raises(ckgan.CkganError, match="nearly"):
        # B=1 under do(B=0) never happens: the budget stops after about min_draws rows,
        # not after 2000 draws for each of the 20,000 rows asked for (40M)
        super(type(generator), generator)._sample_given(20_000, {"B": 0}, {"B": 1}, 0)
    assert 5000 <= sum(drawn) < 200_000


def test_very_few_rows_train_with_a_one_line_warning(tmp_path):
    (tmp_path / "d.csv").write_text("A,B\n" + "0,1\n1,1\n0,0\n1,0\n" * 3)
    (tmp_path / "g.dot").write_text("digraph { A -> B }")
    result = invoke("run", "--labels", "tabular", "--image", "none", "--graph",
                    tmp_path / "g.dot", "--data", tmp_path / "d.csv", "--out",
                    tmp_path / "r", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and "training rows in" in warning[0]
    assert "or more are advised" in warning[0]


def test_relative_paths_are_stored_absolute(tmp_path, monkeypatch):
    (tmp_path / "d.csv").write_text("A,B\n" + "0,1\n1,1\n0,0\n1,0\n" * 40)
    (tmp_path / "g.dot").write_text("digraph { A -> B }")
    monkeypatch.chdir(tmp_path)
    args = ["run", "--labels", "tabular", "--image", "none", "--graph", "g.dot",
            "--data", "d.csv", "--out", "r", "--quiet"]  # fmt: skip
    assert invoke(*args).exit_code == 0
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["data"] == str(tmp_path / "d.csv") and config["graph"] == str(tmp_path / "g.dot")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("evaluate", "--run", tmp_path / "r", "--json")
    assert result.exit_code == 0, result.output
    (tmp_path / "d.csv").rename(tmp_path / "moved.csv")
    result = invoke("evaluate", "--run", tmp_path / "r")
    assert result.exit_code == 1
    assert f"the run's data '{tmp_path / 'd.csv'}' is gone (moved or deleted)" in result.output


def test_an_unusable_cache_folder_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("CKGAN_CACHE", str(tmp_path / "file"))
    result = invoke("data", "show", "synthfaces", "--n", 2, "--out", tmp_path / "g.png")
    assert result.exit_code == 1 and not (tmp_path / "g.png").exists()
    assert result.stderr.strip().splitlines() == [
        f"Error: cache folder '{tmp_path / 'file' / 'synthfaces'}' cannot be used (Not a "
        "directory): set CKGAN_CACHE to a writable folder"
    ]


def test_two_runs_at_once_on_one_folder_one_wins(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "d.csv").write_text("A,B\n" + "0,1\n1,1\n0,0\n1,0\n" * 50)
    (tmp_path / "g.dot").write_text("digraph { A -> B }")
    args = [sys.executable, "-c", "from ckgan.cli import main; main()", "run", "--labels",
            "tabular", "--image", "none", "--graph", str(tmp_path / "g.dot"), "--data",
            str(tmp_path / "d.csv"), "--out", str(tmp_path / "same"), "--quiet"]  # fmt: skip
    env = {**os.environ, "CKGAN_LOAD_PLUGINS": ""}
    first = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    second = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    results = [(p.wait(timeout=300), *p.communicate(), p.pid) for p in (first, second)]
    codes = sorted(code for code, *_ in results)
    assert codes == [0, 1], results
    _, _, stderr, _ = next(r for r in results if r[0] == 1)
    winner = next(r for r in results if r[0] == 0)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and (
        f"is in use by another ckgan process (pid {winner[3]})" in lines[0]
        or "already holds a run" in lines[0]
    ), lines
    assert Run(tmp_path / "same").config["status"] == "done"


def test_a_label_model_far_from_the_data_is_named_in_a_warning(tmp_path, run_dir):
    out = tmp_path / "barely-trained"
    # its tables as the network defines them: fitted to the rows, they would match
    result = invoke("run", "--labels", "wgan", "--image", "none", "--graph", "chain",
                    "--data", "chaindata", "--label-steps", 2, "--out", out, "--quiet",
                    "--label-option", "table_prior_rows=0", "--label-option", "pool_z=0",
                    "--label-option", "shrink_to_rows=false")  # fmt: skip
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "does not match the data family by family" in warnings[0]
    check = Run(out).metrics["labels"]["family_check"]
    assert not check["ok"] and (check["far_off"] or check["impossible"])
    good = Run(run_dir).metrics["labels"]["family_check"]  # exact tables on 4000 rows
    assert good["ok"] and not good["far_off"] and not good["impossible"]
