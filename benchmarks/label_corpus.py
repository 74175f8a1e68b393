"""Label generators on the bnlearn networks, trained through the CLI as a user would.

For each network (bnlearn's binary ones shipped inside pgmpy's wheel, and a
made-up 8-node network ``heldout8`` that the defaults were never tuned on),
draws ``--rows`` rows from the published tables, writes a DOT graph and a CSV,
and trains each label generator with
``ckgan run --labels G --image none --graph g.dot --data d.csv --out DIR --quiet``.
Each trained generator is scored by TV distance to the exact truth (by
enumeration) with 200k samples, observationally and under every single-node
``do(X=0)`` and ``do(X=1)``. Beside them: pgmpy fitted on the same training
rows (fit time, ``simulate`` time and rows/s observationally and under one
``do``, TV of its rows and of its exact tables). Results merge into
``benchmarks/results/label_corpus.json`` keyed by network and generator (plus
``--tag``), so single cells can be rerun; a table is printed at the end.

pgmpy is a benchmark-only dependency (``pip install pgmpy``), never one of ckgan's.

Run by hand: ``python benchmarks/label_corpus.py [--networks asia ...] [--generators wgan ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")  # built-ins only

from label_baselines import best_of, import_pgmpy, pgmpy_model_as_bayesnet  # noqa: E402
from label_tv import tabular_reference  # noqa: E402

import ckgan  # noqa: E402
from ckgan.dataset import load_dataset  # noqa: E402
from ckgan.labels import LabelGenerator  # noqa: E402
from ckgan.metrics import tv_distance, tv_to_truth  # noqa: E402
from ckgan.run import reordered_truth  # noqa: E402

RESULTS = Path(__file__).parent / "results"
BNLEARN = ("asia", "cancer", "earthquake")
NETWORKS = (*BNLEARN, "heldout8")
GENERATORS = ("wgan", "gumbel", "tabular")
#: the state of a bnlearn node that is written as 1 (the other one is 0)
ONE_STATES = {"yes", "True", "positive", "high"}

#: A made-up network of moderate rates, the held-out check: never tuned on.
#: node: (parents, P(node=1 | parents) with axes in parent order)
HELDOUT8 = {
    "a": ((), 0.4),
    "b": ((), 0.3),
    "c": (("a",), [0.2, 0.7]),
    "d": (("a", "b"), [[0.1, 0.5], [0.4, 0.8]]),
    "e": (("c",), [0.3, 0.6]),
    "f": (("c", "d"), [[0.15, 0.45], [0.55, 0.9]]),
    "g": (("e", "f"), [[0.25, 0.6], [0.5, 0.85]]),
    "h": (("d",), [0.35, 0.75]),
}


def write_dot(name: str, nodes: list[str], edges: list[tuple[str, str]], path: Path) -> None:
    """A DOT file as a user would write it: every node, then every edge."""
    lines = [f"digraph {name} {{"]
    lines += [f"  {node};" for node in nodes]
    lines += [f"  {u} -> {v};" for u, v in edges]
    path.write_text("\n".join(lines) + "\n}\n")


def bnlearn_network(name: str):
    """``(nodes, edges, {node: (parents, table)})`` of a binary bnlearn network from pgmpy."""
    from pgmpy.utils import get_example_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = get_example_model(name)
    tables = {}
    for node in model.nodes():
        cpd = model.get_cpds(node)
        names = cpd.state_names
        if any(len(names[v]) != 2 for v in cpd.variables):
            raise SystemExit(f"{name}: node '{node}' is not binary (categorical labels: not yet)")

        values = np.asarray(cpd.get_values()).reshape([cpd.variable_card, *cpd.cardinality[1:]])
        for axis, var in enumerate(cpd.variables):
            # the state that reads as 1 goes last on its axis
            ones = [i for i, s in enumerate(names[var]) if str(s) in ONE_STATES]
            if len(ones) != 1:
                raise SystemExit(f"{name}: no state of '{var}' reads as 1 ({names[var]})")
            values = np.take(values, [1 - ones[0], ones[0]], axis=axis)
        tables[node] = (tuple(cpd.variables[1:]), values[1])
    return list(model.nodes()), list(model.edges()), tables


def network(name: str):
    if name == "heldout8":
        tables = {n: (p, np.asarray(t, dtype=float)) for n, (p, t) in HELDOUT8.items()}
        edges = [(p, n) for n, (parents, _) in HELDOUT8.items() for p in parents]
        return list(HELDOUT8), edges, tables
    return bnlearn_network(name)


def truth_on(graph: ckgan.CausalGraph, tables) -> ckgan.BinaryBayesNet:
    """The exact model on ``graph``, each table's axes put in ``graph.parents`` order."""
    cpts = {}
    for node in graph.nodes:
        parents, table = tables[node]
        order = [list(parents).index(p) for p in graph.parents(node)]
        cpts[node] = np.transpose(np.asarray(table, dtype=float), order) if order else table
    return ckgan.BinaryBayesNet(graph, cpts)


def worst(tv_do: dict[str, float]) -> tuple[str, float]:
    return max(tv_do.items(), key=lambda kv: kv[1])


def run_cli(generator: str, dot: Path, csv: Path, out: Path, options: list[str]) -> float:
    """``ckgan run`` as a user types it (under ``nice``); returns its wall time."""
    cmd = ["nice", "-n", "5", shutil.which("ckgan") or "ckgan", "run", "--labels", generator]
    cmd += ["--image", "none", "--graph", str(dot), "--data", str(csv)]
    cmd += ["--out", str(out), "--quiet"]
    for option in options:
        cmd += ["--label-option", option]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return wall


def score_generator(gen: LabelGenerator, truth, n: int) -> dict:
    full = tv_to_truth(gen.sample, reordered_truth(truth, gen.graph), n=n, seed=7)
    name, tv = worst(full["tv_do"])
    return {**full, "tv_worst_do": tv, "worst_do": name}


def pgmpy_cell(graph, truth, data, n: int) -> dict:
    """pgmpy fitted on the training rows: fit and ``simulate`` time, TV of rows and tables."""
    pgmpy, Network = import_pgmpy()
    import pandas as pd
    from pgmpy.estimators import BayesianEstimator

    nodes = list(graph.nodes)
    frame = pd.DataFrame(data.astype(np.int64), columns=nodes)
    start = time.perf_counter()
    model = Network(graph.edges)
    model.add_nodes_from(nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pgmpy 1.1 renames its estimators
        estimator = BayesianEstimator(model, frame, state_names={v: [0, 1] for v in nodes})
    model.add_cpds(*estimator.get_parameters(prior_type="K2"))  # add-one, as tabular
    fit_s = time.perf_counter() - start
    tables = pgmpy_model_as_bayesnet(model, graph)

    def draw(rows, do):
        kwargs = {"do": dict(do)} if do else {}
        df = model.simulate(n_samples=rows, seed=3, show_progress=False, **kwargs)
        return df[nodes].to_numpy().astype(np.uint8)

    seconds, rows = best_of(lambda: draw(n, None), 1, False)
    tv_do = {
        f"{v}={x}": tv_distance(tables.pmf(do={v: x}), truth.pmf(do={v: x}))
        for v in nodes
        for x in (0, 1)
    }
    worst_name, worst_tv = worst(tv_do)
    # simulate(do=...) draws by rejection: time it on fewer rows, under the worst do
    node, value = worst_name.split("=")
    n_do = max(n // 10, 1000)
    do_seconds, do_rows = best_of(lambda: draw(n_do, {node: int(value)}), 1, False)
    return {
        "pgmpy_version": pgmpy.__version__,
        "fit_s": fit_s,
        "simulate_s": seconds,
        "rows_per_s": n / seconds,
        "tv_observational": tv_distance(rows, truth.pmf()),
        "tv_observational_exact_tables": tv_distance(tables.pmf(), truth.pmf()),
        "tv_do_exact_tables": tv_do,
        "tv_worst_do_exact_tables": worst_tv,
        "worst_do": worst_name,
        "do_rows": n_do,
        "do_simulate_s": do_seconds,
        "do_rows_per_s": n_do / do_seconds,
        "tv_worst_do_rows": tv_distance(do_rows, truth.pmf(do={node: int(value)})),
    }


def sampling_rate(gen: LabelGenerator, n: int, do=None) -> float:
    seconds, _ = best_of(lambda: gen.sample(n, do=do, seed=5), 1, True)
    return n / seconds


def run_network(name: str, generators, args, store: dict, work: Path) -> None:
    nodes, edges, tables = network(name)
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    dot, csv = folder / f"{name}.dot", folder / f"{name}.csv"
    write_dot(name, nodes, edges, dot)
    graph = ckgan.CausalGraph.load(dot)  # the node order the CLI will use
    truth = truth_on(graph, tables)
    rows = truth.sample(args.rows, rng=args.seed)
    header = ",".join(graph.nodes)
    np.savetxt(csv, rows, fmt="%d", delimiter=",", header=header, comments="")
    train = load_dataset(csv).labels("train", graph.nodes)  # the rows ckgan trains on
    entry = store.setdefault(name, {})
    entry.update(
        {
            "nodes": list(graph.nodes),
            "edges": [list(e) for e in graph.edges],
            "rows": args.rows,
            "train_rows": len(train),
            "marginals": truth.marginals(),
            "sampling_floor_obs": tv_distance(truth.sample(args.n, rng=99), truth.pmf()),
            "tabular_exact": tabular_reference(graph, truth, train),
        }
    )
    for generator in generators:
        key = generator + (f"/{args.tag}" if args.tag else "")
        out = folder / f"run-{generator}"
        shutil.rmtree(out, ignore_errors=True)
        print(f"{name}: training {generator} ...", flush=True)
        wall = run_cli(generator, dot, csv, out, args.option)
        metrics = json.loads((out / "metrics.json").read_text())["labels"]
        gen = LabelGenerator.load(out / "labels")
        cell = score_generator(gen, truth, args.n)
        cell.update(
            {
                "train_s": metrics["train_seconds"],
                "cli_wall_s": wall,
                "options": gen.get_config(),
                "label_options": args.option,
                "rows_per_s": sampling_rate(gen, args.n),
                "load_average_after": os.getloadavg(),
            }
        )
        entry.setdefault("generators", {})[key] = cell
        print(
            f"  {key}: obs {cell['tv_observational']:.4f}  worst do {cell['tv_worst_do']:.4f} "
            f"({cell['worst_do']})  train {cell['train_s']:.0f} s",
            flush=True,
        )
    if args.pgmpy:
        entry["pgmpy"] = pgmpy_cell(graph, truth, train, args.n)


def print_table(store: dict) -> None:
    print()
    print(
        f"{'network':11s} {'generator':22s} {'obs':>7s} {'worst do':>9s} {'(which)':16s} "
        f"{'train s':>8s}   {'tabular exact obs / do':>22s}   pgmpy obs / do / fit s / rows/s"
    )
    for name, entry in store.items():
        tab = entry.get("tabular_exact", {})
        pg = entry.get("pgmpy")
        pg_text = (
            f"{pg['tv_observational']:.4f} / {pg['tv_worst_do_exact_tables']:.4f} / "
            f"{pg['fit_s']:.2f} / {pg['rows_per_s']:,.0f}"
            if pg
            else "-"
        )
        for key, cell in sorted(entry.get("generators", {}).items()):
            print(
                f"{name:11s} {key:22s} {cell['tv_observational']:7.4f} "
                f"{cell['tv_worst_do']:9.4f} {cell['worst_do']:16s} {cell['train_s']:8.0f}   "
                f"{tab.get('tv_observational', float('nan')):10.4f} / "
                f"{tab.get('tv_worst_do', float('nan')):.4f}   {pg_text}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--generators", nargs="+", default=list(GENERATORS))
    parser.add_argument("--rows", type=int, default=50_000, help="rows drawn (80%% train)")
    parser.add_argument("--n", type=int, default=200_000, help="samples per TV")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--option", action="append", default=[], help="KEY=VALUE label option")
    parser.add_argument("--tag", default="", help="stored as GENERATOR/TAG (for experiments)")
    parser.add_argument("--no-pgmpy", dest="pgmpy", action="store_false")
    parser.add_argument("--work", help="folder for graphs, CSVs and runs (default: temporary)")
    parser.add_argument("--out", default=str(RESULTS / "label_corpus.json"))
    args = parser.parse_args()
    if args.pgmpy or set(args.networks) & set(BNLEARN):
        import_pgmpy()  # exits with the install command when missing

    path = Path(args.out)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="ckgan-corpus-"))
    for name in args.networks:
        # read just before writing: keeps what other runs of the script wrote
        stored = json.loads(path.read_text()) if path.exists() else {"networks": {}}
        run_network(name, args.generators, args, stored["networks"], work)
        stored["machine"] = {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "note": "a 2-core CPU shared with other jobs: times are rough",
        }
        stored["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2) + "\n")
    print_table(stored["networks"])
    print(f"wrote {path}; graphs, CSVs and runs in {work}")


if __name__ == "__main__":
    main()
