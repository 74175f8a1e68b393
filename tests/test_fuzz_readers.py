"""Property-based fuzzing of the readers of users' files (hypothesis).

The promise: a graph file (adjlist, DOT, GML, JSON) or a label file (CSV,
CelebA attribute and partition files) either reads to something valid or
raises ``CkganError`` with a one-line message; never any other exception.
Inputs are arbitrary text and bytes, and near-valid files: random names
(keywords, unicode, huge, a trailing newline), edges with cycles and
self-loops, odd quoting, byte-order marks, CRLF, blank lines, comments, and
bytes that are not UTF-8. Valid inputs must read back exactly what was
written. Example counts are bounded so the file runs in well under a minute;
``CKGAN_FUZZ_SCALE=20 pytest tests/test_fuzz_readers.py`` hunts longer.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from ckgan import CausalGraph, CkganError
from ckgan.cli import cli
from ckgan.graph import FORMATS, NODE_NAME
from ckgan.userdata import (
    open_user_data,
    read_attribute_file,
    read_label_csv,
    read_partition_file,
)


def fuzz(n):
    """Settings for ``n`` examples (times ``CKGAN_FUZZ_SCALE``, default 1, for a longer hunt).

    No deadline (the machine is shared); tmp_path is reused across examples.
    """
    return settings(
        max_examples=max(1, round(n * float(os.environ.get("CKGAN_FUZZ_SCALE", "1")))),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def one_line(error):
    message = str(error)
    assert message and len(message.splitlines()) == 1, repr(message)
    return message


def _kind(message):
    """A message without its file paths and values, for ``--hypothesis-show-statistics``."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"|/\S+|\d+", "_", message)
    return " ".join(message.split()[:6])


# -- strategies -----------------------------------------------------------------

valid_names = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
    st.sampled_from(["node", "Node", "EDGE", "graph", "digraph", "subgraph", "strict", "_"]),
    st.integers(200, 3000).map(lambda n: "N" * n),  # huge
)
bad_names = st.one_of(
    st.text(min_size=1, max_size=8),
    st.sampled_from(
        ["1", "0x", "A-B", "A B", "A\n", "Ä", "名前", "A\u2028", '"A"', "A#B", "A;B", "A:p", "-1"]
    ),
)
names = st.one_of(valid_names, valid_names, bad_names)


@st.composite
def graphs(draw):
    """Unique nodes (all valid names half the time) and random edges (loops, cycles)."""
    name = draw(st.sampled_from([valid_names, names]))
    nodes = draw(st.lists(name, min_size=0, max_size=7, unique=True))
    pairs = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)) if nodes else st.nothing()
    edges = draw(st.lists(pairs, max_size=10, unique=True)) if nodes else []
    return nodes, edges


@st.composite
def dags(draw):
    """Valid acyclic graphs: edges go forward in a random order of the nodes."""
    nodes = draw(st.lists(valid_names, min_size=1, max_size=7, unique=True))
    index = st.integers(0, len(nodes) - 1)
    pairs = draw(st.lists(st.tuples(index, index), max_size=12))
    edges = {(nodes[min(i, j)], nodes[max(i, j)]) for i, j in pairs if i != j}
    return nodes, sorted(edges)


def newline(draw):
    return draw(st.sampled_from(["\n", "\r\n"]))


def render_adjlist(draw, nodes, edges):
    children = {n: [v for u, v in edges if u == n] for n in nodes}
    lines = []
    for n in draw(st.permutations(nodes)):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "   ", "# a comment", "  # indented", "#"])))
        tail = draw(st.sampled_from(["", "  # why", "\t"]))
        lines.append(draw(st.sampled_from([" ", "\t", "  "])).join([n, *children[n]]) + tail)
    return newline(draw).join(lines)


def dot_id(draw, name):
    keyword = name.lower() in {"node", "edge", "graph", "digraph", "subgraph", "strict"}
    quote = keyword or not NODE_NAME.match(name) or draw(st.booleans())
    return '"' + name.replace('"', '\\"') + '"' if quote else name


def render_dot(draw, nodes, edges):
    statements = [dot_id(draw, n) + draw(st.sampled_from(["", " [shape=box]"])) for n in nodes]
    statements += [
        f"{dot_id(draw, u)} -> {dot_id(draw, v)}" + draw(st.sampled_from(["", ' [label="x"]']))
        for u, v in edges
    ]
    statements = draw(st.permutations(statements))
    decorations = ["node [shape=circle]", "edge [color=red]", "// c\nrankdir=LR", "/* c */ a=b"]
    statements += draw(st.lists(st.sampled_from(decorations), max_size=2))
    if statements and draw(st.booleans()):  # some of it in a subgraph or cluster
        cut = draw(st.integers(0, len(statements)))
        inner = "; ".join(statements[:cut])
        label = draw(st.sampled_from(["subgraph cluster_a", "subgraph", ""]))
        statements = [f"{label} {{ {inner} }}", *statements[cut:]]
    sep = draw(st.sampled_from([";" + newline(draw), newline(draw), "; "]))
    head = draw(st.sampled_from(["digraph", "digraph G", "strict digraph", 'digraph "my g"']))
    return f"{head} {{{newline(draw)}" + sep.join(statements) + f"{newline(draw)}}}"


def render_gml(draw, nodes, edges):
    ids = {n: i * draw(st.sampled_from([1, 7])) for i, n in enumerate(nodes)}
    nl = newline(draw)
    lines = ["graph [", "  directed 1"]
    for n in nodes:
        lines.append(f'  node [ id {ids[n]} label "{n.replace(chr(34), "&quot;")}" ]')
    for u, v in edges:
        lines.append(f"  edge [ source {ids[u]} target {ids[v]} ]")
    return nl.join([*lines, "]"])


def render_json(draw, nodes, edges):
    data = {"nodes": list(nodes), "edges": [list(e) for e in edges]}
    if draw(st.booleans()):
        data["name"] = "g"
    return json.dumps(
        data, indent=draw(st.sampled_from([None, 2])), ensure_ascii=draw(st.booleans())
    )


def render_bif(draw, nodes, edges):
    """bnlearn's BIF: a variable block per node (random states), a probability block each."""
    nl = newline(draw)
    state = st.from_regex(r"[A-Za-z0-9_<>+.-]{1,6}", fullmatch=True)
    lines = ["network unknown {", "}"] if draw(st.booleans()) else []
    for n in draw(st.permutations(nodes)):
        states = draw(st.lists(state, min_size=2, max_size=4, unique=True))
        lines += [
            f"variable {n} {{",
            f"  type discrete [ {len(states)} ] {{ {', '.join(states)} }};",
        ]
        if draw(st.booleans()):
            lines.append("  property weight = None ;")
        lines.append("}")
    for n in draw(st.permutations(nodes)):
        parents = [u for u, v in edges if v == n]
        head = f"{n} | {', '.join(parents)}" if parents else n
        lines += [f"probability ( {head} ) {{", "  table 0.5, 0.5;", "}"]
    return nl.join(lines)


RENDER = {
    "adjlist": render_adjlist,
    "dot": render_dot,
    "gml": render_gml,
    "json": render_json,
    "bif": render_bif,
}
GRAPH_FORMATS = tuple(RENDER)


@st.composite
def mutated(draw, text):
    """``text`` as bytes, maybe with a BOM, and maybe cut, spliced or given stray bytes."""
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(data)))
        j = draw(st.integers(i, min(len(data), i + 8)))
        junk = draw(
            st.one_of(
                st.just(b""),
                st.binary(max_size=4),
                st.text(max_size=3).map(str.encode),
                st.sampled_from([b'"', b"\\", b"{", b"]", b"[", b"->", b"#", b"\r", b"\x00"]),
            )
        )
        data = data[:i] + junk + data[j:]
    return data


def write_bytes(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


# -- graphs ----------------------------------------------------------------------


def check_graph(path, tmp_path):
    """Read ``path``: a valid graph that survives every export, or a one-line ``CkganError``."""
    try:
        graph = CausalGraph.read(path)
    except CkganError as e:
        event("error: " + _kind(one_line(e)))
        return None
    event("read")
    inner = graph.nx
    assert len(graph) > 0
    assert all(isinstance(n, str) and NODE_NAME.match(n) and "\n" not in n for n in graph.nodes)
    assert nx.is_directed_acyclic_graph(inner) and not list(nx.selfloop_edges(inner))
    position = {n: i for i, n in enumerate(graph.nodes)}
    assert all(position[u] < position[v] for u, v in graph.edges)  # a topological order
    for fmt in FORMATS:
        out = tmp_path / f"back.{fmt}"
        graph.write(out)
        back = CausalGraph.read(out)
        assert back.nodes == graph.nodes and set(back.edges) == set(graph.edges), fmt
        if fmt == "json":  # the one export that holds states
            assert back == graph
    return graph


@pytest.mark.parametrize("suffix", [".adjlist", ".dot", ".gml", ".json", ".bif"])
@fuzz(60)
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
@example(data=b"")
@example(data=b"\xff\xfe\x00A")
@example(data=b"\xef\xbb\xbf")
def test_arbitrary_bytes_as_a_graph_file(tmp_path, suffix, data):
    check_graph(write_bytes(tmp_path, "g" + suffix, data), tmp_path)


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
@fuzz(60)
@given(data=st.data())
def test_near_valid_graph_files(tmp_path, fmt, data):
    nodes, edges = data.draw(graphs())
    text = RENDER[fmt](data.draw, nodes, edges)
    raw = data.draw(mutated(text))
    check_graph(write_bytes(tmp_path, f"g.{fmt}", raw), tmp_path)


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
@fuzz(40)
@given(data=st.data())
def test_valid_graph_files_read_exactly(tmp_path, fmt, data):
    """A valid DAG, however written (quoting, comments, BOM, CRLF, clusters), reads back whole."""
    nodes, edges = data.draw(dags())
    text = RENDER[fmt](data.draw, nodes, edges)
    bom = data.draw(st.sampled_from(["", "\ufeff"]))
    graph = check_graph(write_bytes(tmp_path, f"g.{fmt}", (bom + text).encode()), tmp_path)
    assert graph is not None, text
    assert set(graph.nodes) == set(nodes) and set(graph.edges) == set(edges), text


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@fuzz(150)
@given(
    nodes=st.one_of(json_values, st.lists(st.one_of(names, json_values), max_size=5)),
    edges=st.one_of(json_values, st.lists(st.one_of(json_values, st.lists(names)), max_size=5)),
    extra=st.one_of(
        st.just({}),
        st.dictionaries(st.sampled_from(["name", "edge", "Nodes", "x"]), json_values, max_size=2),
    ),
)
def test_json_graphs_of_any_shape(tmp_path, nodes, edges, extra):
    text = json.dumps({"nodes": nodes, "edges": edges, **extra})
    graph = check_graph(write_bytes(tmp_path, "g.json", text.encode()), tmp_path)
    if graph is not None:  # only lists of names, and pairs of listed names, are read
        assert isinstance(nodes, list) and list(nodes) == list(dict.fromkeys(nodes))
        assert set(graph.nodes) == set(nodes)
        assert {tuple(e) for e in edges} == set(graph.edges)


# -- label files ------------------------------------------------------------------

SPELLINGS = ["0", "1", "-1", "+1", "true", "false", " 1 ", "TRUE", " False", "2", "", "yes", "x"]


@st.composite
def label_csvs(draw):
    """A CSV of labels with random names, codings, delimiters, quoting and line endings."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    k = draw(st.integers(1, 5))
    header = draw(
        st.lists(
            st.one_of(valid_names, st.sampled_from(["filename", "split", "", "a b", '"q"'])),
            min_size=k,
            max_size=k,
            unique=draw(st.integers(0, 4)) > 0,  # a column named twice now and then
        )
    )
    row = st.lists(st.sampled_from(SPELLINGS), min_size=k, max_size=k)
    rows = draw(st.lists(row, min_size=draw(st.integers(0, 4)) > 0, max_size=6))

    def cell(value):
        if draw(st.booleans()) and '"' not in value:
            return f'"{value}"'
        return value

    nl = newline(draw)
    lines = [delimiter.join(cell(c) for c in header)]
    for row in rows:
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", delimiter * k])))
        lines.append(delimiter.join(cell(c) for c in row))
    return nl.join(lines) + draw(st.sampled_from(["", nl]))


def check_table(table):
    n = len(table.lines)
    assert n > 0 and np.all(np.diff(table.lines) > 0)
    assert not set(table.binary) & set(table.bad)
    assert set(table.attributes) <= set(table.columns)
    assert not set(table.named) & set(table.bad) and not set(table.named) & set(table.binary)
    for values in table.binary.values():
        assert values.shape == (n,) and values.dtype == np.uint8
        assert set(np.unique(values)) <= {0, 1}
    for values, codes in table.named.values():
        assert codes.shape == (n,) and codes.max() < len(values) and len(set(values)) == len(values)
    usable = []
    for name in table.attributes:
        try:
            states = table.default_states(name)
        except CkganError as e:  # a named column with one value
            one_line(e)
            continue
        usable.append(name)
        assert 2 <= len(states) <= 32
    matrix = table.matrix(usable)
    assert matrix.shape == (n, len(usable)) and matrix.dtype == np.uint8
    for name in table.columns:
        if name in table.attributes:
            continue
        with pytest.raises(CkganError) as e:
            table.check_column(name)
        one_line(e.value)
    for kept in (table.filenames, table.split_values):
        assert kept is None or len(kept) == n


def check_label_file(reader, path):
    try:
        table = reader(path)
    except CkganError as e:
        event("error: " + _kind(one_line(e)))
        return None
    event("read")
    check_table(table)
    return table


texts = st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode))


@fuzz(120)
@given(data=st.one_of(texts, label_csvs().flatmap(mutated)))
@example(data=b'""\n""\n')
@example(data=b"a\n" + b"x" * 200000 + b"\n")
@example(data=b'a,b\n"1\n0,1\n')
def test_arbitrary_and_near_valid_csv(tmp_path, data):
    path = write_bytes(tmp_path, "labels.csv", data)
    check_label_file(read_label_csv, path)
    try:
        dataset = open_user_data(path)
    except CkganError as e:
        one_line(e)
        return
    usable = [a for a in dataset.attributes if any(c.split("=")[0] == a for c in dataset.columns)]
    sizes = [len(dataset.labels(s, usable)) for s in ("train", "validation", "test")]
    assert sum(sizes) == len(dataset.table.lines)


@fuzz(80)
@given(text=label_csvs(), bom=st.sampled_from(["", "\ufeff"]))
def test_valid_csv_values(tmp_path, text, bom):
    """Every column read as binary holds the values written, in one coding."""
    path = write_bytes(tmp_path, "labels.csv", (bom + text).encode())
    table = check_label_file(read_label_csv, path)
    if table is None:
        return
    delimiter = max(",;\t", key=text.splitlines()[0].count)
    records = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(r)]
    records = [r for r in records if any(c.strip() for c in r)]
    header = [c.strip() for c in records[0]]
    for name in table.binary:
        cells = [r[header.index(name)].strip().lower() for r in records[1:]]
        codings = [{"0", "1"}, {"-1", "1", "+1"}, {"true", "false"}]
        assert any(set(cells) <= c for c in codings), (name, cells)
        expected = [1 if c in ("1", "+1", "true") else 0 for c in cells]
        assert table.binary[name].tolist() == expected


@st.composite
def celeba_text(draw):
    k = draw(st.integers(1, 4))
    names = draw(st.lists(valid_names, min_size=k, max_size=k, unique=draw(st.booleans())))
    width = draw(st.sampled_from([k, k, k, k + 1]))
    row = st.lists(
        st.sampled_from(["-1", "1", "-1", "1", "0", "x"]), min_size=width, max_size=width
    )
    rows = draw(st.lists(row, min_size=1, max_size=4))
    lines = [str(len(rows)), " ".join(names)]
    lines += [" ".join([f"{i:06d}.jpg", *row]) for i, row in enumerate(rows)]
    return newline(draw).join(lines)


@fuzz(60)
@given(data=st.one_of(texts, celeba_text().flatmap(mutated)))
def test_arbitrary_attribute_files(tmp_path, data):
    check_label_file(read_attribute_file, write_bytes(tmp_path, "list_attr_celeba.txt", data))


@fuzz(40)
@given(data=texts)
@example(data=b"a.jpg 0\n\nb.jpg 2\r\n")
def test_arbitrary_partition_files(tmp_path, data):
    try:
        out = read_partition_file(write_bytes(tmp_path, "list_eval_partition.txt", data))
    except CkganError as e:
        one_line(e)
        return
    assert all(isinstance(k, str) and v in (0, 1, 2) for k, v in out.items())


# -- the command line --------------------------------------------------------------


@fuzz(40)
@given(data=st.data(), suffix=st.sampled_from([".adjlist", ".dot", ".gml", ".json"]))
def test_graphs_show_on_fuzzed_files(tmp_path, data, suffix):
    """`ckgan graphs show FILE`: exit 0, or one line on stderr and no traceback."""
    fmt = suffix[1:]
    nodes, edges = data.draw(graphs())
    raw = data.draw(st.one_of(texts, mutated(RENDER[fmt](data.draw, nodes, edges))))
    path = write_bytes(tmp_path, "g" + suffix, raw)
    result = CliRunner().invoke(cli, ["graphs", "show", str(path)])
    assert isinstance(result.exception, SystemExit | None), result.exception
    if result.exit_code == 0:
        assert not result.stderr
        return
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ") and not result.stdout


def test_graphs_show_in_a_real_process(tmp_path):
    """The same, as a user runs it: a bad file, a non-UTF-8 one, a folder, a good one."""
    cases = {
        "bad.dot": b"digraph { A -> ",
        "latin.adjlist": "Gr\u00f6\u00dfe A\n".encode("latin-1"),
        "type.json": b'{"nodes": "AB"}',
        "folder.dot": None,
        "ok.gml": b'graph [ directed 1 node [ id 0 label "A" ] ]',
    }
    for name, raw in cases.items():
        path = tmp_path / name
        path.mkdir() if raw is None else path.write_bytes(raw)
        out = subprocess.run(
            [sys.executable, "-c", "from ckgan.cli import main; main()", "graphs", "show", path],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if name == "ok.gml":
            assert out.returncode == 0 and out.stdout.splitlines()[1:] == ["A"], out.stderr
            continue
        assert out.returncode == 1 and not out.stdout, (name, out)
        assert len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr, out.stderr
