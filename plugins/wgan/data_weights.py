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

import numpy as np

from ckgan.fitcheck import family_counts


def edge_effects(
    labels: np.ndarray, adjacency: np.ndarray, min_support: int = 20, z: float = 2.0
) -> np.ndarray:
    """Each edge's effect on its child, ``(child, parent)`` in graph order (0: no edge).

    For the edge ``j -> i`` and every configuration ``r`` of ``i``'s other
    parents where both ``j=0`` and ``j=1`` occur at least ``min_support``
    times: ``|P(i=1 | j=1, r) - P(i=1 | j=0, r)|`` minus ``z`` standard
    errors; the effect is the largest of these, at least 0 (also 0 where no
    configuration has the support).
    """
    labels = np.asarray(labels)
    a = np.asarray(adjacency) != 0
    k = a.shape[0]
    out = np.zeros((k, k))
    for i in range(k):
        parents = np.flatnonzero(a[:, i]).tolist()
        for j in parents:
            rest = [p for p in parents if p != j]
            configs, rows, ones = family_counts(labels, i, [*rest, j])
            # configurations come sorted, so j=0 and j=1 of one r are neighbours
            keys = [tuple(c[:-1]) for c in configs]
            cells: dict[tuple, dict[int, tuple[int, int]]] = {}
            for key, config, n, s in zip(keys, configs, rows, ones, strict=True):
                cells.setdefault(key, {})[int(config[-1])] = (int(n), int(s))
            best = 0.0
            for cell in cells.values():
                if len(cell) < 2 or min(cell[0][0], cell[1][0]) < min_support:
                    continue
                (n0, s0), (n1, s1) = cell[0], cell[1]
                p0, p1 = s0 / n0, s1 / n1
                se = np.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
                best = max(best, abs(p1 - p0) - z * se)
            out[i, j] = best
    return out


def edge_penalty_weights(
    labels: np.ndarray, adjacency: np.ndarray, effect_scale: float, min_support: int = 20
) -> np.ndarray:
    """Per-edge weights of the edge penalty, ``(child, parent)``: 1 - effect / scale, in [0, 1].

    An edge whose effect reaches ``effect_scale`` is not penalised at all;
    ``effect_scale`` 0 weighs every edge 1 (the penalty blind to the data).
    """
    a = (np.asarray(adjacency) != 0).T.astype("float32")  # (child, parent)
    if effect_scale <= 0:
        return a
    effects = edge_effects(labels, adjacency, min_support=min_support)
    return (a * np.clip(1.0 - effects / effect_scale, 0.0, 1.0)).astype("float32")


def clamp_slots(labels: np.ndarray, adjacency: np.ndarray, min_rows: int = 20) -> dict:
    """Rows by (node, value) for clamped batches; ``None`` when no slot qualifies.

    A slot is a node with descendants and one of its values shown by at
    least ``min_rows`` rows. Returns ``{"rows": flat row indices, "offsets",
    "counts": where each slot's rows lie in it, "masks": (slots, k) float32,
    1 on the node and its non-descendants, "names": ["X=v", ...]}``.
    """
    labels = np.asarray(labels)
    a = np.asarray(adjacency) != 0
    k = a.shape[0]
    reach = a.copy()
    for m in range(k):  # transitive closure (Warshall)
        reach |= reach[:, [m]] & reach[[m], :]
    rows, offsets, counts, masks, names = [], [], [], [], []
    start = 0
    for j in range(k):
        if not reach[j].any():
            continue
        mask = (~reach[j]).astype("float32")  # node j and its non-descendants
        for value in (0, 1):
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
