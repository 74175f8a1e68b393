"""Distances between distributions over discrete label configurations.

Every pmf here is a vector over all configurations, indexed as in
``ckgan.bayesnet.config_index`` (first node most significant; mixed radix
when nodes have more than two states, so ``cards`` must be given then). The
total variation distance counts mass on configurations that one side never
produces (the reference code dropped it and renormalised).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .bayesnet import BayesNet, config_count, config_index


def empirical_pmf(labels: np.ndarray, cards: Sequence[int] | None = None) -> np.ndarray:
    """The pmf of ``(n, k)`` codes over all configurations (binary when ``cards`` is None)."""
    labels = np.asarray(labels)
    size = 2 ** labels.shape[1] if cards is None else config_count(cards)
    counts = np.bincount(config_index(labels, cards), minlength=size)
    return counts / max(len(labels), 1)


def tv_distance(p: np.ndarray, q: np.ndarray, cards: Sequence[int] | None = None) -> float:
    """Total variation distance ``1/2 * sum |p - q|`` between two pmfs (or sample sets).

    A 2-D argument is taken as ``(n, k)`` codes (binary unless ``cards`` says
    otherwise) and turned into its pmf.
    """
    p = empirical_pmf(p, cards) if np.ndim(p) == 2 else np.asarray(p, dtype=np.float64)
    q = empirical_pmf(q, cards) if np.ndim(q) == 2 else np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"pmfs over different spaces: {p.shape} vs {q.shape}")
    return float(0.5 * np.abs(p - q).sum())


def marginals(labels: np.ndarray, nodes) -> dict[str, float]:
    """Each model-vector column's share in ``(n, k)`` codes.

    ``nodes`` is a ``CausalGraph`` (``P(X=1)`` keyed ``X`` for a binary node,
    ``P(X=s)`` keyed ``X=s`` for each state of a categorical one) or, for
    binary labels, the node names.
    """
    if hasattr(nodes, "encoding"):
        encoding = nodes.encoding
        columns, labels = encoding.columns, encoding.encode(np.asarray(labels))
    else:
        columns = nodes
    mean = np.asarray(labels, dtype=np.float64).mean(axis=0)
    return {column: float(m) for column, m in zip(columns, mean, strict=True)}


def single_node_interventions(
    nodes: Sequence[str], cards: Sequence[int] | None = None
) -> list[dict[str, int]]:
    """Every single-node intervention ``{X: v}``, every state ``v`` of every node, in node order."""
    cards = cards or [2] * len(nodes)
    return [{node: v} for node, k in zip(nodes, cards, strict=True) for v in range(k)]


def _state_name(truth, node: str, value) -> str:
    graph = getattr(truth, "graph", None)
    if graph is None or isinstance(value, str):
        return str(value)
    return graph.states(node)[int(value)]


def tv_to_truth(
    sample,
    truth: BayesNet,
    n: int = 200_000,
    interventions: Sequence[Mapping[str, int]] | None = None,
    seed: int = 0,
) -> dict[str, object]:
    """TV between a sampler and the exact model, observationally and under ``do``.

    ``sample(n, do=..., seed=...)`` draws ``(n, k)`` codes in ``truth``'s node
    order (a ``LabelGenerator.sample`` fits).
    Returns ``{"tv_observational": float, "tv_do": {"X=v": float, ...}}``, each
    ``v`` a state name (``0``/``1`` for binary nodes); ``interventions``
    defaults to every single-node do.
    """
    cards = getattr(truth, "cards", None)
    if interventions is None:
        interventions = single_node_interventions(truth.nodes, cards)
    result: dict[str, object] = {
        "tv_observational": tv_distance(sample(n, do=None, seed=seed), truth.pmf(), cards)
    }
    tv_do = {}
    for do in interventions:
        key = ",".join(f"{k}={_state_name(truth, k, v)}" for k, v in do.items())
        tv_do[key] = tv_distance(sample(n, do=dict(do), seed=seed), truth.pmf(do=do), cards)
    result["tv_do"] = tv_do
    return result
