"""Training throughput of the image stages: images per second, XLA on and off.

Run by hand::

    python benchmarks/image_throughput.py [--stages causalgan causalbegan]
        [--sizes 32 64] [--steps 30] [--warmup 5] [--batch 64] [--preset quick]

Each (stage, size, XLA) trains on random images for ``warmup`` steps (tracing
and compilation, excluded) and then ``steps`` timed steps, through Keras
``fit`` as ``ImageStage.fit`` drives the model, with the page faults per
step (``TF_CPU_ALLOCATOR_USE_BFC=false`` shows TensorFlow's default CPU
allocator, which maps freed buffers anew). The numbers go to
``benchmarks/results/image_throughput.json`` with the machine's load, since
on a shared CPU they move with whatever else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

# built-in stages only, unless the caller names third-party plugins to load
os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")

NODES = [f"L{i}" for i in range(9)]  # nine labels, as the paper's CelebA graphs


def measure(stage_name, size, jit, steps, warmup, batch, preset, options=None):
    import keras
    import tensorflow as tf

    from ckgan import get_registry
    from ckgan.images import LABEL_POOL

    keras.utils.set_random_seed(0)
    stage_cls = get_registry().get("image", stage_name).load()
    stage = stage_cls(NODES, size=size, preset=preset, **(options or {}))
    model = stage.model
    model.compile_stage(jit_compile=jit)
    rng = np.random.default_rng(0)
    model.label_pool.assign(rng.integers(0, 2, (LABEL_POOL, len(NODES))).astype("float32"))
    model.build_all()
    images = rng.uniform(-1, 1, (512, size, size, 3)).astype("float32")
    labels = rng.integers(0, 2, (512, len(NODES))).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((images, labels)).repeat()
    data = data.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    # the warm-up (tracing, compilation, the input pipeline's start) is a fit
    # of its own; the timed fit reuses the compiled train function
    began = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=warmup, verbose=0, shuffle=False)
    first = time.perf_counter() - began
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    began = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    timed = time.perf_counter() - began
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return {
        "stage": stage_name,
        "size": size,
        "xla": jit,
        "batch": batch,
        "steps_timed": steps,
        "images_per_s": steps * batch / timed,
        "steps_per_s": steps / timed,
        # pages the kernel had to map in: freed buffers mapped again each step
        "page_faults_per_step": faults / steps,
        "warmup_steps": warmup,
        "warmup_s": first,
        "parameters": {
            name: int(sum(np.prod(v.shape) for v in net.trainable_variables))
            for name, net in model.networks().items()
        },
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", nargs="+", default=["causalgan", "causalbegan"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[32, 64])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--options", default="{}", help="stage options as JSON")
    parser.add_argument("--xla", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "image_throughput.json")
    )
    args = parser.parse_args()

    results = []
    for stage in args.stages:
        for size in args.sizes:
            for xla in args.xla:
                load = os.getloadavg()[0]
                row = measure(
                    stage, size, xla == "on", args.steps, args.warmup, args.batch, args.preset,
                    json.loads(args.options),
                )  # fmt: skip
                row["load_before"] = load
                results.append(row)
                print(
                    f"{stage:12s} {size:3d}px xla={xla:3s} {row['images_per_s']:8.1f} images/s "
                    f"({row['steps_per_s']:.2f} steps/s; {row['page_faults_per_step']:.0f} "
                    f"faults/step; warm-up {row['warmup_s']:.1f} s; load {load:.1f})",
                    flush=True,
                )
    import tensorflow as tf

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
            "note": "a CPU shared with other jobs: read the numbers as orders of magnitude",
        },
        "preset": args.preset,
        "options": json.loads(args.options),
        # `import ckgan` sets it to true unless the caller set it
        "tf_cpu_allocator_use_bfc": os.environ.get("TF_CPU_ALLOCATOR_USE_BFC"),
        "results": results,
    }
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
