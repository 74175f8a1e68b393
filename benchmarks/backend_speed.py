"""Training steps per second per stage, per Keras backend, XLA on and off, 1 or 2 devices.

Each cell runs in its own process (``KERAS_BACKEND`` is read once per
process): the ``wgan`` label stage on synthfaces' ``paper`` graph and both
image stages at 32 px with their quick presets. A cell trains ``short`` steps once
to compile (thrown away), then ``short`` and ``long`` steps on fresh models,
and reports ``(long - short) / time difference``, so tracing and compiling
are left out. Devices: with
``--devices 2`` on JAX the cell runs under ``keras.distribution.DataParallel``
over 2 virtual CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=2``).
The machine's load average is recorded with each cell: other work on the
same cores slows every number alike.

Run by hand: ``python benchmarks/backend_speed.py [--backends jax,tensorflow,torch]
[--stages wgan,causalgan,causalbegan] [--jit both] [--devices 1,2]``.
Writes ``benchmarks/results/backend_speed.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
STEPS = {"wgan": (40, 240), "causalgan": (10, 60), "causalbegan": (10, 60)}


def cell(
    stage: str, jit: bool, devices: int, preset: str = "quick", size: int = 32, long: int = 0
) -> dict:
    """Time one stage in this process (the backend is this process's)."""
    os.environ.setdefault("CKGAN_LOAD_PLUGINS", "")
    import keras

    from ckgan import backend, load_dataset
    from ckgan.graph import CausalGraph
    from ckgan.plugins import get_registry

    if devices > 1:
        from ckgan.devices import use_devices

        use_devices(devices)
    registry = get_registry()
    dataset = load_dataset("synthfaces")
    graph = CausalGraph.load("paper")
    labels = dataset.labels("train", list(graph.nodes))
    short, default_long = STEPS[stage]
    long = long or default_long
    timings = []
    # a first short fit is thrown away: it compiles (and fills XLA's persistent
    # cache), which the two timed fits then read alike, so their difference is
    # the steps alone (without it the short fit paid a compile the long one did
    # not, and the difference could be negative)
    for steps in (short, short, long):
        keras.utils.clear_session()
        generator = registry.get("labels", "wgan").load()(graph, jit_compile=jit)
        if stage == "wgan":
            start = time.perf_counter()
            generator.fit(labels, steps=steps, seed=0, verbose=0)
        else:
            generator.fit(labels, steps=20, seed=0, verbose=0)
            cls = registry.get("image", stage).load()
            image = cls(graph.nodes, size=size, preset=preset)
            start = time.perf_counter()
            image.fit(dataset, generator, steps=steps, verbose=0, jit_compile=jit)
        timings.append(time.perf_counter() - start)
    timings = timings[1:]
    if timings[1] <= timings[0]:
        raise SystemExit(f"{long} steps took no longer than {short}: {timings}; rerun quieter")
    rate = (long - short) / (timings[1] - timings[0])
    batch = generator.options["batch_size"] if stage == "wgan" else image.options["batch_size"]
    return {
        "steps_per_second": rate,
        "rows_per_second": rate * batch,
        "seconds": timings,
        "steps": [short, long],
        "jit_resolved": backend.resolve_jit_compile(jit),
    }


def run_cell(
    backend_name: str,
    stage: str,
    jit: bool,
    devices: int,
    preset: str = "quick",
    size: int = 32,
    long: int = 0,
) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend_name, CKGAN_LOAD_PLUGINS="")
    if devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    args = [sys.executable, __file__, "--cell", stage, str(int(jit)), str(devices)]
    args += ["--preset", preset, "--size", str(size), "--long", str(long)]
    load = os.getloadavg()[0]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0][:300], "load_before": load}
    return {**json.loads(lines[-1]), "load_before": load, "load_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="jax,tensorflow,torch")
    parser.add_argument("--stages", default="wgan,causalgan,causalbegan")
    parser.add_argument("--jit", choices=["on", "off", "both"], default="both")
    parser.add_argument("--devices", default="1")
    parser.add_argument("--preset", default="quick", help="image stages' preset")
    parser.add_argument("--size", type=int, default=32, help="image size")
    longs = {k: v[1] for k, v in STEPS.items()}
    parser.add_argument("--long", type=int, default=0, help=f"steps of the long fit ({longs})")
    parser.add_argument("--out", type=Path, default=RESULTS / "backend_speed.json")
    parser.add_argument("--cell", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cell:
        stage, jit, devices = args.cell
        jit = bool(int(jit))
        print(json.dumps(cell(stage, jit, int(devices), args.preset, args.size, args.long)))
        return
    jits = {"on": [True], "off": [False], "both": [True, False]}[args.jit]
    path = args.out
    results = json.loads(path.read_text()) if path.is_file() else {}
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    cells = results.setdefault("cells", {})
    for backend_name in args.backends.split(","):
        if importlib.util.find_spec(backend_name) is None:
            print(f"{backend_name}: not installed, skipped")
            continue
        for stage in args.stages.split(","):
            for jit in jits:
                for devices in map(int, args.devices.split(",")):
                    if devices > 1 and backend_name != "jax":
                        continue
                    key = f"{backend_name}/{stage}/jit={'on' if jit else 'off'}/devices={devices}"
                    if stage != "wgan":
                        key += f"/{args.preset}-{args.size}px"
                    cells[key] = run_cell(
                        backend_name, stage, jit, devices, args.preset, args.size, args.long
                    )
                    print(key, json.dumps(cells[key]), flush=True)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
