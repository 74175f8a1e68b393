"""Sampling rates (rows/s) of the label generators, and of a trained image stage.

Label generators ``wgan``, ``gumbel`` (each fitted briefly, ``--fit-steps``
generator steps: the rate does not depend on how well they fit) and
``tabular``, all on 40k rows of the synthfaces label model (``paper``
graph), drawing rows observationally, under ``do(Mustache=1)`` and
conditioned on ``Mustache=1`` (rejection sampling for the neural generators,
about 4% acceptance; exact conditioning from the pmf for ``tabular``). Each
rate is the best of ``--repeats`` draws after one warm-up draw. ``wgan`` and
``gumbel`` are timed with both samplers (``tables``, their default, and
``network``), each with its TV to the truth (observational, do(Mustache=1),
do(Bald=1); 200k rows).

When a finished run exists at ``--run`` (default ``/tmp/ck/main``), also times
its image stage's ``generate`` on 2,000 label rows drawn under
``do(Mustache=1)`` (after a warm-up call); otherwise that part is skipped with
a note. Writes ``benchmarks/results/sampling_rates.json``.

Run by hand: ``python benchmarks/sampling_rates.py [--run /tmp/ck/main] [--n 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")  # built-ins only

import ckgan  # noqa: E402
from ckgan.metrics import tv_to_truth  # noqa: E402

RESULTS = Path(__file__).parent / "results"
TV_DOS = [{"Mustache": 1}, {"Bald": 1}]
MODES = {
    "observational": {},
    "do(Mustache=1)": {"do": {"Mustache": 1}},
    "given Mustache=1": {"given": {"Mustache": 1}},
}


def timed(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def label_rates(args) -> dict:
    from ckgan_plugins.synthfaces.scm import causal_model
    from ckgan_plugins.wgan.gumbel_label_generator import GumbelLabelGenerator
    from ckgan_plugins.wgan.wgan_label_generator import WGANLabelGenerator

    from ckgan.tabular import TabularLabelGenerator

    truth = causal_model()
    data = truth.sample(40_000, rng=0)
    out = {}
    for kind, cls in (
        ("tabular", TabularLabelGenerator),
        ("wgan", WGANLabelGenerator),
        ("gumbel", GumbelLabelGenerator),
    ):
        gen = cls(truth.graph)
        start = time.perf_counter()
        gen.fit(data, steps=args.fit_steps, seed=0, verbose=0)
        fit_s = time.perf_counter() - start
        rows = {"fit_steps": args.fit_steps if kind != "tabular" else None, "fit_s": fit_s}
        if kind != "tabular":  # built once, at the end of fit (or on save)
            start = time.perf_counter()
            gen.tables()
            rows["tables_s"] = time.perf_counter() - start
        samplers = ["tables", "network"] if kind != "tabular" else [None]
        for sampler in samplers:
            name = kind if sampler in (None, "tables") else f"{kind}/{sampler}"
            if sampler:
                gen.options["sampler"] = sampler
            rows = dict(rows)
            for mode, kwargs in MODES.items():
                n = args.n_given if "given" in kwargs else args.n
                seconds = timed(
                    lambda g=gen, n=n, kw=kwargs: g.sample(n, seed=1, **kw), args.repeats
                )
                rows[mode] = {
                    "n": n,
                    "seconds": seconds,
                    "rows_per_s": n / seconds,
                    "acceptance": gen.last_acceptance,
                }
                print(f"{name:15s} {mode:18s} {n / seconds:12,.0f} rows/s", flush=True)
            # the samplers draw one distribution: their TVs to the truth agree
            # up to the noise of 200k rows
            tvs = tv_to_truth(gen.sample, truth, interventions=TV_DOS, seed=2)
            rows["tv_to_truth"] = tvs
            print(f"{name:15s} TV obs {tvs['tv_observational']:.4f} do {tvs['tv_do']}")
            out[name] = rows
    return out


def image_rate(args) -> dict:
    path = Path(args.run)
    if not (path / "config.json").is_file():
        note = f"skipped: no finished run at {path}"
        print(note)
        return {"skipped": note}
    from ckgan.run import Run

    run = Run(path)
    stage = run.image_stage
    labels = run.sample_labels(args.n_images, do={"Mustache": 1}, seed=0)
    stage.generate(labels[:256], seed=0)  # warm-up (tracing)
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        images = stage.generate(labels, seed=0)
        best = min(best, time.perf_counter() - start)
    rate = len(labels) / best
    print(f"images   do(Mustache=1)     {rate:12,.0f} images/s ({images.shape[1]}px)")
    return {
        "run": str(path),
        "stage": run.config.get("image"),
        "size": int(images.shape[1]),
        "n": len(labels),
        "seconds": best,
        "images_per_s": rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows per draw")
    parser.add_argument("--n-given", type=int, default=20_000, help="rows per conditioned draw")
    parser.add_argument("--n-images", type=int, default=2_000)
    parser.add_argument("--fit-steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run", default="/tmp/ck/main", help="a finished run (image stage)")
    parser.add_argument("--out", default=str(RESULTS / "sampling_rates.json"))
    args = parser.parse_args()

    load_before = list(os.getloadavg())
    labels = label_rates(args)
    images = image_rate(args)
    out = {
        "benchmark": "sampling_rates",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "ckgan_version": ckgan.__version__ if hasattr(ckgan, "__version__") else None,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average": list(os.getloadavg()),
            "note": "a 2-core CPU shared with other long jobs: orders of magnitude only",
        },
        "graph": "paper (synthfaces label model, 9 nodes)",
        "labels": labels,
        "images": images,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
