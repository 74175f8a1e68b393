"""What the training data say about each edge and each rare value, for ``WGANGP``.

Two measures make the label generators right on rare parents and
deterministic children (asia's ``either = lung OR tub`` with ``lung=1`` in 5%
of the rows):

- ``edge_effects``: how much each edge's parent, when it changes, changes its
  child (a lower confidence bound, so that noise in small cells does not
  count). The edge penalty is weighed down on edges with a clear effect, so
  it fades only the edges the data do not need.
- ``clamp_slots``: for each node with descendants and each of its values,
  the rows that show it and the mask of its non-descendants. Part of every
  batch is drawn slot by slot (rare values as often as common ones) and the
  generator completes those rows' descendants from their real
  non-descendants, so the critic judges ``P(descendants | non-descendants)``
  where a ``do`` needs it, however rare the value.
"""

from __future__ import annotations

import itertools
from statistics import NormalDist

import numpy as np

from ckgan.bayesnet import config_index
from ckgan.fitcheck import family_table

#: cells with this many rows on both sides are compared by the normal interval
LARGE_CELL = 20


def edge_effects(
    labels: np.ndarray,
    adjacency: np.ndarray,
    min_support: int = 1,
    z: float = 2.0,
    cards=None,
) -> np.ndarray:
    """Each edge's effect on its child, ``(child, parent)`` in graph order (0: no edge).

    For the edge ``j -> i`` and every configuration ``r`` of ``i``'s other
    parents where two states ``a, b`` of ``j`` occur at least ``min_support``
    times each, for each state ``s`` of ``i`` (``s = 1`` for a binary
    child): where both have ``LARGE_CELL`` rows, ``|P(i=s | j=b, r) -
    P(i=s | j=a, r)|`` less ``z`` standard errors; else how far apart the
    two Wilson intervals lie, which hold on a handful of rows (win95pts'
    ``PrtThread=Corrupt_Buggy``, 4 rows in 40k, turns its child ``EMFOK``
    from 0.99 to 0.05), their ``z`` widened for the number of such small
    comparisons the edge makes (Bonferroni), so that the largest of many
    small cells is not noise. The effect is the largest of these, at least 0.
    ``cards``: each node's number of states (default: all binary).
    """
    labels = np.asarray(labels)
    a = np.asarray(adjacency) != 0
    k = a.shape[0]
    cards = [2] * k if cards is None else list(cards)
    out = np.zeros((k, k))
    for i in range(k):
        parents = np.flatnonzero(a[:, i]).tolist()
        states = [1] if cards[i] == 2 else list(range(cards[i]))
        for j in parents:
            rest = [p for p in parents if p != j]
            configs, rows, counts = family_table(labels, i, [*rest, j], cards[i])
            # configurations come sorted, so the states of j for one r are neighbours
            cells: dict[tuple, dict[int, tuple[int, np.ndarray]]] = {}
            for config, n, c in zip(configs, rows, counts, strict=True):
                cells.setdefault(tuple(config[:-1]), {})[int(config[-1])] = (int(n), c)
            pairs, thin = [], []
            for cell in cells.values():
                supported = sorted(v for v, (n, _) in cell.items() if n >= min_support)
                for x, y in itertools.combinations(supported, 2):
                    pair = (cell[x], cell[y])
                    (thin if min(pair[0][0], pair[1][0]) < LARGE_CELL else pairs).append(pair)
            best = 0.0
            for (n0, c0), (n1, c1) in pairs:  # large cells: the normal interval
                for s in states:
                    p0, p1 = c0[s] / n0, c1[s] / n1
                    se = np.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
                    best = max(best, abs(p1 - p0) - z * se)
            if thin:
                tests = len(thin) * len(states)
                width = widened_z(z, tests)
                for (n0, c0), (n1, c1) in thin:
                    for s in states:
                        lo0, hi0 = wilson(c0[s], n0, width)
                        lo1, hi1 = wilson(c1[s], n1, width)
                        best = max(best, lo1 - hi0, lo0 - hi1)
            out[i, j] = best
    return out


def widened_z(z: float, tests: int) -> float:
    """``z`` widened for ``tests`` tests (Bonferroni): each test's one-sided tail is
    the tail beyond ``z`` (z = 2: 0.023) shared out among them."""
    tail = 1.0 - NormalDist().cdf(z)
    return max(z, NormalDist().inv_cdf(1.0 - tail / max(tests, 1)))


def wilson(count, n, z: float):
    """Wilson's score interval of the proportion ``count / n`` (numbers or arrays) at
    ``z`` standard errors, ``(low, high)``."""
    p = count / n
    q = z * z / n
    centre = (p + q / 2) / (1 + q)
    half = z * np.sqrt(p * (1 - p) / n + q / (4 * n)) / (1 + q)
    return centre - half, centre + half


def edge_penalty_weights(
    labels: np.ndarray,
    adjacency: np.ndarray,
    effect_scale: float,
    min_support: int = 1,
    cards=None,
    effects=None,
) -> np.ndarray:
    """Per-edge weights of the edge penalty, ``(child, parent)``: 1 - effect / scale, in [0, 1].

    An edge whose effect reaches ``effect_scale`` is not penalised at all;
    ``effect_scale`` 0 weighs every edge 1 (the penalty blind to the data).
    ``effects``: ``edge_effects`` of ``labels`` when the caller has them.
    """
    a = (np.asarray(adjacency) != 0).T.astype("float32")  # (child, parent)
    if effect_scale <= 0:
        return a
    if effects is None:
        effects = edge_effects(labels, adjacency, min_support=min_support, cards=cards)
    return (a * np.clip(1.0 - effects / effect_scale, 0.0, 1.0)).astype("float32")


def clamp_slots(labels: np.ndarray, adjacency: np.ndarray, min_rows: int = 20, cards=None) -> dict:
    """Rows by (node, value) for clamped batches; ``None`` when no slot qualifies.

    A slot is a node with descendants and one of its values (every state of
    a categorical node) shown by at least ``min_rows`` rows. Returns
    ``{"rows": flat row indices, "offsets", "counts": where each slot's rows
    lie in it, "masks": (slots, k) float32,
    1 on the node and its non-descendants, "names": ["X=v", ...]}``.
    """
    labels = np.asarray(labels)
    a = np.asarray(adjacency) != 0
    k = a.shape[0]
    cards = [2] * k if cards is None else list(cards)
    reach = a.copy()
    for m in range(k):  # transitive closure (Warshall)
        reach |= reach[:, [m]] & reach[[m], :]
    rows, offsets, counts, masks, names = [], [], [], [], []
    start = 0
    for j in range(k):
        if not reach[j].any():
            continue
        mask = (~reach[j]).astype("float32")  # node j and its non-descendants
        for value in range(cards[j]):
            index = np.flatnonzero(labels[:, j] == value)
            if len(index) < min_rows:
                continue
            rows.append(index)
            offsets.append(start)
            counts.append(len(index))
            masks.append(mask)
            names.append(f"{j}={value}")
            start += len(index)
    if not rows:
        return None
    return {
        "rows": np.concatenate(rows).astype("int32"),
        "offsets": np.asarray(offsets, dtype="int32"),
        "counts": np.asarray(counts, dtype="int32"),
        "masks": np.stack(masks).astype("float32"),
        "names": names,
    }


#: the most a row of a thin parent configuration counts in the family likelihood
MAX_ROW_WEIGHT = 20.0


def config_weights(
    labels: np.ndarray, adjacency: np.ndarray, rows: int, cards=None, effects=None
) -> np.ndarray:
    """Each row's weight in each node's family likelihood, ``(n, k)`` float32.

    A row whose parent configuration (for that node) the data show ``m <
    rows`` times counts ``rows / m`` times (at most ``MAX_ROW_WEIGHT``), so
    a thin configuration's few rows are fitted (win95pts' NtSpd given
    PrtQueue=Long and a slow desk printer: 21 rows, where the network
    extrapolated 0.90 from its neighbours and the rows say 0.5) rather than
    smoothed over; each node's conditional stays the data's, since the
    weight depends on its parents only. With ``effects`` (``edge_effects``),
    configurations are of the parents whose effect the data show: thin
    along a parent that changes nothing (synthfaces' ``full``: bald women
    split by every other attribute) is not thin. ``rows`` 0: all 1.
    """
    labels = np.asarray(labels)
    a = np.asarray(adjacency) != 0
    if effects is not None:
        a = a & (np.asarray(effects).T > 0)
    n, k = labels.shape
    cards = [2] * k if cards is None else list(cards)
    out = np.ones((n, k), dtype="float32")
    if rows <= 0:
        return out
    for i in range(k):
        parents = np.flatnonzero(a[:, i]).tolist()
        if not parents:
            continue
        cell = config_index(labels[:, parents], [cards[j] for j in parents])
        count = np.bincount(cell)[cell]
        out[:, i] = np.clip(rows / count, 1.0, MAX_ROW_WEIGHT)
    return out
