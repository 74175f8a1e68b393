"""Family by family: does a label generator's ``P(node | parents)`` match the data's?

A generator can match the observational joint closely (its TV small) and yet
be wrong in a family the data show rarely: asia's ``either`` is ``lung OR
tub``, ``lung=1`` in 5% of the rows; a generator that draws ``either=0``
given ``lung=1`` loses little observationally and is wrong on every sample
under ``do(lung=1)``. ``family_check`` compares, for each node and each parent
configuration the data show often enough, the model's ``P(node | parents)``
with the data's (state by state; ``P(node=1 | parents)`` for a binary node),
and names the families far off and the configurations where the data are
deterministic and the model is not. The model's side is
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
#: the thin configurations (fewer rows than ``min_support``) a report names, rarest first
MAX_THIN = 20
#: a value the data show at least ``min_support`` times given its parents is
#: lost when the model draws it at less than this share of the data's rate
LOST_RATIO = 0.2
#: a deterministic family is broken when the model draws a value the data
#: never show more often than this, or than ``3 / rows`` (the rule of three:
#: a rate never seen in ``rows`` draws may still be up to 3 / rows; add-one
#: tables of k states give the unseen values (k - 1) / (rows + k))
DETERMINISTIC_TOLERANCE = 0.01


def family_table(
    labels: np.ndarray, child: int, parents: Sequence[int], states: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parent configurations present in ``labels``, their rows and child counts by state.

    Returns ``(configs, rows, counts)``: ``configs`` ``(m, len(parents))`` uint8,
    one row per configuration that occurs (in lexicographic order), ``rows``
    ``(m,)`` and ``counts`` ``(m, states)`` int64 (how many of those rows show
    each state of ``child``). Without parents, one empty configuration.
    """
    labels = np.asarray(labels)
    parents = list(parents)
    x = labels[:, child].astype(np.int64)
    if not parents:
        counts = np.bincount(x, minlength=states)[None, :states]
        return np.zeros((1, 0), np.uint8), np.array([len(x)]), counts.astype(np.int64)
    configs, cell = np.unique(labels[:, parents].astype(np.uint8), axis=0, return_inverse=True)
    cell = np.asarray(cell).reshape(-1)
    rows = np.bincount(cell, minlength=len(configs)).astype(np.int64)
    counts = np.bincount(cell * states + x, minlength=len(configs) * states)
    return configs, rows, counts.reshape(len(configs), states).astype(np.int64)


def family_counts(
    labels: np.ndarray, child: int, parents: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``family_table`` of a binary child: ``(configs, rows, ones)``, ``ones`` the rows with 1."""
    configs, rows, counts = family_table(labels, child, parents, 2)
    return configs, rows, counts[:, 1]


def _distribution(values: np.ndarray, states: int) -> np.ndarray:
    return np.bincount(values.astype(np.int64), minlength=states)[:states] / max(len(values), 1)


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
    ``sample(n, do=, seed=)``); ``data_labels`` ``(rows, k)`` state codes in
    its graph's node order. For every node and every parent configuration
    ``c`` with at least ``min_support`` data rows, the data's ``P(node | c)``
    is compared with the model's, drawn with ``n_per_config`` rows under
    ``do(parents=c)`` and read from ``n`` observational rows where they show
    ``c`` at least ``min_support`` times; the one farther from the data
    counts. A state's probability is compared state by state (a binary node:
    ``P(node=1)``). Returns:

    - ``far_off``: the families where some state's difference exceeds
      ``tolerance`` plus three standard errors of the data's estimate
      (``"reason": "difference"``), or where the model draws a state that the
      data show at least ``min_support`` times at less than ``LOST_RATIO`` of
      the data's rate (``"reason": "value lost"``: asia's ``lung=1``, 1 row in
      18, never drawn), worst first, each ``{"node", "parents": {name: code},
      "data_p", "model_p", "support", "difference", "model_p_do",
      "model_p_observed"}`` for the worst state (``P(node=1)`` for a binary
      node; a categorical one adds ``"state"`` and the whole ``"data_dist"``
      and ``"model_dist"``; ``model_p``: the farther of the last two;
      ``model_p_observed`` ``None`` where the model draws ``c`` too rarely);
    - ``impossible``: configurations where the data are deterministic (every
      one of at least ``min_support`` rows has the same child state) and the
      model draws another state with probability above
      ``deterministic_tolerance`` and above ``3 / rows`` (the rule of three);
      each adds ``"data_value"``,
      ``"model_p_other"``, ``"model_rate_of_parents"`` (how often the model
      draws ``c`` observationally) and ``"impossible_rate"`` (the share of its
      observational rows that show the impossible pair);
    - ``thin``: the configurations the data show, but fewer than
      ``min_support`` times, so that their family is not checked (a do that
      sets them rests on a few rows: win95pts' ``PrtThread=Corrupt_Buggy``,
      4 rows in 40k), rarest first, at most ``MAX_THIN``, each ``{"node",
      "parents", "support"}``;
    - ``families_checked``, ``configs_checked``, ``configs_skipped`` (too
      little support), ``worst_difference``, ``ok`` and a one-line ``summary``.
    """
    graph = generator.graph
    data = np.asarray(data_labels)
    nodes = list(graph.nodes)
    cards = graph.cards
    observed = generator.sample(n, seed=seed)
    far_off: list[dict[str, Any]] = []
    impossible: list[dict[str, Any]] = []
    thin: list[dict[str, Any]] = []
    checked = skipped = families = 0
    worst = 0.0
    for i, node in enumerate(nodes):
        parents = list(graph.parents(node))
        cols = [graph.index(p) for p in parents]
        k = cards[i]
        configs, rows, counts = family_table(data, i, cols, k)
        families += 1
        for config, support, count in zip(configs, rows, counts, strict=True):
            assignment = {p: int(v) for p, v in zip(parents, config, strict=True)}
            if support < min_support:
                skipped += 1
                thin.append({"node": node, "parents": assignment, "support": int(support)})
                continue
            checked += 1
            data_dist = count / support
            match = np.all(observed[:, cols] == config, axis=1)
            seen = None
            if match.sum() >= min_support:
                seen = _distribution(observed[match, i], k)
            if parents:
                drawn = generator.sample(n_per_config, do=assignment, seed=seed + 1 + checked)
                done = _distribution(drawn[:, i], k)
            else:
                done = seen
            candidates = [d for d in (done, seen) if d is not None]
            if not candidates:
                skipped += 1
                checked -= 1
                continue
            model_dist = max(candidates, key=lambda d: float(np.abs(d - data_dist).max()))
            gaps = np.abs(model_dist - data_dist)
            state = 1 if k == 2 else int(np.argmax(gaps))
            difference = float(gaps[state])
            worst = max(worst, difference)
            entry = {
                "node": node,
                "parents": assignment,
                "data_p": float(data_dist[state]),
                "model_p": float(model_dist[state]),
                "support": int(support),
                "difference": difference,
                "model_p_do": None if done is None else float(done[state]),
                "model_p_observed": None if seen is None else float(seen[state]),
            }
            if k > 2:
                entry["state"] = graph.states(node)[state]
                entry["data_dist"] = [float(v) for v in data_dist]
                entry["model_dist"] = [float(v) for v in model_dist]
            stderr = np.sqrt(data_dist * (1 - data_dist) / support)
            lost = np.any((count >= min_support) & (model_dist < LOST_RATIO * data_dist))
            if np.any(gaps > tolerance + 3 * stderr):
                far_off.append({**entry, "reason": "difference"})
            elif lost:
                far_off.append({**entry, "reason": "value lost"})
            if np.any(data_dist == 1.0):
                value = int(np.argmax(data_dist))
                other = 1.0 - float(model_dist[value])
                if other > max(deterministic_tolerance, 3.0 / support):
                    wrong = match & (observed[:, i] != value)
                    impossible.append(
                        {
                            **entry,
                            "data_value": value,
                            "model_p_other": other,
                            "model_rate_of_parents": float(match.mean()),
                            "impossible_rate": float(wrong.mean()),
                        }
                    )
    far_off.sort(key=lambda e: -e["difference"])
    impossible.sort(key=lambda e: -e["model_p_other"])
    thin.sort(key=lambda e: e["support"])
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
        "thin": thin[:MAX_THIN],
        "ok": not far_off and not impossible,
        "summary": _summary(graph, far_off, impossible, checked, thin, min_support),
    }


def _given(graph, parents: dict[str, int]) -> str:
    """`` given A=a, B=b`` in state names; empty without parents."""
    given = ", ".join(f"{p}={graph.states(p)[v]}" for p, v in parents.items())
    return f" given {given}" if given else ""


def _describe(graph, entry: dict[str, Any]) -> str:
    state = entry.get("state", graph.states(entry["node"])[1])
    return (
        f"P({entry['node']}={state}{_given(graph, entry['parents'])}): data {entry['data_p']:.2f} "
        f"({entry['support']} rows), model {entry['model_p']:.2f}"
    )


def _thin(graph, thin: list, min_support: int) -> str:
    rarest = thin[0]
    return (
        f"{len(thin)} with fewer than {min_support} rows not checked "
        f"(rarest: {rarest['node']}{_given(graph, rarest['parents'])}, {rarest['support']} rows)"
    )


def _summary(
    graph, far_off: list, impossible: list, checked: int, thin: list, min_support: int
) -> str:
    if not far_off and not impossible:
        unchecked = f"; {_thin(graph, thin, min_support)}" if thin else ""
        return f"every family matches the data ({checked} parent configurations checked{unchecked})"
    parts = []
    if far_off:
        parts.append(
            f"{len(far_off)} of {checked} parent configurations far off "
            f"(worst {_describe(graph, far_off[0])})"
        )
    if impossible:
        parts.append(
            f"{len(impossible)} where the data are deterministic and the model is not "
            f"(worst {_describe(graph, impossible[0])})"
        )
    return "; ".join(parts) + ": do() through these families is not to be trusted"
