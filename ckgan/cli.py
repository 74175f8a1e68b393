"""The ``ckgan`` command line: thin, parse options, call the Python API, print.

User errors (``CkganError`` and bad options) print one line on stderr and
exit non-zero, with no traceback. Nothing here imports TensorFlow at start-up.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import CkganError, CkganWarning, PluginWarning


class CkganGroup(click.Group):
    """A click group whose errors are one line on stderr.

    Commands that plugins add (``register_commands``) are loaded on first use,
    so that importing the CLI never fails because of a plugin.
    """

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        from .plugins import BUILTIN_PLUGINS, get_plugin_manager, get_registry

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PluginWarning)
            pm = get_plugin_manager()
            try:
                get_registry()  # a plugin whose hooks raise is skipped here, with its warning
            except CkganError:
                pass  # e.g. a name registered twice: the command that needs it says so
        type(self)._plugins_loaded = True
        for impl in pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=self)
            except Exception as e:
                if impl.plugin_name in BUILTIN_PLUGINS:
                    raise
                click.echo(
                    f"Warning: skipped the commands of plugin '{impl.plugin_name}': "
                    f"{type(e).__name__}: {e}",
                    err=True,
                )
        for w in caught:
            click.echo(f"Warning: {w.message}", err=True)

    def list_commands(self, ctx):
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        warnings.showwarning = _show_warning
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", CkganWarning)  # shown, never raised
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
        except ModuleNotFoundError as e:
            if e.name not in _BACKEND_EXTRAS:
                raise
            click.echo(f"Error: {_missing_backend(e.name)}", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


#: the extra that installs each backend's package (tensorflow_datasets: CelebA)
_BACKEND_EXTRAS = {
    "tensorflow": "cpu",
    "jax": "jax",
    "torch": "torch",
    "tensorflow_datasets": "cpu",
}


def _missing_backend(module: str) -> str:
    chosen = os.environ.get("KERAS_BACKEND")
    why = f" (KERAS_BACKEND={chosen})" if chosen else ""
    extra = _BACKEND_EXTRAS[module]
    return (
        f"'{module}' is not installed{why}: install it with pip install 'ckgan[{extra}]', "
        "or pick an installed backend with KERAS_BACKEND=jax|tensorflow|torch"
    )


_default_showwarning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """ckgan's own warnings as one ``Warning:`` line; others as Python shows them."""
    if issubclass(category, CkganWarning):
        click.echo(f"Warning: {message}", err=True)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


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


#: ``--force``, shared by every command that writes a file the user names
FORCE = click.option(
    "--force", is_flag=True, help="Replace --out if it exists (never a run folder's own files)."
)
#: ``--set`` and ``--given`` of ``sample`` and ``intervene``: values checked against the run
SET = click.option(
    "--set", "set_", multiple=True, metavar="NODE=V",
    help="Intervene: do(NODE=V), V a state name or code.",
)  # fmt: skip
GIVEN = click.option(
    "--given", multiple=True, metavar="NODE=V", help="Condition on NODE=V (a state name or code)."
)
#: a random seed: what NumPy, Keras and TensorFlow all accept
SEED = click.IntRange(0, 2**32 - 1)
#: the picture formats a grid can be written in, by file name
GRID_SUFFIXES = (".png", ".jpg", ".jpeg")


def _assignments(values: tuple[str, ...], option: str) -> dict[str, str]:
    """Parse ``NODE=V`` options; V (a state name, or a code) is checked against the run's graph."""
    out: dict[str, str] = {}
    for text in values:
        node, sep, value = text.partition("=")
        node, value = node.strip(), value.strip()
        if not sep or not node:
            raise CkganError(f"{option} {text}: write NODE=0, NODE=1 or NODE=STATE")
        if node in out:
            raise CkganError(f"{option} names '{node}' twice")
        out[node] = value
    return out


def _options(values: tuple[str, ...], option: str) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` options; VALUE is read as JSON (numbers, true, lists), else text."""
    out: dict[str, Any] = {}
    for text in values:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise CkganError(f"{option} {text}: write KEY=VALUE, e.g. {option} gamma=0.7")
        if key in out:
            raise CkganError(f"{option} names '{key}' twice")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


#: what `run --resume` may be given: the rest is the run's own, read from its config.json
RESUME_OPTIONS = ("resume_dir", "image_steps", "devices", "quiet")


def _check_resume_options(ctx: click.Context) -> None:
    """Refuse a setting given with --resume: the run keeps its own; ignoring it would mislead."""
    given = [
        param for param in ctx.command.params
        if param.name not in RESUME_OPTIONS
        and ctx.get_parameter_source(param.name) is not click.core.ParameterSource.DEFAULT
    ]  # fmt: skip
    if given:
        names = ", ".join(param.opts[0] for param in given)
        allowed = [p.opts[0] for p in ctx.command.params if p.name in RESUME_OPTIONS[1:]]
        raise CkganError(
            f"--resume continues a run with its own settings: leave out {names} "
            f"(only {', '.join(allowed[:-1])} and {allowed[-1]} go with it)"
        )


@cli.command()
@click.option("--labels", default="wgan", show_default=True, help="Label generator plugin.")
@click.option(
    "--image", default="causalgan", show_default=True, help="Image stage plugin, or 'none'."
)
@click.option(
    "--graph",
    default="paper",
    show_default=True,
    help="Registered graph name or graph file (.adjlist, .dot, .gml, .json, .bif).",
)
@click.option(
    "--data",
    default="synthfaces",
    show_default=True,
    help="Registered dataset name, or a CSV of labels (0/1, state names, integers).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=str),
    help="Run folder to create (default: runs/<image>-<graph>-<time>).",
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
@click.option(
    "--preset",
    default="quick",
    show_default=True,
    help="The image stage's preset. Built-in stages: quick (32x32, a few thousand steps, "
    "CPU-sized) and paper (the paper's settings, GPU); a plugin's stage may add its own.",
)
@click.option("--size", type=click.Choice(["16", "32", "64"]), help="Image size (preset's).")
@click.option("--label-steps", type=click.IntRange(min=1), help="Label-stage training steps.")
@click.option(
    "--image-steps",
    type=click.IntRange(min=1),
    help="Image-stage training steps (default: the stage preset's).",
)
@click.option(
    "--checkpoint-every", type=click.IntRange(min=1), help="Image-stage steps between checkpoints."
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(file_okay=False, path_type=str),
    help="Continue the interrupted run in this folder with its own settings (other options "
    "but --devices and --quiet are refused); "
    "with --image-steps N, train its image stage on to N steps in total, finished or not.",
)
@click.option(
    "--label-option",
    "label_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="A label generator option, e.g. learning_rate=5e-4 (repeatable).",
)
@click.option(
    "--image-option",
    "image_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="An image stage option over the preset's, e.g. gamma=0.7 (repeatable).",
)
@click.option(
    "--devices",
    metavar="N|all",
    help="Train data-parallel on N devices, or all (JAX backend: KERAS_BACKEND=jax).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(
    labels,
    image,
    graph,
    data,
    out,
    seed,
    preset,
    size,
    label_steps,
    image_steps,
    checkpoint_every,
    resume_dir,
    label_option,
    image_option,
    devices,
    quiet,
):
    """Train a causal generative model and write a run folder.

    The label stage is trained first, then the image stage on images of the
    dataset with labels from the frozen label stage. The folder gets
    config.json, the graph, both models, metrics.json, training curves,
    sample grids (samples/), checkpoints (image/checkpoint.h5, used by
    --resume) and do-versus-condition grids (interventions/). With
    --image none only the label stage is trained. `--resume DIR
    --image-steps N` trains a run's image stage on to N steps (copy the
    folder first to keep the shorter model).
    """
    from .run import train

    if resume_dir:
        _check_resume_options(click.get_current_context())
        out = resume_dir
    elif not out:
        out = f"runs/{image}-{Path(graph).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        result = train(
            out,
            labels=labels,
            image=image,
            graph=graph,
            data=data,
            seed=seed,
            preset=preset,
            size=int(size) if size else None,
            label_steps=label_steps,
            label_options=_options(label_option, "--label-option"),
            image_options=_options(image_option, "--image-option"),
            image_steps=image_steps,
            checkpoint_every=checkpoint_every,
            resume=bool(resume_dir),
            devices=devices,
            verbose=0 if quiet else 1,
        )
    except KeyboardInterrupt:
        if not (Path(out) / "config.json").is_file():
            raise
        click.echo(
            f"Aborted: the run in '{out}' keeps its last checkpoint; continue it with "
            f"`ckgan run --resume {out}`",
            err=True,
        )
        sys.exit(130)
    metrics = result.metrics.get("labels", {})
    parts = [f"run written to {out}"]
    if "tv_observational" in metrics:
        parts.append(f"label TV to the truth {metrics['tv_observational']:.4f}")
        parts.append(f"worst single-node do {metrics['tv_do_worst']:.4f}")
    elif "tv_data" in metrics:
        parts.append(f"label TV to the data {metrics['tv_data']:.4f}")
    click.echo("; ".join(parts))


@cli.command()
@click.option("--run", "run_dir", required=True, help="A run folder written by `ckgan run`.")
@click.option("--n", "n", default=1000, show_default=True, type=click.IntRange(min=1))
@SET
@GIVEN
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
@click.option("--out", required=True, help="Output: .csv (labels) or .h5 (images and labels).")
@FORCE
def sample(run_dir, n, set_, given, seed, out, force):
    """Sample from a run, observationally, under do (--set) or conditioning (--given)."""
    from .labels import check_do_given
    from .runfolder import Run
    from .storage import check_output
    from .writers import IMAGE_CHUNK, LABEL_CHUNK, write_samples

    do = _assignments(set_, "--set")
    evidence = _assignments(given, "--given")
    check_output(out, force=force, suffixes=(".csv", ".h5", ".hdf5"))
    images = Path(out).suffix.lower() != ".csv"
    trained = Run(run_dir)
    do, evidence = check_do_given(trained.graph, do, evidence)  # state names become codes
    if images:
        _ = trained.image_stage  # a labels-only run says so before any sampling
    chunked = n > (IMAGE_CHUNK if images else LABEL_CHUNK)
    with click.progressbar(length=n, label="sampling", file=sys.stderr,
                           hidden=not chunked) as bar:  # fmt: skip
        acceptance = write_samples(
            trained, out, n, do=do, given=evidence, seed=seed, images=images,
            exclusive=not force, progress=bar.update,
        )  # fmt: skip
    message = f"{n} samples written to {out}"
    if evidence:
        message += f" (rejection sampling acceptance {acceptance:.3g})"
    click.echo(message)


@cli.command()
@click.option("--run", "run_dir", required=True, help="A run folder written by `ckgan run`.")
@SET
@GIVEN
@click.option("--n", "n", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
@click.option("--out", help="PNG grid: a row under do(...) and a row under conditioning.")
@FORCE
def intervene(run_dir, set_, given, n, seed, out, force):
    """Compare an intervention with conditioning: label statistics, and a grid with --out.

    --set X=1 compares do(X=1) with conditioning on X=1; --given alone
    compares conditioning with observational sampling; --set with --given
    intervenes and conditions together.
    """
    from .interventions import contrast, intervention_grid
    from .runfolder import Run

    do = _assignments(set_, "--set")
    evidence = _assignments(given, "--given")
    if not do and not evidence:
        raise CkganError("say what to change: --set NODE=V (do) and/or --given NODE=V")
    if out:
        from .storage import check_output

        check_output(out, force=force, suffixes=GRID_SUFFIXES)
    trained = Run(run_dir)
    if out and trained.config.get("image", "none") == "none":
        raise CkganError(
            f"the run in '{run_dir}' has no image stage (trained with --image none), so no "
            "grid: leave out --out to see the label statistics"
        )
    from .labels import check_do_given

    do, evidence = check_do_given(trained.graph, do, evidence)
    rows = contrast(trained, do, evidence)
    nodes = trained.graph.encoding.columns  # a categorical node: a row per state, X=s
    width = max(len(node) for node in nodes)
    header = f"{'P(node=1)' if trained.graph.is_binary else 'P(X=x)':<{width}}"
    for title, *_ in rows:
        header += f"  {title:>24}"
    if rows[0][4] is not None:
        header += "   (exact: " + " / ".join(title for title, *_ in rows) + ")"
    click.echo(header)
    for node in nodes:
        line = f"{node:<{width}}"
        for _, _, _, sampled, _ in rows:
            line += f"  {sampled[node]:>24.3f}" if sampled else f"  {'never drawn':>24}"
        if rows[0][4] is not None:
            line += "   (" + " / ".join(f"{r[4][node]:.3f}" for r in rows) + ")"
        click.echo(line)
    for title, _, _, sampled, _ in rows:
        if sampled is None:
            click.echo(
                f"{title}: the model (nearly) never draws this evidence, so it cannot be "
                "conditioned on; the other column is drawn as asked"
            )
    if out:
        path = intervention_grid(
            trained, out, do, evidence, n=n, seed=seed, exclusive=not force, rows=rows
        )
        click.echo(f"grid written to {path}")


@cli.command()
@click.option("--run", "run_dir", required=True, help="A run folder written by `ckgan run`.")
@click.option("--n", "n", default=2000, show_default=True, type=click.IntRange(min=50),
              help="Generated images per measurement.")  # fmt: skip
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--quiet", is_flag=True, help="No progress output while the judge trains.")
@click.option("--judge", "judge", type=click.Choice(["independent", "data"]),
              default="independent", show_default=True,
              help="What the judge learns from: the dataset's images re-rendered with "
                   "independent labels (where it can render them, as synthfaces; else the "
                   "data), or the data.")  # fmt: skip
def evaluate(run_dir, n, seed, as_json, quiet, judge):
    """Measure a run: label TVs, judged label consistency, do vs conditioning, diversity.

    Writes evaluation.json and report.html into the run folder. The judge (an
    attribute classifier) is trained on first use and cached. Where the dataset
    can render images to order (synthfaces), it learns from images whose labels
    are independent, so that it reads a bald woman as bald; a judge trained on
    the data reads Male as evidence against Bald.
    """
    from .evaluate import evaluate as evaluate_run
    from .evaluate import judge_line, write_report
    from .runfolder import Run
    from .storage import EVALUATION_FILE, REPORT_FILE, atomic_write_text, run_lock

    trained = Run(run_dir)
    with run_lock(trained.directory):  # it writes into the run folder
        verbose = 0 if (quiet or as_json) else 1
        result = evaluate_run(trained, n=n, seed=seed, verbose=verbose, judge=judge)
        atomic_write_text(trained.directory / EVALUATION_FILE, json.dumps(result, indent=2))
        report = write_report(trained, result, trained.directory / REPORT_FILE)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    labels = result["labels"]
    click.echo(f"label TV (observational): {labels['tv_observational']:.4f}")
    if "tv_do_worst" in labels:
        click.echo(f"label TV (worst single-node do): {labels['tv_do_worst']:.4f}")
    images = result.get("images")
    if images:
        click.echo(judge_line(result["judge"]))
        mean = images["consistency_mean"]
        click.echo(
            f"label consistency of images: {mean['observational']:.3f} observational, "
            f"{mean['do']:.3f} under do"
        )
        shown = images["shown_under_do_summary"]
        click.echo(
            f"images showing the value set by do: {shown['mean']:.3f} on average, "
            f"worst do({shown['worst']}) {shown['worst_value']:.3f}"
        )
        rare = images.get("shown_under_do_rare_context_summary")
        if rare:
            click.echo(
                "  among rare contexts (other labels make it >= 10x rarer in the data): "
                f"{rare['mean']:.3f} on average, worst do({rare['worst']}) "
                f"{rare['worst_value']:.3f}"
            )
        click.echo(
            f"Frechet distance (judge features): {images['frechet']:.3f} "
            f"(real vs real {images['frechet_real_vs_real']:.3f})"
        )
        click.echo(f"diversity given the labels: {images['diversity'].get('features', 0):.2f}")
    click.echo(f"report written to {report}")


@cli.group()
def data():
    """Datasets: list the registered ones, look at one."""


@data.command(name="list")
def data_list():
    """List registered datasets."""
    from .plugins import get_registry

    registry = get_registry()
    for name in registry.names("datasets"):
        click.echo(f"{name} ({registry.get('datasets', name).plugin})")


@data.command(name="show")
@click.argument("name")
@click.option("--n", "n", default=64, show_default=True, type=click.IntRange(1, 1024))
@click.option("--size", default=64, show_default=True, type=click.IntRange(8, 512))
@click.option("--split", default="train", show_default=True)
@click.option("--out", required=True, help="PNG (or JPEG) file for the labelled grid.")
@FORCE
def data_show(name, n, size, split, out, force):
    """Write a labelled grid of NAME's first --n images to --out."""
    from .plugins import load_dataset
    from .storage import check_output
    from .viz import label_caption, save_grid

    check_output(out, force=force, suffixes=GRID_SUFFIXES)
    dataset = load_dataset(name)
    if not dataset.has_images:
        raise CkganError(f"dataset '{name}' has no images to show")
    images, labels = dataset.examples(n, size=size, split=split)
    captions = [label_caption(row, dataset.columns) for row in labels]
    path = save_grid(images, out, captions=captions, exclusive=not force)
    click.echo(f"{len(images)} images of {name} written to {path}")


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Imports TensorFlow, whenever a command first needs it, with file descriptor 2 muted.

    TensorFlow's C++ start-up notes (absl's "before InitializeLog", oneDNN) are
    written straight to fd 2 during ``import tensorflow``, before any log level
    applies, so an error that follows would not be one line. A failed import
    still raises as usual.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _MutedLoader(spec.loader)
        return spec


class _MutedLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
            self.loader.exec_module(module)
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def main() -> None:
    """Console-script entry point."""
    # TensorFlow's C++ notes are noise on a terminal; its errors still show.
    # A value the user set wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ["TF_CPP_MIN_LOG_LEVEL"] != "0":
        sys.meta_path.insert(0, _QuietTensorFlowImport())
    cli()
