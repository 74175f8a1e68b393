"""``LabelGenerator``: the label stage of a causal implicit generative model.

A label generator fits the joint distribution of discrete labels (binary, or
categorical with the states its ``CausalGraph`` names) with an architecture
that follows the graph, so that it can sample observationally, under
interventions ``do(X=x)`` and under conditioning ``given X=x``. Labels are
``(n, nodes)`` uint8 state codes; ``do`` and ``given`` take codes or state
names. Subclasses implement ``_fit``, ``_sample`` (observational or
under ``do``), ``get_config`` and ``_save_state``/``_load_state``; conditioning
is rejection sampling here, shared by all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .bayesnet import check_assignment
from .errors import CkganError
from .graph import CausalGraph
from .states import describe
from .storage import atomic_write_text

CONFIG_FILE = "label_generator.json"

#: A callable run during training: ``evaluate(generator) -> {"metric": value}``.
Evaluate = Callable[["LabelGenerator"], Mapping[str, float]]


def check_do_given(graph: CausalGraph, do, given) -> tuple[dict, dict]:
    """Validate ``do`` and ``given`` together: known nodes, known states, no overlap.

    Returns both as ``{node: code}`` (a state name becomes its code).
    """
    do = check_assignment(graph, do, "--set")
    given = check_assignment(graph, given, "--given")
    both = sorted(set(do) & set(given), key=graph.index)
    if both:
        raise CkganError(
            f"node '{both[0]}' is both set (do) and given (conditioned on): use one of them"
        )
    return do, given


class LabelGenerator:
    """Base class of label generators; ``kind`` is the name it is registered under."""

    kind: str = "label generator"
    #: options added since generators were first saved, with the value a saved
    #: config that lacks one had in effect (``load`` fills them in)
    added_options: dict[str, Any] = {}
    #: allowed ranges of options, in interval notation (``ckgan.options``); subclasses extend it
    option_ranges: dict[str, str] = {
        "learning_rate": "(0, inf)", "beta_1": "[0, 1)", "beta_2": "[0, 1)",
        "batch_size": "[1, inf)", "steps": "[1, inf)", "noise_dim": "[1, inf)",
        "ema_decay": "[0, 1)", "alpha": "(0, inf)",
    }  # fmt: skip

    def __init__(self, graph: CausalGraph, **options: Any):
        self.graph = graph
        self.options = options
        #: acceptance rate of the last conditioned ``sample`` call (1.0 without ``given``)
        self.last_acceptance: float = 1.0

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.graph.nodes

    # -- training ---------------------------------------------------------------

    def fit(
        self,
        labels: np.ndarray,
        *,
        steps: int | None = None,
        seed: int | None = None,
        evaluate: Evaluate | None = None,
        eval_every: int | None = None,
        verbose: int = 1,
    ) -> list[dict[str, float]]:
        """Fit to ``(n, k)`` state codes in graph order (0/1 for binary nodes); returns the log.

        ``evaluate`` is called every ``eval_every`` steps and at the end; the
        log is a list of dicts with at least ``step`` and ``time`` (seconds).
        """
        labels = np.asarray(labels)
        if labels.ndim != 2 or labels.shape[1] != len(self.nodes):
            raise CkganError(
                f"labels must have {len(self.nodes)} columns ({', '.join(self.nodes)}), "
                f"got shape {labels.shape}"
            )
        if len(labels) == 0:
            raise CkganError("no labels to fit")
        if not np.isin(labels, (0, 1)).all():
            if self.graph.is_binary or np.any(labels < 0):
                raise CkganError("labels must be 0 or 1")
            for j, (node, k) in enumerate(zip(self.nodes, self.graph.cards, strict=True)):
                if labels[:, j].max() >= k:
                    raise CkganError(
                        f"labels of '{node}' must be codes 0-{k - 1} of its states "
                        f"({', '.join(self.graph.states(node))}), got {int(labels[:, j].max())}"
                    )
        return self._fit(
            labels.astype(np.uint8),
            steps=steps,
            seed=seed,
            evaluate=evaluate,
            eval_every=eval_every,
            verbose=verbose,
        )

    def _fit(self, labels, *, steps, seed, evaluate, eval_every, verbose):
        raise NotImplementedError

    # -- sampling ----------------------------------------------------------------

    def sample(
        self,
        n: int,
        do: Mapping[str, int] | None = None,
        given: Mapping[str, int] | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        """``n`` label rows, ``(n, k)`` uint8 state codes in graph order (0/1 when binary).

        ``do`` and ``given`` map nodes to state names or codes. ``do``
        intervenes (the nodes' own mechanisms are replaced by the values,
        descendants recompute); ``given`` conditions (rejection sampling on the
        model, possibly after ``do``). The same seed gives the same rows.
        """
        if n < 0:
            raise CkganError(f"cannot draw {n} samples")
        do, given = check_do_given(self.graph, do, given)
        if not given:
            self.last_acceptance = 1.0
            return self._sample(n, do, seed)
        return self._sample_given(n, do, given, seed)

    def _sample(self, n: int, do: dict[str, int], seed: int | None) -> np.ndarray:
        raise NotImplementedError

    #: rejection sampling gives up once, after at least ``min_draws`` draws, fewer than
    #: one row in ``max_draws_per_sample`` matched: the same budget for every caller
    max_draws_per_sample = 2_000
    min_draws = 100_000

    def _sample_given(self, n, do, given, seed) -> np.ndarray:
        cols = np.array([self.graph.index(k) for k in given])
        want = np.array(list(given.values()), dtype=np.uint8)
        rng = np.random.default_rng(seed)
        budget = max(self.min_draws, self.max_draws_per_sample * n)
        kept, drawn, accepted = [], 0, 0
        batch = max(1024, 4 * n)
        while accepted < n and drawn < budget:
            rows = self._sample(batch, do, int(rng.integers(2**31)))
            drawn += len(rows)
            ok = rows[(rows[:, cols] == want).all(axis=1)]
            kept.append(ok)
            accepted += len(ok)
            if drawn >= self.min_draws and accepted * self.max_draws_per_sample < drawn:
                break  # rarer than the budget allows, however many rows were asked for
            if accepted:
                # aim the next batch at what is still missing, with head-room
                rate = accepted / drawn
                batch = int(min(budget - drawn, max(1024, 1.5 * (n - accepted) / rate)))
            else:
                batch = min(budget - drawn, batch * 4)
        self.last_acceptance = accepted / drawn if drawn else 0.0
        evidence = describe(self.graph, given)
        if accepted < n:
            raise CkganError(
                f"the evidence {evidence} is (nearly) impossible under this model: "
                f"{accepted} of {drawn} samples matched (acceptance {self.last_acceptance:.2g}); "
                "intervene with --set instead of conditioning with --given"
            )
        return np.concatenate(kept)[:n]

    # -- storage -------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor's options; ``cls(graph, **get_config())`` rebuilds it."""
        return dict(self.options)

    def save(self, directory: str | Path) -> None:
        """Write the generator into ``directory``: a JSON config plus its state."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "kind": self.kind,
            "graph": json.loads(self.graph.to_json()),
            "options": self.get_config(),
        }
        self._save_state(directory)
        atomic_write_text(directory / CONFIG_FILE, json.dumps(config, indent=2))  # last: "complete"

    @classmethod
    def load(cls, directory: str | Path) -> LabelGenerator:
        """Load a saved generator; its class is looked up by ``kind`` in the registry."""
        directory = Path(directory)
        path = directory / CONFIG_FILE
        if not path.is_file():
            raise CkganError(f"no label generator in '{directory}' (missing {CONFIG_FILE})")
        try:
            config = json.loads(path.read_text())
            kind = config["kind"]
            graph_data = config["graph"]
            options = config.get("options", {})
        except (ValueError, KeyError, TypeError) as e:
            raise CkganError(f"'{path}' is corrupt ({e}): train the run again") from None
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(graph_data["nodes"])
        g.add_edges_from(graph_data["edges"])
        try:
            graph = CausalGraph(g, name=graph_data.get("name"), states=graph_data.get("states"))
        except CkganError as e:
            raise CkganError(f"'{path}' is corrupt ({e}): train the run again") from None
        if cls is LabelGenerator:
            from .plugins import get_registry

            klass = get_registry().get("labels", kind).load()
        else:
            klass = cls
        for key, value in klass.added_options.items():
            options.setdefault(key, value)  # saved before the option existed
        generator = klass(graph, **options)
        try:
            generator._load_state(directory)
        except CkganError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as e:  # h5py / Keras on a bad file
            raise CkganError(
                f"the label generator in '{directory}' is corrupt ({type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}): restore the run folder from a "
                "copy, or train the run again into a new folder"
            ) from None
        return generator

    def _save_state(self, directory: Path) -> None:
        raise NotImplementedError

    def _load_state(self, directory: Path) -> None:
        raise NotImplementedError
