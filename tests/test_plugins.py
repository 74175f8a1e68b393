import importlib.metadata

import networkx as nx
import pytest

import ckgan
from ckgan import CkganError, plugins
from ckgan.errors import PluginWarning


def _installed(dist):
    try:
        importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_fixtures = pytest.mark.skipif(
    not all(_installed(f"ckgan-{n}") for n in ("chain3", "broken", "dup", "misspelled")),
    reason="fixture plugins not installed (tox installs them from tests/fixtures)",
)


def test_builtins_register_through_hooks():
    registry = ckgan.get_registry()
    assert {"full", "reverse", "independent", "paper"} <= set(registry.names("graphs"))
    assert {"wgan", "gumbel", "tabular"} <= set(registry.names("labels"))
    assert {"synthfaces", "celeb_a"} <= set(registry.names("datasets"))
    entry = registry.get("graphs", "paper")
    assert entry.plugin == "ckgan_plugins.default_graphs"


def test_unknown_name_lists_known_ones():
    with pytest.raises(CkganError, match=r"unknown label generator 'nope' \(known: .*tabular"):
        ckgan.get_registry().get("labels", "nope")


def test_import_strings_resolve_lazily():
    entry = ckgan.get_registry().get("labels", "tabular")
    from ckgan.tabular import TabularLabelGenerator

    assert entry.load() is TabularLabelGenerator


class FakePlugin:
    @ckgan.hookimpl
    def register_graphs(self, register):
        register("two", nx.DiGraph([("P", "Q")]))

    @ckgan.hookimpl
    def register_label_generators(self, register):
        register("broken-import", "ckgan_no_such_module:Thing")


def test_class_based_plugin_registers(monkeypatch):
    pm = plugins.get_plugin_manager()
    pm.register(FakePlugin(), name="fake")
    registry = plugins.get_registry()
    assert ckgan.CausalGraph.load("two").edges == [("P", "Q")]
    info = {i.name: i for i in plugins.plugin_infos()}["fake"]
    assert info.registered["graphs"] == ["two"]
    with pytest.raises(CkganError, match="cannot be loaded"):
        registry.get("labels", "broken-import").load()


def test_duplicate_name_names_both_plugins():
    class Dup:
        @ckgan.hookimpl
        def register_graphs(self, register):
            register("paper", nx.DiGraph([("X", "Y")]))

    plugins.get_plugin_manager().register(Dup(), name="dupe-plugin")
    with pytest.raises(
        CkganError, match="'paper' is registered twice.*default_graphs.*dupe-plugin"
    ):
        plugins.get_registry()


@needs_fixtures
def test_entry_point_plugin_loads(monkeypatch):
    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "ckgan-chain3")
    graph = ckgan.CausalGraph.load("chain3")
    assert graph.nodes == ("A", "B", "C")
    info = {i.name: i for i in plugins.plugin_infos()}["chain3"]
    assert (info.distribution, info.version) == ("ckgan-chain3", "0.1.0")


@needs_fixtures
def test_broken_plugin_is_skipped_with_a_warning(monkeypatch):
    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "ckgan-broken,chain3")
    with pytest.warns(PluginWarning, match="skipped plugin 'broken' \\(ckgan-broken 0.1.0\\)"):
        registry = plugins.get_registry()
    assert "chain3" in registry.names("graphs")


@needs_fixtures
def test_duplicate_from_entry_point(monkeypatch):
    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "ckgan-dup")
    with pytest.raises(CkganError, match="'full' is registered twice.*'dup'"):
        plugins.get_registry()


@needs_fixtures
def test_misspelled_hook_fails_loudly(monkeypatch):
    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "misspelled")
    with pytest.raises(CkganError, match="'misspelled'.*register_graph"):
        plugins.get_plugin_manager()


@needs_fixtures
def test_empty_load_list_loads_no_third_party(monkeypatch):
    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "")
    names = {i.name for i in plugins.plugin_infos()}
    assert names == set(plugins.BUILTIN_PLUGINS)
    monkeypatch.delenv("CKGAN_LOAD_PLUGINS")
    plugins.reset()
    with pytest.raises(CkganError), pytest.warns(PluginWarning):
        plugins.get_registry()  # all fixtures: the broken one warns, the misspelled one stops it


def test_every_hook_is_documented_with_its_signature():
    import inspect
    from pathlib import Path

    from ckgan import hookspecs

    docs = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
    names = [n for n in dir(hookspecs) if n.startswith("register_")]
    assert len(names) == 5
    for name in names:
        signature = f"{name}{inspect.signature(getattr(hookspecs, name))}"
        assert f"## `{signature}`" in docs, signature


@needs_fixtures
def test_entry_point_plugin_through_the_cli(monkeypatch):
    from click.testing import CliRunner

    from ckgan.cli import cli

    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "ckgan-chain3")
    result = CliRunner().invoke(cli, ["list-plugins"])
    assert result.exit_code == 0 and "chain3 (ckgan-chain3 0.1.0)" in result.output
    result = CliRunner().invoke(cli, ["graphs", "show", "chain3"])
    assert result.exit_code == 0
    assert result.output.splitlines()[1:] == ["A B", "B C", "C"]


class RaisingPlugin:
    @ckgan.hookimpl
    def register_graphs(self, register):
        register("half-registered", nx.DiGraph([("P", "Q")]))
        raise RuntimeError("boom")

    @ckgan.hookimpl
    def register_label_generators(self, register):
        register("never-kept", "ckgan_no_such_module:Thing")


def test_a_plugin_whose_hook_raises_is_skipped_with_its_name(recwarn):
    from click.testing import CliRunner

    from ckgan.cli import cli

    plugins.get_plugin_manager().register(RaisingPlugin(), name="raiser")
    registry = plugins.get_registry()
    assert "half-registered" not in registry.names("graphs")
    assert "never-kept" not in registry.names("labels")
    assert "paper" in registry.names("graphs")
    assert "raiser" not in {info.name for info in plugins.plugin_infos()}
    messages = [str(w.message) for w in recwarn.list if w.category is PluginWarning]
    assert messages == [
        "skipped plugin 'raiser': its register_graphs hook raised RuntimeError: boom; "
        "fix or uninstall it, or set CKGAN_LOAD_PLUGINS"
    ]
    result = CliRunner().invoke(cli, ["graphs", "list"])
    assert result.exit_code == 0 and "paper: 9 nodes" in result.output


def test_an_unknown_name_in_the_load_list_is_a_warning(monkeypatch):
    monkeypatch.setenv("CKGAN_LOAD_PLUGINS", "ckgan-nope")
    with pytest.warns(PluginWarning, match="CKGAN_LOAD_PLUGINS names 'ckgan-nope', which no"):
        plugins.get_plugin_manager()
