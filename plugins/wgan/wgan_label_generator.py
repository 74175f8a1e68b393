"""``WGANLabelGenerator``: CausalGAN's causal controller trained with WGAN-GP.

A ``CausalController`` (one small network per node, fed by its own noise and
its parents' outputs) is trained against a ``LabelCritic`` by ``WGANGP``
through Keras ``fit``, on model vectors (a binary node one column, a node of
``k >= 3`` states a one-hot block of ``k``). Sampling rounds a binary node's
output at 0.5; a categorical node draws its state from its softmax (Gumbel-max,
straight-through gradients in training); ``do(X=x)`` feeds ``x`` (its one-hot
block) to ``X``'s children in place of ``X``'s output.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ckgan import CausalGraph, CkganError, LabelGenerator, backend
from ckgan.bayesnet import BayesNet
from ckgan.devices import device_count
from ckgan.labels import check_do_given
from ckgan.options import resolve
from ckgan.storage import atomic_path

from .causal_controller import CausalController
from .data_weights import clamp_slots, config_weights, edge_effects, edge_penalty_weights
from .family_tables import family_counts, fill_unseen, pool, refine, shrink, tabulate
from .label_critic import LabelCritic
from .wgan_gp import WGANGP

#: option values per preset; an explicit constructor argument overrides them.
PRESETS: dict[str, dict[str, Any]] = {
    # Tuned on 9 CelebA-like labels on a 2-core CPU (MEASURED.md, label stage),
    # then (benchmarks/label_tv.py): the weight average and the cosine decay
    # end the jitter of a constant rate (TV 0.015-0.03 -> 0.012 steady), and
    # lr 1e-3 instead of 5e-4 halves the steps to TV 0.02 (~600 instead of ~1200).
    # edge_penalty 0.003: on the complete graph `full`, the worst single-node
    # do went from 0.06-0.16 (3 seeds) to 0.020 at 3 min (do(Bald=1) asks for
    # bald women, 0.06% of the rows: without the penalty the controller
    # extrapolates there); on `paper` it costs little (0.0095 -> 0.0123 obs).
    "tuned": {
        "noise_dim": 10,
        "hidden": [32, 32],
        "critic_hidden": [64, 64, 64],
        "negative_slope": 0.2,
        "gp_weight": 10.0,
        "learning_rate": 1e-3,
        "beta_1": 0.5,
        "beta_2": 0.9,
        "lr_decay": 0.1,
        "ema_decay": 0.999,
        "n_critic": 5,
        "batch_size": 512,
        # 3000 steps since the tables are refined (below): sachs 279 -> 135 s
        # on an idle 2-core CPU (target 3 min), the small corpus networks
        # within 0.02 of tabular under every do (benchmarks/label_corpus.py,
        # tag defaults); synthfaces full, worst do 0.0223 / 0.0413 (seeds 0 / 1)
        # -> 0.0282 / 0.0288, paper 0.0153 -> 0.0156 (label_tv.py).
        "steps": 3000,
        "steps_per_execution": 10,
        "edge_penalty": 0.003,
        # The penalty removed edges that matter for few rows (asia's
        # lung -> either, lung=1 in 5% of the rows: TV 1.00 under do(lung=1)):
        # it now spares edges whose effect the data show (benchmarks/label_corpus.py),
        # and a quarter of each batch is drawn value by value for every node
        # with descendants, those rows' descendants generated from their real
        # non-descendants.
        "edge_effect_scale": 0.02,
        "clamp_fraction": 0.25,
        # every value the data show gets its share, however few its rows
        # (win95pts' PrtThread=Corrupt_Buggy: 4 rows in 40k)
        "clamp_min_rows": 1,
        # a value rare in the data (asia=1 in 1% of the rows) fell to 0 within
        # 500 steps and stayed there (its sigmoid saturated): start each node
        # at the data's rate
        "init_rates": True,
        # Binary nodes draw from their Bernoulli and every family is also fitted
        # by likelihood to the real rows (benchmarks/label_corpus.py, label_tv.py;
        # TV obs / worst do, before -> after): asia 0.068 / 0.109 -> 0.0075 /
        # 0.013 (tables 0.0055 / 0.011), cancer 0.0085 / 0.103 -> 0.0086 /
        # 0.068 (0.0076 / 0.059), earthquake 0.0026 / 0.055 -> 0.0054 / 0.044
        # (0.0024 / 0.024), synthfaces paper 0.0103 / 0.0184 -> 0.0079 / 0.0130,
        # full 0.0101 / 0.0165 -> 0.0090 / 0.0175 (3 min); likelihood_weight 1
        # on asia: 0.0096 / 0.042. edge_effect_scale 0.02 (was 0.05) spares
        # asia -> tub (P(tub) 0.05 vs 0.01): asia's worst do 0.040 -> 0.013,
        # full's 0.0175 -> 0.0242 (do(Bald=1), 0.06% of the rows; target 0.03);
        # no penalty at all: full's do(Bald=1) 0.042 at 60 s.
        "likelihood_weight": 5.0,
        "config_balance_rows": 0,
        "draw_binary": True,
        # Sampling from the tables the fitted controller defines
        # (family_tables.py) instead of running it: the same distribution
        # (TV between 200k-row draws 0.0026, the noise of two draws), 21M rows/s
        # against 0.37M on a 4-node net (pgmpy's simulate: 0.2-0.5M on the corpus).
        "sampler": "tables",
        # ... corrected where the training rows contradict them
        # (family_tables.refine; win95pts' DeskPrntSpd, 383 rows all Too_Slow,
        # drawn at 0.95: do(PrntPrcssTm=Too_Long) 0.065 -> 0.012, tabular 0.011;
        # synthfaces full 0.0116 / 0.0220 -> 0.0107 / 0.0223). A plain
        # posterior in every configuration (20 rows' prior) spoilt full's
        # do(Bald=1), 0.022 -> 0.065: the rows of each thin configuration are
        # worse than the controller's smoothing across them. Where the rows
        # contradict it, the controller's table is worth one row: at 20, a
        # table that said 0.04 where 400 rows say 1 kept drawing 5% impossible rows.
        "table_prior_rows": 1.0,
        # ... averaged over the parents the rows give no evidence of (family_tables.pool)
        # and moved towards the rows as far as the controller's error warrants
        # (family_tables.shrink). The same saved runs scored both ways (exact TV
        # obs / worst do, off -> on; benchmarks/label_corpus.py tags pooled_off,
        # pooled): synthfaces full 0.0102 / 0.0261 -> 0.0074 / 0.0130 (seed 0),
        # 0.0110 / 0.0314 -> 0.0080 / 0.0119 (seed 1), paper 0.0066 / 0.0153 ->
        # 0.0064 / 0.0122; largest gap to tabular under a do: win95pts 0.042 ->
        # 0.009, alarm 0.023 -> 0.009, sachs 0.019 -> 0.004; the shapes scene's
        # labels on the full graph 0.0130 / 0.0136 -> 0.0078 / 0.0076 (tabular
        # 0.0082 / 0.0150); no network worse by more than 0.0003.
        "pool_z": 3.0,
        "shrink_to_rows": True,
    },
    # the CausalGAN reference code's settings
    "paper": {
        "noise_dim": 10,
        "hidden": [10, 10, 10, 10, 10],
        "critic_hidden": [15, 15, 15, 15, 15],
        "negative_slope": 0.2,
        "gp_weight": 0.1,
        "learning_rate": 8e-5,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "lr_decay": 1.0,
        "ema_decay": 0.0,
        "n_critic": 20,
        "batch_size": 64,
        "steps": 10000,
        "steps_per_execution": 10,
        "edge_penalty": 0.0,
        "edge_effect_scale": 0.0,
        "clamp_fraction": 0.0,
        "clamp_min_rows": 20,
        "init_rates": False,
        "likelihood_weight": 0.0,
        "config_balance_rows": 0,
        "draw_binary": False,
        "sampler": "network",
        "table_prior_rows": 0.0,
        "pool_z": 0.0,
        "shrink_to_rows": False,
    },
}

WEIGHTS = {
    "controller": "controller.weights.h5",
    "ema": "controller_ema.weights.h5",
    "critic": "critic.weights.h5",
}

#: rows per controller call when sampling
SAMPLE_CHUNK = 65536
#: the tables ``sample`` draws from (``sampler="tables"``): derived from the weights
TABLES_FILE = "tables.npz"
#: the training rows by parent configuration: where the tables draw uniformly
SUPPORT_FILE = "support.npz"


class WGANLabelGenerator(LabelGenerator):
    """The causal controller of CausalGAN, trained with WGAN-GP.

    Args:
        graph: the causal graph the controller follows.
        preset: ``"tuned"`` (default; fast and accurate on a CPU) or
            ``"paper"`` (the reference code's settings); the options below
            default to the preset's values.
        noise_dim: each node's noise dimension (``U[-1, 1]``).
        hidden: each node's hidden layer widths.
        critic_hidden: the critic's hidden layer widths.
        negative_slope: of all leaky ReLUs.
        gp_weight: WGAN-GP's lambda.
        learning_rate, beta_1, beta_2: Adam's, for both networks.
        lr_decay: the learning rate decays along a cosine to
            ``lr_decay * learning_rate`` over a ``fit`` (1.0: constant).
        ema_decay: sample from an exponential moving average of the
            controller's weights with this decay (0: sample the raw weights).
        n_critic: critic updates per generator step.
        batch_size: rows per update.
        steps: generator steps of ``fit`` when it is not given.
        steps_per_execution: generator steps per compiled call.
        edge_penalty: weight of a group-lasso penalty on each edge's parent
            weights (0: off): edges the data do not support fade, so an
            over-complete graph (``full``) extrapolates as a sparser one.
        edge_effect_scale: the penalty spares edges whose parent clearly
            changes the child in the data: each edge's weight is
            ``1 - effect / edge_effect_scale`` (at least 0), ``effect`` the
            largest change of ``P(child=1)`` when the parent flips, other
            parents fixed, less two standard errors (0: every edge weighs 1).
        clamp_fraction: share of each batch drawn value by value (every value
            of every node with descendants equally often, rare or not), those
            rows' descendants generated from their real non-descendants
            (0: off).
        clamp_min_rows: a value needs this many rows to get its share.
        init_rates: start each node's output bias where the fresh
            controller draws the data's rate of 1 (rare values otherwise
            overshoot to 0 early and die there).
        likelihood_weight: weight of a family likelihood loss beside the
            adversarial one: each node with explicit draws (every Gumbel
            node, every categorical node) is also fitted, given its parents'
            real values, to the value of each real row, the clamped rows
            counted for their value's descendants (0: off).
        config_balance_rows: in that loss, a row whose parent configuration
            the data show ``m`` times, fewer than this, counts ``rows / m``
            times (at most 20), so thin configurations are fitted to their
            rows rather than smoothed over (0: off).
        draw_binary: binary nodes draw 0/1 from their sigmoid's Bernoulli
            (the Gumbel generator's nodes, at temperature 1) instead of
            rounding it at 0.5 (CausalGAN's controller); their draws then
            have a likelihood.
        sampler: ``"tables"``: once fitted (or loaded), sample from the
            tables ``P(node | parents)`` the controller defines, averaged over
            its noise (``family_tables.py``; saved as ``tables.npz``), where
            no node has too many parent configurations; a configuration of
            the parents a table uses that no training row shows is drawn
            uniformly, as counted tables do (``fill_unseen``); ``"network"``:
            run the controller for every draw.
        table_prior_rows: where a family's training rows contradict the
            controller's table (outside their Wilson interval), the tables
            sampled from take the posterior given those rows, the controller's
            table a Dirichlet prior worth this many rows
            (``family_tables.refine``); elsewhere the controller's table
            stays (0: the controller's tables as they are).
        pool_z: the tables sampled from do not depend on a parent whose G
            test of independence from the child, given the other parents,
            stays below this many standard deviations on the training rows
            (``family_tables.pool``; 0: off).
        shrink_to_rows: the tables sampled from move towards the training
            rows of each parent configuration by the empirical-Bayes weight of
            the controller's measured error against the rows' noise
            (``family_tables.shrink``).
        jit_compile: XLA for the training step (``"auto"``: Keras decides,
            which means no XLA on a CPU).
    """

    kind = "wgan"
    output_type = "sigmoid"
    presets = PRESETS
    #: allowed ranges of options (``ckgan.options``), the base class's and these
    option_ranges = {
        **LabelGenerator.option_ranges,
        "negative_slope": "[0, 1]",
        "gp_weight": "[0, inf)",
        "lr_decay": "(0, 1]",
        "n_critic": "[1, inf)",
        "steps_per_execution": "[1, inf)",
        "edge_penalty": "[0, inf)",
        "edge_effect_scale": "[0, inf)",
        "clamp_fraction": "[0, 1)",
        "clamp_min_rows": "[1, inf)",
        "config_balance_rows": "[0, inf)",
        "likelihood_weight": "[0, inf)",
        "jit_compile": (True, False, "auto"),
        "sampler": ("tables", "network"),
        "table_prior_rows": "[0, inf)",
        "pool_z": "[0, inf)",
    }
    #: options added since runs were first saved, with the value those runs trained with
    added_options = {
        "likelihood_weight": 0.0,
        "config_balance_rows": 0,
        "draw_binary": False,
        "sampler": "network",
        "table_prior_rows": 0.0,
        "pool_z": 0.0,
        "shrink_to_rows": False,
    }

    def __init__(
        self,
        graph: CausalGraph,
        *,
        preset: str = "tuned",
        noise_dim: int | None = None,
        hidden: list[int] | None = None,
        critic_hidden: list[int] | None = None,
        negative_slope: float | None = None,
        gp_weight: float | None = None,
        learning_rate: float | None = None,
        beta_1: float | None = None,
        beta_2: float | None = None,
        lr_decay: float | None = None,
        ema_decay: float | None = None,
        n_critic: int | None = None,
        batch_size: int | None = None,
        steps: int | None = None,
        steps_per_execution: int | None = None,
        edge_penalty: float | None = None,
        edge_effect_scale: float | None = None,
        clamp_fraction: float | None = None,
        clamp_min_rows: int | None = None,
        init_rates: bool | None = None,
        likelihood_weight: float | None = None,
        config_balance_rows: int | None = None,
        draw_binary: bool | None = None,
        sampler: str | None = None,
        table_prior_rows: float | None = None,
        pool_z: float | None = None,
        shrink_to_rows: bool | None = None,
        jit_compile: bool | str = "auto",
        **extra: Any,
    ):
        given = {k: v for k, v in locals().items() if k in PRESETS["tuned"] and v is not None}
        given["jit_compile"] = jit_compile
        super().__init__(graph, **self._resolve(preset, given, extra))
        self.controller: CausalController | None = None
        self.ema_controller: CausalController | None = None
        self.critic: LabelCritic | None = None
        #: the tables sampled from (``sampler="tables"``): built once fitted or loaded
        self._tables: BayesNet | None = None
        self._tables_ready = False
        #: the training rows by parent configuration and state (``family_counts``):
        #: the tables draw uniformly in configurations no row shows (``fill_unseen``)
        #: and follow the rows where those contradict them (``refine``)
        self._support: dict[str, np.ndarray] | None = None
        #: how many configurations that made uniform (``None``: not tabulated after a fit)
        self.unseen_configurations: int | None = None

    def _resolve(self, preset: str, given: dict, extra: dict) -> dict[str, Any]:
        return resolve(type(self), preset, given, extra, f"{self.kind} label generator")

    # -- the networks --------------------------------------------------------------

    @property
    def controller_output(self) -> str:
        """The controller's ``output_type``: ``"gumbel"`` where binary nodes draw."""
        return "gumbel" if self.options.get("draw_binary") else self.output_type

    def _controller_kwargs(self) -> dict[str, Any]:
        o = self.options
        kwargs = {
            "adjacency": self.graph.adjacency(),
            "noise_dim": o["noise_dim"],
            "hidden": o["hidden"],
            "negative_slope": o["negative_slope"],
            "output_type": self.controller_output,
        }
        if not self.graph.is_binary:
            kwargs["cards"] = list(self.graph.cards)
        return kwargs

    def _build(self) -> None:
        """Create the controller, its average and the critic (fresh weights)."""
        o = self.options
        self.controller = CausalController(**self._controller_kwargs(), name="controller")
        self.ema_controller = None
        if o["ema_decay"] > 0:
            self.ema_controller = CausalController(
                **self._controller_kwargs(), name="controller_ema"
            )
            for avg, var in zip(self.ema_controller.weights, self.controller.weights, strict=True):
                avg.assign(var)
        self.critic = LabelCritic(
            self.graph.encoding.width, o["critic_hidden"], o["negative_slope"], name="critic"
        )

    def _start_at_data_rates(self, labels: np.ndarray, seed: int) -> None:
        """Shift each node's output bias so that the fresh controller draws the data's rates.

        Fresh weights draw every node about half the time; a value in 1% of
        the rows then has far to fall, overshoots to 0 within a few hundred
        steps and stays there (its sigmoid saturated: no gradient back).
        Started at the data's rate, rounded outputs of 1 are as frequent as
        the data's from the first step. Nodes are set in topological order
        (a node's rate depends on its parents'). A categorical node's state
        biases are moved towards the data's state rates the same way.
        """
        shape = (4096, len(self.nodes), self.controller.noise_channels)
        noise = np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")
        bias = keras.ops.convert_to_numpy(self.controller.b_out).copy()  # (k, 1, slots) stacked
        position = {node: row for row, node in enumerate(self.controller._order)}
        cards = self.graph.cards
        binary_rates = np.clip(labels.mean(axis=0), 0.5 / len(labels), 1 - 0.5 / len(labels))
        for generation in self.controller.generations:
            _, logits = self.controller(noise, return_logits=True)
            logits = keras.ops.convert_to_numpy(logits)
            for node in generation:
                if cards[node] > 2:
                    rates = np.bincount(labels[:, node], minlength=cards[node]) / len(labels)
                    bias[position[node], 0, : cards[node]] += _shift_to_rates(
                        logits[:, node, : cards[node]], rates
                    )
                    continue
                node_logits = logits[:, node] if logits.ndim == 2 else logits[:, node, 0]
                bias[position[node], 0, 0] += _shift_to_rate(
                    node_logits, binary_rates[node], self.controller_output
                )
            self.controller.b_out.assign(bias)
        if self.ema_controller is not None:
            self.ema_controller.b_out.assign(bias)

    def _sampler(self) -> CausalController:
        controller = self.ema_controller or self.controller
        if controller is None:
            raise CkganError(f"the {self.kind} label generator is not fitted yet")
        return controller

    def _wgan(self, steps: int, seed: int | None, labels: np.ndarray) -> WGANGP:
        o = self.options
        adjacency = np.asarray(self.graph.adjacency())
        weights = clamp = effects = row_weights = None
        cards = self.graph.cards
        balance = o["likelihood_weight"] and o["config_balance_rows"]
        penalty = o["edge_penalty"] and adjacency.any()
        if balance or (penalty and o["edge_effect_scale"] > 0):  # measured once for both
            effects = edge_effects(labels, adjacency, cards=cards)
        if penalty:
            weights = edge_penalty_weights(
                labels, adjacency, float(o["edge_effect_scale"]), cards=cards, effects=effects
            )
        if o["clamp_fraction"] > 0:
            clamp = clamp_slots(labels, adjacency, o["clamp_min_rows"], cards=cards)
        if balance:
            row_weights = config_weights(
                labels, adjacency, o["config_balance_rows"], cards, effects=effects
            )
        return WGANGP(
            self.controller,
            self.critic,
            noise_shape=(len(self.nodes), self.controller.noise_channels),
            n_critic=self.options["n_critic"],
            gp_weight=self.options["gp_weight"],
            batch_size=self.options["batch_size"],
            ema_generator=self.ema_controller,
            ema_decay=self.options["ema_decay"] or 0.999,
            edge_penalty=self.options["edge_penalty"],
            edge_weights=weights,
            clamp=clamp,
            clamp_fraction=float(o["clamp_fraction"]),
            likelihood_weight=float(o["likelihood_weight"]),
            row_weights=row_weights,
            total_steps=steps,
            seed=seed,
        )

    def _optimizer(self, decay_steps: int) -> keras.optimizers.Optimizer:
        o = self.options
        lr: Any = o["learning_rate"]
        if o["lr_decay"] < 1.0:
            lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps, alpha=o["lr_decay"])
        return keras.optimizers.Adam(lr, beta_1=o["beta_1"], beta_2=o["beta_2"])

    # -- training --------------------------------------------------------------------

    def _fit(self, labels, *, steps, seed, evaluate, eval_every, verbose):
        o = self.options
        steps = int(steps or o["steps"])
        if steps < 1:
            raise CkganError(f"steps must be at least 1, got {steps}")
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))
        keras.utils.set_random_seed(int(seed))
        self._tables, self._tables_ready = None, False  # the network changes: sample it
        if self.controller is None:
            self._build()
            if o["init_rates"]:
                self._start_at_data_rates(labels, seed)
        # 10 evaluations a fit: each draws 200k rows through the network (sachs: 1.5 s)
        eval_every = max(1, min(int(eval_every or steps // 10), steps))
        per_call = min(o["steps_per_execution"], eval_every)
        wgan = self._wgan(steps, seed, labels)
        wgan.compile(
            generator_optimizer=self._optimizer(steps),
            critic_optimizer=self._optimizer(steps * o["n_critic"]),
            steps_per_execution=per_call,
            jit_compile=o["jit_compile"],
        )
        self.wgan = wgan
        codes = labels
        labels = self.graph.encoding.encode(labels)  # model vectors: float32
        # data parallel splits each step's input, here the whole data, into
        # equal parts: drop the few rows (fewer than one per device) that do not split
        labels = labels[: len(labels) - len(labels) % device_count()]
        logger = _TrainingLog(self, evaluate)
        # Epochs of eval_every steps, then the rest: each epoch is a dataset of
        # that many copies of the labels (one per step); a last short block of
        # steps_per_execution ends where the dataset ends.
        epochs, rest = divmod(steps, eval_every)
        plan = [(epochs, eval_every)] if epochs else []
        if rest:
            plan.append((1, rest))
        for n_epochs, per_epoch in plan:
            logger.steps_per_epoch = per_epoch
            wgan.fit(
                backend.repeated_dataset(labels, per_epoch),
                epochs=n_epochs,
                callbacks=[logger],
                shuffle=False,
                verbose=verbose,
            )
            if wgan.stop_training:  # set by a callback or by evaluate
                break
        self._tables_ready = True
        self._support = family_counts(self.graph, codes)
        return logger.log

    # -- sampling ------------------------------------------------------------------

    def sample_probs(
        self, n: int, do: dict[str, int] | None = None, seed: int | None = None
    ) -> np.ndarray:
        """The controller's un-rounded outputs, ``(n, width)`` float32 model vectors.

        A binary node's column in (0, 1), a categorical node's softmax block;
        for the Gumbel generator, each node's probabilities given its sampled
        parents. The same seed draws the same noise as ``sample``.
        """
        do, _ = check_do_given(self.graph, do, None)
        return self._run(n, do, seed, probs=True)

    def _sample(self, n, do, seed):
        tables = self.tables()
        if tables is not None:
            return tables.sample(n, rng=seed, do=do)
        return self.graph.encoding.decode(self._run(n, do, seed, probs=False))

    def tables(self) -> BayesNet | None:
        """The Bayesian network ``sample`` draws from (``sampler="tables"``), built on
        first use once the generator is fitted or loaded; ``None`` while it trains,
        with ``sampler="network"``, or when a node has too many parent configurations."""
        if self.options.get("sampler") != "tables" or not self._tables_ready:
            return None
        if self._tables is None:
            tables = tabulate(self._sampler(), self.graph)
            if tables is not None and self._support is not None:
                tables = self._fit_to_rows(tables)
            self._tables = False if tables is None else BayesNet(self.graph, tables)
        return self._tables or None

    def _fit_to_rows(self, tables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The controller's tables made to agree with the training rows where those
        say something (``family_tables``: pool, fill_unseen, shrink, refine)."""
        o, support = self.options, self._support
        if o.get("pool_z", 0.0) > 0:
            tables, support = pool(tables, self.graph, support, float(o["pool_z"]))
        tables, self.unseen_configurations = fill_unseen(tables, self.graph, self._support)
        if o.get("shrink_to_rows"):
            tables = shrink(tables, self.graph, support)
        return refine(tables, self.graph, support, float(o.get("table_prior_rows", 0.0)))

    def _run(self, n: int, do: dict[str, int], seed: int | None, probs: bool) -> np.ndarray:
        controller = self._sampler()
        k = len(self.nodes)
        encoding = self.graph.encoding
        mask = values = None
        if do:
            mask = np.zeros(k, dtype="float32")
            codes = np.zeros((1, k), dtype=np.uint8)
            for node, value in do.items():
                mask[self.graph.index(node)] = 1.0
                codes[0, self.graph.index(node)] = value
            values = encoding.encode(codes)[0] * mask[encoding.column_node]
        rng = np.random.default_rng(seed)
        out = np.empty((n, encoding.width), dtype="float32")
        forward = backend.inference(controller)
        # every call the same shape (the last chunk padded): one compile on JAX
        chunk = min(SAMPLE_CHUNK, max(256, 1 << (max(n, 1) - 1).bit_length()))
        for start in range(0, n, chunk):
            rows = min(chunk, n - start)
            noise = rng.random((rows, k, controller.noise_channels), dtype=np.float32)
            noise = noise * 2.0 - 1.0
            if rows < chunk:
                pad = np.zeros((chunk - rows, *noise.shape[1:]), "float32")
                noise = np.concatenate([noise, pad])
            y = forward(noise, do_mask=mask, do_values=values, return_probs=probs)
            out[start : start + rows] = keras.ops.convert_to_numpy(y)[:rows]
        return out

    # -- storage ---------------------------------------------------------------------

    def _save_state(self, directory: Path) -> None:
        if self.controller is None:
            raise CkganError(f"the {self.kind} label generator is not fitted yet: nothing to save")
        models = {"controller": self.controller, "critic": self.critic}
        if self.ema_controller is not None:
            models["ema"] = self.ema_controller
        for key, model in models.items():
            # Keras insists on the .weights.h5 suffix, the temporary name keeps it
            with atomic_path(directory / WEIGHTS[key], suffix=".weights.h5") as tmp:
                with warnings.catch_warnings():
                    # Keras converts variables with np.array(copy=False), which
                    # NumPy 2 flags for TensorFlow's __array__; harmless here
                    warnings.filterwarnings(
                        "ignore", "__array__ implementation", DeprecationWarning
                    )
                    model.save_weights(tmp)
        tables = self.tables()
        saved = {TABLES_FILE: None if tables is None else tables.cpts, SUPPORT_FILE: self._support}
        for name, arrays in saved.items():
            if arrays is not None:
                with atomic_path(directory / name, suffix=".npz") as tmp:
                    np.savez(tmp, **{f"node{i}": arrays[n] for i, n in enumerate(self.nodes)})

    def _load_state(self, directory: Path) -> None:
        self._build()
        models = {"controller": self.controller, "critic": self.critic}
        if self.ema_controller is not None:
            models["ema"] = self.ema_controller
        for key, model in models.items():
            path = directory / WEIGHTS[key]
            if not path.is_file():
                raise CkganError(f"'{path}' is missing: the saved generator is incomplete")
            model.load_weights(path)
        self._tables, self._tables_ready = None, True
        path = directory / SUPPORT_FILE
        self._support = _read_arrays(path, self.graph) if path.is_file() else None
        path = directory / TABLES_FILE
        if self.options.get("sampler") == "tables" and path.is_file():
            self._tables = BayesNet(self.graph, _read_arrays(path, self.graph))


def _shift_to_rates(logits: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Shifts of a categorical node's state logits ``(n, k)`` at which its softmax draws
    each state at the data's ``rates`` on average (multiplicative updates)."""
    rates = np.clip(np.asarray(rates, dtype=np.float64), 0.5 / len(logits), None)
    shift = np.zeros(logits.shape[1])
    for _ in range(200):
        scores = logits + shift
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        drawn = (e / e.sum(axis=1, keepdims=True)).mean(axis=0)
        shift += np.log(rates / drawn)
        shift -= shift.mean()
    return shift


def _shift_to_rate(logits: np.ndarray, rate: float, output_type: str) -> float:
    """The shift of ``logits`` at which a node draws 1 at ``rate`` (bisection).

    Sigmoid nodes draw 1 where the logit is positive, Gumbel nodes with
    probability ``sigmoid(logit)``.
    """
    lo, hi = -40.0, 40.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if output_type == "gumbel":
            drawn = np.mean(1.0 / (1.0 + np.exp(-(logits + mid))))
        else:
            drawn = np.mean(logits + mid > 0)
        lo, hi = (mid, hi) if drawn < rate else (lo, mid)
    return (lo + hi) / 2


class _TrainingLog(keras.callbacks.Callback):
    """Evaluates the generator every epoch (``eval_every`` steps) and keeps the log."""

    def __init__(self, generator: WGANLabelGenerator, evaluate):
        super().__init__()
        self.generator = generator
        self.evaluate = evaluate
        self.steps_per_epoch = 1
        self.step = 0
        self.log: list[dict[str, Any]] = []
        self.start: float | None = None
        self.eval_seconds = 0.0

    def on_train_begin(self, logs=None):
        if self.start is None:
            self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        self.step += self.steps_per_epoch
        entry: dict[str, Any] = {
            "step": self.step,
            "time": time.perf_counter() - self.start - self.eval_seconds,
        }
        entry.update({key: float(value) for key, value in logs.items()})
        if self.evaluate is not None:
            began = time.perf_counter()
            metrics = dict(self.evaluate(self.generator))
            self.eval_seconds += time.perf_counter() - began
            entry.update(metrics)
            # the progress bar shows the scalar ones
            logs.update({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
        self.log.append(entry)


def _read_arrays(path: Path, graph: CausalGraph) -> dict[str, np.ndarray]:
    """One array per node saved beside the weights (the tables, the training rows by
    parent configuration and state); a damaged file is an error that says to delete it."""
    try:
        with np.load(path) as data:
            arrays = {node: data[f"node{i}"] for i, node in enumerate(graph.nodes)}
        if path.name == TABLES_FILE:
            BayesNet(graph, arrays)  # checks the shapes and the probabilities
        else:
            for node in graph.nodes:
                parents = tuple(graph.cards[graph.index(p)] for p in graph.parents(node))
                shape = (*parents, graph.cards[graph.index(node)])
                if np.shape(arrays[node]) != shape:
                    raise ValueError(f"{node}: shape {np.shape(arrays[node])}, not {shape}")
        return arrays
    except (OSError, ValueError, KeyError, CkganError) as e:
        then = (
            "it is rebuilt from the weights"
            if path.name == TABLES_FILE
            else "rebuilt tables are then the controller's, unrefined by the training rows"
        )
        raise CkganError(f"'{path}' is damaged ({e}): delete it, and {then}") from None
