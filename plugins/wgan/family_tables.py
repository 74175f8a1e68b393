"""A fitted causal controller as the tables of the Bayesian network it defines.

Each node of the controller draws its value from its parents' values and its
own noise, independent of every other node's, so the controller is a causal
Bayesian network: ``P(node | parents) = E_noise[P(node | parents, noise)]``.
Averaging the node's probabilities (its sigmoid or softmax; for a node that
rounds its sigmoid, the share of noise that rounds to 1) over many noise draws
gives that table, and ancestral sampling from the tables draws the same
distribution as the network, observationally and under any do, about 50 times
faster (``benchmarks/label_corpus.py``). Each row sets every node's value at
random (a do of all nodes), so one pass serves every node's parent
configurations at once.

The tables sampled from are then made to agree with the training rows where
they can say something (``pool``: no dependence on a parent the rows give no
evidence of; ``fill_unseen``: uniform where they show nothing; ``shrink``:
towards the rows as far as the controller's own error warrants; ``refine``:
the rows' counts where they contradict the controller).
"""

from __future__ import annotations

import keras
import numpy as np

from ckgan import backend
from ckgan.bayesnet import config_count, config_index

from .data_weights import widened_z, wilson

#: rows of controller evaluations one tabulation may use
ROW_BUDGET = 1_000_000
#: noise draws per parent configuration: at most, and at least (else no tables)
MAX_SAMPLES, MIN_SAMPLES = 65_536, 2_048
#: rows per controller call: 65,536 halves the time per row of 16,384 (sachs: 13 s per
#: million rows against 26 s), the per-call overhead of a small network
CHUNK = 65_536


def tabulate(controller, graph, seed: int = 0) -> dict[str, np.ndarray] | None:
    """Each node's table ``P(node | parents)`` in ``ckgan.BayesNet``'s layout (binary:
    ``P(node = 1 | parents)``, shape of the parent cards; else ``(*parent cards, k)``),
    or ``None`` when a node has too many parent configurations to tabulate."""
    cards = list(graph.cards)
    parents = [[graph.index(p) for p in graph.parents(node)] for node in graph.nodes]
    counts = [config_count([cards[j] for j in ps]) for ps in parents]
    samples = min(MAX_SAMPLES, ROW_BUDGET // max(counts))
    if samples < MIN_SAMPLES:
        return None
    total = max(counts) * samples
    k, width = len(cards), graph.encoding.width
    rng = np.random.default_rng(seed)
    forward = backend.inference(controller)
    explicit = controller.explicit_nodes()
    slots = controller.slots
    sums = [np.zeros((c, cards[i])) for i, c in enumerate(counts)]
    seen = [np.zeros(c) for c in counts]
    for start in range(0, total, CHUNK):
        rows = min(CHUNK, total - start)
        codes = (rng.random((CHUNK, k)) * np.asarray(cards)).astype(np.uint8)
        values = graph.encoding.encode(codes).astype("float32").reshape(CHUNK, width)
        noise = rng.random((CHUNK, k, controller.noise_channels), dtype=np.float32) * 2.0 - 1.0
        logits = forward(noise, do_values=values, parents_given=True)
        logits = np.asarray(keras.ops.convert_to_numpy(logits), dtype=np.float64)[:rows]
        codes = codes[:rows]
        for i, ps in enumerate(parents):
            probs = _node_probs(logits, i, cards[i], slots, bool(explicit[i]))
            cell = config_index(codes[:, ps], [cards[j] for j in ps]) if ps else np.zeros(rows, int)
            for state in range(cards[i]):  # bincount: ~30x faster than np.add.at
                sums[i][:, state] += np.bincount(cell, probs[:, state], minlength=counts[i])
            seen[i] += np.bincount(cell, minlength=counts[i])
    tables = {}
    for i, node in enumerate(graph.nodes):
        table = sums[i] / np.maximum(seen[i], 1)[:, None]
        table /= table.sum(axis=1, keepdims=True)
        shape = [cards[j] for j in parents[i]]
        tables[node] = (
            table[:, 1].reshape(shape) if cards[i] == 2 else table.reshape([*shape, cards[i]])
        )
    return tables


def _node_probs(logits, i, card, slots, explicit):
    """``(rows, card)`` probabilities of node ``i``'s states given each row's parents."""
    logit = logits[:, i] if slots == 1 else logits[:, i, 0]
    if card == 2:
        p1 = 1.0 / (1.0 + np.exp(-logit)) if explicit else (logit > 0).astype(np.float64)
        return np.stack([1.0 - p1, p1], axis=1)
    scores = logits[:, i, :card]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


#: a parent the tables change by less than this, where the data show both its
#: states, is one the controller does not use (an edge the edge penalty faded)
MIN_INFLUENCE = 0.05
#: rows a configuration needs, for each of two states of a parent, to be compared
COMPARE_ROWS = 20


def family_counts(graph, labels) -> dict[str, np.ndarray]:
    """Each node's training rows by parent configuration and own state, shaped
    ``(*parent cards, card)`` (``labels``: ``(n, k)`` state codes); what
    ``fill_unseen`` and ``refine`` need of the data."""
    cards = list(graph.cards)
    labels = np.asarray(labels)
    out = {}
    for i, node in enumerate(graph.nodes):
        ps = [graph.index(p) for p in graph.parents(node)]
        shape = [cards[j] for j in ps]
        cell = config_index(labels[:, ps], shape) if ps else np.zeros(len(labels), int)
        cell = cell * cards[i] + labels[:, i].astype(int)
        counts = np.bincount(cell, minlength=config_count(shape) * cards[i])
        out[node] = counts.reshape([*shape, cards[i]])
    return out


def fill_unseen(tables, graph, counts) -> tuple[dict[str, np.ndarray], int]:
    """The tables with every configuration no training row shows set to uniform, and how many.

    Where the data never show a configuration of the parents a node's table
    depends on, the controller's row is a guess that no data support: a
    deterministic child extrapolated along its other parents (win95pts'
    ``Problem3`` under do(IncmpltPS=No), a configuration of probability 0 in
    the data, drawn as the opposite of the truth's). Uniform is what the
    counted tables (``tabular``) draw there, and the draw that is never
    farther than half from the truth. The parents a table depends on are
    those whose two states, where both have ``COMPARE_ROWS`` rows, change it
    by at least ``MIN_INFLUENCE`` (or that cannot be compared, too rare): a
    faded edge of an over-complete graph (synthfaces' ``full``) does not
    count, so the controller's extrapolation along it stays. ``counts``:
    ``family_counts`` of the training rows.
    """
    cards = list(graph.cards)
    out, filled = {}, 0
    for i, node in enumerate(graph.nodes):
        table = np.asarray(tables[node], dtype=np.float64)
        rows = np.asarray(counts[node]).sum(axis=-1)
        if rows.ndim == 0:  # no parents
            out[node] = table
            continue
        probs = np.stack([1.0 - table, table], axis=-1) if cards[i] == 2 else table
        axes = range(rows.ndim)
        unused = tuple(a for a in axes if _influence(probs, rows, a) < MIN_INFLUENCE)
        unseen = np.broadcast_to(rows.sum(axis=unused, keepdims=True) == 0, rows.shape)
        filled += int(unseen.sum())
        probs = np.where(unseen[..., None], 1.0 / cards[i], probs)
        out[node] = probs[..., 1] if cards[i] == 2 else probs
    return out, filled


def refine(tables, graph, counts, prior_rows: float, z: float = 2.0) -> dict[str, np.ndarray]:
    """The tables corrected where the training rows contradict them.

    In a parent configuration where the controller's ``P(node | parents)`` lies
    outside the Wilson interval of the rows' share of some state (at ``z``,
    widened for the node's number of configurations and states, Bonferroni),
    the row becomes the posterior mean given the rows, the controller's
    table a Dirichlet prior worth ``prior_rows`` rows: a deterministic child
    the network leaves at 0.95 after its steps (win95pts' ``DeskPrntSpd``, 383
    rows all one way) is drawn as the data show it. Where the rows agree with
    the controller, or are too few to say (the bald women of synthfaces'
    ``full``, whose smoothing across configurations the controller does
    better than the rows of each), its table stays. 0: the controller's tables.
    """
    if prior_rows <= 0:
        return dict(tables)
    out = {}
    for node, probs, c in _with_states(tables, graph, counts):
        n = c.sum(axis=-1, keepdims=True)
        tests = c.size  # configurations x states
        lo, hi = wilson(c, np.maximum(n, 1), widened_z(z, tests))
        wrong = ((probs < lo) | (probs > hi)).any(axis=-1, keepdims=True) & (n > 0)
        posterior = (c + prior_rows * probs) / (n + prior_rows)
        out[node] = _without_states(np.where(wrong, posterior, probs))
    return out


def _influence(probs, rows, axis) -> float:
    """How much the parent on ``axis`` changes the table where the data show both
    states compared; ``inf`` where it cannot be told, as no two of its states
    are compared, or only where the child is nearly certain in both.

    A child that is (nearly) certain in both, as win95pts' ``PSERRMEM`` is
    ``No_Error`` whether PostScript is used or not while memory is adequate,
    cannot show a parent's effect there: the parent may matter only together
    with another (PostScript and low memory), so no effect there says nothing
    (and the parent counts as used).
    """
    p = np.moveaxis(probs, axis, 0)
    n = np.moveaxis(rows, axis, 0)
    certain = p.max(axis=-1) >= 1.0 - MIN_INFLUENCE
    best, informative = 0.0, False
    for a in range(p.shape[0]):
        for b in range(a + 1, p.shape[0]):
            both = (n[a] >= COMPARE_ROWS) & (n[b] >= COMPARE_ROWS)
            if both.any():
                best = max(best, float(np.abs(p[a][both] - p[b][both]).max()))
                informative = informative or bool((both & ~(certain[a] & certain[b])).any())
    return best if informative or best >= MIN_INFLUENCE else np.inf


def pool(tables, graph, counts, z: float) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The tables averaged over each parent the training rows give no evidence
    of, and the rows pooled the same way (for ``shrink`` and ``refine``).

    An over-complete graph (synthfaces' ``full``) gives a child parents it does
    not depend on; where such a parent's rare value meets a rare context (women
    with mustaches: 30 of 100k rows) the controller follows the few rows there
    and under do() draws their noise (lipstick 0.70 where the truth is 0.62).
    A parent whose G test of independence from the child, given the other
    parents, stays below ``z`` standard deviations (Wilson-Hilferty) is idle:
    the table becomes its row-weighted average over that parent's values, as
    if the edge were not there. A parent that changes the child where the rows
    show both its values (asia's ``lung -> either``, 5% of the rows) is far
    above any such ``z`` and stays; so does one with a value in fewer than
    ``COMPARE_ROWS`` rows of the family, too few to tell (win95pts'
    ``PrtThread=Corrupt_Buggy``, one row in ``EMFOK``'s family: pooled, its
    do drew the opposite of the truth, TV 0.92).
    Idle parents are pooled together only while their joint test stays below
    ``z`` too. ``counts``: ``family_counts``.
    """
    cards = list(graph.cards)
    out, pooled = {}, {}
    for i, node in enumerate(graph.nodes):
        table = np.asarray(tables[node], dtype=np.float64)
        c = np.asarray(counts[node], dtype=np.float64)
        out[node], pooled[node] = table, c
        if c.ndim == 1:  # no parents
            continue
        idle = [a for a in range(c.ndim - 1) if _testable(c, a) and _independence_z(c, [a]) < z]
        while idle and _independence_z(c, idle) >= z:
            idle.pop()
        if not idle:
            continue
        axes = tuple(idle)
        probs = np.stack([1.0 - table, table], axis=-1) if cards[i] == 2 else table
        n = c.sum(axis=-1, keepdims=True)
        rows = n.sum(axis=axes, keepdims=True)
        mean = (probs * n).sum(axis=axes, keepdims=True) / np.maximum(rows, 1)
        probs = np.where(rows > 0, mean, probs)
        out[node] = probs[..., 1] if cards[i] == 2 else probs
        pooled[node] = np.broadcast_to(c.sum(axis=axes, keepdims=True), c.shape)
    return out, pooled


def _testable(counts: np.ndarray, axis: int) -> bool:
    """Whether every value of the parent on ``axis`` has ``COMPARE_ROWS`` rows."""
    other = tuple(a for a in range(counts.ndim) if a != axis)
    return bool((counts.sum(axis=other) >= COMPARE_ROWS).all())


def _independence_z(counts: np.ndarray, axes: list[int]) -> float:
    """The G test of the child (last axis) independent of the parents on ``axes``
    given the other parents, as a normal deviate (Wilson-Hilferty); ``inf`` where
    no stratum shows two of their configurations with two child states."""
    c = np.moveaxis(counts, axes, list(range(len(axes))))
    c = c.reshape(-1, *c.shape[len(axes) :])  # (tested configurations, ..., child)
    c = np.moveaxis(c, 0, -2).reshape(-1, c.shape[0], c.shape[-1])  # (strata, tested, child)
    rows, cols = c.sum(-1, keepdims=True), c.sum(-2, keepdims=True)
    expected = rows * cols / np.maximum(c.sum((-1, -2), keepdims=True), 1)
    g = 2.0 * float((c * np.log(np.where(c > 0, c / np.maximum(expected, 1e-300), 1.0))).sum())
    df = int(((rows[..., 0] > 0).sum(-1) - 1).clip(0) @ ((cols[:, 0] > 0).sum(-1) - 1).clip(0))
    if df == 0:
        return np.inf
    a = 2.0 / (9.0 * df)
    return float(((g / df) ** (1.0 / 3.0) - (1.0 - a)) / np.sqrt(a))


def shrink(tables, graph, counts, min_rows: int = COMPARE_ROWS) -> dict[str, np.ndarray]:
    """The tables moved towards the training rows as far as the controller's own
    error warrants (empirical Bayes).

    After its steps the controller can sit off the rows in a configuration of
    hundreds of rows by more than their noise (win95pts' ``GDIOUT``: 0.75 where
    341 rows say 0.78 and the truth is 0.80), yet within their widened interval,
    so ``refine`` leaves it. Per node, the controller's error ``b2`` is the mean
    excess of its squared distance to the rows' shares over their sampling
    variance ``v``, taken over the configurations of ``min_rows`` rows or more;
    each configuration then moves by ``b2 / (b2 + v)`` of the way to its rows:
    most of it where rows are many, hardly at all where they are few, nowhere
    where the controller is as close to the rows as their noise allows.
    """
    out = {}
    for node, probs, c in _with_states(tables, graph, counts):
        n = c.sum(axis=-1, keepdims=True)
        share = c / np.maximum(n, 1)
        noise = (1.0 - (probs**2).sum(axis=-1, keepdims=True)) / np.maximum(n, 1)
        excess = ((share - probs) ** 2).sum(axis=-1, keepdims=True) - noise
        b2 = max(0.0, float(excess[n >= min_rows].mean())) if (n >= min_rows).any() else 0.0
        weight = np.where(n > 0, b2 / np.maximum(b2 + noise, 1e-300), 0.0)
        out[node] = _without_states(probs + weight * (share - probs))
    return out


def _with_states(tables, graph, counts):
    """Each node, its table with a last axis of states (a binary node's 0 and 1)
    and its counts, as floats."""
    for i, node in enumerate(graph.nodes):
        table = np.asarray(tables[node], dtype=np.float64)
        probs = np.stack([1.0 - table, table], axis=-1) if graph.cards[i] == 2 else table
        yield node, probs, np.asarray(counts[node], dtype=np.float64)


def _without_states(probs: np.ndarray) -> np.ndarray:
    """A table in ``BayesNet``'s shape: a binary node's ``P(1)`` only."""
    return probs[..., 1] if probs.shape[-1] == 2 else probs
