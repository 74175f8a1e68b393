import json

import networkx as nx
import pytest

from ckgan import CausalGraph, CkganError

ATTRS = [
    "Young",
    "Male",
    "Eyeglasses",
    "Bald",
    "Mustache",
    "Smiling",
    "Wearing_Lipstick",
    "Mouth_Slightly_Open",
    "Narrow_Eyes",
]


@pytest.mark.parametrize(
    "name, n_edges",
    [("full", 36), ("reverse", 36), ("independent", 0), ("paper", 14), ("male_mustache", 1)],
)
def test_builtin_graph_sizes(name, n_edges):
    graph = CausalGraph.load(name)
    assert len(graph.edges) == n_edges


def test_full_is_complete_in_paper_order_and_reverse_is_its_reverse():
    full = CausalGraph.load("full")
    reverse = CausalGraph.load("reverse")
    assert list(full.nodes) == ATTRS
    assert list(reverse.nodes) == ATTRS[::-1]
    assert set(reverse.edges) == {(v, u) for u, v in full.edges}
    for i, node in enumerate(ATTRS):
        assert full.parents(node) == ATTRS[:i]


def test_paper_graph_parents():
    paper = CausalGraph.load("paper")
    assert list(paper.nodes) == ATTRS
    assert paper.parents("Young") == [] and paper.parents("Male") == []
    assert paper.parents("Wearing_Lipstick") == ["Young", "Male"]
    assert paper.parents("Mouth_Slightly_Open") == ["Young", "Smiling"]
    assert paper.parents("Narrow_Eyes") == ["Young", "Male", "Smiling"]
    assert CausalGraph.load("mustache_male").nodes == ("Mustache", "Male")


def test_order_is_topological_with_file_order_breaking_ties():
    g = nx.DiGraph()
    g.add_nodes_from(["C", "B", "A"])
    g.add_edges_from([("A", "D")])
    assert CausalGraph(g).nodes == ("C", "B", "A", "D")
    g2 = nx.DiGraph([("Z", "Y"), ("X", "Y")])
    assert CausalGraph(g2).nodes == ("Z", "X", "Y")


def test_relatives_and_generations():
    g = CausalGraph(nx.DiGraph([("A", "B"), ("B", "C"), ("A", "C"), ("D", "C")]))
    assert g.parents("C") == ["A", "B", "D"]
    assert g.ancestors("C") == ["A", "B", "D"]
    assert g.descendants("A") == ["B", "C"]
    assert g.children("A") == ["B", "C"]
    assert g.generations() == [["A", "D"], ["B"], ["C"]]
    adj = g.adjacency()
    assert adj[g.index("A"), g.index("B")] == 1 and adj[g.index("B"), g.index("A")] == 0


def test_do_removes_incoming_edges_only():
    g = CausalGraph.load("paper")
    mutilated = g.do(["Smiling"])
    assert mutilated.parents("Smiling") == []
    assert mutilated.children("Smiling") == g.children("Smiling")
    assert len(mutilated.edges) == len(g.edges) - 2
    assert g.parents("Smiling") == ["Young", "Male"]  # the original is untouched
    with pytest.raises(CkganError, match="unknown node 'Nope'"):
        g.do(["Nope"])


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_adjlist_keeps_isolated_nodes(tmp_path):
    path = _write(tmp_path, "g.adjlist", "# comment\nA B\nB\nLonely\n")
    g = CausalGraph.read(path)
    assert g.nodes == ("A", "B", "Lonely") and g.edges == [("A", "B")]
    assert g.name == "g"


def test_read_dot(tmp_path):
    path = _write(tmp_path, "g.dot", 'digraph G { Iso; A -> B; "B" -> C; }')
    g = CausalGraph.read(path)
    assert set(g.nodes) == {"Iso", "A", "B", "C"}
    assert set(g.edges) == {("A", "B"), ("B", "C")}
    assert CausalGraph.read(_write(tmp_path, "h.gv", "digraph { X -> Y }")).edges == [("X", "Y")]


def test_read_undirected_dot_is_an_error(tmp_path):
    with pytest.raises(CkganError, match="undirected"):
        CausalGraph.read(_write(tmp_path, "g.dot", "graph G { A -- B }"))


def test_read_gml(tmp_path):
    text = (
        "graph [ directed 1\n"
        ' node [ id 0 label "A" ] node [ id 1 label "B" ]\n'
        " edge [ source 0 target 1 ] ]\n"
    )
    g = CausalGraph.read(_write(tmp_path, "g.gml", text))
    assert g.edges == [("A", "B")]
    undirected = text.replace("directed 1", "directed 0")
    with pytest.raises(CkganError, match="directed 1"):
        CausalGraph.read(_write(tmp_path, "u.gml", undirected))


@pytest.mark.parametrize("fmt", ["adjlist", "dot", "json"])
def test_export_round_trip(tmp_path, fmt):
    g = CausalGraph.load("paper")
    path = tmp_path / f"paper.{fmt}"
    g.write(path)
    back = CausalGraph.read(path)
    assert back == g and back.nodes == g.nodes


def test_json_export_content():
    data = json.loads(CausalGraph.load("male_mustache").to_json())
    assert data == {
        "name": "male_mustache",
        "nodes": ["Male", "Mustache"],
        "edges": [["Male", "Mustache"]],
    }


def test_cycle_error_names_the_cycle(tmp_path):
    path = _write(tmp_path, "cyc.adjlist", "A B\nB C\nC A\n")
    with pytest.raises(CkganError, match=r"cycle A -> B -> C -> A"):
        CausalGraph.read(path)


def test_self_loop_empty_and_bad_names(tmp_path):
    with pytest.raises(CkganError, match="self-loop on 'A'"):
        CausalGraph(nx.DiGraph([("A", "A")]))
    with pytest.raises(CkganError, match="empty"):
        CausalGraph(nx.DiGraph())
    with pytest.raises(CkganError, match="column name"):
        CausalGraph(nx.DiGraph([("A", "B=1")]))
    with pytest.raises(CkganError, match="column name"):
        CausalGraph(nx.DiGraph([(1, 2)]))
    with pytest.raises(CkganError, match="directed"):
        CausalGraph(nx.Graph([("A", "B")]))


def test_unreadable_and_unknown_files(tmp_path):
    with pytest.raises(CkganError, match="does not exist"):
        CausalGraph.read(tmp_path / "missing.adjlist")
    with pytest.raises(CkganError, match="extensions"):
        CausalGraph.read(_write(tmp_path, "g.txt", "A B"))
    with pytest.raises(CkganError, match="cannot read"):
        CausalGraph.read(_write(tmp_path, "bad.gml", "graph [ this is not gml"))
    with pytest.raises(CkganError, match="unknown graph 'nope'"):
        CausalGraph.load("nope")
