"""causalgan sampled with its label noise drawn (the paper's) and at its mean: issue #11's numbers.

Training never depends on ``sample_label_noise``, so one trained run answers
both: each mode scores a copy of the run (its stage config set to the mode)
with ``ckgan evaluate --json --n 4000``, and, for a scene, its fair judge
(``image_fidelity.fair_numbers``), exactly as ``image_fidelity.py`` does.

    python benchmarks/sample_label_noise.py RUN [RUN ...] [--fair-data DIR] [--output FILE]

Results are added to FILE (default ``results/image_fidelity_sample_label_noise.json``)
under each run's folder name.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import image_fidelity as fidelity  # noqa: E402

MODES = ("drawn", "mean")


def score(run: Path, mode: str, scratch: Path, fair_data: Path | None) -> dict:
    """Issue #11's numbers for ``run`` sampled with ``sample_label_noise`` ``mode``."""
    copy = scratch / f"{run.name}-{mode}"
    shutil.copytree(run, copy)
    config = copy / "image" / "image_stage.json"
    saved = json.loads(config.read_text())
    if saved["kind"] != "causalgan":
        raise SystemExit(f"{run}: a {saved['kind']} run (only causalgan has the option)")
    saved["config"]["sample_label_noise"] = mode
    config.write_text(json.dumps(saved, indent=2))
    began = time.perf_counter()
    entry = fidelity.summarise(fidelity.evaluate(copy)[1], "causalgan")
    if fair_data is not None:
        entry["fair_judge"] = fidelity.fair_numbers(copy, fair_data=fair_data)
    entry["seconds"] = round(time.perf_counter() - began, 1)
    return entry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished causalgan run folders")
    parser.add_argument("--fair-data", type=Path, default=None,
                        help="the scene rendered with independent labels (render_scene.py "
                             "--independent): its judge reads the labels")  # fmt: skip
    default = HERE / "results" / "image_fidelity_sample_label_noise.json"
    parser.add_argument("--output", type=Path, default=default)
    args = parser.parse_args(argv)
    out = json.loads(args.output.read_text()) if args.output.is_file() else {}
    out.setdefault("what", "issue #11: causalgan runs sampled with sample_label_noise drawn / mean")
    out.setdefault("runs", {})
    for run in args.runs:
        with tempfile.TemporaryDirectory() as scratch:
            entry = {"run": str(run), "fair_data": str(args.fair_data) if args.fair_data else None}
            for mode in MODES:
                entry[mode] = score(run, mode, Path(scratch), args.fair_data)
                read = entry[mode].get("fair_judge", entry[mode])
                shown, agreement = read["shown_under_do"], read["agreement"]
                worst, weakest = min(shown, key=shown.get), min(agreement, key=agreement.get)
                print(f"[{run.name}] {mode}: shown {read['shown_under_do_mean']:.4f} (worst "
                      f"{worst} {shown[worst]:.4f}), agreement {read['agreement_mean']:.4f} "
                      f"(worst {weakest} {agreement[weakest]:.4f}), FD "
                      f"{entry[mode]['frechet']:.2f}", flush=True)  # fmt: skip
        out["runs"][run.name] = entry
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
