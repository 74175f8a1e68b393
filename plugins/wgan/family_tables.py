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
"""

from __future__ import annotations

import keras
import numpy as np

from ckgan import backend
from ckgan.bayesnet import config_count, config_index

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
