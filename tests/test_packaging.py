"""The wheel holds every package of the source tree.

pyproject.toml lists its packages by hand (the plugins and graphs install
under other names), so a new sub-package left off the list works in an
editable install and is missing from the wheel CI and users install.
"""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_source_package_is_in_the_wheel():
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    found = set()
    for name, folder in setup["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *parts)))
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - found == set(), "these listed packages have no __init__.py"


#: the frameworks only a per-backend module may import
FRAMEWORKS = {"tensorflow", "tensorflow_datasets", "jax", "jaxlib", "torch"}
#: where they may be imported: the per-backend modules, and the CelebA plugin,
#: which reads CelebA through tensorflow-datasets by design
ALLOWED = ("ckgan/backends/", "plugins/celeba/")


def framework_imports(path: Path) -> list[str]:
    """``line: module`` for each import of a framework in the file, at any depth."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{node.lineno}: {n}" for n in names if n.split(".")[0] in FRAMEWORKS]
    return found


def test_the_scan_finds_imports_at_any_depth(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "import os\nimport jax.numpy as jnp\n"
        "def f():\n    from torch import nn\n    import tensorflow as tf\n"
    )
    assert framework_imports(source) == ["2: jax.numpy", "4: torch", "5: tensorflow"]


def test_only_the_backend_modules_import_a_framework():
    offenders = {}
    for folder in ("ckgan", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(ALLOWED) and (found := framework_imports(path)):
                offenders[relative] = found
    assert offenders == {}, "move these into ckgan/backends/"


def _runtime_nodes(tree):
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (never run)."""
    import ast

    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def import_graph():
    """Which of the project's modules import which (at any depth), as a networkx DiGraph."""
    import ast

    import networkx as nx

    modules = {}
    for package, folder in (("ckgan", "ckgan"), ("ckgan_plugins", "plugins")):
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                stem = here[: len(here) - node.level + 1] if node.level else []
                target = ".".join(stem + ([node.module] if node.module else []))
                targets = [target] + [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_modules_import_one_another_without_cycles():
    # the packages' own __init__ (the public API, re-exporting) may be imported anywhere
    graph = import_graph()
    graph.remove_nodes_from(["ckgan", "ckgan_plugins"])
    import networkx as nx

    assert graph.has_edge("ckgan.userdata", "ckgan.dataset")  # the scan sees imports
    assert nx.is_directed_acyclic_graph(graph), nx.find_cycle(graph)
