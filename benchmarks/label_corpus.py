"""Label generators on the bnlearn networks, trained through the CLI as a user would.

For each network (bnlearn's networks shipped inside pgmpy's wheel, and a
made-up 8-node network ``heldout8`` that the defaults were never tuned on,
and the label model of ``render_scene.py``'s shapes scene, on its own graph
``shapes`` and on the over-complete ``shapes_full``: every earlier node a parent),
draws ``--rows`` rows from the published tables, writes a graph and a CSV,
and trains each label generator with
``ckgan run --labels G --image none --graph G_FILE --data d.csv --out DIR --quiet``.
The binary networks (asia, cancer, earthquake, heldout8, the shapes) are written as a DOT
graph and a CSV of 0/1; the categorical ones (sachs: 11 nodes of 3 states;
alarm: 37 nodes of 2-4; win95pts: 76 binary nodes with named states) as
their BIF file and a CSV of state names, as a user who downloads them from
bnlearn would. Each trained generator is scored against the truth with
``--n`` samples, observationally and under every single-node ``do(X=x)``
(every state of every node): by the TV distance of the whole joint when its
configurations can be enumerated (all but alarm and win95pts), else by the
TV of each family (a node and its parents) against the exact family
marginal (pgmpy's variable elimination on the mutilated network), the worst
and the mean over families. Beside them: the exact tables counted on the
same rows (``tabular``, the finite-data floor) and pgmpy fitted on them (fit
time, ``simulate`` rows/s observationally and under one ``do``, TVs).
Results merge into ``benchmarks/results/label_corpus.json`` keyed by network
and generator (plus ``--tag``), so single cells can be rerun; a table is
printed at the end.

pgmpy is a benchmark-only dependency (``pip install pgmpy``), never one of ckgan's.

Run by hand: ``python benchmarks/label_corpus.py [--networks asia ...] [--generators wgan ...]``.
``--work DIR`` keeps the runs (and the large networks' exact family marginals, which
take minutes); ``--rescore --work DIR`` scores those runs again without training, as
after a change to how a trained generator samples; with ``--option KEY=VALUE`` it sets
those options on the loaded generator first (the options of the tables it samples
from: ``pool_z=0``, ``shrink_to_rows=false``, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
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

from label_baselines import (  # noqa: E402
    best_of,
    cpd_as_table,
    import_pgmpy,
    pgmpy_model_as_bayesnet,
)
from label_tv import tabular_reference  # noqa: E402

import ckgan  # noqa: E402
from ckgan import load_dataset  # noqa: E402
from ckgan.bayesnet import MAX_CONFIGS, config_count  # noqa: E402
from ckgan.labels import LabelGenerator  # noqa: E402
from ckgan.metrics import tv_distance, tv_to_truth  # noqa: E402
from ckgan.run import reordered_truth  # noqa: E402

RESULTS = Path(__file__).parent / "results"
BNLEARN = ("asia", "cancer", "earthquake")
#: bnlearn networks read from their BIF files, with state names
CATEGORICAL = ("sachs", "alarm", "win95pts")
#: the label model of render_scene.py's shapes scene, on its graph and on the full
#: graph over its nodes (every earlier node a parent: an over-complete graph)
SCENES = ("shapes", "shapes_full")
NETWORKS = (*BNLEARN, "heldout8", *SCENES, *CATEGORICAL)
#: truth rows per do for the family TVs of tabular's and pgmpy's own floor
FAMILY_FLOOR_ROWS = 200_000
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


#: render_scene.py's ``shapes_labels`` as tables (same node order)
SHAPES = {
    "Night": ((), 0.4),
    "Circle": ((), 0.5),
    "Large": (("Night",), [0.6, 0.06]),
    "Red": (("Circle",), [0.04, 0.9]),
    "Ring": (("Red", "Large"), [[0.02, 0.1], [0.1, 0.6]]),
}


def over_complete(spec: dict) -> dict:
    """``spec`` on the full graph of its node order: each node's table broadcast
    over every earlier node (the parents it does not depend on)."""
    nodes, out = list(spec), {}
    for i, node in enumerate(nodes):
        parents, table = spec[node]
        earlier = nodes[:i]
        table = np.asarray(table, dtype=float)
        # axes in spec order, then one of size 1 per extra parent, moved into place
        extra = [p for p in earlier if p not in parents]
        table = table.reshape(table.shape + (1,) * len(extra))
        order = [[*parents, *extra].index(p) for p in earlier]
        table = np.broadcast_to(np.transpose(table, order), (2,) * len(earlier)).copy()
        out[node] = (tuple(earlier), table)
    return out


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


def bif_network(name: str, folder: Path):
    """A bnlearn network as a user gets it: its BIF file, read by ckgan; the truth from pgmpy."""
    import gzip

    import pgmpy
    from pgmpy.utils import get_example_model

    source = Path(pgmpy.__file__).parent / "utils" / "example_models" / f"{name}.bif.gz"
    path = folder / f"{name}.bif"
    path.write_bytes(gzip.decompress(source.read_bytes()))
    graph = ckgan.CausalGraph.read(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = get_example_model(name)
    cpts = {node: cpd_as_table(model.get_cpds(node), graph, node) for node in graph.nodes}
    return path, graph, ckgan.BayesNet(graph, cpts), model


def network(name: str):
    spec = {"heldout8": HELDOUT8, "shapes": SHAPES, "shapes_full": over_complete(SHAPES)}
    if name in spec:
        tables = {n: (p, np.asarray(t, dtype=float)) for n, (p, t) in spec[name].items()}
        edges = [(p, n) for n, (parents, _) in spec[name].items() for p in parents]
        return list(spec[name]), edges, tables
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


def option_values(options: list[str]) -> dict:
    """``KEY=VALUE`` texts as a dict, each VALUE read as JSON where it parses (as the CLI does)."""
    out = {}
    for text in options:
        key, _, value = text.partition("=")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def run_cli(generator: str, graph: Path, csv: Path, out: Path, options: list[str]) -> float:
    """``ckgan run`` as a user types it (under ``nice``); returns its wall time."""
    cmd = ["nice", "-n", "5", shutil.which("ckgan") or "ckgan", "run", "--labels", generator]
    cmd += ["--image", "none", "--graph", str(graph), "--data", str(csv)]
    cmd += ["--out", str(out), "--quiet"]
    for option in options:
        cmd += ["--label-option", option]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return wall


def score_generator(gen: LabelGenerator, truth, n: int, families=None) -> dict:
    """Exact TVs of the joint (``families`` None), else the family TVs."""
    if families is not None:
        return score_families(gen.sample, gen.graph, families, n)
    full = tv_to_truth(gen.sample, reordered_truth(truth, gen.graph), n=n, seed=7)
    name, tv = worst(full["tv_do"])
    return {**full, "tv_worst_do": tv, "worst_do": name}


def exact_families(model, graph: ckgan.CausalGraph) -> dict:
    """The truth's family pmfs, observationally and under every single-node do (exact).

    ``{do_key: [pmf of (node, *parents) configurations, ...]}`` in graph node
    order, by pgmpy's variable elimination on the network mutilated by the do
    (evidence on a node without parents is its intervention).
    """
    from pgmpy.inference import VariableElimination

    def family_pmfs(inference, do_node=None, do_value=None):
        out = []
        for node in graph.nodes:
            family = [node, *graph.parents(node)]
            cards = [len(graph.states(v)) for v in family]
            free = [v for v in family if v != do_node]
            table = np.ones(cards)
            if free:
                evidence = {do_node: do_value} if do_node else None
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    factor = inference.query(free, evidence=evidence, joint=True,
                                             show_progress=False)  # fmt: skip
                values = factor.values
                for axis, var in enumerate(factor.variables):
                    names = [str(x) for x in factor.state_names[var]]
                    values = np.take(values, [names.index(s) for s in graph.states(var)], axis)
                values = np.transpose(values, [factor.variables.index(v) for v in free])
                shape = [c if v != do_node else 1 for v, c in zip(family, cards, strict=True)]
                table = values.reshape(shape) * np.ones(cards)
            if do_node in family:
                axis = family.index(do_node)
                keep = np.arange(cards[axis]) == graph.states(do_node).index(do_value)
                table = table * keep.reshape([-1 if i == axis else 1 for i in range(len(cards))])
            out.append(table.reshape(-1))
        return out

    result = {"observational": family_pmfs(VariableElimination(model))}
    for node in graph.nodes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mutilated = VariableElimination(model.do([node]))
        for state in graph.states(node):
            result[f"{node}={state}"] = family_pmfs(mutilated, node, state)
    return result


def unidentified(families: dict, graph: ckgan.CausalGraph, floor: float = 1e-12) -> dict:
    """For each do, the largest mass it puts on a family's parent configurations that the
    truth never shows observationally (probability 0): no data can say what the child
    does there, and the truth's table there is the network author's choice."""
    observed = []
    for node, pmf in zip(graph.nodes, families["observational"], strict=True):
        cards = [graph.cards[graph.index(v)] for v in (node, *graph.parents(node))]
        observed.append(pmf.reshape(cards).sum(axis=0) > floor)
    out = {}
    for key, truths in families.items():
        if key == "observational":
            continue
        masses = []
        for node, pmf, seen in zip(graph.nodes, truths, observed, strict=True):
            parents = pmf.reshape([graph.cards[graph.index(node)], *seen.shape]).sum(axis=0)
            masses.append(float(parents[~seen].sum()))
        if max(masses) > 0:
            out[key] = max(masses)
    return out


def family_tvs(rows: np.ndarray, graph: ckgan.CausalGraph, truths: list) -> np.ndarray:
    """Each family's TV between the empirical pmf of ``rows`` and the truth's."""
    out = []
    for node, truth in zip(graph.nodes, truths, strict=True):
        cols = [graph.index(v) for v in (node, *graph.parents(node))]
        cards = [graph.cards[c] for c in cols]
        out.append(tv_distance(rows[:, cols], truth, cards))
    return np.asarray(out)


def score_families(sample, graph: ckgan.CausalGraph, families: dict, n: int) -> dict:
    """Family TVs of a sampler, observationally and under every single-node do."""
    result: dict = {"tv_do_family_max": {}, "tv_do_family_mean": {}}
    for key, truths in families.items():
        if key == "observational":
            rows = sample(n, do=None, seed=7)
        else:
            node, state = key.split("=", 1)
            rows = sample(n, do={node: state}, seed=7)
        tvs = family_tvs(rows, graph, truths)
        if key == "observational":
            result["tv_observational_family_max"] = float(tvs.max())
            result["tv_observational_family_mean"] = float(tvs.mean())
            result["worst_family_observational"] = graph.nodes[int(tvs.argmax())]
        else:
            result["tv_do_family_max"][key] = float(tvs.max())
            result["tv_do_family_mean"][key] = float(tvs.mean())
    name, tv = worst(result["tv_do_family_max"])
    result["tv_worst_do"], result["worst_do"] = tv, name
    result["tv_observational"] = result["tv_observational_family_max"]
    result["tv_do_family_mean_over_dos"] = float(
        np.mean(list(result["tv_do_family_mean"].values()))
    )
    return result


def pgmpy_cell(graph, truth, data, n: int, families=None, worst_do=None) -> dict:
    """pgmpy fitted on the training rows: fit and ``simulate`` time, TV of rows and tables.

    With ``families`` (networks too large to enumerate), TVs are family TVs
    of its rows, and its ``do`` is timed under ``worst_do`` (tabular's).
    """
    pgmpy, Network = import_pgmpy()
    import pandas as pd
    from pgmpy.estimators import BayesianEstimator

    nodes = list(graph.nodes)
    frame = pd.DataFrame(data.astype(np.int64), columns=nodes)
    start = time.perf_counter()
    model = Network(graph.edges)
    model.add_nodes_from(nodes)
    codes = {v: list(range(len(graph.states(v)))) for v in nodes}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pgmpy 1.1 renames its estimators
        estimator = BayesianEstimator(model, frame, state_names=codes)
        model.add_cpds(*estimator.get_parameters(prior_type="K2"))  # add-one, as tabular
    fit_s = time.perf_counter() - start
    tables = pgmpy_model_as_bayesnet(model, graph)

    def draw(rows, do):
        kwargs = {"do": dict(do)} if do else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = model.simulate(n_samples=rows, seed=3, show_progress=False, **kwargs)
        return df[nodes].to_numpy().astype(np.uint8)

    seconds, rows = best_of(lambda: draw(n, None), 1, False)
    if families is not None:
        tvs = family_tvs(rows, graph, families["observational"])
        node, state = worst_do.split("=", 1)
        n_do = max(n // 10, 1000)
        code = graph.states(node).index(state)
        do_seconds, do_rows = best_of(lambda: draw(n_do, {node: code}), 1, False)
        do_tvs = family_tvs(do_rows, graph, families[worst_do])
        return {
            "pgmpy_version": pgmpy.__version__,
            "fit_s": fit_s,
            "simulate_s": seconds,
            "rows_per_s": n / seconds,
            "tv_observational": float(tvs.max()),
            "tv_observational_family_mean": float(tvs.mean()),
            "worst_do": worst_do,
            "do_rows": n_do,
            "do_simulate_s": do_seconds,
            "do_rows_per_s": n_do / do_seconds,
            "tv_worst_do_rows": float(do_tvs.max()),
        }
    cards = graph.cards
    tv_do = {
        f"{v}={state}": tv_distance(tables.pmf(do={v: x}), truth.pmf(do={v: x}))
        for v in nodes
        for x, state in enumerate(graph.states(v))
    }
    worst_name, worst_tv = worst(tv_do)
    # simulate(do=...) draws by rejection: time it on fewer rows, under the worst do
    node, state = worst_name.split("=", 1)
    value = graph.states(node).index(state)
    n_do = max(n // 10, 1000)
    do_seconds, do_rows = best_of(lambda: draw(n_do, {node: value}), 1, False)
    return {
        "pgmpy_version": pgmpy.__version__,
        "fit_s": fit_s,
        "simulate_s": seconds,
        "rows_per_s": n / seconds,
        "tv_observational": tv_distance(rows, truth.pmf(), cards),
        "tv_observational_exact_tables": tv_distance(tables.pmf(), truth.pmf()),
        "tv_do_exact_tables": tv_do,
        "tv_worst_do_exact_tables": worst_tv,
        "worst_do": worst_name,
        "do_rows": n_do,
        "do_simulate_s": do_seconds,
        "do_rows_per_s": n_do / do_seconds,
        "tv_worst_do_rows": tv_distance(do_rows, truth.pmf(do={node: value}), cards),
    }


def sampling_rate(gen: LabelGenerator, n: int, do=None) -> float:
    seconds, _ = best_of(lambda: gen.sample(n, do=do, seed=5), 1, True)
    return n / seconds


def write_csv(path: Path, graph: ckgan.CausalGraph, rows: np.ndarray) -> None:
    """Rows as a user's CSV: 0/1 for binary nodes, state names for the others."""
    columns = []
    for j, node in enumerate(graph.nodes):
        states = graph.states(node)
        columns.append(
            np.asarray(states)[rows[:, j]] if node in graph.declared_states else rows[:, j]
        )
    body = np.stack(columns, axis=1).astype(str)
    np.savetxt(path, body, fmt="%s", delimiter=",", header=",".join(graph.nodes), comments="")


def run_network(name: str, generators, args, store: dict, work: Path) -> None:
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / f"{name}.csv"
    model = None
    if name in CATEGORICAL:
        graph_file, graph, truth, model = bif_network(name, folder)
    else:
        nodes, edges, tables = network(name)
        graph_file = folder / f"{name}.dot"
        write_dot(name, nodes, edges, graph_file)
        graph = ckgan.CausalGraph.load(graph_file)  # the node order the CLI will use
        truth = truth_on(graph, tables)
    write_csv(csv, graph, truth.sample(args.rows, rng=args.seed))
    data = load_dataset(csv)
    if graph.declared_states:
        data.use_states(graph.declared_states)
    train = data.labels("train", graph.nodes)  # the rows ckgan trains on
    cards = graph.cards
    exact = config_count(cards) <= MAX_CONFIGS
    families = None
    if not exact:
        cache = folder / "families.pkl"  # the network's, whatever the rows
        if cache.exists():
            families = pickle.loads(cache.read_bytes())
        else:
            print(f"{name}: exact family marginals under {sum(cards)} dos ...", flush=True)
            # (pgmpy's variable elimination; the joint has too many configurations)
            start = time.perf_counter()
            families = exact_families(model, graph)
            print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
            cache.write_bytes(pickle.dumps(families))

    def truth_draw(n, do=None, seed=None):
        return truth.sample(n, rng=seed, do=do)

    entry = store.setdefault(name, {})
    entry.update(
        {
            "nodes": list(graph.nodes),
            "edges": [list(e) for e in graph.edges],
            "states": {n: list(s) for n, s in graph.declared_states.items()},
            "rows": args.rows,
            "train_rows": len(train),
            "scored_by": "joint" if exact else "families",
        }
    )
    if exact:
        entry["marginals"] = truth.marginals()
        entry["sampling_floor_obs"] = tv_distance(truth.sample(args.n, rng=99), truth.pmf(), cards)
        entry["tabular_exact"] = tabular_reference(graph, truth, train)
    else:
        floor = score_families(truth_draw, graph, families, args.n)
        entry["sampling_floor"] = {k: floor[k] for k in ("tv_observational", "tv_worst_do")}
        entry["unidentified"] = unidentified(families, graph)
        entry.pop("tabular_exact", None)
    for generator in generators:
        key = generator + (f"/{args.tag}" if args.tag else "")
        out = folder / f"run-{generator}"
        if args.rescore:  # the run trained before, scored again (the sampler may have changed)
            if not (out / "labels").is_dir():
                sys.exit(f"--rescore: no run folder {out}; train it first without --rescore")
            print(f"{name}: scoring {out} again ...", flush=True)
            wall = entry.get("generators", {}).get(key, {}).get("cli_wall_s")
        else:
            shutil.rmtree(out, ignore_errors=True)
            print(f"{name}: training {generator} ...", flush=True)
            wall = run_cli(generator, graph_file, csv, out, args.option)
        metrics = json.loads((out / "metrics.json").read_text())["labels"]
        labels = out / "labels"
        if args.rescore:  # without the saved tables: built again by today's code
            labels = Path(tempfile.mkdtemp(prefix="ckgan-rescore-")) / "labels"
            shutil.copytree(out / "labels", labels)
            (labels / "tables.npz").unlink(missing_ok=True)
        gen = LabelGenerator.load(labels)
        if args.rescore and args.option:  # options of the tables sampled from, tried on a run
            gen.options.update(option_values(args.option))
        cell = score_generator(gen, truth, args.n, families)
        do_node, do_state = cell["worst_do"].split("=", 1)
        worst_do = {do_node: graph.states(do_node).index(do_state)}
        cell.update(
            {
                "train_s": metrics["train_seconds"],
                "cli_wall_s": wall,
                "options": gen.get_config(),
                "label_options": args.option
                if not args.rescore
                else entry.get("generators", {}).get(key, {}).get("label_options", []),
                "rescore_options": args.option if args.rescore else [],
                "rescored": args.rescore,
                "rows_per_s": sampling_rate(gen, args.n),
                "do_rows_per_s": sampling_rate(gen, args.n, do=worst_do),
                "sampler": gen.options.get("sampler", "network"),
                "family_check_ok": metrics["family_check"]["ok"],
                "family_check_summary": metrics["family_check"]["summary"],
                "load_average_after": os.getloadavg(),
            }
        )
        entry.setdefault("generators", {})[key] = cell
        print(
            f"  {key}: obs {cell['tv_observational']:.4f}  worst do {cell['tv_worst_do']:.4f} "
            f"({cell['worst_do']})  train {cell['train_s']:.0f} s  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    if args.pgmpy:
        worst_do = None
        if families is not None:  # time pgmpy's do under tabular's worst one (or any)
            tab = entry.get("generators", {}).get("tabular")
            worst_do = tab["worst_do"] if tab else next(k for k in families if "=" in k)
        entry["pgmpy"] = pgmpy_cell(graph, truth, train, args.n, families, worst_do)


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
            f"{pg['tv_observational']:.4f} / "
            f"{pg.get('tv_worst_do_exact_tables', pg.get('tv_worst_do_rows', float('nan'))):.4f} / "
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
    parser.add_argument(
        "--rescore", action="store_true", help="score the runs in --work again, without training"
    )
    args = parser.parse_args()
    if args.rescore and not args.work:
        parser.error("--rescore needs --work, the folder of the runs to score")
    if args.pgmpy or set(args.networks) & {*BNLEARN, *CATEGORICAL}:
        import_pgmpy()  # exits with the install command when missing

    path = Path(args.out)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="ckgan-corpus-"))

    def read():
        return json.loads(path.read_text()) if path.exists() else {"networks": {}}

    for name in args.networks:
        entries = read()["networks"]
        run_network(name, args.generators, args, entries, work)
        # read again just before writing: keeps what other runs of the script
        # wrote meanwhile, and adds the cells this one ran
        stored = read()
        entry = stored["networks"].setdefault(name, {})
        ours = entries[name]
        entry.update({k: v for k, v in ours.items() if k != "generators"})
        ran = [g + (f"/{args.tag}" if args.tag else "") for g in args.generators]
        entry.setdefault("generators", {}).update({k: ours["generators"][k] for k in ran})
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
