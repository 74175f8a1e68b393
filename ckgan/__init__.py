"""ckgan: causal implicit generative models (CausalGAN) as a plugin-based Keras 3 toolkit.

The public Python API. Importing it is cheap: nothing here imports
TensorFlow; the models do, when they are built.
"""

import importlib.util
import json
import os
from importlib.metadata import PackageNotFoundError, version

from .bayesnet import BayesNet, BinaryBayesNet
from .dataset import Dataset
from .errors import CkganError
from .graph import CausalGraph
from .hookspecs import hookimpl
from .labels import LabelGenerator
from .plugins import get_plugin_manager, get_registry, load_dataset


def _choose_backend() -> None:
    """Let Keras run on a backend that is installed.

    Keras takes ``KERAS_BACKEND``, else ``keras.json`` (which it writes with
    TensorFlow the first time it runs), else TensorFlow; an install with only
    ``.[jax]`` or ``.[torch]`` would fail at the first model. A backend set
    in the environment always wins, ``keras.json``'s if it is installed.
    Cheap: nothing is imported.
    """
    if "KERAS_BACKEND" in os.environ:
        return
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as f:
            configured = json.load(f).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        configured = "tensorflow"
    if importlib.util.find_spec(str(configured)) is not None:
        return
    for name in ("tensorflow", "jax", "torch"):
        if importlib.util.find_spec(name) is not None:
            os.environ["KERAS_BACKEND"] = name
            return


def _tensorflow_cpu_allocator() -> None:
    """Let TensorFlow keep the CPU memory it frees (its BFC allocator) for its next step.

    Its default CPU allocator hands large buffers back to the system at
    every free, so each training step maps them again and faults in every
    page: 280,000 faults a second in an image stage on a 2-core VM, 40% of
    the CPU in the kernel. With BFC the same run faults about 50 times less
    and trained twice as fast (benchmarks/README.md). A value the user set
    wins. Cheap: TensorFlow reads it when it first allocates, so it is set
    before anything imports it.
    """
    os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")


_choose_backend()
_tensorflow_cpu_allocator()


try:
    __version__ = version("ckgan")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

#: names served by ``__getattr__`` on first use (their modules import the API above)
_LAZY = {"train": "run", "Run": "run"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'ckgan' has no attribute {name!r}")


__all__ = [
    "BayesNet",
    "BinaryBayesNet",
    "CausalGraph",
    "CkganError",
    "Dataset",
    "LabelGenerator",
    "Run",
    "__version__",
    "get_plugin_manager",
    "get_registry",
    "hookimpl",
    "load_dataset",
    "train",
]
