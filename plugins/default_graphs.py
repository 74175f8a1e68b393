"""Built-in causal graphs: every file in the ``graphs/`` folder, named by its stem."""

from importlib.resources import files

import ckgan

SUFFIXES = (".adjlist", ".dot", ".gv", ".gml")


@ckgan.hookimpl
def register_graphs(register):
    for path in sorted(files("ckgan_graphs").iterdir(), key=lambda p: p.name):
        name, dot, suffix = path.name.rpartition(".")
        if dot and "." + suffix in SUFFIXES:
            register(name, str(path))
