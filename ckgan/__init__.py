"""ckgan: causal implicit generative models (CausalGAN) as a plugin-based Keras 3 toolkit.

The public Python API. Importing it is cheap: nothing here imports
TensorFlow; the models do, when they are built.
"""

from importlib.metadata import PackageNotFoundError, version

from .bayesnet import BayesNet, BinaryBayesNet
from .dataset import Dataset, load_dataset
from .errors import CkganError
from .graph import CausalGraph
from .hookspecs import hookimpl
from .labels import LabelGenerator
from .plugins import get_plugin_manager, get_registry

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
