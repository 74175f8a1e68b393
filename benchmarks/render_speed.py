"""How fast synthfaces renders, and how long the default dataset takes to prepare.

Run by hand: ``python benchmarks/render_speed.py``. Measures images per second
at 32 and 64 pixels on one core, then the wall time to build the default
50,000-face dataset at 64 pixels in a fresh temporary cache (render, compress,
write), and its cached reload. Writes ``benchmarks/results/render_speed.json``.
"""

import os

# One core: pin the numeric libraries before numpy loads.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
# Only the built-in plugins are measured; a broken third-party one must not interfere.
os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")

import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import PIL  # noqa: E402
from ckgan_plugins.synthfaces.render import render, sample_nuisance  # noqa: E402
from ckgan_plugins.synthfaces.scm import causal_model  # noqa: E402
from ckgan_plugins.synthfaces.synth_faces import SynthFaces  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "render_speed.json"


def images_per_second(size: int, n: int = 4000, repeats: int = 3) -> float:
    """Best of ``repeats`` runs rendering ``n`` faces at ``size``."""
    labels = causal_model().sample(n, rng=0)
    nuisance = sample_nuisance(n, 1)
    render(labels[:50], {k: v[:50] for k, v in nuisance.items()}, size)  # warm up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        render(labels, nuisance, size)
        best = min(best, time.perf_counter() - t)
    return n / best


def prepare_default(size: int = 64) -> dict[str, float]:
    """Wall seconds to build ``SynthFaces()`` at ``size`` from nothing, then to reload it."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CKGAN_CACHE"] = tmp
        t = time.perf_counter()
        data = SynthFaces()
        data.labels()
        labels_s = time.perf_counter() - t
        data.images("train", size)
        build_s = time.perf_counter() - t
        megabytes = data.cache_path(size).stat().st_size / 1e6
        t = time.perf_counter()
        SynthFaces().images("train", size)
        reload_s = time.perf_counter() - t
    return {
        "n": data.n,
        "labels_s": round(labels_s, 3),
        "build_s": round(build_s, 2),
        "reload_s": round(reload_s, 2),
        "cache_mb": round(megabytes, 1),
    }


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    speed = {str(size): round(images_per_second(size)) for size in (32, 64)}
    print(f"render speed, one core: {speed['32']} images/s at 32x32, {speed['64']} at 64x64")
    default = prepare_default(64)
    print(
        f"default dataset ({default['n']} faces, 64x64): built in {default['build_s']} s "
        f"(labels {default['labels_s']} s), reloaded in {default['reload_s']} s, "
        f"cache file {default['cache_mb']} MB"
    )
    result = {
        "images_per_second": speed,
        "default_dataset_64": default,
        "machine": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "platform": platform.platform(),
            "cpu": platform.processor() or platform.machine(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
