"""``CausalGraph``: a validated DAG over named discrete variables.

Inside it is a ``networkx.DiGraph``; on disk it is plain text (adjacency list,
DOT, GML, JSON or BIF). The node order is deterministic: a topological order in
which ties are broken by the order the nodes were written in. Each node has
an ordered tuple of state names (``ckgan.states``): binary ``("0", "1")``
unless the graph declares others (a BIF file, ckgan's JSON) or the data
show others (``with_states``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import networkx as nx

from .errors import CkganError
from .states import BINARY, Encoding, check_states

# ``\Z``, not ``$``: ``$`` also matches before a final newline, so "A\n" would pass.
NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
# DOT keywords (any case) are not node IDs unless quoted.
_DOT_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
FORMATS = ("adjlist", "dot", "json")
_READERS_BY_SUFFIX = {
    ".adjlist": "adjlist",
    ".dot": "dot",
    ".gv": "dot",
    ".gml": "gml",
    ".json": "json",
    ".bif": "bif",
}


class CausalGraph:
    """A causal DAG whose nodes are discrete variables (binary unless said otherwise).

    Args:
        graph: a ``networkx.DiGraph``; its insertion order breaks ties in the
            topological order.
        name: a name for messages and exports.
        states: ``{node: state names in order}`` for nodes that are not binary
            ``("0", "1")`` (2 to ``ckgan.states.MAX_STATES`` names each).

    Raises ``CkganError`` when the graph is empty, has a self-loop or a cycle,
    a node name that cannot serve as a column name, or states that name an
    unknown node or are unusable.
    """

    def __init__(
        self,
        graph: nx.DiGraph,
        name: str | None = None,
        states: Mapping[str, Sequence[str]] | None = None,
    ):
        if not isinstance(graph, nx.DiGraph) or isinstance(graph, nx.MultiDiGraph):
            raise CkganError(
                f"graph {name or ''} must be a directed graph (networkx.DiGraph), "
                f"got {type(graph).__name__}".replace("  ", " ")
            )
        self.name = name or "graph"
        _validate(graph, self.name)
        position = {node: i for i, node in enumerate(graph.nodes)}
        order = list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
        self._graph = nx.DiGraph()
        self._graph.add_nodes_from(order)
        self._graph.add_edges_from(
            sorted(graph.edges, key=lambda e: (order.index(e[0]), order.index(e[1])))
        )
        self._index = {node: i for i, node in enumerate(order)}
        self._states: dict[str, tuple[str, ...]] = {}
        where = f"graph '{self.name}'"
        for node, names in (states or {}).items():
            if node not in self._index:
                raise CkganError(
                    f"{where} declares states of '{node}', which is not one of its nodes"
                )
            names = check_states(node, names, where)
            if names != BINARY:
                self._states[node] = names
        self._encoding: Encoding | None = None

    # -- reading --------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path: str | Path) -> CausalGraph:
        """A registered graph by name, or a graph file (format chosen by extension)."""
        text = str(name_or_path)
        path = Path(text)
        if path.suffix.lower() in _READERS_BY_SUFFIX or path.is_file():
            return cls.read(path)
        from .plugins import get_registry

        registry = get_registry()
        if path.is_dir() and text not in registry.names("graphs"):
            return cls.read(path)  # says that it is a folder
        obj = registry.get("graphs", text).load()
        if isinstance(obj, CausalGraph):
            return obj
        if isinstance(obj, nx.DiGraph):
            return cls(obj, name=text, states=obj.graph.get("states"))
        return cls.read(obj, name=text)

    @classmethod
    def read(cls, path: str | Path, name: str | None = None) -> CausalGraph:
        """Read a graph file: ``.adjlist``, ``.dot``/``.gv``, ``.gml``, ``.json``, ``.bif`` (UTF-8).

        A BIF file (and ckgan's JSON) also declares each node's states in order.
        """
        path = Path(path)
        if path.is_dir():
            raise CkganError(
                f"'{path}' is a folder, not a graph file: name a file ending in "
                f"{', '.join(_READERS_BY_SUFFIX)}"
            )
        fmt = _READERS_BY_SUFFIX.get(path.suffix.lower())
        if fmt is None:
            raise CkganError(
                f"cannot tell the format of graph file '{path}': use one of the "
                f"extensions {', '.join(_READERS_BY_SUFFIX)}"
            )
        if not path.exists():
            raise CkganError(f"graph file '{path}' does not exist")
        graph = _READ[fmt](_read_text(path), path)
        states = graph.graph.pop("states", None)
        return cls(graph, name=name or path.stem, states=states)

    # -- structure ------------------------------------------------------------

    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes in the deterministic topological order."""
        return tuple(self._graph.nodes)

    @property
    def edges(self) -> list[tuple[str, str]]:
        return list(self._graph.edges)

    @property
    def nx(self) -> nx.DiGraph:
        """A copy of the underlying ``networkx.DiGraph``."""
        return self._graph.copy()

    def __len__(self) -> int:
        return self._graph.number_of_nodes()

    def __contains__(self, node: object) -> bool:
        return node in self._index

    def __repr__(self) -> str:
        return f"CausalGraph({self.name!r}, {len(self)} nodes, {len(self.edges)} edges)"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CausalGraph)
            and self.nodes == other.nodes
            and set(self.edges) == set(other.edges)
            and self._states == other._states
        )

    # -- states ---------------------------------------------------------------

    def states(self, node: str) -> tuple[str, ...]:
        """The state names of ``node`` in code order (``("0", "1")`` for a binary node)."""
        self.check_nodes([node])
        return self._states.get(node, BINARY)

    @property
    def declared_states(self) -> dict[str, tuple[str, ...]]:
        """The states of the nodes that are not binary ``("0", "1")``, in node order."""
        return {node: self._states[node] for node in self.nodes if node in self._states}

    @property
    def cards(self) -> tuple[int, ...]:
        """The number of states of each node, in node order."""
        return tuple(len(self._states.get(node, BINARY)) for node in self.nodes)

    @property
    def is_binary(self) -> bool:
        """Whether every node has exactly two states (the model vector is one column each)."""
        return all(c == 2 for c in self.cards)

    @property
    def encoding(self) -> Encoding:
        """Codes to model vectors and back (``ckgan.states.Encoding``)."""
        if self._encoding is None:
            self._encoding = Encoding(self.nodes, [self.states(n) for n in self.nodes])
        return self._encoding

    def with_states(self, states: Mapping[str, Sequence[str]]) -> CausalGraph:
        """The same graph with ``states`` for the nodes named there (others keep theirs)."""
        merged = {**self._states, **{node: tuple(s) for node, s in states.items()}}
        return CausalGraph(self._graph, name=self.name, states=merged)

    def index(self, node: str) -> int:
        """The position of ``node`` in ``nodes``."""
        self.check_nodes([node])
        return self._index[node]

    def check_nodes(self, nodes: Iterable[str]) -> None:
        """Raise a ``CkganError`` naming the first node that is not in the graph."""
        for node in nodes:
            if node not in self._index:
                raise CkganError(
                    f"unknown node '{node}' in graph '{self.name}' (nodes: {', '.join(self.nodes)})"
                )

    def _sorted(self, nodes: Iterable[str]) -> list[str]:
        return sorted(nodes, key=self._index.__getitem__)

    def parents(self, node: str) -> list[str]:
        """The direct causes of ``node``, in node order."""
        self.check_nodes([node])
        return self._sorted(self._graph.predecessors(node))

    def children(self, node: str) -> list[str]:
        self.check_nodes([node])
        return self._sorted(self._graph.successors(node))

    def ancestors(self, node: str) -> list[str]:
        self.check_nodes([node])
        return self._sorted(nx.ancestors(self._graph, node))

    def descendants(self, node: str) -> list[str]:
        self.check_nodes([node])
        return self._sorted(nx.descendants(self._graph, node))

    def generations(self) -> list[list[str]]:
        """Topological generations: each one depends only on earlier ones."""
        return [self._sorted(g) for g in nx.topological_generations(self._graph)]

    def adjacency(self):
        """A ``(k, k)`` 0/1 numpy array in node order: ``A[i, j] = 1`` iff ``i -> j``."""
        import numpy as np

        a = np.zeros((len(self), len(self)), dtype=np.float32)
        for u, v in self._graph.edges:
            a[self._index[u], self._index[v]] = 1.0
        return a

    def do(self, nodes: Iterable[str]) -> CausalGraph:
        """The mutilated graph of ``do(nodes)``: their incoming edges removed."""
        nodes = list(nodes)
        self.check_nodes(nodes)
        graph = self._graph.copy()
        graph.remove_edges_from([(p, n) for n in nodes for p in list(graph.predecessors(n))])
        return CausalGraph(graph, name=f"{self.name}|do({','.join(nodes)})", states=self._states)

    # -- writing --------------------------------------------------------------

    def _state_comments(self, mark: str) -> list[str]:
        """``MARK states of NODE: a, b, c`` for each node that is not binary 0/1."""
        return [f"{mark} states of {n}: {', '.join(s)}" for n, s in self.declared_states.items()]

    def to_adjlist(self) -> str:
        """Networkx adjacency-list text: each node, in order, with its children.

        States other than binary 0/1 follow the header as comments (an adjacency
        list cannot hold them; ``to_json`` can).
        """
        lines = [f"# {self.name}: {len(self)} nodes, {len(self.edges)} edges"]
        lines += self._state_comments("#")
        lines += [" ".join([n, *self.children(n)]) for n in self.nodes]
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        lines = [f"digraph {_dot_id(self.name)} {{"]
        lines += ["  " + line for line in self._state_comments("//")]
        lines += [f"  {_dot_id(n)};" for n in self.nodes]
        lines += [f"  {_dot_id(u)} -> {_dot_id(v)};" for u, v in self.edges]
        return "\n".join(lines) + "\n}\n"

    def to_json(self) -> str:
        """ckgan's JSON; ``"states"`` only when some node is not binary 0/1."""
        data: dict[str, object] = {
            "name": self.name,
            "nodes": list(self.nodes),
            "edges": [list(e) for e in self.edges],
        }
        if self._states:
            data["states"] = {n: list(s) for n, s in self.declared_states.items()}
        return json.dumps(data, indent=2)

    def export(self, fmt: str) -> str:
        """The graph as text in ``fmt`` (one of ``FORMATS``)."""
        if fmt not in FORMATS:
            raise CkganError(f"unknown graph format '{fmt}' (known: {', '.join(FORMATS)})")
        return getattr(self, f"to_{fmt}")()

    def write(self, path: str | Path) -> None:
        """Write the graph; the format follows the extension."""
        path = Path(path)
        fmt = _READERS_BY_SUFFIX.get(path.suffix.lower())
        if fmt not in FORMATS:
            raise CkganError(f"cannot write graph format of '{path}' (use .adjlist, .dot, .json)")
        path.write_text(self.export(fmt))


def _validate(graph: nx.DiGraph, name: str) -> None:
    if graph.number_of_nodes() == 0:
        raise CkganError(f"graph '{name}' is empty: it needs at least one node")
    for node in graph.nodes:
        if not isinstance(node, str) or not NODE_NAME.match(node):
            raise CkganError(
                f"graph '{name}' has node {_show(node)}, which cannot serve as a column name: "
                "use letters, digits and '_' and start with a letter or '_'"
            )
    loops = list(nx.selfloop_edges(graph))
    if loops:
        raise CkganError(f"graph '{name}' has a self-loop on '{loops[0][0]}': remove it")
    if not nx.is_directed_acyclic_graph(graph):
        cycle = [u for u, _ in nx.find_cycle(graph)]
        path = " -> ".join([*cycle, cycle[0]])
        raise CkganError(f"graph '{name}' has a cycle {path}: a causal graph must be acyclic")


def _show(value: object, limit: int = 60) -> str:
    """``repr(value)`` on one line (repr escapes newlines), cut to about ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(text: object) -> str:
    """A parser's message squeezed onto one line (some span several)."""
    return " ".join(str(text).split())


def _dot_id(name: str) -> str:
    if NODE_NAME.match(name) and name.lower() not in _DOT_KEYWORDS:
        return name
    return json.dumps(name)


def _read_text(path: Path) -> str:
    """The file's text as UTF-8 (a byte-order mark is dropped); any failure is a ``CkganError``."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CkganError(f"cannot open graph file '{path}': {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CkganError(
            f"graph file '{path}' is not UTF-8 text ({e.reason} at byte {e.start})"
        ) from None


def _read_adjlist(text: str, path: Path) -> nx.DiGraph:
    """Networkx's adjacency list: each line a node then its children; ``#`` starts a comment.

    File order is the order of the lines' first names, then of children first
    seen, so that a graph written in topological order reads back in that order.
    """
    lines = [line.split("#", 1)[0].split() for line in text.splitlines()]
    lines = [names for names in lines if names]
    order = [names[0] for names in lines] + [child for names in lines for child in names[1:]]
    out = nx.DiGraph()
    out.add_nodes_from(dict.fromkeys(order))
    out.add_edges_from((names[0], child) for names in lines for child in names[1:])
    return out


def _read_dot(text: str, path: Path) -> nx.DiGraph:
    """A ``digraph``, its subgraphs and clusters included; node attributes are ignored."""
    import contextlib
    import io
    import warnings

    printed = io.StringIO()
    with warnings.catch_warnings():
        # pydot's parser uses pyparsing names that newer pyparsing deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        import pydot

        try:
            # pydot prints a syntax error (three lines on stdout) and returns None.
            with contextlib.redirect_stdout(printed):
                parsed = pydot.graph_from_dot_data(text)
        except Exception as e:  # pyparsing and pydot raise many types; all mean "unreadable"
            raise CkganError(f"cannot read graph file '{path}' as DOT: {_one_line(e)}") from e
    if parsed is None:
        reason = _one_line((printed.getvalue().strip().splitlines() or ["syntax error"])[-1])
        raise CkganError(f"cannot read graph file '{path}' as DOT: {reason}")
    if not parsed:
        raise CkganError(f"graph file '{path}' holds no DOT graph")
    if len(parsed) > 1:
        raise CkganError(f"graph file '{path}' holds {len(parsed)} DOT graphs: keep one")
    dot = parsed[0]
    if dot.get_type() != "digraph":
        raise CkganError(
            f"graph file '{path}' is an undirected DOT graph: write 'digraph' and '->' edges"
        )
    out = nx.DiGraph()
    _add_dot_statements(dot.obj_dict, out)
    return out


def _add_dot_statements(obj: dict, out: nx.DiGraph) -> list[str]:
    """Add the nodes and edges of a pydot (sub)graph's ``obj_dict`` to ``out``, in file order.

    Returns the (sub)graph's nodes, so that an edge to or from a subgraph
    (``A -> {B C}``) joins every one of them.
    """
    statements = [
        (item.get("sequence", 0), kind, key, item)
        for kind in ("nodes", "edges", "subgraphs")
        for key, items in obj.get(kind, {}).items()
        for item in items
    ]
    members: list[str] = []
    for _, kind, key, item in sorted(statements, key=lambda s: s[0]):
        if kind == "nodes":
            if key in ("node", "edge", "graph"):  # a default-attribute statement
                continue
            members.append(_unquote(key))
            out.add_node(members[-1])
        elif kind == "edges":
            ends = [
                [_unquote(p)] if isinstance(p, str) else _add_dot_statements(p, out)
                for p in item["points"]
            ]
            out.add_nodes_from(ends[0] + ends[1])
            out.add_edges_from((u, v) for u in ends[0] for v in ends[1])
            members += ends[0] + ends[1]
        else:
            members += _add_dot_statements(item, out)
    return members


def _unquote(name: str) -> str:
    name = str(name)
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


def _read_gml(text: str, path: Path) -> nx.DiGraph:
    try:
        graph = nx.parse_gml(text, label="label")
    except Exception as e:  # networkx's GML parser raises many types; all mean "unreadable"
        raise CkganError(f"cannot read graph file '{path}' as gml: {_one_line(e)}") from e
    if not graph.is_directed():
        raise CkganError(f"graph file '{path}' is an undirected GML graph: add 'directed 1' to it")
    out = nx.DiGraph()
    out.add_nodes_from(graph.nodes)
    out.add_edges_from(graph.edges())
    return out


_JSON_KEYS = ("name", "nodes", "edges", "states")


def _read_json(text: str, path: Path) -> nx.DiGraph:
    """``{"nodes": [names], "edges": [[u, v], ...]}``, optionally with a ``"name"``
    and ``"states": {node: [state, ...]}`` for nodes that are not binary 0/1.

    Types are checked, not coerced: a string is not a list of one-letter nodes.
    """
    where = f"graph file '{path}'"

    def unique_keys(pairs: list[tuple[str, object]]) -> dict:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise CkganError(f"{where} has the key {_show(key)} twice in one object")
            seen.add(key)
        return dict(pairs)

    try:
        data = json.loads(text, object_pairs_hook=unique_keys)
    except RecursionError:
        raise CkganError(f"{where} is not valid JSON: it is nested too deeply") from None
    except ValueError as e:
        raise CkganError(f"{where} is not valid JSON: {_one_line(e)}") from None
    shape = '{"nodes": ["A", "B"], "edges": [["A", "B"]]}'
    if not isinstance(data, dict) or "nodes" not in data:
        raise CkganError(f"{where} must be a JSON object with 'nodes' and 'edges' lists: {shape}")
    unknown = [k for k in data if k not in _JSON_KEYS]
    if unknown:
        raise CkganError(
            f"{where} has the unknown key {_show(unknown[0])} (known: {', '.join(_JSON_KEYS)})"
        )
    if "name" in data and not isinstance(data["name"], str):
        raise CkganError(f"{where}: 'name' must be a string, not {_show(data['name'])}")
    nodes, edges = data["nodes"], data.get("edges", [])
    if not isinstance(nodes, list):
        raise CkganError(f"{where}: 'nodes' must be a list of names, not {_show(nodes)}: {shape}")
    if not isinstance(edges, list):
        raise CkganError(f"{where}: 'edges' must be a list of pairs, not {_show(edges)}: {shape}")
    out = nx.DiGraph()
    for node in nodes:
        if not isinstance(node, str):
            raise CkganError(f"{where}: node {_show(node)} is not a name: write it as a string")
        if node in out:
            raise CkganError(f"{where} lists node {_show(node)} twice")
        out.add_node(node)
    for edge in edges:
        if not (isinstance(edge, list) and len(edge) == 2):
            raise CkganError(f"{where}: edge {_show(edge)} is not a pair [u, v] of node names")
        for node in edge:
            if not isinstance(node, str):
                raise CkganError(f"{where}: edge {_show(edge)} names {_show(node)}, not a string")
            if node not in out:
                raise CkganError(
                    f"{where}: edge {_show(edge)} names {_show(node)}, which is not in 'nodes'"
                )
        out.add_edge(*edge)
    states = data.get("states", {})
    if not isinstance(states, dict):
        raise CkganError(f"{where}: 'states' must map node names to lists of state names")
    for node, names in states.items():
        if node not in out:
            raise CkganError(f"{where}: 'states' names {_show(node)}, which is not in 'nodes'")
        if not isinstance(names, list):
            raise CkganError(f"{where}: the states of {_show(node)} must be a list of names")
        check_states(node, names, where)
    if states:
        out.graph["states"] = states
    return out


def _read_bif(text: str, path: Path) -> nx.DiGraph:
    from .bif import read_bif

    return read_bif(text, path)


_READ = {
    "adjlist": _read_adjlist,
    "dot": _read_dot,
    "gml": _read_gml,
    "json": _read_json,
    "bif": _read_bif,
}
