import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ckgan.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    assert "list-plugins" in result.output and "graphs" in result.output


def test_list_plugins_json():
    result = run("list-plugins", "--json")
    assert result.exit_code == 0
    infos = json.loads(result.output)
    graphs = {name for info in infos for name in info["registered"]["graphs"]}
    assert {"full", "reverse", "independent", "paper", "male_mustache", "mustache_male"} <= graphs
    builtin = infos[0]
    assert builtin["distribution"] == "ckgan" and builtin["version"]
    assert set(builtin["registered"]) == {"labels", "image", "graphs", "datasets"}


def test_list_plugins_text():
    result = run("list-plugins")
    assert result.exit_code == 0
    assert "graphs: full" in result.output


def test_graphs_list_and_show():
    result = run("graphs", "list")
    assert result.exit_code == 0
    assert "paper: 9 nodes, 14 edges" in result.output
    result = run("graphs", "show", "male_mustache", "--format", "json")
    assert json.loads(result.output)["edges"] == [["Male", "Mustache"]]
    result = run("graphs", "show", "paper", "--format", "dot")
    assert result.output.startswith("digraph paper {") and "Male -> Mustache;" in result.output


def test_graphs_show_file(tmp_path):
    path = tmp_path / "mine.dot"
    path.write_text("digraph { Rain -> Wet; Sprinkler -> Wet }")
    result = run("graphs", "show", str(path))
    assert result.exit_code == 0
    assert result.output.splitlines()[1:] == ["Rain Wet", "Sprinkler Wet", "Wet"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["graphs", "show", "nope"], "unknown graph 'nope' (known: full,"),
        (["graphs", "show", "paper", "--format", "png"], "Invalid value for '--format'"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
    ],
)
def test_user_errors_are_one_line(args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_cyclic_graph_file_is_one_line_error(tmp_path):
    path = tmp_path / "cyc.adjlist"
    path.write_text("A B\nB A\n")
    before = path.read_text()
    result = run("graphs", "show", str(path))
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: graph 'cyc' has a cycle A -> B -> A: a causal graph must be acyclic"
    )
    assert path.read_text() == before


def test_cli_start_does_not_import_tensorflow():
    code = (
        "import sys; from click.testing import CliRunner; from ckgan.cli import cli;"
        "r = CliRunner().invoke(cli, ['list-plugins']); assert r.exit_code == 0, r.output;"
        "r = CliRunner().invoke(cli, ['graphs', 'list']); assert r.exit_code == 0, r.output;"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_an_error_after_tensorflow_starts_is_still_one_line(tmp_path):
    # TensorFlow writes start-up notes to fd 2 as it is imported; the CLI mutes them.
    (tmp_path / "d.csv").write_text("A,B\n0,1\n1,1\n0,0\n1,0\n")
    (tmp_path / "g.dot").write_text("digraph { A -> B }")
    args = ["run", "--labels", "wgan", "--label-steps", "2", "--image", "none", "--graph",
            str(tmp_path / "g.dot"), "--data", str(tmp_path / "d.csv"), "--out",
            str(tmp_path / "r"), "--quiet"]  # fmt: skip
    assert run(*args).exit_code == 0
    (tmp_path / "r" / "labels" / "critic.weights.h5").write_bytes(b"garbage")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run(
        [sys.executable, "-c", "from ckgan.cli import main; main()", "sample", "--run",
         str(tmp_path / "r"), "--out", str(tmp_path / "x.csv")],
        capture_output=True, text=True, env={**env, "CKGAN_LOAD_PLUGINS": ""},
    )  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f"Error: the label generator in '{tmp_path / 'r' / 'labels'}' is corrupt (OSError: "
        "Unable to synchronously open file (file signature not found)): restore the run "
        "folder from a copy, or train the run again into a new folder"
    ]


def test_the_python_api_the_readme_shows():
    import ckgan
    from ckgan.run import Run, train

    assert ckgan.train is train and ckgan.Run is Run
    assert {"train", "Run"} <= set(ckgan.__all__)
