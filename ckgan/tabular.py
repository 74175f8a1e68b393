"""``TabularLabelGenerator``: exact conditional probability tables on the graph.

Maximum-likelihood tables with add-one smoothing, exact ancestral sampling,
exact ``do`` and exact conditioning, for binary and categorical nodes alike.
It is the reference the neural label generators must approach, and what to
pick when only labels are needed. ``tables.h5`` holds one dataset per node:
``P(node = 1 | parents)`` for a binary node (as it always did), the full
``P(node = s | parents)`` (last axis the node's states) for a categorical one.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .bayesnet import MAX_CONFIGS, BayesNet, all_configs, config_count
from .errors import CkganError
from .graph import CausalGraph
from .labels import LabelGenerator

STATE_FILE = "tables.h5"


class TabularLabelGenerator(LabelGenerator):
    """Conditional probability tables fitted by counting.

    Args:
        graph: the causal graph.
        alpha: add-``alpha`` (Laplace) smoothing of every table cell.
    """

    kind = "tabular"

    def __init__(self, graph: CausalGraph, alpha: float = 1.0):
        super().__init__(graph, alpha=alpha)
        self.alpha = alpha
        self.model: BayesNet | None = None

    def _fit(self, labels, *, steps, seed, evaluate, eval_every, verbose):
        start = time.perf_counter()
        self.model = BayesNet.fit(self.graph, labels, alpha=self.alpha)
        entry = {"step": 1, "time": time.perf_counter() - start}
        if evaluate is not None:
            entry.update(evaluate(self))
        return [entry]

    def _require_model(self) -> BayesNet:
        if self.model is None:
            raise CkganError("the tabular label generator is not fitted yet")
        return self.model

    def _sample(self, n, do, seed):
        return self._require_model().sample(n, rng=seed, do=do)

    def _sample_given(self, n, do, given, seed):
        # Exact conditioning: draw whole configurations from the conditional pmf,
        # when there are few enough of them to enumerate (else rejection, as others).
        model = self._require_model()
        if config_count(self.graph.cards) > MAX_CONFIGS:
            return super()._sample_given(n, do, given, seed)
        pmf = model.pmf(do=do, given=given)
        self.last_acceptance = 1.0
        rows = np.random.default_rng(seed).choice(len(pmf), size=n, p=pmf)
        return all_configs(self.graph.cards)[rows]

    def pmf(self, do=None, given=None) -> np.ndarray:
        """The model's exact pmf over all configurations."""
        return self._require_model().pmf(do=do, given=given)

    def _save_state(self, directory: Path) -> None:
        import h5py

        from .storage import atomic_path

        model = self._require_model()
        with atomic_path(directory / STATE_FILE) as tmp:
            with h5py.File(tmp, "w") as f:
                for node, table in model.cpts.items():
                    f.create_dataset(node, data=table)

    def _load_state(self, directory: Path) -> None:
        import h5py

        path = directory / STATE_FILE
        try:
            with h5py.File(path, "r") as f:
                cpts = {node: np.asarray(f[node]) for node in self.nodes}
        except (OSError, KeyError) as e:
            raise CkganError(f"cannot read '{path}' ({e}): it is missing or corrupt") from None
        self.model = BayesNet(self.graph, cpts)
