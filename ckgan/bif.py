"""A small reader of BIF (the Bayesian Interchange Format of bnlearn's repository).

``read_bif`` takes what a causal graph needs from a ``.bif`` file: its
variables in file order, each one's states in their declared order, and the
edges that its ``probability ( child | parents )`` blocks name. The tables
themselves are read over, not kept: ckgan learns its own from data. It reads
the files bnlearn publishes and pgmpy writes (``network``, ``variable`` with
``type discrete [ k ] { s1, s2, ... };`` and ``property`` lines, ``probability``
blocks), ``//`` and ``/* */`` comments, and names with dots, dashes or other
signs in states (``<5``, ``5-12``). Any other text is a one-line
``CkganError`` naming the line.
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx

from .errors import CkganError

_TOKEN = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|"[^"\n]*"|[{}()\[\],;|]|[^\s{}()\[\],;|"]+', re.S)


class _Tokens:
    """The file's tokens with their line numbers; ``take`` checks what it expects."""

    def __init__(self, text: str, path: Path):
        self.path = path
        self.items: list[tuple[str, int]] = []
        line, pos = 1, 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:  # an unclosed quote
                self.fail(line, f"cannot read {text[pos : pos + 20]!r}")
            token = match.group()
            if token.startswith("/*") and not token.endswith("*/"):
                self.fail(line, "cannot read: a '/*' comment opened here is never closed")
            if not (token.isspace() or token.startswith(("//", "/*"))):
                self.items.append((token, line))
            line += token.count("\n")
            pos = match.end()
        self.i = 0

    def fail(self, line: int, message: str):
        raise CkganError(f"cannot read graph file '{self.path}' as BIF: line {line}: {message}")

    def peek(self) -> str | None:
        return self.items[self.i][0] if self.i < len(self.items) else None

    @property
    def line(self) -> int:
        if self.i < len(self.items):
            return self.items[self.i][1]
        return self.items[-1][1] if self.items else 1

    def next(self, what: str) -> str:
        if self.i >= len(self.items):
            self.fail(self.line, f"the file ends where {what} was expected")
        token = self.items[self.i][0]
        self.i += 1
        return token

    def take(self, expected: str, after: str) -> None:
        line = self.line
        token = self.next(f"'{expected}' {after}")
        if token != expected:
            self.fail(line, f"expected '{expected}' {after}, found {token!r}")

    def name(self, what: str) -> str:
        line = self.line
        token = self.next(what)
        if token in "{}()[],;|":
            self.fail(line, f"expected {what}, found {token!r}")
        return token[1:-1].strip() if token.startswith('"') else token

    def skip_statement(self) -> None:
        """Up to and including the next ``;`` (a ``property`` line)."""
        while self.next("';' ending the statement") != ";":
            pass


def read_bif(text: str, path: Path) -> nx.DiGraph:
    """The graph of a BIF file: variables as nodes (file order), ``graph["states"]``."""
    tokens = _Tokens(text, path)
    states: dict[str, list[str]] = {}
    declared_at: dict[str, int] = {}
    families: list[tuple[str, list[str], int]] = []
    while tokens.peek() is not None:
        line = tokens.line
        keyword = tokens.next("a block")
        if keyword == "network":
            if tokens.peek() != "{":
                tokens.name("the network's name")
            _skip_block(tokens, "network")
        elif keyword == "variable":
            node = tokens.name("a variable name")
            if node in states:
                tokens.fail(line, f"variable '{node}' is declared twice (first on line "
                                  f"{declared_at[node]})")  # fmt: skip
            declared_at[node] = line
            states[node] = _variable(tokens, node)
        elif keyword == "probability":
            families.append((*_family(tokens), line))
        else:
            tokens.fail(line, f"expected 'network', 'variable' or 'probability', found {keyword!r}")
    if not states:
        raise CkganError(f"graph file '{path}' declares no variable: it is not a BIF network")
    out = nx.DiGraph()
    out.add_nodes_from(states)
    seen: dict[str, int] = {}
    for child, parents, line in families:
        for node in (child, *parents):
            if node not in states:
                tokens.fail(line, f"probability ( {child} | ... ) names '{node}', which no "
                                  "variable declares")  # fmt: skip
        if child in seen:
            tokens.fail(line, f"'{child}' has a second probability block (first on line "
                              f"{seen[child]})")  # fmt: skip
        seen[child] = line
        if len(set(parents)) != len(parents):
            tokens.fail(line, f"probability ( {child} | ... ) names a parent twice")
        out.add_edges_from((p, child) for p in parents)
    out.graph["states"] = states
    return out


def _skip_block(tokens: _Tokens, what: str) -> None:
    """``{ ... }``: properties only (a network block), read over."""
    tokens.take("{", f"opening the {what} block")
    while tokens.peek() != "}":
        line = tokens.line
        keyword = tokens.next(f"'}}' closing the {what} block")
        if keyword != "property":
            tokens.fail(line, f"expected 'property' or '}}' in the {what} block, found {keyword!r}")
        tokens.skip_statement()
    tokens.next("'}'")


def _variable(tokens: _Tokens, node: str) -> list[str]:
    """``{ type discrete [ k ] { s1, ..., sk }; property ...; }``: the states."""
    tokens.take("{", f"after 'variable {node}'")
    names: list[str] | None = None
    while tokens.peek() != "}":
        line = tokens.line
        keyword = tokens.next(f"'}}' closing variable '{node}'")
        if keyword == "property":
            tokens.skip_statement()
            continue
        if keyword != "type":
            tokens.fail(line, f"expected 'type' or 'property' in variable '{node}', found "
                              f"{keyword!r}")  # fmt: skip
        kind = tokens.next("'discrete'")
        if kind != "discrete":
            tokens.fail(line, f"variable '{node}' is of type {kind!r}: only discrete ones are read")
        tokens.take("[", "before the number of states")
        count = tokens.next("the number of states")
        if not count.isdigit():
            tokens.fail(line, f"the number of states of '{node}' is {count!r}, not a number")
        tokens.take("]", "after the number of states")
        tokens.take("{", "before the state names")
        names = [tokens.name("a state name")]
        while tokens.peek() == ",":
            tokens.next("','")
            names.append(tokens.name("a state name"))
        tokens.take("}", f"after the states of '{node}'")
        tokens.take(";", f"after the states of '{node}'")
        if int(count) != len(names):
            tokens.fail(line, f"variable '{node}' says [ {count} ] states but lists {len(names)}")
    tokens.next("'}'")
    if names is None:
        tokens.fail(tokens.line, f"variable '{node}' has no 'type discrete [ k ] {{ ... }};' line")
    return names


def _family(tokens: _Tokens) -> tuple[str, list[str]]:
    """``( child | p1, p2 ) { ... }``: the child and its parents; the table is read over."""
    tokens.take("(", "after 'probability'")
    child = tokens.name("the variable of a probability block")
    parents: list[str] = []
    if tokens.peek() == "|":
        tokens.next("'|'")
        parents.append(tokens.name("a parent"))
        while tokens.peek() == ",":
            tokens.next("','")
            parents.append(tokens.name("a parent"))
    tokens.take(")", f"closing probability ( {child} ...")
    tokens.take("{", f"opening the table of '{child}'")
    while True:
        line = tokens.line
        token = tokens.next(f"'}}' closing the table of '{child}'")
        if token == "}":
            return child, parents
        if token in "{":
            tokens.fail(line, f"unexpected '{{' in the table of '{child}'")
