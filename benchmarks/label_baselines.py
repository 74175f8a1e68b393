"""ckgan's ``tabular`` label generator against pgmpy on the synthfaces label model.

Draws 40k training rows from the exact synthfaces model (``paper`` graph, 9
binary nodes), fits ckgan's ``TabularLabelGenerator`` (add-one tables) and a
pgmpy discrete Bayesian network on the same graph with ``BayesianEstimator``
and the K2 prior (one pseudo-count per cell: the same add-one tables), then
for observational sampling and under ``do(Mustache=1)`` times drawing 200k
rows and scores them by TV distance to the exact pmf. The exact TV of each
fitted model's own pmf (no sampling noise) is reported too. Writes
``benchmarks/results/label_baselines.json``.

pgmpy is a benchmark-only dependency, not one of ckgan's:
``pip install pgmpy`` (into the same environment) before running.

Run by hand: ``python benchmarks/label_baselines.py [--n 200000] [--train 40000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")  # built-ins only

import ckgan  # noqa: E402
from ckgan.metrics import tv_distance  # noqa: E402
from ckgan.tabular import TabularLabelGenerator  # noqa: E402

RESULTS = Path(__file__).parent / "results"
DO = {"Mustache": 1}


def import_pgmpy():
    try:
        import pgmpy
    except ImportError:
        raise SystemExit(
            "pgmpy is needed for this benchmark only (it is not a ckgan dependency):\n"
            "    pip install pgmpy\n"
            "into the environment that runs ckgan, then run this script again."
        ) from None
    try:
        from pgmpy.models import DiscreteBayesianNetwork as Network
    except ImportError:  # pgmpy < 1.0
        from pgmpy.models import BayesianNetwork as Network
    return pgmpy, Network


def best_of(fn, repeats: int, warmup: bool) -> tuple[float, object]:
    """The fastest of ``repeats`` timed calls (after an untimed one), and the last result."""
    if warmup:
        fn()
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def pgmpy_model_as_bayesnet(model, graph: ckgan.CausalGraph) -> ckgan.BayesNet:
    """pgmpy's fitted CPDs as ckgan tables (to score their exact pmf).

    The CPDs' states are ckgan's codes ``0 .. k-1`` (as ``pgmpy_cell`` fits
    them) or the graph's state names; each axis is put in ckgan's order.
    """
    cpts = {}
    for node in graph.nodes:
        cpd = model.get_cpds(node)
        cpts[node] = cpd_as_table(cpd, graph, node)
    return ckgan.BayesNet(graph, cpts)


def cpd_as_table(cpd, graph: ckgan.CausalGraph, node: str) -> np.ndarray:
    """One pgmpy CPD as a ckgan table (``P(node=1 | parents)`` for a binary node)."""
    names = cpd.state_names

    def order(var):
        states = list(graph.states(var))
        found = [str(s) for s in names[var]]
        if set(found) == set(states):
            return [found.index(s) for s in states]
        return [list(names[var]).index(code) for code in range(len(states))]  # codes

    values = np.asarray(cpd.get_values()).reshape([cpd.variable_card, *cpd.cardinality[1:]])
    # axis 0: the node's states; then the evidence in cpd.variables[1:] order
    for axis, var in enumerate(cpd.variables):
        values = np.take(values, order(var), axis=axis)
    axes = [cpd.variables[1:].index(p) + 1 for p in graph.parents(node)]
    table = np.transpose(values, [*axes, 0])
    return table[..., 1] if len(graph.states(node)) == 2 else table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="rows per timed draw")
    parser.add_argument("--train", type=int, default=40_000, help="training rows")
    parser.add_argument("--repeats", type=int, default=3, help="timed draws (best is kept)")
    parser.add_argument("--out", default=str(RESULTS / "label_baselines.json"))
    args = parser.parse_args()

    pgmpy, Network = import_pgmpy()
    import pandas as pd
    from ckgan_plugins.synthfaces.scm import causal_model
    from pgmpy.estimators import BayesianEstimator

    truth = causal_model()
    graph = truth.graph
    nodes = list(graph.nodes)
    data = truth.sample(args.train, rng=0)

    # -- fit ----------------------------------------------------------------------
    start = time.perf_counter()
    tab = TabularLabelGenerator(graph)
    tab.fit(data, verbose=0)
    ck_fit_s = time.perf_counter() - start

    frame = pd.DataFrame(data.astype(np.int64), columns=nodes)
    start = time.perf_counter()
    model = Network(graph.edges)
    model.add_nodes_from(nodes)
    try:
        estimator = BayesianEstimator(model, frame, state_names={n: [0, 1] for n in nodes})
    except TypeError:  # versions without state_names: every value occurs in 40k rows
        estimator = BayesianEstimator(model, frame)
    # the K2 prior: one pseudo-count per cell = add-one smoothing
    model.add_cpds(*estimator.get_parameters(prior_type="K2"))
    model.check_model()
    pg_fit_s = time.perf_counter() - start
    pg_tables = pgmpy_model_as_bayesnet(model, graph)

    def pg_sample(n, do, seed):
        kwargs = {"do": dict(do)} if do else {}
        df = model.simulate(n_samples=n, seed=seed, show_progress=False, **kwargs)
        return df[nodes].to_numpy().astype(np.uint8)

    def ck_sample(n, do, seed):
        return tab.sample(n, do=do or None, seed=seed)

    results = {}
    for name, do in (("observational", {}), ("do(Mustache=1)", DO)):
        exact = truth.pmf(do=do or None)
        row = {}
        # pgmpy's draws take seconds (under do, close to a minute): no warm-up, fewer
        for lib, fn, repeats, warmup in (
            ("ckgan", ck_sample, args.repeats, True),
            ("pgmpy", pg_sample, max(1, args.repeats - 1), False),
        ):
            seconds, rows = best_of(lambda fn=fn, do=do: fn(args.n, do, 1), repeats, warmup)
            row[lib] = {
                "seconds": seconds,
                "rows_per_s": args.n / seconds,
                "tv_samples": tv_distance(rows, exact),
            }
            print(
                f"{name:16s} {lib:6s} {args.n / seconds:12,.0f} rows/s  "
                f"TV {row[lib]['tv_samples']:.4f}"
            )
        row["ckgan"]["tv_exact_model"] = tv_distance(tab.pmf(do=do or None), exact)
        row["pgmpy"]["tv_exact_model"] = tv_distance(pg_tables.pmf(do=do or None), exact)
        row["speed_ratio_ckgan_over_pgmpy"] = (
            row["ckgan"]["rows_per_s"] / row["pgmpy"]["rows_per_s"]
        )
        print(f"{'':16s} ratio ckgan/pgmpy {row['speed_ratio_ckgan_over_pgmpy']:.1f}x")
        results[name] = row

    # same tables? (both add-one on the same rows)
    max_table_diff = max(float(np.abs(tab.model.cpts[n] - pg_tables.cpts[n]).max()) for n in nodes)
    # sampling floor: TV of exact samples of the truth itself
    floor = tv_distance(truth.sample(args.n, rng=2), truth.pmf())

    out = {
        "benchmark": "label_baselines",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()),
            "note": "a 2-core CPU shared with other long jobs: orders of magnitude only",
        },
        "pgmpy_version": pgmpy.__version__,
        "pgmpy_class": Network.__name__,
        "estimator": "BayesianEstimator, prior_type=K2 (add-one)",
        "graph": "paper",
        "train_rows": args.train,
        "n": args.n,
        "fit_s": {"ckgan": ck_fit_s, "pgmpy": pg_fit_s},
        "max_abs_table_difference": max_table_diff,
        "tv_sampling_floor_exact_truth": floor,
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(
        f"fit: ckgan {ck_fit_s:.3f} s, pgmpy {pg_fit_s:.3f} s; "
        f"tables differ by {max_table_diff:.2g}"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
