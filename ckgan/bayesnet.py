"""``BinaryBayesNet``: exact discrete causal model over binary nodes.

Conditional probability tables on a ``CausalGraph``. It is the exact truth of
synthetic datasets and the ``tabular`` label generator alike: ancestral
sampling, ``do()`` and conditioning, and exact pmfs by enumeration.

Configurations are indexed with the first node (in graph order) as the most
significant bit: ``index = sum(x[i] << (k - 1 - i))``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import CkganError
from .graph import CausalGraph

MAX_ENUMERATED_NODES = 22


def config_index(labels: np.ndarray) -> np.ndarray:
    """The configuration index of each row of an ``(n, k)`` 0/1 array."""
    labels = np.asarray(labels)
    k = labels.shape[1]
    weights = (1 << np.arange(k - 1, -1, -1)).astype(np.int64)
    return (labels.astype(np.int64) * weights).sum(axis=1)


def all_configs(k: int) -> np.ndarray:
    """Every 0/1 configuration of ``k`` nodes, row ``i`` having index ``i``."""
    if k > MAX_ENUMERATED_NODES:
        raise CkganError(
            f"cannot enumerate 2^{k} configurations (at most {MAX_ENUMERATED_NODES} nodes)"
        )
    idx = np.arange(2**k, dtype=np.int64)[:, None]
    return ((idx >> np.arange(k - 1, -1, -1)) & 1).astype(np.uint8)


def check_assignment(graph: CausalGraph, values: Mapping[str, int] | None, what: str) -> dict:
    """Validate a ``{node: 0/1}`` mapping; the error names the bad node or value."""
    values = dict(values or {})
    graph.check_nodes(values)
    for node, value in values.items():
        if isinstance(value, str) or value not in (0, 1):
            raise CkganError(f"{what} {node}={value}: values must be 0 or 1")
    return {node: int(v) for node, v in values.items()}


class BinaryBayesNet:
    """A causal Bayesian network of binary nodes.

    Args:
        graph: the causal graph.
        cpts: for each node, an array of shape ``(2,) * len(parents)`` holding
            ``P(node = 1 | parents)``, its axes in ``graph.parents(node)`` order.
    """

    def __init__(self, graph: CausalGraph, cpts: Mapping[str, np.ndarray]):
        self.graph = graph
        self.cpts = {}
        for node in graph.nodes:
            if node not in cpts:
                raise CkganError(f"no conditional probability table for node '{node}'")
            table = np.asarray(cpts[node], dtype=np.float64)
            shape = (2,) * len(graph.parents(node))
            if table.shape != shape:
                raise CkganError(f"table of '{node}' has shape {table.shape}, expected {shape}")
            if np.any(table < 0) or np.any(table > 1):
                raise CkganError(f"table of '{node}' holds values outside [0, 1]")
            self.cpts[node] = table

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.graph.nodes

    @classmethod
    def fit(cls, graph: CausalGraph, labels: np.ndarray, alpha: float = 1.0) -> BinaryBayesNet:
        """Maximum-likelihood tables with add-``alpha`` smoothing from ``(n, k)`` labels."""
        labels = np.asarray(labels).astype(np.int64)
        cpts = {}
        for node in graph.nodes:
            parents = [graph.index(p) for p in graph.parents(node)]
            x = labels[:, graph.index(node)]
            cell = np.zeros(len(labels), dtype=np.int64)
            for j in parents:
                cell = cell * 2 + labels[:, j]
            ones = np.bincount(cell, weights=x, minlength=2 ** len(parents))
            total = np.bincount(cell, minlength=2 ** len(parents))
            cpts[node] = ((ones + alpha) / (total + 2 * alpha)).reshape((2,) * len(parents))
        return cls(graph, cpts)

    def sample(
        self,
        n: int,
        rng: np.random.Generator | int | None = None,
        do: Mapping[str, int] | None = None,
        noise: np.ndarray | None = None,
    ) -> np.ndarray:
        """Ancestral samples, ``(n, k)`` uint8, under ``do`` when given.

        ``noise`` (``(n, k)`` uniforms) fixes the exogenous randomness, so the
        same noise under another ``do`` gives the counterfactual labels.
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
            p1 = self.cpts[node][idx] if idx else np.full(n, float(self.cpts[node]))
            out[:, i] = noise[:, i] < p1
        return out

    def pmf(
        self, do: Mapping[str, int] | None = None, given: Mapping[str, int] | None = None
    ) -> np.ndarray:
        """The exact pmf over all ``2^k`` configurations under ``do`` and ``given``."""
        do = check_assignment(self.graph, do, "do")
        given = check_assignment(self.graph, given, "given")
        configs = all_configs(len(self.nodes))
        p = np.ones(len(configs))
        for i, node in enumerate(self.nodes):
            x = configs[:, i]
            if node in do:
                p *= x == do[node]
                continue
            idx = tuple(configs[:, self.graph.index(q)] for q in self.graph.parents(node))
            p1 = self.cpts[node][idx] if idx else float(self.cpts[node])
            p *= np.where(x == 1, p1, 1 - p1)
        for node, value in given.items():
            p *= configs[:, self.graph.index(node)] == value
        total = p.sum()
        if total <= 0:
            raise CkganError(f"the evidence {_fmt(given)} has probability 0 under {_fmt(do, 'do')}")
        return p / total

    def marginals(
        self, do: Mapping[str, int] | None = None, given: Mapping[str, int] | None = None
    ) -> dict[str, float]:
        """``P(node = 1)`` for every node under ``do`` and ``given``."""
        p = self.pmf(do=do, given=given)
        configs = all_configs(len(self.nodes))
        return {node: float(p @ configs[:, i]) for i, node in enumerate(self.nodes)}

    def prob(
        self,
        event: Mapping[str, int],
        do: Mapping[str, int] | None = None,
        given: Mapping[str, int] | None = None,
    ) -> float:
        """``P(event | given)`` in the model mutilated by ``do``."""
        event = check_assignment(self.graph, event, "event")
        p = self.pmf(do=do, given=given)
        configs = all_configs(len(self.nodes))
        mask = np.ones(len(p), dtype=bool)
        for node, value in event.items():
            mask &= configs[:, self.graph.index(node)] == value
        return float(p[mask].sum())


def _fmt(values: Mapping[str, int] | None, prefix: str = "") -> str:
    body = ", ".join(f"{k}={v}" for k, v in (values or {}).items())
    return f"{prefix}({body})" if prefix else f"({body})"
