"""Do the image stages show what an intervention sets? Every number of issue #11's targets.

Run by hand::

    python benchmarks/image_fidelity.py [--cases causalgan:paper causalbegan:full]
        [--seeds 0 1] [--steps N [N ...]] [--labels wgan] [--data synthfaces]
        [--image-option K=V ...] [--n 1000] [--runs DIR] [--output PATH]

For each case (image stage and graph), seed and step count it trains a run
with ``ckgan run`` (quick preset; the image stage's default steps unless
``--steps``), scores it with ``ckgan evaluate --json`` and keeps, per run: the
share of images that show the value set by each single-node do(X=x), overall
and among rare contexts (images whose other labels make x rare in the data:
women under do(Bald=1)), per-attribute observational agreement,
P_judge(Male | do(Mustache=1)) and P_judge(Male | Mustache=1) with their exact
values, each nuisance factor's spread given the labels (relative to real
images), the judge's Frechet distance, and the wall times. Several ``--steps``
give a curve of the numbers against training time. The targets are checked
per run; everything goes to ``benchmarks/results/image_fidelity.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# built-in plugins only, unless the caller names third-party plugins to load
os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent
TARGETS = {
    "shown_under_do_min": 0.90,
    "rare_context_min": 0.85,
    "agreement_min": 0.95,
    "p_male_do_mustache": (0.417, 0.05),
    "p_male_given_mustache": (0.972, 0.05),
    "nuisance_spread_min": 0.5,
    "frechet_max": {"causalgan": 7.4, "causalbegan": 20.0},
}


def ckgan(*args: str) -> tuple[float, str]:
    """Run the ckgan CLI (this interpreter's); seconds taken and its stdout."""
    here = Path(sys.executable).parent / "ckgan"  # the console script beside this Python
    began = time.perf_counter()
    done = subprocess.run(
        [str(here) if here.exists() else "ckgan", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"ckgan {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - began, done.stdout


def summarise(result: dict, stage: str) -> dict:
    """The issue's numbers from ``ckgan evaluate --json``'s output, and which targets hold."""
    images = result["images"]
    table = images["do_vs_condition"]
    out: dict = {
        "label_tv_observational": result["labels"].get("tv_observational"),
        "label_tv_do_worst": result["labels"].get("tv_do_worst"),
        "shown_under_do": images["shown_under_do"],
        "shown_under_do_mean": images["shown_under_do_summary"]["mean"],
        "rare_context": {
            key: case["share"]
            for key, case in images.get("shown_under_do_rare_context", {}).items()
            if case["share"] is not None
        },
        "rare_context_images": {
            key: case["images"]
            for key, case in images.get("shown_under_do_rare_context", {}).items()
            if case["images"]
        },
        "agreement": images["consistency"]["observational"],
        "agreement_mean": images["consistency_mean"]["observational"],
        "agreement_do_mean": images["consistency_mean"]["do"],
        "nuisance_spread": images["diversity"].get("nuisance", {}),
        "frechet": images["frechet"],
        "frechet_real_vs_real": images["frechet_real_vs_real"],
    }
    if "Mustache=1" in table and "Male" in table["Mustache=1"]["do"]:
        row = table["Mustache=1"]
        out["p_male_do_mustache"] = row["do"]["Male"]
        out["p_male_given_mustache"] = (row.get("condition") or {}).get("Male")
        out["exact_p_male_do_mustache"] = row.get("exact_do", {}).get("Male")
        out["exact_p_male_given_mustache"] = row.get("exact_condition", {}).get("Male")
    out["targets"] = check(out, stage)
    return out


def check(out: dict, stage: str) -> dict:
    """Each target of the issue: True, False, or None where the number is missing."""
    t = TARGETS
    rare = out["rare_context"]
    checks = {
        "shown_under_do": min(out["shown_under_do"].values()) >= t["shown_under_do_min"],
        "rare_context": min(rare.values()) >= t["rare_context_min"] if rare else None,
        "agreement": min(out["agreement"].values()) >= t["agreement_min"],
        "nuisance_spread": (
            min(out["nuisance_spread"].values()) >= t["nuisance_spread_min"]
            if out["nuisance_spread"]
            else None
        ),
        "frechet": out["frechet"] <= t["frechet_max"].get(stage, float("inf")),
    }
    for key in ("p_male_do_mustache", "p_male_given_mustache"):
        value = out.get(key)
        target, tolerance = t[key]
        checks[key] = None if value is None else abs(value - target) <= tolerance
    return checks


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=["causalgan:paper", "causalbegan:full"],
                        help="image stage:graph pairs")  # fmt: skip
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--steps", nargs="+", type=int, default=[None],
                        help="image-stage steps (several: a curve)")  # fmt: skip
    parser.add_argument("--labels", default="wgan")
    parser.add_argument("--data", default="synthfaces")
    parser.add_argument("--label-steps", type=int, default=None)
    parser.add_argument("--image-option", action="append", default=[], metavar="K=V")
    parser.add_argument("--n", type=int, default=1000, help="images per evaluate measurement")
    parser.add_argument("--runs", type=Path, default=None,
                        help="folder for the run folders (default: a temporary one)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "image_fidelity.json")
    args = parser.parse_args(argv)

    import tempfile

    runs_root = args.runs or Path(tempfile.mkdtemp(prefix="ckgan-fidelity-"))
    runs = []
    for case in args.cases:
        stage, _, graph = case.partition(":")
        graph = graph or "paper"
        for steps in args.steps:
            for seed in args.seeds:
                name = f"{stage}-{graph}-s{seed}" + (f"-{steps}steps" if steps else "")
                out = runs_root / name
                cmd = ["run", "--labels", args.labels, "--image", stage, "--graph", graph,
                       "--data", args.data, "--seed", str(seed), "--quiet",
                       "--out", str(out)]  # fmt: skip
                if steps:
                    cmd += ["--image-steps", str(steps)]
                if args.label_steps:
                    cmd += ["--label-steps", str(args.label_steps)]
                for option in args.image_option:
                    cmd += ["--image-option", option]
                print(f"[{name}] training ...", flush=True)
                train_s, _ = ckgan(*cmd)
                print(f"[{name}] trained in {train_s:.0f} s; evaluating ...", flush=True)
                eval_s, text = ckgan("evaluate", "--run", str(out), "--json", "--quiet",
                                     "--n", str(args.n))  # fmt: skip
                result = json.loads(text)
                entry = {
                    "stage": stage,
                    "graph": graph,
                    "seed": seed,
                    "steps": steps or "preset",
                    "run": str(out),
                    "train_seconds": round(train_s, 1),
                    "evaluate_seconds": round(eval_s, 1),
                    **summarise(result, stage),
                }
                runs.append(entry)
                shown = entry["shown_under_do"]
                worst = min(shown, key=shown.get)
                print(f"[{name}] shown under do: mean {entry['shown_under_do_mean']:.3f}, worst "
                      f"do({worst}) {shown[worst]:.3f}; rare context {entry['rare_context']}; "
                      f"agreement {entry['agreement_mean']:.3f}; FD {entry['frechet']:.2f}; "
                      f"P(Male|do(Mustache=1)) {entry.get('p_male_do_mustache', float('nan')):.3f}",
                      flush=True)  # fmt: skip
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    report = {
        "what": "issue #11's targets, judged by `ckgan evaluate` (quick preset)",
        "command": " ".join(["python", "benchmarks/image_fidelity.py", *(argv or sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load": load},
        "labels": args.labels,
        "data": args.data,
        "image_options": args.image_option,
        "targets": {k: v for k, v in TARGETS.items()},
        "runs": runs,
        "means": _means(runs),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


def _means(runs: list[dict]) -> dict:
    """Per (stage, graph, steps), the mean over seeds of the scalar numbers."""
    groups: dict[str, list[dict]] = {}
    for entry in runs:
        groups.setdefault(f"{entry['stage']}:{entry['graph']}:{entry['steps']}", []).append(entry)
    means = {}
    for key, entries in groups.items():
        scalars = [k for k, v in entries[0].items() if isinstance(v, float)]
        means[key] = {
            k: float(np.mean([e[k] for e in entries if e.get(k) is not None])) for k in scalars
        }
        for k in ("shown_under_do", "rare_context", "agreement", "nuisance_spread"):
            keys = set.intersection(*(set(e[k]) for e in entries))
            means[key][k] = {x: float(np.mean([e[k][x] for e in entries])) for x in sorted(keys)}
    return means


if __name__ == "__main__":
    main()
