"""``CausalGraph``: a validated DAG over named binary variables.

Inside it is a ``networkx.DiGraph``; on disk it is plain text (adjacency list,
DOT, GML or JSON). The node order is deterministic: a topological order in
which ties are broken by the order the nodes were written in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import networkx as nx

from .errors import CkganError

NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FORMATS = ("adjlist", "dot", "json")
_READERS_BY_SUFFIX = {
    ".adjlist": "adjlist",
    ".dot": "dot",
    ".gv": "dot",
    ".gml": "gml",
    ".json": "json",
}


class CausalGraph:
    """A causal DAG whose nodes are binary variables.

    Args:
        graph: a ``networkx.DiGraph``; its insertion order breaks ties in the
            topological order.
        name: a name for messages and exports.

    Raises ``CkganError`` when the graph is empty, has a self-loop or a cycle,
    or a node name that cannot serve as a column name.
    """

    def __init__(self, graph: nx.DiGraph, name: str | None = None):
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

    # -- reading --------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path: str | Path) -> CausalGraph:
        """A registered graph by name, or a graph file (format chosen by extension)."""
        text = str(name_or_path)
        path = Path(text)
        if path.suffix.lower() in _READERS_BY_SUFFIX or path.exists():
            return cls.read(path)
        from .plugins import get_registry

        obj = get_registry().get("graphs", text).load()
        if isinstance(obj, CausalGraph):
            return obj
        if isinstance(obj, nx.DiGraph):
            return cls(obj, name=text)
        return cls.read(obj, name=text)

    @classmethod
    def read(cls, path: str | Path, name: str | None = None) -> CausalGraph:
        """Read a graph file: ``.adjlist``, ``.dot``/``.gv``, ``.gml`` or ``.json``."""
        path = Path(path)
        fmt = _READERS_BY_SUFFIX.get(path.suffix.lower())
        if fmt is None:
            raise CkganError(
                f"cannot tell the format of graph file '{path}': use one of the "
                f"extensions {', '.join(_READERS_BY_SUFFIX)}"
            )
        if not path.is_file():
            raise CkganError(f"graph file '{path}' does not exist")
        try:
            graph = _READ[fmt](path)
        except CkganError:
            raise
        except Exception as e:  # parsers raise many types; all mean "unreadable"
            raise CkganError(f"cannot read graph file '{path}' as {fmt}: {e}") from e
        return cls(graph, name=name or path.stem)

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
        )

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
        return CausalGraph(graph, name=f"{self.name}|do({','.join(nodes)})")

    # -- writing --------------------------------------------------------------

    def to_adjlist(self) -> str:
        """Networkx adjacency-list text: each node, in order, with its children."""
        lines = [f"# {self.name}: {len(self)} nodes, {len(self.edges)} edges"]
        lines += [" ".join([n, *self.children(n)]) for n in self.nodes]
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        lines = [f"digraph {_dot_id(self.name)} {{"]
        lines += [f"  {n};" for n in self.nodes]
        lines += [f"  {u} -> {v};" for u, v in self.edges]
        return "\n".join(lines) + "\n}\n"

    def to_json(self) -> str:
        return json.dumps(
            {"name": self.name, "nodes": list(self.nodes), "edges": [list(e) for e in self.edges]},
            indent=2,
        )

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
                f"graph '{name}' has node {node!r}, which cannot serve as a column name: "
                "use letters, digits and '_' and start with a letter or '_'"
            )
    loops = list(nx.selfloop_edges(graph))
    if loops:
        raise CkganError(f"graph '{name}' has a self-loop on '{loops[0][0]}': remove it")
    if not nx.is_directed_acyclic_graph(graph):
        cycle = [u for u, _ in nx.find_cycle(graph)]
        path = " -> ".join([*cycle, cycle[0]])
        raise CkganError(f"graph '{name}' has a cycle {path}: a causal graph must be acyclic")


def _dot_id(name: str) -> str:
    return name if NODE_NAME.match(name) else json.dumps(name)


def _read_adjlist(path: Path) -> nx.DiGraph:
    # File order means the order of the lines' first names (each line is a node
    # followed by its children), so that writing a graph in topological order and
    # reading it back keeps that order.
    graph = nx.read_adjlist(path, create_using=nx.DiGraph, comments="#")
    heads = [line.split("#")[0].split() for line in path.read_text().splitlines()]
    order = list(dict.fromkeys([h[0] for h in heads if h] + list(graph.nodes)))
    out = nx.DiGraph()
    out.add_nodes_from(order)
    out.add_edges_from(graph.edges)
    return out


def _read_dot(path: Path) -> nx.DiGraph:
    import warnings

    with warnings.catch_warnings():
        # pydot's parser uses pyparsing names that newer pyparsing deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        import pydot

        parsed = pydot.graph_from_dot_file(str(path))
    if not parsed:
        raise CkganError(f"graph file '{path}' holds no DOT graph")
    dot = parsed[0]
    if dot.get_type() != "digraph":
        raise CkganError(
            f"graph file '{path}' is an undirected DOT graph: write 'digraph' and '->' edges"
        )
    graph = nx.nx_pydot.from_pydot(dot)
    out = nx.DiGraph()
    out.add_nodes_from(_unquote(n) for n in graph.nodes)
    out.add_edges_from((_unquote(u), _unquote(v)) for u, v in graph.edges())
    return out


def _unquote(name: str) -> str:
    name = str(name)
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


def _read_gml(path: Path) -> nx.DiGraph:
    graph = nx.read_gml(path)
    if not graph.is_directed():
        raise CkganError(f"graph file '{path}' is an undirected GML graph: add 'directed 1' to it")
    out = nx.DiGraph()
    out.add_nodes_from(graph.nodes)
    out.add_edges_from(graph.edges())
    return out


def _read_json(path: Path) -> nx.DiGraph:
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or "nodes" not in data:
        raise CkganError(
            f"graph file '{path}' must be a JSON object with 'nodes' and 'edges' lists"
        )
    out = nx.DiGraph()
    out.add_nodes_from(data["nodes"])
    for edge in data.get("edges", []):
        u, v = edge
        for node in (u, v):
            if node not in out:
                raise CkganError(f"graph file '{path}': edge {u} -> {v} names unknown node {node}")
        out.add_edge(u, v)
    return out


_READ = {"adjlist": _read_adjlist, "dot": _read_dot, "gml": _read_gml, "json": _read_json}
