"""What a run writes besides models: samples streamed to CSV / HDF5, training-curve plots."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from .errors import CkganError
from .runfolder import Run
from .states import MAX_STATES


def _chunk_seed(seed: int, i: int) -> int:
    return int(np.random.SeedSequence([seed, i]).generate_state(1)[0])


#: rows per chunk when ``write_samples`` streams to disk: labels only, and with images
LABEL_CHUNK = 1_000_000
IMAGE_CHUNK = 2048


def write_samples(
    run: Run,
    path: str | Path,
    n: int,
    *,
    do: Mapping[str, int] | None = None,
    given: Mapping[str, int] | None = None,
    seed: int = 0,
    images: bool = False,
    exclusive: bool = False,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Draw ``n`` samples of ``run`` into ``path`` chunk by chunk; returns the acceptance rate.

    Labels go to CSV (``images=False``), one column per node: binary nodes
    with the default states as 0/1 (as always), others by state name; images
    and labels (codes, with each node's states in the ``states`` attribute)
    to HDF5. Memory is bounded by one chunk whatever ``n``; the file appears
    only when complete.
    The first chunk uses ``seed`` itself, so up to a chunk the rows are those
    of ``run.sample_labels(n, seed=seed)``. ``progress(rows)`` is called after
    each chunk.
    """
    import shutil

    from .storage import atomic_path

    path = Path(path)
    generator = run.label_generator
    nodes = generator.nodes
    stage = run.image_stage if images else None
    chunk = IMAGE_CHUNK if images else LABEL_CHUNK
    # at least: labels as text, images at 4x compression (gzip rarely does better on photos)
    text = sum(1 + max(len(s) for s in generator.graph.states(node)) for node in nodes)
    need = n * (text + (stage.size**2 * 3 // 4 if stage else 0))
    free = shutil.disk_usage(path.parent if path.parent.is_dir() else Path.cwd()).free
    if need > free:
        raise CkganError(
            f"{n} samples need at least {need / 1e9:.3g} GB and {path.parent} has "
            f"{free / 1e9:.3g} GB free: ask for fewer with --n, or write elsewhere"
        )
    accepted = []

    def chunks():
        for i, start in enumerate(range(0, n, chunk)):
            rows = min(chunk, n - start)
            chunk_seed = (
                seed if i == 0 else int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            )
            labels = generator.sample(rows, do=do, given=given, seed=chunk_seed)
            accepted.append(generator.last_acceptance)
            yield labels, (run.generate_images(labels, seed=chunk_seed) if stage else None)
            if progress is not None:
                progress(rows)

    with atomic_path(path, exclusive=exclusive) as tmp:
        if stage is None:
            graph = generator.graph
            names = None
            if graph.declared_states:  # state names, not codes
                width = max(len(s) for n in nodes for s in graph.states(n))
                names = np.array(
                    [
                        list(graph.states(n)) + [""] * (MAX_STATES - len(graph.states(n)))
                        for n in nodes
                    ],
                    dtype=f"<U{width}",
                )
                columns = np.arange(len(nodes))
            with open(tmp, "w") as f:
                f.write(",".join(nodes) + "\n")
                for labels, _ in chunks():
                    if names is None:
                        np.savetxt(f, labels, fmt="%d", delimiter=",")
                    else:
                        np.savetxt(f, names[columns, labels], fmt="%s", delimiter=",")
        else:
            import h5py

            with h5py.File(tmp, "w") as f:
                side = stage.size
                data = f.create_dataset(
                    "images", (0, side, side, 3), np.uint8, maxshape=(None, side, side, 3),
                    chunks=(min(n, 64), side, side, 3), compression="gzip",
                )  # fmt: skip
                table = f.create_dataset("labels", (0, len(nodes)), np.uint8,
                                         maxshape=(None, len(nodes)))  # fmt: skip
                f.attrs["nodes"] = json.dumps(list(nodes))
                if generator.graph.declared_states:
                    states = {n: list(generator.graph.states(n)) for n in nodes}
                    f.attrs["states"] = json.dumps(states)
                for key, value in {"do": dict(do or {}), "given": dict(given or {}),
                                   "seed": seed}.items():  # fmt: skip
                    f.attrs[key] = json.dumps(value)
                for labels, pictures in chunks():
                    end = len(table) + len(labels)
                    table.resize(end, axis=0)
                    data.resize(end, axis=0)
                    table[end - len(labels) :] = labels
                    data[end - len(labels) :] = pictures
    return float(np.mean(accepted)) if accepted else 1.0


def plot_log(log: list[dict], path: Path, title: str = "") -> Path | None:
    """Plot the TV columns of a training log against the step; None without matplotlib."""
    keys = [k for k in ("tv", "tv_data") if any(k in e for e in log)]
    if not keys or len(log) < 2:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from .storage import atomic_path

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for key in keys:
        rows = [e for e in log if key in e]
        label = "TV to the exact pmf" if key == "tv" else "TV to the data"
        ax.plot([e["step"] for e in rows], [e[key] for e in rows], marker="o", label=label)
    ax.set_xlabel("generator step")
    ax.set_ylabel("total variation distance")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
