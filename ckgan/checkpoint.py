"""Whole training state to one HDF5 file, written atomically.

A checkpoint holds every variable of a Keras model (weights, batch-norm
statistics, step counters, schedule variables such as k_t, random-seed
states) and of its optimizers, plus a small JSON header. It is written to a
temporary file and renamed, so a kill leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CkganError
from .storage import atomic_path

FORMAT = "ckgan-checkpoint-1"


def save_variables(
    path: str | Path,
    groups: Mapping[str, Sequence[Any]],
    header: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``{group: [variable, ...]}`` and a JSON ``header`` to ``path`` atomically."""
    import h5py

    path = Path(path)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["header"] = json.dumps(dict(header or {}))
            for name, variables in groups.items():
                group = f.create_group(name)
                for i, variable in enumerate(variables):
                    data = group.create_dataset(str(i), data=np.asarray(variable))
                    data.attrs["path"] = getattr(variable, "path", "")
    return path


#: what to do about a corrupt training checkpoint (a model file passes its own ``fix``)
CHECKPOINT_FIX = "delete it to restart this stage from its first step, or restore it from a copy"
NO_CHECKPOINT = "restore it from a copy, or train this stage again from its first step"


def read_header(path: str | Path, fix: str = CHECKPOINT_FIX) -> dict[str, Any]:
    """The JSON header of a checkpoint; a clear error ending in ``fix`` if missing or corrupt."""
    import h5py

    path = Path(path)
    if not path.is_file():  # nothing to delete: the stage can only start over
        raise CkganError(f"'{path}' is missing: {NO_CHECKPOINT if fix == CHECKPOINT_FIX else fix}")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise CkganError(f"'{path}' is not a ckgan checkpoint: {fix}")
            return json.loads(f.attrs["header"])
    except (OSError, KeyError, ValueError) as e:
        raise CkganError(f"'{path}' is corrupt ({type(e).__name__}): {fix}") from None


def read_values(
    path: str | Path, groups: Mapping[str, Sequence[Any]], prefix: str = ""
) -> dict[str, list[np.ndarray]] | None:
    """The values stored for ``{group: [variable, ...]}`` under ``prefix + group``,
    as arrays, or None where any is missing, unreadable or of another shape (for
    extras a checkpoint may hold, such as an earlier state)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            values = {
                name: [np.asarray(f[prefix + name][str(i)]) for i in range(len(f[prefix + name]))]
                for name in groups
            }
    except (OSError, KeyError, ValueError, RuntimeError):
        return None
    for name, variables in groups.items():
        if len(values[name]) != len(variables) or any(
            tuple(v.shape) != a.shape for v, a in zip(variables, values[name], strict=True)
        ):
            return None
    return values


def load_variables(
    path: str | Path, groups: Mapping[str, Sequence[Any]], fix: str = CHECKPOINT_FIX
) -> dict[str, Any]:
    """Assign the stored values to ``{group: [variable, ...]}``; returns the header.

    Every variable must match the stored one in count and shape, else nothing
    is assigned and a ``CkganError`` says what differs.
    """
    import h5py

    header = read_header(path, fix)
    try:
        with h5py.File(path, "r") as f:
            values = {}
            for name, variables in groups.items():
                if name not in f or len(f[name]) != len(variables):
                    stored = len(f[name]) if name in f else 0
                    raise CkganError(
                        f"checkpoint '{path}' holds {stored} variables for '{name}', "
                        f"the model has {len(variables)}: it was written by another model"
                    )
                values[name] = [np.asarray(f[name][str(i)]) for i in range(len(variables))]
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        raise CkganError(f"'{path}' is corrupt ({type(e).__name__}: {e}): {fix}") from None
    for name, variables in groups.items():
        for variable, value in zip(variables, values[name], strict=True):
            if tuple(variable.shape) != value.shape:
                raise CkganError(
                    f"checkpoint '{path}': {getattr(variable, 'path', name)} has shape "
                    f"{value.shape}, the model expects {tuple(variable.shape)}"
                )
    for name, variables in groups.items():
        for variable, value in zip(variables, values[name], strict=True):
            variable.assign(value)
    return header
