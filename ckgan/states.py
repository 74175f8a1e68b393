"""The states of label nodes, and the vectors models see.

Every node has an ordered tuple of state names; inside ckgan a node's value
is the integer code of its state, ``0 .. k-1``, and label rows are ``(n, nodes)``
uint8 arrays of codes. A node without declared states is binary, ``("0", "1")``,
as every node was before categorical labels.

Models (the neural label generators' critics, the image stages, the judge)
see a float **model vector** instead: a node with two states is one 0/1
column (code 1 is 1), named after the node, exactly as before; a node with
``k >= 3`` states is a one-hot block of ``k`` columns named ``NODE=STATE``.
Two states need no more than one column, and keeping them at one column
keeps every binary run folder's models, files and draws as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .errors import CkganError

#: the states of a binary node: code 0 is "0", code 1 is "1"
BINARY = ("0", "1")
#: most states a node may have. Tables grow as k^(parents + 1) and one-hot
#: blocks as k; a CSV column with more distinct values is far more often an
#: id, a count or a measurement than a label (bnlearn's networks have at most
#: 11 states per node except pathfinder's 63).
MAX_STATES = 32
_FORBIDDEN = set(',"')


def check_states(node: str, states: Iterable[object], where: str) -> tuple[str, ...]:
    """``states`` as a tuple of names, checked: 2 to ``MAX_STATES`` distinct, printable names.

    A name may not be empty, start or end with a space, or hold a comma or a
    double quote (it is written unquoted in CSV files and messages).
    """
    names = tuple(states) if not isinstance(states, str) else (states,)
    for name in names:
        if not isinstance(name, str):
            raise CkganError(f"{where}: state {name!r} of '{node}' is not a name (a string)")
        if not name or name != name.strip() or not name.isprintable() or _FORBIDDEN & set(name):
            raise CkganError(
                f"{where}: state {name!r} of '{node}' is not a usable name (non-empty, "
                "printable, no surrounding spaces, no comma or double quote)"
            )
    if len(names) < 2:
        raise CkganError(
            f"{where}: node '{node}' has {len(names)} state(s); a label needs 2 or more"
        )
    if len(names) > MAX_STATES:
        raise CkganError(
            f"{where}: node '{node}' has {len(names)} states; at most {MAX_STATES} are supported"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise CkganError(f"{where}: node '{node}' lists state '{name}' twice")
        seen.add(name)
    return names


def is_integer_text(text: str) -> bool:
    """Whether ``text`` is an integer written plainly (``-2``, ``0``, ``+1``, ``17``)."""
    body = text[1:] if text[:1] in "+-" else text
    return body.isascii() and body.isdigit()


def default_order(values: Iterable[str]) -> tuple[str, ...]:
    """The order of a column's states when nothing declares one.

    Integers in numeric order when every value is one, else the names sorted
    as text (``no`` before ``yes``, ``adult`` before ``old`` before ``young``):
    the same order whatever the order of the rows.
    """
    values = sorted(set(values))
    if values and all(is_integer_text(v) for v in values):
        return tuple(sorted(values, key=lambda v: (int(v), v)))
    return tuple(values)


class Encoding:
    """Codes to model vectors and back, for ``nodes`` with ``cards`` states each.

    ``columns`` names the model vector's columns; ``blocks[i]`` is node ``i``'s
    ``(start, stop)`` in it. With only binary nodes the model vector is the
    codes themselves (``identity``).
    """

    def __init__(self, nodes: Sequence[str], states: Sequence[Sequence[str]]):
        self.nodes = tuple(nodes)
        self.states = tuple(tuple(s) for s in states)
        self.cards = tuple(len(s) for s in self.states)
        columns: list[str] = []
        blocks = []
        for node, names in zip(self.nodes, self.states, strict=True):
            start = len(columns)
            if len(names) == 2:
                columns.append(node)
            else:
                columns += [f"{node}={name}" for name in names]
            blocks.append((start, len(columns)))
        self.columns = tuple(columns)
        self.blocks = tuple(blocks)
        self.width = len(columns)
        self.identity = all(c == 2 for c in self.cards)
        #: for each column: its node's index, and the state it is the indicator of
        self.column_node = np.array(
            [i for i, (a, b) in enumerate(self.blocks) for _ in range(a, b)], dtype=np.int64
        )
        self.column_state = np.array(
            [1 if b - a == 1 else j for (a, b) in self.blocks for j in range(b - a)],
            dtype=np.int64,
        )

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """``(n, nodes)`` codes as ``(n, width)`` float32 model vectors."""
        codes = np.asarray(codes)
        if self.identity:
            return codes.astype("float32")
        return (codes[:, self.column_node] == self.column_state).astype("float32")

    def decode(self, vectors: np.ndarray) -> np.ndarray:
        """``(n, width)`` model vectors (soft ones too) as ``(n, nodes)`` uint8 codes.

        A binary column is rounded at 0.5; a one-hot block gives its largest entry.
        """
        vectors = np.asarray(vectors)
        if self.identity:
            return (vectors >= 0.5).astype(np.uint8)
        out = np.empty((len(vectors), len(self.nodes)), dtype=np.uint8)
        for i, (a, b) in enumerate(self.blocks):
            if b - a == 1:
                out[:, i] = vectors[:, a] >= 0.5
            else:
                out[:, i] = np.argmax(vectors[:, a:b], axis=1)
        return out


def resolve_value(node: str, states: Sequence[str], value: object, what: str) -> int:
    """The code of ``value`` for ``node``: an integer is a code; text is a state name, or a code.

    Text names a state first (exactly, else ignoring case where that names
    one state only); integer text is a code ``0 .. k-1`` only when
    the node's state names are not integers themselves (``age=2`` is ``old``
    for young/adult/old; a node with states 1, 2, 3 takes its names only).
    Binary nodes with the default states take ``0`` and ``1``.
    """
    states = tuple(states)
    numeric_names = all(is_integer_text(s) for s in states)
    code = None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        code = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text in states:
            return states.index(text)
        folded = [s.casefold() for s in states]
        if folded.count(text.casefold()) == 1:  # high for HIGH, as CSV cells are matched
            return folded.index(text.casefold())
        if is_integer_text(text) and not numeric_names:
            code = int(text)
    if code is not None and 0 <= code < len(states):
        return code
    if states == BINARY:
        raise CkganError(f"{what} {node}={value}: values must be 0 or 1")
    codes = "" if numeric_names else f" (or their codes 0-{len(states) - 1})"
    raise CkganError(f"{what} {node}={value}: '{node}' has the states {', '.join(states)}{codes}")


def resolve_assignment(graph, values: Mapping[str, object] | None, what: str) -> dict[str, int]:
    """``{node: state name or code}`` as ``{node: code}``; errors name the node and value."""
    values = dict(values or {})
    graph.check_nodes(values)
    return {node: resolve_value(node, graph.states(node), v, what) for node, v in values.items()}


def describe(graph, values: Mapping[str, int]) -> str:
    """``X=v, Y=w`` with each code written as its state name."""
    return ", ".join(f"{k}={graph.states(k)[int(v)]}" for k, v in values.items())
