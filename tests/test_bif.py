"""BIF graphs (bnlearn's format) and node states on CausalGraph."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ckgan import CausalGraph, CkganError
from ckgan.cli import cli

BIF = Path(__file__).parent / "data" / "bif"


def test_asia_reads_as_published():
    # tests/data/bif/asia.bif: bnlearn's asia from pgmpy's wheel, read by hand
    graph = CausalGraph.read(BIF / "asia.bif")
    assert set(graph.edges) == {
        ("asia", "tub"), ("tub", "either"), ("smoke", "lung"), ("smoke", "bronc"),
        ("lung", "either"), ("either", "xray"), ("either", "dysp"), ("bronc", "dysp"),
    }  # fmt: skip
    # file order breaks ties in the topological order
    assert graph.nodes == ("asia", "tub", "smoke", "lung", "bronc", "either", "xray", "dysp")
    assert all(graph.states(n) == ("yes", "no") for n in graph.nodes)
    assert graph.cards == (2,) * 8 and graph.is_binary
    assert graph.encoding.columns == graph.nodes  # two states: one column each


def test_sachs_reads_as_published():
    graph = CausalGraph.read(BIF / "sachs.bif")
    parents = {
        "Akt": ["Erk", "PKA"], "Erk": ["Mek", "PKA"], "Jnk": ["PKA", "PKC"],
        "Mek": ["PKA", "PKC", "Raf"], "P38": ["PKA", "PKC"], "PIP2": ["PIP3", "Plcg"],
        "PIP3": ["Plcg"], "PKA": ["PKC"], "PKC": [], "Plcg": [], "Raf": ["PKA", "PKC"],
    }  # fmt: skip
    assert {n: sorted(graph.parents(n)) for n in graph.nodes} == parents
    assert len(graph.edges) == 17
    assert graph.states("Raf") == ("LOW", "AVG", "HIGH") and graph.cards == (3,) * 11
    assert graph.encoding.width == 33
    assert graph.encoding.columns[:3] == ("PKC=LOW", "PKC=AVG", "PKC=HIGH")


def test_child_keeps_odd_state_names_in_declared_order():
    graph = CausalGraph.read(BIF / "child.bif")
    assert len(graph) == 20 and len(graph.edges) == 25
    assert graph.states("LowerBodyO2") == ("<5", "5-12", "12+")
    assert graph.states("Disease") == ("PFC", "TGA", "Fallot", "PAIVS", "TAPVD", "Lung")
    assert graph.states("CO2Report") == ("<7.5", ">=7.5")
    assert graph.states("DuctFlow") == ("Lt_to_Rt", "None", "Rt_to_Lt")


def test_states_survive_json_and_do_and_show_in_exports(tmp_path):
    graph = CausalGraph.read(BIF / "sachs.bif")
    path = tmp_path / "sachs.json"
    graph.write(path)
    again = CausalGraph.read(path)
    assert again == graph and again.states("Akt") == ("LOW", "AVG", "HIGH")
    assert graph.do(["PKA"]).states("PKA") == ("LOW", "AVG", "HIGH")
    assert "# states of Akt: LOW, AVG, HIGH" in graph.to_adjlist()
    assert "// states of Akt: LOW, AVG, HIGH" in graph.to_dot()
    assert graph != graph.with_states({"Akt": ["a", "b", "c"]})


def test_binary_graphs_export_as_before():
    graph = CausalGraph.load("paper")
    assert "states" not in json.loads(graph.to_json())
    assert "states" not in graph.to_adjlist() and graph.states("Male") == ("0", "1")
    # declaring the default states changes nothing
    assert graph.with_states({"Male": ("0", "1")}).to_json() == graph.to_json()


def test_graphs_show_prints_nodes_edges_and_states():
    result = CliRunner().invoke(cli, ["graphs", "show", str(BIF / "asia.bif")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "# asia: 8 nodes, 8 edges"
    assert "# states of either: yes, no" in lines
    assert "either xray dysp" in lines


VARIABLE = "variable A {\n  type discrete [ 2 ] { yes, no };\n}\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (VARIABLE + "probability ( B | A ) {\n  (yes) 0.1, 0.9;\n}\n",
         "line 4: probability ( B | ... ) names 'B', which no variable declares"),
        (VARIABLE.replace("A", "B") + VARIABLE + "probability ( A | B ) {\n}\n"
         "probability ( B | A ) {\n}\n", "has a cycle"),
        ("variable A {\n  type discrete [ 3 ] { yes, no };\n}\n",
         "line 2: variable 'A' says [ 3 ] states but lists 2"),
        ("variable A {\n  type discrete [ 2 ] { yes, yes };\n}\n", "lists state 'yes' twice"),
        (VARIABLE + VARIABLE, "line 4: variable 'A' is declared twice (first on line 1)"),
        ("variable A {\n  type continuous;\n}\n", "of type 'continuous'"),
        ("network x {\n}\nvariable A {\n  type discrete [ 2 ] { yes, no }\n}\n",
         "line 5: expected ';' after the states of 'A', found '}'"),
        ("variable A {\n  type discrete [ 2 ] { yes, no };\n", "the file ends"),
        ("graph A { }", "line 1: expected 'network', 'variable' or 'probability'"),
        ("network x {\n}\n", "declares no variable"),
        ("/* unclosed\nvariable A", "line 1: cannot read"),
        ("variable 1A {\n  type discrete [ 2 ] { a, b };\n}\n", "cannot serve as a column name"),
    ],
)  # fmt: skip
def test_bad_bif_is_one_line_naming_the_line(tmp_path, text, message):
    path = tmp_path / "net.bif"
    path.write_text(text)
    with pytest.raises(CkganError) as info:
        CausalGraph.read(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_comments_properties_and_quotes_are_read():
    text = (
        '// a comment\nnetwork "n" {\n  property version = 1 ;\n}\n/* block\ncomment */\n'
        'variable A {\n  type discrete [ 3 ] { "low", mid, high };\n  property x = y ;\n}\n'
        "variable B {\n  type discrete [ 2 ] { no, yes };\n}\n"
        "probability ( B | A ) {\n  (low) 0.1, 0.9;\n  (mid) 0.5, 0.5;\n  (high) 1, 0;\n}\n"
        "probability ( A ) {\n  table 0.2, 0.3, 0.5;\n}\n"
    )
    from ckgan.bif import read_bif

    read = read_bif(text, Path("x.bif"))
    graph = CausalGraph(read, states=read.graph["states"])
    assert graph.edges == [("A", "B")] and graph.states("A") == ("low", "mid", "high")


@pytest.mark.parametrize(
    "states, message",
    [
        ({"A": ["only"]}, "has 1 state(s)"),
        ({"A": ["a", "a"]}, "lists state 'a' twice"),
        ({"A": ["a", ""]}, "is not a usable name"),
        ({"A": ["a", "b,c"]}, "is not a usable name"),
        ({"A": [f"s{i}" for i in range(33)]}, "at most 32"),
        ({"Z": ["a", "b"]}, "'states' names 'Z', which is not in 'nodes'"),
        ({"A": "ab"}, "must be a list of names"),
    ],
)
def test_json_states_are_checked(tmp_path, states, message):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"nodes": ["A", "B"], "edges": [["A", "B"]], "states": states}))
    with pytest.raises(CkganError, match=".*") as info:
        CausalGraph.read(path)
    assert message in str(info.value)
