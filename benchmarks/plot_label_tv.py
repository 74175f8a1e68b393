"""Plot ``benchmarks/results/label_tv.json``: TV distance against training seconds.

One line pair per graph and generator kind: observational TV (solid) and the
worst single-node ``do`` (dashed), at the checkpoints of ``label_tv.py``, on
a log y axis. Of the runs of each graph and kind (named
``graph/kind/options-tag``), the one named ``.../final`` is used if present,
else ``.../defaults``; the runs used are printed. Expected graphs missing
from the JSON are named in the title. Writes ``benchmarks/results/label_tv.png``.

Run by hand: ``python benchmarks/plot_label_tv.py [--results benchmarks/results/label_tv.json]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
EXPECTED_GRAPHS = ("paper", "full", "reverse", "independent")
PREFERRED = ("final", "defaults")


def pick_runs(runs: dict) -> dict[tuple[str, str], str]:
    """``{(graph, kind): run name}``: the ``final`` run, else the ``defaults`` one."""
    chosen: dict[tuple[str, str], str] = {}
    for tag in reversed(PREFERRED):  # later (preferred) tags overwrite
        for name, run in runs.items():
            if name.rsplit("/", 1)[-1] == tag:
                chosen[(run["graph"], run["kind"])] = name
    return dict(sorted(chosen.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(RESULTS / "label_tv.json"))
    parser.add_argument("--out", default=str(RESULTS / "label_tv.png"))
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = json.loads(Path(args.results).read_text())["runs"]
    chosen = pick_runs(runs)
    if not chosen:
        raise SystemExit(f"no run named .../final or .../defaults in {args.results}")
    graphs = {graph for graph, _ in chosen}
    missing = [g for g in EXPECTED_GRAPHS if g not in graphs]

    fig, (by_step, ax) = plt.subplots(1, 2, figsize=(13, 5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, ((graph, kind), name) in enumerate(chosen.items()):
        log = [e for e in runs[name].get("log", []) if "tv" in e and "step" in e]
        by_step.plot([e["step"] for e in log], [e["tv"] for e in log],
                     color=colors[i % len(colors)], label=f"{graph} / {kind}")  # fmt: skip
    by_step.set_yscale("log")
    by_step.set_xlabel("generator step")
    by_step.set_ylabel("TV distance to the exact pmf (observational, 200k samples)")
    by_step.set_title("TV vs training step", fontsize=10)
    by_step.grid(True, which="both", alpha=0.3)
    by_step.legend(fontsize=8)
    for i, ((graph, kind), name) in enumerate(chosen.items()):
        points = sorted(runs[name]["checkpoints"], key=lambda c: c["train_s"])
        t = [c["train_s"] for c in points]
        color = colors[i % len(colors)]
        label = f"{graph} / {kind}"
        ax.plot(t, [c["tv_observational"] for c in points], "-o", color=color,
                label=f"{label}: observational")  # fmt: skip
        ax.plot(t, [c["tv_worst_do"] for c in points], "--s", color=color,
                label=f"{label}: worst single-node do")  # fmt: skip
        print(f"{graph:12s} {kind:7s} <- {name}")
    ax.set_yscale("log")
    ax.set_xlabel("training time (s, evaluation excluded)")
    ax.set_ylabel("TV distance to the exact pmf")
    title = "Label generators: TV vs training time (2-core shared CPU)"
    if missing:
        title += f"\nnot in the results: {', '.join(missing)}"
        print(f"graphs not in {args.results}: {', '.join(missing)}")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
