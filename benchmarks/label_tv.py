"""TV distance to the exact label model against training time, for the ``wgan`` generator.

Trains a label generator (default settings unless ``--options`` overrides
them) on 100k rows (``--rows``) of the CelebA-like label model and records, every few
seconds of training, the TV distance of 200k observational samples to the
exact pmf; at 30 s, 1, 2 and 3 min (training time: evaluation excluded) it
scores observational and every single-node ``do`` with 1M samples each
(sampling floor about 0.004). Writes ``benchmarks/results/label_tv.json``
(merged with earlier runs, keyed by graph, kind and options).

Run by hand: ``python benchmarks/label_tv.py --graph paper --graph full``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")  # built-ins only

from label_throughput import celeba_like_truth  # noqa: E402

import ckgan  # noqa: E402
from ckgan.metrics import tv_distance, tv_to_truth  # noqa: E402
from ckgan.run import reordered_truth  # noqa: E402

RESULTS = Path(__file__).parent / "results"
CHECKPOINTS = (30, 60, 120, 180)


def tabular_reference(graph, truth, data) -> dict:
    """Exact TVs of conditional probability tables counted on the same rows.

    What the data allows on this graph: on ``full``, ``do(Bald=1)`` asks for
    bald women, 0.06% of the rows, and tables with add-one smoothing miss it.
    """
    from ckgan.tabular import TabularLabelGenerator

    tab = TabularLabelGenerator(graph)
    tab.fit(data, verbose=0)
    tv_do = {
        f"{node}={state}": tv_distance(tab.pmf(do={node: v}), truth.pmf(do={node: v}))
        for node in graph.nodes
        for v, state in enumerate(graph.states(node))
    }
    worst = max(tv_do.items(), key=lambda kv: kv[1])
    return {
        "tv_observational": tv_distance(tab.pmf(), truth.pmf()),
        "tv_worst_do": worst[1],
        "worst_do": worst[0],
        "tv_do": tv_do,
    }


def tv_over_time(
    graph_name,
    kind="wgan",
    options=None,
    steps=None,
    seconds=180,
    seed=0,
    rows=100_000,
    checkpoints=CHECKPOINTS,
    save=None,
):
    """Train once; returns the checkpoint scores and the quick observational curve.

    ``save``: a folder to save the fitted generator in (``LabelGenerator.load`` reads it).
    """
    paper_truth = celeba_like_truth("paper")
    graph = ckgan.CausalGraph.load(graph_name)
    # Graphs in another node order (reverse) see the truth's pmfs and rows re-indexed.
    truth = reordered_truth(paper_truth, graph)
    columns = [paper_truth.nodes.index(node) for node in graph.nodes]
    data = paper_truth.sample(rows, rng=seed)[:, columns]
    klass = ckgan.get_registry().get("labels", kind).load()
    gen = klass(graph, **(options or {}))
    pmf = truth.pmf()
    clock = {"eval": 0.0}
    checkpoints = [c for c in checkpoints if c <= seconds]
    scores, curve = [], []

    def score(g, checkpoint, train_s):
        full = tv_to_truth(g.sample, truth, n=1_000_000, seed=2)
        worst = max(full["tv_do"].items(), key=lambda kv: kv[1])
        scores.append(
            {
                "checkpoint_s": checkpoint,
                "train_s": train_s,
                "tv_observational": full["tv_observational"],
                "tv_worst_do": worst[1],
                "worst_do": worst[0],
                "tv_do": full["tv_do"],
            }
        )
        print(
            f"  {graph_name} {checkpoint:>4d} s (at {train_s:.0f} s): obs "
            f"{full['tv_observational']:.4f}  worst do {worst[1]:.4f} ({worst[0]})",
            flush=True,
        )
        return worst[1]

    def evaluate(g):
        began = time.perf_counter()
        train_s = began - clock["start"] - clock["eval"]
        tv = tv_distance(g.sample(200_000, seed=1), pmf)
        curve.append({"time": train_s, "tv_observational_200k": tv})
        out = {"tv": tv}
        while checkpoints and train_s >= checkpoints[0]:
            out["tv_do_worst"] = score(g, checkpoints.pop(0), train_s)
        if not checkpoints:
            g.wgan.stop_training = True
        clock["eval"] += time.perf_counter() - began
        return out

    steps = steps or gen.options["steps"]
    fit_began = clock["start"] = time.perf_counter()  # wall time, tracing included
    # every ~2 s of training at ~50 steps/s
    log = gen.fit(data, steps=steps, seed=seed, evaluate=evaluate, eval_every=100, verbose=0)
    for checkpoint in checkpoints:  # the run ended before: its final state stands
        score(gen, checkpoint, log[-1]["time"])
    if save:
        gen.save(save)
    # what a user samples once the fit is over (wgan: the tables, not the network)
    end = tv_to_truth(gen.sample, truth, n=1_000_000, seed=2)
    worst = max(end["tv_do"].items(), key=lambda kv: kv[1])
    print(
        f"  {graph_name} fitted: obs {end['tv_observational']:.4f}  "
        f"worst do {worst[1]:.4f} ({worst[0]})",
        flush=True,
    )
    return {
        "fitted": {
            "tv_observational": end["tv_observational"],
            "tv_worst_do": worst[1],
            "worst_do": worst[0],
            "tv_do": end["tv_do"],
            "unseen_configurations": getattr(gen, "unseen_configurations", None),
        },
        "graph": graph_name,
        "kind": kind,
        "rows": rows,
        "options": gen.get_config(),
        "steps_run": log[-1]["step"],
        "train_s": log[-1]["time"],
        "total_wall_s": time.perf_counter() - fit_began,
        "checkpoints": scores,
        "tabular_reference": tabular_reference(graph, truth, data),
        "curve": curve,
        "log": [{k: v for k, v in e.items() if isinstance(v, (int, float))} for e in log],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", action="append", help="paper and full by default")
    parser.add_argument("--kind", default="wgan")
    parser.add_argument("--options", default="{}", help="JSON options for the generator")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=100_000, help="training rows")
    parser.add_argument("--tag", default="", help="a name for this run in the results file")
    parser.add_argument(
        "--checkpoints", type=int, nargs="+", default=list(CHECKPOINTS),
        help="training seconds to score at (each scores 1M rows per do)",
    )  # fmt: skip
    parser.add_argument("--save", help="a folder to save each fitted generator in, by graph")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "label_tv.json"
    for graph in args.graph or ["paper", "full"]:
        print(f"{graph} ({args.kind}, options {args.options}):", flush=True)
        r = tv_over_time(
            graph,
            args.kind,
            json.loads(args.options),
            args.steps,
            args.seconds,
            args.seed,
            args.rows,
            args.checkpoints,
            save=Path(args.save) / graph if args.save else None,
        )
        r["load_average_after"] = os.getloadavg()
        r["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other processes)"
        key = f"{graph}/{args.kind}/{args.tag or args.options}"
        # read just before writing: runs in parallel processes keep each other's
        stored = json.loads(path.read_text()) if path.exists() else {"runs": {}}
        stored["runs"][key] = r
        print(f"  {r['steps_run']} steps in {r['train_s']:.0f} s of training", flush=True)
        ref = r["tabular_reference"]
        print(
            f"  reference, exact tables counted on the same rows: obs "
            f"{ref['tv_observational']:.4f}  worst do {ref['tv_worst_do']:.4f} ({ref['worst_do']})",
            flush=True,
        )
        path.write_text(json.dumps(stored, indent=2))


if __name__ == "__main__":
    main()
