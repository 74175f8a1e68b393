"""The plugin manager and the registry it fills.

Built-in plugins (``ckgan_plugins.*``) register through the very same hooks
as third-party ones, which are found through the entry-point group ``ckgan``.
``CKGAN_LOAD_PLUGINS`` (a comma list of distribution or entry-point names;
empty means none) limits which third-party plugins load, so that a broken one
never locks a user out.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import CkganError, PluginWarning

if TYPE_CHECKING:
    from .dataset import Dataset

BUILTIN_PLUGINS = (
    "ckgan_plugins.default_graphs",
    "ckgan_plugins.default_datasets",
    "ckgan_plugins.default_labels",
    "ckgan_plugins.default_images",
)

#: kind (as shown to users) -> the hook that registers it
KINDS = {
    "labels": "register_label_generators",
    "image": "register_image_stages",
    "graphs": "register_graphs",
    "datasets": "register_datasets",
}

_KIND_WORDS = {
    "labels": "label generator",
    "image": "image stage",
    "graphs": "graph",
    "datasets": "dataset",
}


@dataclass
class PluginInfo:
    """What ``ckgan list-plugins`` reports about one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": self.hooks,
            "registered": self.registered,
        }


@dataclass
class Entry:
    """One registered thing: its kind, name, object and the plugin behind it."""

    kind: str
    name: str
    obj: Any
    plugin: str

    def load(self) -> Any:
        """The registered object, importing ``"module:attr"`` strings on first use."""
        if isinstance(self.obj, str) and ":" in self.obj and self.kind != "graphs":
            module, _, attr = self.obj.partition(":")
            try:
                self.obj = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as e:
                raise CkganError(
                    f"{_KIND_WORDS[self.kind]} '{self.name}' of plugin '{self.plugin}' "
                    f"cannot be loaded from {self.obj!r}: {e}"
                ) from e
        return self.obj


class Registry:
    """Everything the plugins registered, by kind and name."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}

    def add(self, kind: str, name: str, obj: Any, plugin: str) -> None:
        if not isinstance(name, str) or not name:
            raise CkganError(f"plugin '{plugin}' registered a {_KIND_WORDS[kind]} without a name")
        known = self.entries[kind].get(name)
        if known is not None:
            raise CkganError(
                f"{_KIND_WORDS[kind]} '{name}' is registered twice, by plugin '{known.plugin}' "
                f"and by plugin '{plugin}': uninstall one of them or leave it out of "
                "CKGAN_LOAD_PLUGINS"
            )
        self.entries[kind][name] = Entry(kind, name, obj, plugin)

    def names(self, kind: str) -> list[str]:
        return list(self.entries[kind])

    def get(self, kind: str, name: str) -> Entry:
        """The entry called ``name``; an unknown name is an error listing the known ones."""
        try:
            return self.entries[kind][name]
        except KeyError:
            known = ", ".join(sorted(self.entries[kind])) or "none"
            raise CkganError(f"unknown {_KIND_WORDS[kind]} '{name}' (known: {known})") from None


_pm: pluggy.PluginManager | None = None
_infos: dict[str, PluginInfo] = {}
_registry: Registry | None = None


def _wanted(ep: importlib.metadata.EntryPoint) -> bool:
    allowed = os.environ.get("CKGAN_LOAD_PLUGINS")
    if allowed is None:
        return True
    names = {n.strip() for n in allowed.split(",") if n.strip()}
    dist = ep.dist.name if ep.dist is not None else None
    return ep.name in names or (dist is not None and dist in names)


def _warn_unknown_wanted(entry_points) -> None:
    """Warn about names in ``CKGAN_LOAD_PLUGINS`` that no installed plugin has."""
    allowed = os.environ.get("CKGAN_LOAD_PLUGINS")
    if not allowed:
        return
    known = {ep.name for ep in entry_points} | {
        ep.dist.name for ep in entry_points if ep.dist is not None
    }
    for name in sorted({n.strip() for n in allowed.split(",") if n.strip()} - known):
        warnings.warn(
            f"CKGAN_LOAD_PLUGINS names '{name}', which no installed plugin is called "
            f"(installed: {', '.join(sorted(known)) or 'none'})",
            PluginWarning,
            stacklevel=3,
        )


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager: specs added, built-ins and entry points loaded."""
    global _pm
    if _pm is not None:
        return _pm
    pm = pluggy.PluginManager("ckgan")
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    version = importlib.metadata.version("ckgan")
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        infos[module_name] = PluginInfo(module_name, "ckgan", version)
    entry_points = importlib.metadata.entry_points(group="ckgan")
    _warn_unknown_wanted(entry_points)
    for ep in entry_points:
        if not _wanted(ep) or pm.has_plugin(ep.name):
            continue
        dist = ep.dist.name if ep.dist is not None else None
        dist_version = ep.dist.version if ep.dist is not None else None
        try:
            module = ep.load()
        except Exception as e:  # a broken plugin must not take the tool down
            warnings.warn(
                f"skipped plugin '{ep.name}' ({dist} {dist_version}): "
                f"{type(e).__name__}: {e}; fix or uninstall it, or set CKGAN_LOAD_PLUGINS",
                PluginWarning,
                stacklevel=2,
            )
            continue
        pm.register(module, name=ep.name)
        infos[ep.name] = PluginInfo(ep.name, dist, dist_version)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        name = pm.get_name(e.plugin)
        info = infos.get(name)
        where = f" ({info.distribution} {info.version})" if info and info.distribution else ""
        hooks = ", ".join(sorted(h for h in dir(hookspecs) if h.startswith("register_")))
        raise CkganError(
            f"plugin '{name}'{where} implements no known hook ({e.args[0].split(' in plugin')[0]}; "
            f"known hooks: {hooks}): fix the plugin, or leave it out with CKGAN_LOAD_PLUGINS"
        ) from None
    for name, info in infos.items():
        plugin = pm.get_plugin(name)
        info.hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
    _infos.clear()
    _infos.update(infos)
    _pm = pm
    return pm


def get_registry() -> Registry:
    """Call every ``register_*`` hook once and return what they registered."""
    global _registry
    if _registry is not None:
        return _registry
    pm = get_plugin_manager()
    registry = Registry()
    for name, plugin in pm.list_name_plugin():
        if name not in _infos:  # registered by hand (tests, embedding apps)
            hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
            _infos[name] = PluginInfo(name, None, None, hooks)
    for info in _infos.values():
        info.registered = {kind: [] for kind in KINDS}
    broken: set[str] = set()
    for kind, hook_name in KINDS.items():
        caller = getattr(pm.hook, hook_name)
        # In registration order: built-ins first, so they are named first in errors.
        for impl in caller.get_hookimpls():
            plugin = impl.plugin_name
            if plugin in broken:
                continue
            added: list[str] = []

            def register(name, obj, _kind=kind, _plugin=plugin, _added=added):
                registry.add(_kind, name, obj, _plugin)
                _infos[_plugin].registered[_kind].append(name)
                _added.append(name)

            try:
                impl.function(**{arg: register for arg in impl.argnames})
            except CkganError:
                raise
            except Exception as e:
                if plugin in BUILTIN_PLUGINS:
                    raise  # ckgan's own bug: keep the traceback
                _skip_broken(registry, plugin, hook_name, e)
                broken.add(plugin)
    _registry = registry
    return registry


def _skip_broken(registry: Registry, plugin: str, hook: str, error: Exception) -> None:
    """Forget all that a plugin whose hook raised had registered, with a one-line warning."""
    for entries in registry.entries.values():
        for name in [n for n, e in entries.items() if e.plugin == plugin]:
            del entries[name]
    info = _infos.pop(plugin, None)
    where = f" ({info.distribution} {info.version})" if info and info.distribution else ""
    warnings.warn(
        f"skipped plugin '{plugin}'{where}: its {hook} hook raised {type(error).__name__}: "
        f"{error}; fix or uninstall it, or set CKGAN_LOAD_PLUGINS",
        PluginWarning,
        stacklevel=2,
    )


def plugin_infos() -> list[PluginInfo]:
    """Every loaded plugin, with what it registered."""
    get_registry()
    return list(_infos.values())


def reset() -> None:
    """Forget the manager and registry (tests, or after changing CKGAN_LOAD_PLUGINS)."""
    global _pm, _registry
    _pm = None
    _registry = None
    _infos.clear()


def load_dataset(name_or_path: str | Path, **options: Any) -> Dataset:
    """A registered dataset by name, or a user's CSV file of labels / folder of images."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() == ".csv" or path.exists():
        from .userdata import open_user_data

        return open_user_data(path, **options)
    factory = get_registry().get("datasets", text).load()
    return factory(**options)
