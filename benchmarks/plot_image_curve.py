"""Plot issue #11's numbers against image-stage steps, from ``image_fidelity.py`` results.

One panel per number that has a target (the worst shown-under-do, do(Bald=1),
the worst rare context, the worst agreement, the worst nuisance spread, the
judge's Frechet distance), one line per (stage, graph, seed, options) over
the steps of its runs (a run trained on from another starts from that
one's point), the target as a dotted line: where a line crosses it
is how long a run needs. The x axis is steps, not seconds, so that a curve
measured on a shared CPU still says what a GPU run of as many steps reaches.

Run by hand::

    python benchmarks/plot_image_curve.py RESULTS.json [RESULTS.json ...]
        [--out benchmarks/results/image_curve.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

#: (title, how to read it from a run's entry as (value, what is worst), its target)
PANELS = (
    ("worst shown under do (>= 0.90)", lambda r: _worst(r["shown_under_do"]), 0.90),
    ("do(Bald=1) shown", lambda r: (r["shown_under_do"].get("Bald=1"), ""), 0.90),
    ("worst rare context (>= 0.85)", lambda r: _worst(r["rare_context"], r), 0.85),
    ("worst agreement (>= 0.95)", lambda r: _worst(r["agreement"]), 0.95),
    ("worst nuisance spread (>= 0.5)", lambda r: _worst(r["nuisance_spread"]), 0.5),
    ("judge Frechet distance", lambda r: (r["frechet"], ""), None),
)


def _worst(values: dict, entry: dict | None = None) -> tuple[float | None, str]:
    """The smallest value and its name; for rare contexts, of those with enough images."""
    if entry is not None:
        from ckgan.evaluate import RARE_MIN_IMAGES

        counts = entry.get("rare_context_images", {})
        values = {k: v for k, v in values.items() if counts.get(k, 0) >= RARE_MIN_IMAGES}
    if not values:
        return None, ""
    name = min(values, key=values.get)
    return values[name], name


def curves(paths: list[Path]) -> dict[str, list[tuple[int, dict]]]:
    """``{line label: [(steps, entry), ...]}`` over every run with a step count."""
    lines: dict[str, list[tuple[int, dict]]] = {}
    for path in paths:
        report = json.loads(path.read_text())
        runs = report["runs"]
        for entry in runs.values() if isinstance(runs, dict) else runs:
            steps = entry.get("steps")
            if not isinstance(steps, int):
                continue
            options = entry.get("image_options", report.get("image_options")) or []
            graph = Path(str(entry.get("graph", "?"))).stem
            label = f"{entry['stage']}:{graph} seed {entry['seed']}"
            label += f" {' '.join(options)}" if options else ""
            lines.setdefault(label, []).append((steps, entry))
    by_run = {str(e.get("run")): (s, e) for points in lines.values() for s, e in points}
    for points in lines.values():  # a line that went on from another run starts from it
        points.sort(key=lambda p: p[0])
        start = by_run.get(str(points[0][1].get("continued_from")))
        if start is not None and start not in points:
            points.insert(0, start)
    return dict(sorted(lines.items()))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=RESULTS / "image_curve.png")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = curves(args.results)
    if not lines:
        raise SystemExit("no run with a step count in the results given")
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    for ax, (title, read, target) in zip(axes.flat, PANELS, strict=True):
        for label, points in lines.items():
            read_off = [(s, *read(e)) for s, e in points if read(e)[0] is not None]
            ax.plot([p[0] for p in read_off], [p[1] for p in read_off], "-o", label=label)
            for x, y, what in read_off:  # which do, label or factor is the worst
                ax.annotate(what, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
        if target is not None:
            ax.axhline(target, color="k", linestyle=":", linewidth=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("image-stage steps")
        ax.grid(True, alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Issue #11's numbers against training steps (fair judge, 400 images a do)")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    for label, points in lines.items():
        print(label, "steps", [s for s, _ in points])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
