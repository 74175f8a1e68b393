import json
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
