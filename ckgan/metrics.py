"""Distances between distributions over binary label configurations.

Every pmf here is a vector over the ``2^k`` configurations, indexed as in
``ckgan.bayesnet.config_index`` (first node most significant). The total
variation distance counts mass on configurations that one side never
produces (the reference code dropped it and renormalised).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .bayesnet import BinaryBayesNet, config_index


def empirical_pmf(labels: np.ndarray) -> np.ndarray:
    """The pmf of ``(n, k)`` 0/1 rows over all ``2^k`` configurations."""
    labels = np.asarray(labels)
    counts = np.bincount(config_index(labels), minlength=2 ** labels.shape[1])
    return counts / max(len(labels), 1)


def tv_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance ``1/2 * sum |p - q|`` between two pmfs (or sample sets).

    A 2-D argument is taken as ``(n, k)`` 0/1 samples and turned into its pmf.
    """
    p = empirical_pmf(p) if np.ndim(p) == 2 else np.asarray(p, dtype=np.float64)
    q = empirical_pmf(q) if np.ndim(q) == 2 else np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"pmfs over different spaces: {p.shape} vs {q.shape}")
    return float(0.5 * np.abs(p - q).sum())


def marginals(labels: np.ndarray, nodes: Sequence[str]) -> dict[str, float]:
    """``P(node = 1)`` of each column of ``(n, k)`` 0/1 rows."""
    mean = np.asarray(labels, dtype=np.float64).mean(axis=0)
    return {node: float(m) for node, m in zip(nodes, mean, strict=True)}


def single_node_interventions(nodes: Sequence[str]) -> list[dict[str, int]]:
    """Every single-node intervention ``{X: 0}`` and ``{X: 1}``, in node order."""
    return [{node: v} for node in nodes for v in (0, 1)]


def tv_to_truth(
    sample,
    truth: BinaryBayesNet,
    n: int = 200_000,
    interventions: Sequence[Mapping[str, int]] | None = None,
    seed: int = 0,
) -> dict[str, object]:
    """TV between a sampler and the exact model, observationally and under ``do``.

    ``sample(n, do=..., seed=...)`` draws ``(n, k)`` 0/1 rows in ``truth``'s node
    order (a ``LabelGenerator.sample`` fits).
    Returns ``{"tv_observational": float, "tv_do": {"X=v": float, ...}}``;
    ``interventions`` defaults to every single-node do.
    """
    if interventions is None:
        interventions = single_node_interventions(truth.nodes)
    result: dict[str, object] = {
        "tv_observational": tv_distance(sample(n, do=None, seed=seed), truth.pmf())
    }
    tv_do = {}
    for do in interventions:
        key = ",".join(f"{k}={v}" for k, v in do.items())
        tv_do[key] = tv_distance(sample(n, do=dict(do), seed=seed), truth.pmf(do=do))
    result["tv_do"] = tv_do
    return result
