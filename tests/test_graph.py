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


def test_a_folder_is_named_as_a_folder(tmp_path, monkeypatch):
    """#12 item 17: `graphs show DIR` said "does not exist"."""
    from click.testing import CliRunner

    from ckgan.cli import cli

    for folder in (tmp_path / "graphs.dot", tmp_path / "plain"):
        folder.mkdir()
        with pytest.raises(CkganError, match=r"is a folder, not a graph file"):
            CausalGraph.load(folder)
        result = CliRunner().invoke(cli, ["graphs", "show", str(folder)])
        assert result.exit_code == 1 and "Traceback" not in result.stderr
        assert result.stderr.strip() == (
            f"Error: '{folder}' is a folder, not a graph file: name a file ending in "
            ".adjlist, .dot, .gv, .gml, .json, .bif"
        )
    # A folder that happens to share a registered graph's name does not hide it.
    (tmp_path / "paper").mkdir()
    monkeypatch.chdir(tmp_path)
    assert len(CausalGraph.load("paper").edges) == 14


def test_unreadable_and_non_utf8_graph_files(tmp_path, monkeypatch):
    latin = tmp_path / "latin.adjlist"
    latin.write_bytes("Gr\u00f6\u00dfe A\n".encode("latin-1"))
    with pytest.raises(CkganError, match=r"is not UTF-8 text \(invalid .* at byte 2\)"):
        CausalGraph.read(latin)
    path = _write(tmp_path, "g.adjlist", "A B\n")

    def denied(self):  # the tests run as root, where chmod 000 does not stop a read
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(path), "read_bytes", denied)
    with pytest.raises(
        CkganError, match=r"cannot open graph file '.*g.adjlist': Permission denied"
    ):
        CausalGraph.read(path)


@pytest.mark.parametrize("suffix", [".adjlist", ".dot", ".gml", ".json"])
def test_byte_order_mark_and_crlf(tmp_path, suffix):
    text = {
        ".adjlist": "# g\r\nA B\r\n",
        ".dot": "digraph {\r\n A -> B\r\n}\r\n",
        ".gml": 'graph [ directed 1\r\n node [ id 0 label "A" ]\r\n node [ id 1 label "B" ]\r\n'
        " edge [ source 0 target 1 ] ]\r\n",
        ".json": '{"nodes": ["A", "B"],\r\n "edges": [["A", "B"]]}\r\n',
    }[suffix]
    path = tmp_path / f"g{suffix}"
    path.write_bytes(("\ufeff" + text).encode("utf-8"))
    assert CausalGraph.read(path).edges == [("A", "B")]


def test_adjlist_blank_and_indented_comment_lines(tmp_path):
    # networkx's parser failed on these with "pop from empty list".
    path = _write(tmp_path, "g.adjlist", "A B\n   \n  # indented comment\n\tB C # tail\n")
    assert CausalGraph.read(path).edges == [("A", "B"), ("B", "C")]


def test_dot_subgraphs_clusters_and_keywords(tmp_path):
    text = """digraph G {
      node [shape=box]; // defaults are not nodes
      X;
      subgraph cluster_a { A -> B; C }
      {D E} -> F;
      "node" -> "Graph";
    }"""
    g = CausalGraph.read(_write(tmp_path, "g.dot", text))
    assert g.nodes == ("X", "A", "B", "C", "D", "E", "F", "node", "Graph")  # file order
    assert set(g.edges) == {("A", "B"), ("D", "F"), ("E", "F"), ("node", "Graph")}
    # Keywords are quoted on the way out, so they read back as nodes.
    assert '"node" -> "Graph";' in g.to_dot()
    g.write(tmp_path / "back.dot")
    assert CausalGraph.read(tmp_path / "back.dot") == g


def test_dot_syntax_errors_are_one_line_and_print_nothing(tmp_path, capsys):
    with pytest.raises(CkganError) as e:
        CausalGraph.read(_write(tmp_path, "g.dot", "digraph { A -> "))
    assert "as DOT: Expected" in str(e.value) and "line:1" in str(e.value)
    assert "\n" not in str(e.value) and capsys.readouterr().out == ""
    with pytest.raises(CkganError, match="holds 2 DOT graphs"):
        CausalGraph.read(_write(tmp_path, "two.dot", "digraph { A } digraph { B }"))


def test_a_name_ending_in_a_newline_is_not_a_node_name():
    # NODE_NAME used "$", which matches before a final newline.
    with pytest.raises(CkganError, match="cannot serve as a column name"):
        CausalGraph(nx.DiGraph([("A\n", "B")]))


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"nodes": "AB"}', "'nodes' must be a list of names, not 'AB'"),
        ('{"nodes": {"A": 1}}', "'nodes' must be a list"),
        ('{"nodes": ["A", 1]}', "node 1 is not a name"),
        ('{"nodes": ["A", ["B"]]}', "node ['B'] is not a name"),
        ('{"nodes": ["A", "A"]}', "lists node 'A' twice"),
        ('{"nodes": ["A", "B"], "edges": "AB"}', "'edges' must be a list of pairs"),
        ('{"nodes": ["A", "B"], "edges": [["A"]]}', "edge ['A'] is not a pair"),
        ('{"nodes": ["A", "B"], "edges": [["A", "B", "A"]]}', "is not a pair"),
        ('{"nodes": ["A", "B"], "edges": [[true, "B"]]}', "names True, not a string"),
        ('{"nodes": ["A", "B"], "edges": [["A", "C"]]}', "names 'C', which is not in 'nodes'"),
        ('{"nodes": ["A"], "edgse": [["A", "B"]]}', "unknown key 'edgse'"),
        ('{"nodes": ["A"], "nodes": ["B"]}', "key 'nodes' twice"),
        ('{"nodes": ["A"], "name": 3}', "'name' must be a string"),
        ('{"nodes": ["A\\n"]}', "has node 'A\\n', which cannot serve"),
        ("[" * 100000, "nested too deeply"),
    ],
)
def test_json_type_confusion_is_an_error(tmp_path, text, message):
    """#12 item 14: a JSON string is not a list of one-letter nodes, and so on."""
    with pytest.raises(CkganError) as e:
        CausalGraph.read(_write(tmp_path, "g.json", text))
    assert message in str(e.value) and "\n" not in str(e.value)
