"""``BayesNet``: exact discrete causal model over binary and categorical nodes.

Conditional probability tables on a ``CausalGraph``. It is the exact truth of
synthetic datasets and the ``tabular`` label generator alike: ancestral
sampling, ``do()`` and conditioning, and exact pmfs by enumeration.

A binary node's table holds ``P(node = 1 | parents)``, shape ``parent cards``
(``(2,) * len(parents)`` when the parents are binary too), as it always did;
a node with ``k >= 3`` states has the full table ``P(node = s | parents)``,
shape ``(*parent cards, k)``. Configurations are indexed in mixed radix with
the first node (in graph order) most significant; for binary nodes that is
``index = sum(x[i] << (k - 1 - i))``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .errors import CkganError
from .graph import CausalGraph
from .states import resolve_assignment

MAX_ENUMERATED_NODES = 22
#: most configurations a pmf is enumerated over (2^22: 22 binary nodes, 15 of 3 states)
MAX_CONFIGS = 2**MAX_ENUMERATED_NODES


def _cards(k_or_cards: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(k_or_cards, (int, np.integer)):
        return (2,) * int(k_or_cards)
    return tuple(int(c) for c in k_or_cards)


def config_count(cards: Sequence[int]) -> int:
    """The number of configurations of nodes with ``cards`` states each."""
    return int(np.prod(np.asarray(cards, dtype=object))) if len(cards) else 1


def config_index(labels: np.ndarray, cards: Sequence[int] | None = None) -> np.ndarray:
    """The configuration index of each row of ``(n, k)`` codes (binary when ``cards`` is None)."""
    labels = np.asarray(labels)
    k = labels.shape[1]
    if cards is None or all(c == 2 for c in cards):
        weights = (1 << np.arange(k - 1, -1, -1)).astype(np.int64)
    else:
        weights = np.ones(k, dtype=np.int64)
        for i in range(k - 2, -1, -1):
            weights[i] = weights[i + 1] * int(cards[i + 1])
    return (labels.astype(np.int64) * weights).sum(axis=1)


def all_configs(k_or_cards: int | Sequence[int]) -> np.ndarray:
    """Every configuration of ``k`` binary nodes (or of nodes with ``cards`` states).

    Row ``i`` is the configuration of index ``i``.
    """
    cards = _cards(k_or_cards)
    total = config_count(cards)
    if total > MAX_CONFIGS:
        what = f"2^{len(cards)}" if all(c == 2 for c in cards) else f"{total:,}"
        raise CkganError(
            f"cannot enumerate {what} configurations (at most {MAX_ENUMERATED_NODES} binary "
            f"nodes, {MAX_CONFIGS:,} configurations)"
        )
    if all(c == 2 for c in cards):
        idx = np.arange(total, dtype=np.int64)[:, None]
        return ((idx >> np.arange(len(cards) - 1, -1, -1)) & 1).astype(np.uint8)
    grids = np.indices(cards, dtype=np.uint8) if cards else np.zeros((0, 1), np.uint8)
    return grids.reshape(len(cards), -1).T.copy()


def check_assignment(graph: CausalGraph, values: Mapping[str, object] | None, what: str) -> dict:
    """``{node: state name or code}`` as ``{node: code}``; the error names the node and value."""
    return resolve_assignment(graph, values, what)


class BayesNet:
    """A causal Bayesian network of discrete nodes.

    Args:
        graph: the causal graph (its states give each node's number of states).
        cpts: for each node, its table, axes in ``graph.parents(node)`` order:
            ``P(node = 1 | parents)`` of shape ``parent cards`` for a binary
            node, ``P(node = s | parents)`` of shape ``(*parent cards, k)``
            (rows summing to 1) for a node of ``k >= 3`` states.
    """

    def __init__(self, graph: CausalGraph, cpts: Mapping[str, np.ndarray]):
        self.graph = graph
        self.cpts: dict[str, np.ndarray] = {}
        self._full: dict[str, np.ndarray] = {}
        for node in graph.nodes:
            if node not in cpts:
                raise CkganError(f"no conditional probability table for node '{node}'")
            table = np.asarray(cpts[node], dtype=np.float64)
            k = len(graph.states(node))
            shape = tuple(len(graph.states(p)) for p in graph.parents(node))
            if k > 2:
                shape += (k,)
            if table.shape != shape:
                raise CkganError(f"table of '{node}' has shape {table.shape}, expected {shape}")
            if np.any(table < 0) or np.any(table > 1):
                raise CkganError(f"table of '{node}' holds values outside [0, 1]")
            if k > 2 and not np.allclose(table.sum(axis=-1), 1.0, atol=1e-6):
                raise CkganError(f"table of '{node}' has rows that do not sum to 1")
            self.cpts[node] = table
            self._full[node] = np.stack([1 - table, table], axis=-1) if k == 2 else table

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.graph.nodes

    @property
    def cards(self) -> tuple[int, ...]:
        return self.graph.cards

    def table(self, node: str) -> np.ndarray:
        """``P(node = s | parents)``, shape ``(*parent cards, k)``, for any node."""
        return self._full[node]

    @classmethod
    def fit(cls, graph: CausalGraph, labels: np.ndarray, alpha: float = 1.0) -> BayesNet:
        """Maximum-likelihood tables with add-``alpha`` smoothing from ``(n, k)`` codes."""
        labels = np.asarray(labels).astype(np.int64)
        cpts = {}
        for node in graph.nodes:
            parents = [graph.index(p) for p in graph.parents(node)]
            cards = [len(graph.states(p)) for p in graph.parents(node)]
            cells = int(np.prod(cards)) if cards else 1
            k = len(graph.states(node))
            x = labels[:, graph.index(node)]
            cell = np.zeros(len(labels), dtype=np.int64)
            for j, c in zip(parents, cards, strict=True):
                cell = cell * c + labels[:, j]
            total = np.bincount(cell, minlength=cells)
            if k == 2:
                ones = np.bincount(cell, weights=x, minlength=cells)
                cpts[node] = ((ones + alpha) / (total + 2 * alpha)).reshape(cards)
            else:
                counts = np.bincount(cell * k + x, minlength=cells * k).reshape(cells, k)
                table = (counts + alpha) / (total[:, None] + k * alpha)
                cpts[node] = table.reshape([*cards, k])
        return cls(graph, cpts)

    def sample(
        self,
        n: int,
        rng: np.random.Generator | int | None = None,
        do: Mapping[str, object] | None = None,
        noise: np.ndarray | None = None,
    ) -> np.ndarray:
        """Ancestral samples, ``(n, k)`` uint8 codes, under ``do`` when given.

        ``noise`` (``(n, k)`` uniforms) fixes the exogenous randomness, so the
        same noise under another ``do`` gives the counterfactual labels. A
        binary node is 1 where its uniform is below ``P(node = 1 | parents)``;
        a categorical one takes the state whose cumulative interval holds it.
        """
        do = check_assignment(self.graph, do, "do")
        if noise is None:
            noise = np.random.default_rng(rng).random((n, len(self.nodes)))
        elif np.shape(noise) != (n, len(self.nodes)):
            raise CkganError(f"noise has shape {np.shape(noise)}, expected {(n, len(self.nodes))}")
        out = np.zeros((n, len(self.nodes)), dtype=np.uint8)
        for i, node in enumerate(self.nodes):
            if node in do:
                out[:, i] = do[node]
                continue
            idx = tuple(out[:, self.graph.index(p)] for p in self.graph.parents(node))
            if self.cpts[node].ndim == len(idx):  # binary
                p1 = self.cpts[node][idx] if idx else np.full(n, float(self.cpts[node]))
                out[:, i] = noise[:, i] < p1
            else:
                table = self._full[node]
                probs = table[idx] if idx else np.broadcast_to(table, (n, table.shape[-1]))
                cumulative = np.cumsum(probs, axis=-1)[:, :-1]
                out[:, i] = (noise[:, i, None] >= cumulative).sum(axis=-1)
        return out

    def pmf(
        self, do: Mapping[str, object] | None = None, given: Mapping[str, object] | None = None
    ) -> np.ndarray:
        """The exact pmf over ``all_configs(cards)`` under ``do`` and ``given``."""
        do = check_assignment(self.graph, do, "do")
        given = check_assignment(self.graph, given, "given")
        configs = all_configs(self.cards)
        p = np.ones(len(configs))
        for i, node in enumerate(self.nodes):
            x = configs[:, i]
            if node in do:
                p *= x == do[node]
                continue
            idx = tuple(configs[:, self.graph.index(q)] for q in self.graph.parents(node))
            if self.cpts[node].ndim == len(idx):  # binary
                p1 = self.cpts[node][idx] if idx else float(self.cpts[node])
                p *= np.where(x == 1, p1, 1 - p1)
            else:
                p *= self._full[node][(*idx, x)]
        for node, value in given.items():
            p *= configs[:, self.graph.index(node)] == value
        total = p.sum()
        if total <= 0:
            raise CkganError(
                f"the evidence {_fmt(self.graph, given)} has probability 0 under "
                f"{_fmt(self.graph, do, 'do')}"
            )
        return p / total

    def marginals(
        self, do: Mapping[str, object] | None = None, given: Mapping[str, object] | None = None
    ) -> dict[str, float]:
        """The probability of each model-vector column under ``do`` and ``given``.

        ``P(node = 1)`` for a binary node (keyed by the node), ``P(node = s)``
        for each state of a categorical one (keyed ``node=s``).
        """
        p = self.pmf(do=do, given=given)
        return pmf_marginals(p, self.graph)

    def prob(
        self,
        event: Mapping[str, object],
        do: Mapping[str, object] | None = None,
        given: Mapping[str, object] | None = None,
    ) -> float:
        """``P(event | given)`` in the model mutilated by ``do``."""
        event = check_assignment(self.graph, event, "event")
        p = self.pmf(do=do, given=given)
        configs = all_configs(self.cards)
        mask = np.ones(len(p), dtype=bool)
        for node, value in event.items():
            mask &= configs[:, self.graph.index(node)] == value
        return float(p[mask].sum())


#: The name binary models have always had; ``BayesNet`` takes categorical nodes too.
BinaryBayesNet = BayesNet


def pmf_marginals(pmf: np.ndarray, graph: CausalGraph) -> dict[str, float]:
    """Each model-vector column's probability under ``pmf`` (over ``graph``'s configurations)."""
    configs = all_configs(graph.cards)
    vectors = graph.encoding.encode(configs)
    return {c: float(pmf @ vectors[:, j]) for j, c in enumerate(graph.encoding.columns)}


def _fmt(graph: CausalGraph, values: Mapping[str, int] | None, prefix: str = "") -> str:
    body = ", ".join(f"{k}={graph.states(k)[v]}" for k, v in (values or {}).items())
    return f"{prefix}({body})" if prefix else f"({body})"
