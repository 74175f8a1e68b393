"""Kill a training run with SIGKILL at random moments, resume it each time, and check the result.

    python benchmarks/kill_loop.py                      # 10 kills, writes results/kill_loop.json
    python benchmarks/kill_loop.py --kills 3 --work DIR # what the slow test runs

A small run (wgan labels, causalgan images at 32 px on 300 synthetic faces
written as a user's image folder + CSV) is first trained once without
interruption. Then the same command is started again and killed ``--kills``
times, each at a moment of one kind, in turn: during the label stage,
during the image stage, and while a file is being written (a ``.tmp`` file
is seen in the run folder). After each kill it is resumed (or, when the kill
came before the run's config existed, started again). At the end it checks:
the run says done; the image log ends at exactly the requested step; every
JSON, HDF5 and PNG file in the folder opens; no temporary file is left; the
label TV to the data is within ``--tolerance`` of the uninterrupted run's;
`ckgan sample` works on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the kind of moment of each kill, in turn (the label stage first: it is done early)
PHASES = ("label", "write", "label", "image", "write", "image", "write", "image", "write", "image")


def write_data(folder: Path, n: int = 300) -> Path:
    """A user's image folder: ``labels.csv`` naming ``faces/NNNN.png``, from synthfaces."""
    from ckgan_plugins.synthfaces.synth_faces import SynthFaces
    from PIL import Image

    dataset = SynthFaces(n=n, seed=3)
    images, labels = dataset.examples(n * 8 // 10, size=32)
    (folder / "faces").mkdir(parents=True, exist_ok=True)
    lines = ["filename," + ",".join(dataset.attributes)]
    for i, (image, row) in enumerate(zip(images, labels, strict=True)):
        Image.fromarray(image).save(folder / "faces" / f"{i:04d}.png")
        lines.append(f"faces/{i:04d}.png," + ",".join(map(str, row)))
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder


def command(data: Path, out: Path, label_steps: int, image_steps: int) -> list[str]:
    return [
        sys.executable, "-c", "from ckgan.cli import main; main()", "run",
        "--labels", "wgan", "--image", "causalgan", "--graph", "paper", "--data", str(data),
        "--size", "32", "--label-steps", str(label_steps), "--image-steps", str(image_steps),
        "--checkpoint-every", "5", "--image-option", "width=8", "--seed", "7",
        "--out", str(out), "--quiet",
    ]  # fmt: skip


def resume_command(out: Path) -> list[str]:
    return [sys.executable, "-c", "from ckgan.cli import main; main()", "run", "--resume",
            str(out), "--quiet"]  # fmt: skip


def _temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*.tmp*") if p.is_file()]


def _state(out: Path) -> dict:
    """What the run folder shows now: label stage done, checkpoint time, temp files."""
    checkpoint = out / "image" / "checkpoint.h5"
    return {
        "labels_done": (out / "labels" / "label_generator.json").is_file(),
        "checkpoint": checkpoint.stat().st_mtime_ns if checkpoint.is_file() else None,
        "temp": set(_temp_files(out)),
    }


def kill_once(cmd: list[str], out: Path, phase: str, rng: random.Random, env) -> dict:
    """Start ``cmd`` and SIGKILL it at a moment of ``phase``, measured from this process's work.

    label: a random moment 2-12 s in, while the label stage is not done (else
    image); image: a random moment up to 3 s after this process wrote a new
    image checkpoint; write: as soon as a temporary file this process made appears.
    """
    before = _state(out)
    if phase == "label" and before["labels_done"]:
        phase = "image"
    start = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + rng.uniform(2.0, 12.0) if phase == "label" else None
    while process.poll() is None:
        now = time.perf_counter()
        if deadline is None:
            state = _state(out)
            if phase == "image" and state["checkpoint"] not in (None, before["checkpoint"]):
                deadline = now + rng.uniform(0.0, 3.0)
            elif phase == "write" and state["temp"] - before["temp"]:
                deadline = now
        if deadline is not None and now >= deadline:
            process.send_signal(signal.SIGKILL)
            process.wait()
            left = sorted(str(p.relative_to(out)) for p in _temp_files(out))
            return {"phase": phase, "killed_at_s": round(now - start, 2), "outcome": "killed",
                    "temp_files_left": left}  # fmt: skip
        time.sleep(0.001 if phase == "write" else 0.02)
    error = process.stderr.read().decode(errors="replace").strip()
    outcome = f"finished first (rc {process.returncode})"
    return {"phase": phase, "killed_at_s": None, "outcome": outcome, "stderr": error[-500:]}


def check_folder(out: Path, image_steps: int) -> dict:
    """Every file valid, no temp file, the run done at exactly the requested steps."""
    import h5py
    from PIL import Image

    problems = []
    for path in out.rglob("*"):
        if not path.is_file() or path.name == ".ckgan.lock":
            continue
        try:
            if path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".h5":
                with h5py.File(path, "r"):
                    pass
            elif path.suffix == ".png":
                with Image.open(path) as image:
                    image.verify()
        except Exception as e:  # any unreadable file is a failure of the loop
            problems.append(f"{path.relative_to(out)}: {type(e).__name__}: {e}")
    config = json.loads((out / "config.json").read_text())
    log = json.loads((out / "image_log.json").read_text())
    return {
        "status": config["status"],
        "last_image_step": log[-1]["step"] if log else None,
        "exact_steps": bool(log) and log[-1]["step"] == image_steps,
        "temp_files": [str(p.relative_to(out)) for p in _temp_files(out)],
        "unreadable": problems,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--label-steps", type=int, default=200)
    parser.add_argument("--image-steps", type=int, default=150)
    parser.add_argument("--tolerance", type=float, default=0.1,
                        help="largest allowed difference of label TV to the data")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "kill_loop.json")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="ckgan-kill-"))
    env = {**os.environ, "CKGAN_LOAD_PLUGINS": os.environ.get("CKGAN_LOAD_PLUGINS", "")}
    rng = random.Random(args.seed)
    data = write_data(work / "data")

    reference = work / "reference"
    began = time.perf_counter()
    subprocess.run(command(data, reference, args.label_steps, args.image_steps), env=env,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    reference_seconds = time.perf_counter() - began

    out = work / "killed"
    kills = []
    for i in range(args.kills):
        phase = PHASES[i % len(PHASES)]
        started = (out / "config.json").is_file()
        done = started and json.loads((out / "config.json").read_text())["status"] == "done"
        if done:
            kills.append({"phase": phase, "outcome": "run already done"})
            break
        cmd = (
            resume_command(out)
            if started
            else command(data, out, args.label_steps, args.image_steps)
        )
        kills.append(kill_once(cmd, out, phase, rng, env))
        print(f"kill {i + 1}: {kills[-1]}", flush=True)
    for _ in range(3):  # finish it (a kill before config.json means starting again)
        started = (out / "config.json").is_file()
        if started and json.loads((out / "config.json").read_text())["status"] == "done":
            break
        cmd = (
            resume_command(out)
            if started
            else command(data, out, args.label_steps, args.image_steps)
        )
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    folder = check_folder(out, args.image_steps)
    tv = {}
    for name, run in (("reference", reference), ("killed", out)):
        tv[name] = json.loads((run / "metrics.json").read_text())["labels"]["tv_data"]
    sample = subprocess.run(
        [sys.executable, "-c", "from ckgan.cli import main; main()", "sample", "--run", str(out),
         "--n", "4", "--out", str(work / "after.h5")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    result = {
        "kills": kills,
        "reference_seconds": round(reference_seconds, 1),
        "folder": folder,
        "label_tv_data": tv,
        "sample_after": sample.returncode == 0,
    }
    result["ok"] = (
        folder["status"] == "done"
        and folder["exact_steps"]
        and not folder["temp_files"]
        and not folder["unreadable"]
        and abs(tv["reference"] - tv["killed"]) <= args.tolerance
        and result["sample_after"]
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
