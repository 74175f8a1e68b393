"""``wgan`` label generator steps per second against the number of nodes.

Complete DAGs (nodes ``X0..X{k-1}``, an edge ``Xi -> Xj`` for every ``i < j``)
of 9, 20 and 40 binary nodes: the densest graphs, one node per topological
generation, so the controller runs ``k`` dependent per-node networks in
sequence. The labels are independent Bernoulli(0.5) rows (a step costs the
same whatever the data). One ``fit`` per size with the default (``tuned``)
settings, evaluated every ``--block`` steps: the first block (tracing and
warm-up) is dropped and steps/s is taken over the remaining blocks from the
training log's times. Writes ``benchmarks/results/label_scaling.json``.

Run by hand: ``python benchmarks/label_scaling.py [--nodes 9 20 40] [--steps 150]``.
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

import networkx as nx  # noqa: E402

import ckgan  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def complete_graph(k: int) -> ckgan.CausalGraph:
    g = nx.DiGraph()
    nodes = [f"X{i}" for i in range(k)]
    g.add_nodes_from(nodes)
    g.add_edges_from((nodes[i], nodes[j]) for i in range(k) for j in range(i + 1, k))
    return ckgan.CausalGraph(g, name=f"complete{k}")


def measure(k: int, steps: int, block: int, seed: int = 0) -> dict:
    from ckgan_plugins.wgan.wgan_label_generator import WGANLabelGenerator

    graph = complete_graph(k)
    labels = (np.random.default_rng(seed).random((20_000, k)) < 0.5).astype(np.uint8)
    gen = WGANLabelGenerator(graph)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    log = gen.fit(labels, steps=block + steps, seed=seed, eval_every=block, verbose=0)
    wall = time.perf_counter() - start
    first, last = log[0], log[-1]
    rate = (last["step"] - first["step"]) / (last["time"] - first["time"])
    return {
        "nodes": k,
        "edges": len(graph.edges),
        "controller_parameters": int(gen.controller.count_params()),
        "critic_parameters": int(gen.critic.count_params()),
        "warmup_steps": first["step"],
        "warmup_s": first["time"],
        "steps_timed": last["step"] - first["step"],
        "timed_s": last["time"] - first["time"],
        "steps_per_s": rate,
        "block_steps_per_s": [
            (b["step"] - a["step"]) / (b["time"] - a["time"])
            for a, b in zip(log, log[1:], strict=False)
        ],
        "fit_wall_s": wall,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[9, 20, 40])
    parser.add_argument("--steps", type=int, default=150, help="timed generator steps")
    parser.add_argument("--block", type=int, default=30, help="steps per log block (warm-up)")
    parser.add_argument("--out", default=str(RESULTS / "label_scaling.json"))
    args = parser.parse_args()

    results = []
    for k in args.nodes:
        r = measure(k, args.steps, args.block)
        results.append(r)
        print(
            f"{k:3d} nodes: {r['steps_per_s']:6.1f} steps/s "
            f"(warm-up {r['warmup_s']:.1f} s, load {r['load_before']:.1f})",
            flush=True,
        )
    base = results[0]
    for r in results:
        r["slowdown_vs_first"] = base["steps_per_s"] / r["steps_per_s"]
    out = {
        "benchmark": "label_scaling",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()),
            "note": "a 2-core CPU shared with other long jobs: orders of magnitude only",
        },
        "generator": "wgan, default (tuned) options",
        "graphs": "complete DAGs X0..X{k-1}, edge Xi->Xj for i<j",
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(
        "growth (time per step vs first): "
        + ", ".join(f"{r['nodes']}: {r['slowdown_vs_first']:.2f}x" for r in results)
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
