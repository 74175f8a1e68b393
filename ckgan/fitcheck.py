"""Family by family: does a label generator's ``P(node | parents)`` match the data's?

A generator can match the observational joint closely (its TV small) and yet
be wrong in a family the data show rarely: asia's ``either`` is ``lung OR
tub``, ``lung=1`` in 5% of the rows; a generator that draws ``either=0``
given ``lung=1`` loses little observationally and is wrong on every sample
under ``do(lung=1)``. ``family_check`` compares, for each node and each parent
configuration the data show often enough, the model's ``P(node=1 | parents)``
with the data's, and names the families far off and the configurations
where the data are deterministic and the model is not. The model's side is
read twice: under ``do(parents=c)``, which in a causal generator is its
mechanism ``P(node | parents=c)`` itself, even where it rarely draws ``c``;
and from its observational rows that show ``c`` (where it draws ``c`` often
enough), which is what it does when its parents are its own outputs (a
controller's children read un-rounded values there). The worse of the two
counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: data rows a parent configuration needs before its family is checked
MIN_SUPPORT = 50
#: a family is far off when model and data differ by more than this plus
#: three standard errors of the data's estimate
TOLERANCE = 0.1
#: a value the data show at least ``min_support`` times given its parents is
#: lost when the model draws it at less than this share of the data's rate
LOST_RATIO = 0.2
#: a deterministic family is broken when the model draws the value the data
#: never show more often than this
DETERMINISTIC_TOLERANCE = 0.01


def family_counts(
    labels: np.ndarray, child: int, parents: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parent configurations present in ``labels``, their row counts and child ones.

    Returns ``(configs, rows, ones)``: ``configs`` ``(m, len(parents))`` uint8,
    one row per configuration that occurs (in lexicographic order), ``rows``
    and ``ones`` ``(m,)`` int64 (how many rows show it, and how many of those
    have ``child = 1``). Without parents, one empty configuration.
    """
    labels = np.asarray(labels)
    parents = list(parents)
    x = labels[:, child].astype(np.int64)
    if not parents:
        return np.zeros((1, 0), np.uint8), np.array([len(x)]), np.array([int(x.sum())])
    configs, cell = np.unique(labels[:, parents].astype(np.uint8), axis=0, return_inverse=True)
    cell = np.asarray(cell).reshape(-1)
    rows = np.bincount(cell, minlength=len(configs)).astype(np.int64)
    ones = np.bincount(cell, weights=x, minlength=len(configs)).astype(np.int64)
    return configs, rows, ones


def family_check(
    generator,
    data_labels: np.ndarray,
    n: int = 200_000,
    min_support: int = MIN_SUPPORT,
    tolerance: float = TOLERANCE,
    deterministic_tolerance: float = DETERMINISTIC_TOLERANCE,
    n_per_config: int = 20_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare a generator's families with the data's; a JSON-serialisable report.

    ``generator`` is a fitted ``LabelGenerator`` (``graph`` and
    ``sample(n, do=, seed=)``); ``data_labels`` ``(rows, k)`` 0/1 in its
    graph's node order. For every node and every parent configuration ``c``
    with at least ``min_support`` data rows, the data's ``P(node=1 | c)`` is
    compared with the model's, drawn with ``n_per_config`` rows under
    ``do(parents=c)`` and read from ``n`` observational rows where they show
    ``c`` at least ``min_support`` times; the one farther from the data
    counts. Returns:

    - ``far_off``: the families whose difference exceeds ``tolerance`` plus
      three standard errors of the data's estimate (``"reason":
      "difference"``), or where the model draws a value that the data show
      at least ``min_support`` times at less than ``LOST_RATIO`` of the
      data's rate (``"reason": "value lost"``: asia's ``lung=1``, 1 row in
      18, never drawn), worst first, each
      ``{"node", "parents": {name: value}, "data_p", "model_p", "support",
      "difference", "model_p_do", "model_p_observed"}`` (``model_p``: the
      farther of the last two; ``model_p_observed`` ``None`` where the model
      draws ``c`` too rarely);
    - ``impossible``: configurations where the data are deterministic (every
      one of at least ``min_support`` rows has the same child value) and the
      model draws the other value with probability above
      ``deterministic_tolerance``; each adds ``"model_rate_of_parents"`` (how
      often the model draws ``c`` observationally) and ``"impossible_rate"``
      (the share of its observational rows that show the impossible pair);
    - ``families_checked``, ``configs_checked``, ``configs_skipped`` (too
      little support), ``worst_difference``, ``ok`` and a one-line ``summary``.
    """
    graph = generator.graph
    data = np.asarray(data_labels)
    nodes = list(graph.nodes)
    observed = generator.sample(n, seed=seed)
    far_off: list[dict[str, Any]] = []
    impossible: list[dict[str, Any]] = []
    checked = skipped = families = 0
    worst = 0.0
    for i, node in enumerate(nodes):
        parents = list(graph.parents(node))
        cols = [graph.index(p) for p in parents]
        configs, rows, ones = family_counts(data, i, cols)
        families += 1
        for config, support, k in zip(configs, rows, ones, strict=True):
            if support < min_support:
                skipped += 1
                continue
            checked += 1
            assignment = {p: int(v) for p, v in zip(parents, config, strict=True)}
            data_p = float(k / support)
            match = np.all(observed[:, cols] == config, axis=1)
            seen = None
            if match.sum() >= min_support:
                seen = float(observed[match, i].mean())
            if parents:
                drawn = generator.sample(n_per_config, do=assignment, seed=seed + 1 + checked)
                done = float(drawn[:, i].mean())
            else:
                done = seen
            candidates = [p for p in (done, seen) if p is not None]
            if not candidates:
                skipped += 1
                checked -= 1
                continue
            model_p = max(candidates, key=lambda p: abs(p - data_p))
            difference = abs(model_p - data_p)
            worst = max(worst, difference)
            entry = {
                "node": node,
                "parents": assignment,
                "data_p": data_p,
                "model_p": model_p,
                "support": int(support),
                "difference": difference,
                "model_p_do": done,
                "model_p_observed": seen,
            }
            stderr = np.sqrt(data_p * (1 - data_p) / support)
            lost = (k >= min_support and model_p < LOST_RATIO * data_p) or (
                support - k >= min_support and 1 - model_p < LOST_RATIO * (1 - data_p)
            )
            if difference > tolerance + 3 * stderr:
                far_off.append({**entry, "reason": "difference"})
            elif lost:
                far_off.append({**entry, "reason": "value lost"})
            if data_p in (0.0, 1.0):
                other = model_p if data_p == 0.0 else 1.0 - model_p
                if other > deterministic_tolerance:
                    wrong = match & (observed[:, i] != int(data_p))
                    impossible.append(
                        {
                            **entry,
                            "data_value": int(data_p),
                            "model_p_other": other,
                            "model_rate_of_parents": float(match.mean()),
                            "impossible_rate": float(wrong.mean()),
                        }
                    )
    far_off.sort(key=lambda e: -e["difference"])
    impossible.sort(key=lambda e: -e["model_p_other"])
    return {
        "n": int(n),
        "n_per_config": int(n_per_config),
        "min_support": int(min_support),
        "tolerance": float(tolerance),
        "deterministic_tolerance": float(deterministic_tolerance),
        "families_checked": families,
        "configs_checked": checked,
        "configs_skipped": skipped,
        "worst_difference": worst,
        "far_off": far_off,
        "impossible": impossible,
        "ok": not far_off and not impossible,
        "summary": _summary(far_off, impossible, checked),
    }


def _describe(entry: dict[str, Any]) -> str:
    given = ", ".join(f"{p}={v}" for p, v in entry["parents"].items())
    where = f" given {given}" if given else ""
    return (
        f"P({entry['node']}=1{where}): data {entry['data_p']:.2f} "
        f"({entry['support']} rows), model {entry['model_p']:.2f}"
    )


def _summary(far_off: list, impossible: list, checked: int) -> str:
    if not far_off and not impossible:
        return f"every family matches the data ({checked} parent configurations checked)"
    parts = []
    if far_off:
        parts.append(
            f"{len(far_off)} of {checked} parent configurations far off "
            f"(worst {_describe(far_off[0])})"
        )
    if impossible:
        parts.append(
            f"{len(impossible)} where the data are deterministic and the model is not "
            f"(worst {_describe(impossible[0])})"
        )
    return "; ".join(parts) + ": do() through these families is not to be trusted"
