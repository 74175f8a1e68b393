"""The hooks a ckgan plugin can implement.

Each ``register_*`` hook is handed a ``register(name, obj)`` callback, so the
host owns the registry and can tell which plugin registered what. None of them
stops at the first result: every plugin's implementation is called.
"""

import pluggy

hookspec = pluggy.HookspecMarker("ckgan")
hookimpl = pluggy.HookimplMarker("ckgan")


@hookspec
def register_label_generators(register):
    """Register label generators (the label stage).

    ``register(name, obj)``: ``obj`` is a ``ckgan.LabelGenerator`` subclass or
    an import string ``"module:Class"`` resolved on first use, so that listing
    plugins does not import TensorFlow.
    """


@hookspec
def register_image_stages(register):
    """Register image stages.

    ``register(name, obj)``: ``obj`` is an image-stage class or an import
    string ``"module:Class"`` resolved on first use.
    """


@hookspec
def register_graphs(register):
    """Register causal graphs.

    ``register(name, obj)``: ``obj`` is a ``networkx.DiGraph`` or the path of
    a graph file (``.adjlist``, ``.dot``/``.gv``, ``.gml``, ``.json``).
    """


@hookspec
def register_datasets(register):
    """Register datasets.

    ``register(name, obj)``: ``obj`` is a ``ckgan.Dataset`` subclass (or any
    callable returning a dataset) or an import string ``"module:Factory"``.
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``ckgan`` click group ``cli``."""
