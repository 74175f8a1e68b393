"""The ``ckgan`` command line: thin, parse options, call the Python API, print.

User errors (``CkganError`` and bad options) print one line on stderr and
exit non-zero, with no traceback. Nothing here imports TensorFlow at start-up.
"""

from __future__ import annotations

import json
import sys
import warnings

import click

from . import __version__
from .errors import CkganError, PluginWarning


class CkganGroup(click.Group):
    """A click group whose errors are one line on stderr.

    Commands that plugins add (``register_commands``) are loaded on first use,
    so that importing the CLI never fails because of a plugin.
    """

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        from .plugins import get_plugin_manager

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PluginWarning)
            pm = get_plugin_manager()
        for w in caught:
            click.echo(f"Warning: {w.message}", err=True)
        type(self)._plugins_loaded = True
        pm.hook.register_commands(cli=self)

    def list_commands(self, ctx):
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name or "ckgan", standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except click.ClickException as e:
            click.echo(f"Error: {e.format_message()}", err=True)
            sys.exit(e.exit_code)
        except CkganError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=CkganGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ckgan")
def cli():
    """ckgan: generative models that respect a causal graph (CausalGAN).

    Sample labels and images observationally, under interventions do(X=x)
    and under conditioning, and see the difference.
    """


@cli.command(name="list-plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_plugins(as_json):
    """List the loaded plugins and what each registered."""
    from .plugins import plugin_infos

    infos = [info.as_dict() for info in plugin_infos()]
    if as_json:
        click.echo(json.dumps(infos, indent=2))
        return
    for info in infos:
        dist = f"{info['distribution']} {info['version']}" if info["distribution"] else "local"
        click.echo(f"{info['name']} ({dist})")
        for kind, names in info["registered"].items():
            if names:
                click.echo(f"  {kind}: {', '.join(names)}")


@cli.group()
def graphs():
    """Causal graphs: list the registered ones, show one."""


@graphs.command(name="list")
def graphs_list():
    """List registered graphs with their node and edge counts."""
    from .graph import CausalGraph
    from .plugins import get_registry

    registry = get_registry()
    for name in registry.names("graphs"):
        graph = CausalGraph.load(name)
        plugin = registry.get("graphs", name).plugin
        click.echo(f"{name}: {len(graph)} nodes, {len(graph.edges)} edges ({plugin})")


@graphs.command(name="show")
@click.argument("graph")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["adjlist", "dot", "json"]),
    default="adjlist",
    show_default=True,
    help="Output format.",
)
def graphs_show(graph, fmt):
    """Print GRAPH (a registered name or a graph file) in topological order."""
    from .graph import CausalGraph

    click.echo(CausalGraph.load(graph).export(fmt), nl=False)


def main() -> None:
    """Console-script entry point."""
    cli()
