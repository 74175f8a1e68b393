"""The promise, case by case: a bad input is one line on stderr, a non-zero exit, no file touched.

Each case runs a command against finished runs (labels only, with images, a
WGAN one) and user files, some of them damaged on purpose, and checks: exit
code != 0, exactly one line on stderr naming the problem, no traceback, and
every file of the runs and inputs byte-identical before and after.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import ckgan
from ckgan import plugins
from ckgan.cli import cli

CSV = "A,B,C\n" + "".join(f"{a},{b},{a ^ b}\n" for a in (0, 1) for b in (0, 1)) * 50
DOT = "digraph { A -> C; B -> C }"
AGES = ("young", "adult", "old")
CAT_CSV = (
    "smoke,age,cough\n"
    + "".join(f"{s},{a},{c}\n" for s in ("yes", "no") for a in AGES for c in (0, 1)) * 20
)
CAT_DOT = "digraph { age -> smoke; smoke -> cough; age -> cough }"
CAT_BIF = (
    "variable smoke {\n  type discrete [ 2 ] { yes, no };\n}\n"
    "variable age {\n  type discrete [ 3 ] { young, adult, elderly };\n}\n"
    "variable cough {\n  type discrete [ 2 ] { 0, 1 };\n}\n"
    "probability ( age ) {\n}\nprobability ( smoke | age ) {\n}\n"
    "probability ( cough | smoke ) {\n}\n"
)


class TinyFaces:
    @ckgan.hookimpl
    def register_datasets(self, register):
        from ckgan_plugins.synthfaces.synth_faces import SynthFaces

        register("tinyfaces", lambda: SynthFaces(n=300, seed=1))


class RaisingPlugin:
    @ckgan.hookimpl
    def register_graphs(self, register):
        register("half", "never kept")
        raise RuntimeError("boom")


def invoke(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Inputs and three finished runs, built once for every case."""
    root = tmp_path_factory.mktemp("world")
    mp = pytest.MonkeyPatch()
    mp.setenv("CKGAN_LOAD_PLUGINS", "")
    plugins.reset()
    plugins.get_plugin_manager().register(TinyFaces(), name="tinyfaces-plugin")
    (root / "in").mkdir()
    (root / "in" / "d.csv").write_text(CSV)
    (root / "in" / "g.dot").write_text(DOT)
    (root / "in" / "existing.png").write_bytes(b"not yours to replace")
    (root / "in" / "existing.csv").write_text("A\n1\n")
    (root / "in" / "cyc.adjlist").write_text("A B\nB A\n")
    (root / "in" / "self.adjlist").write_text("A A\n")
    (root / "in" / "badname.adjlist").write_text("A 1bad\n")
    (root / "in" / "empty.adjlist").write_text("")
    (root / "in" / "emptycell.csv").write_text("A,B,C\n0,1,\n1,0,1\n")
    (root / "in" / "manystates.csv").write_text(
        "A,B,C\n" + "".join(f"{i % 2},1,v{i}\n" for i in range(40))
    )
    (root / "in" / "cat.csv").write_text(CAT_CSV)
    (root / "in" / "cat.dot").write_text(CAT_DOT)
    (root / "in" / "cat.bif").write_text(CAT_BIF)
    (root / "in" / "cyc.bif").write_text(
        CAT_BIF.replace("probability ( age )", "probability ( age | cough )")
    )
    (root / "in" / "typo.bif").write_text(CAT_BIF.replace("( cough | smoke )", "( cough | smoek )"))
    (root / "in" / "broken.bif").write_text(CAT_BIF.replace("[ 3 ] { young,", "[ 3 ] young,"))
    (root / "in" / "missing.csv").write_text("A,B\n0,1\n1,0\n")
    (root / "in" / "folder").mkdir()
    (root / "in" / "folder" / "notes.txt").write_text("mine")
    (root / "in" / "afile").write_text("a file, not a folder")
    labels = ["--image", "none", "--graph", root / "in" / "g.dot", "--data", root / "in" / "d.csv"]
    for name, args in {
        "labels": ["--labels", "tabular", *labels],
        "wgan": ["--labels", "wgan", "--label-steps", 2, *labels],
        "images": ["--labels", "tabular", "--image", "causalgan", "--data", "tinyfaces",
                   "--size", 16, "--image-steps", 2],
        "cat": ["--labels", "tabular", "--image", "none", "--graph", root / "in" / "cat.dot",
                "--data", root / "in" / "cat.csv"],
    }.items():  # fmt: skip
        result = invoke("run", *args, "--out", root / name, "--quiet")
        assert result.exit_code == 0, result.output
    yield root
    mp.undo()


def _damaged(world: Path, run: str, how) -> Path:
    """A copy of a finished run, damaged by ``how(folder)``."""
    target = world / "damaged" / f"{run}-{len(list((world / 'damaged').glob('*')))}"
    shutil.copytree(world / run, target)
    how(target)
    return target


def _write(relative, text):
    return lambda folder: (folder / relative).write_bytes(
        text if isinstance(text, bytes) else text.encode()
    )


def _remove(relative):
    return lambda folder: (folder / relative).unlink()


def _truncate(relative):
    return lambda folder: (folder / relative).write_bytes((folder / relative).read_bytes()[:300])


def _set_status(folder):
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "status": "training"}))


# (id, command args with {placeholders}, expected message part, damage: (run, how) or None)
# Placeholders: {in} the inputs folder, {L} {W} {I} {C} the labels / wgan / image /
# categorical (tabular: smoke, age, cough) runs,
# {R} the damaged copy, {out} a fresh path to write.
CASES = [
    # sample
    ("sample-set-2", "sample --run {L} --set A=2 --out {out}.csv", "values must be 0 or 1"),
    ("sample-set-unknown", "sample --run {L} --set Nope=1 --out {out}.csv", "unknown node 'Nope'"),
    ("sample-given-no-value", "sample --run {L} --given B --out {out}.csv", "write NODE=0"),
    ("sample-set-and-given", "sample --run {L} --set B=1 --given B=0 --out {out}.csv",
     "is both set (do) and given"),
    ("sample-set-twice", "sample --run {L} --set B=1 --set B=0 --out {out}.csv", "names 'B' twice"),
    ("sample-seed-negative", "sample --run {L} --seed -1 --out {out}.csv", "'--seed'"),
    ("sample-seed-huge", "sample --run {L} --seed 99999999999 --out {out}.csv", "--seed"),
    ("sample-n-zero", "sample --run {L} --n 0 --out {out}.csv", "Invalid value for '--n'"),
    ("sample-n-text", "sample --run {L} --n lots --out {out}.csv", "'lots' is not a valid integer"),
    ("sample-suffix", "sample --run {L} --out {out}.txt", "must end in .csv or .h5"),
    ("sample-out-folder", "sample --run {L} --out {in}/folder", "is a folder"),
    ("sample-out-exists", "sample --run {L} --out {in}/existing.csv", "exists: choose another"),
    ("sample-out-run-model", "sample --run {L} --out {L}/labels/tables.h5 --force",
     "is one of the files of the run"),
    ("sample-out-run-image", "sample --run {I} --n 2 --out {I}/image/image_stage.h5",
     "is one of the files of the run"),
    ("sample-out-run-new-in-owned", "sample --run {L} --out {L}/samples/x.csv",
     "is one of the files of the run"),
    ("sample-out-proc", "sample --run {L} --out /proc/ckgan/x.csv", "cannot create folder"),
    ("sample-out-under-file", "sample --run {L} --out {in}/afile/x.csv", "is in the way"),
    ("sample-run-missing", "sample --run {in}/nope --out {out}.csv", "is not a ckgan run"),
    ("sample-run-not-a-run", "sample --run {in}/folder --out {out}.csv", "is not a ckgan run"),
    ("sample-labels-only-h5", "sample --run {L} --out {out}.h5", "has no image stage"),
    ("sample-config-not-json", "sample --run {R} --out {out}.csv", "config.json' is unreadable",
     ("labels", _write("config.json", "{oops"))),
    ("sample-config-list", "sample --run {R} --out {out}.csv", "not an object",
     ("labels", _write("config.json", "[1, 2]"))),
    ("sample-config-bad-type", "sample --run {R} --out {out}.csv", "labels is not a str",
     ("labels", _write("config.json", '{"labels": 3}'))),
    ("sample-unfinished", "sample --run {R} --out {out}.csv", "is not finished",
     ("labels", _set_status)),
    ("sample-wgan-weights-truncated", "sample --run {R} --out {out}.csv", "is corrupt",
     ("wgan", _truncate("labels/controller_ema.weights.h5"))),
    ("sample-wgan-weights-garbage", "sample --run {R} --out {out}.csv", "is corrupt",
     ("wgan", _write("labels/controller.weights.h5", b"garbage"))),
    ("sample-wgan-weights-missing", "sample --run {R} --out {out}.csv", "is missing",
     ("wgan", _remove("labels/critic.weights.h5"))),
    ("sample-tables-garbage", "sample --run {R} --out {out}.csv", "missing or corrupt",
     ("labels", _write("labels/tables.h5", b"garbage"))),
    ("sample-generator-json-missing", "sample --run {R} --out {out}.csv", "no label generator",
     ("labels", _remove("labels/label_generator.json"))),
    ("sample-generator-json-corrupt", "sample --run {R} --out {out}.csv", "is corrupt",
     ("labels", _write("labels/label_generator.json", "{"))),
    ("sample-image-weights-garbage", "sample --run {R} --n 2 --out {out}.h5",
     "restore the run folder from a copy", ("images", _write("image/image_stage.h5", b"x"))),
    ("sample-image-weights-missing", "sample --run {R} --n 2 --out {out}.h5",
     "restore the run folder from a copy", ("images", _remove("image/image_stage.h5"))),
    ("sample-image-config-corrupt", "sample --run {R} --n 2 --out {out}.h5", "is corrupt",
     ("images", _write("image/image_stage.json", "[]"))),
    # intervene
    ("intervene-nothing", "intervene --run {L}", "say what to change"),
    ("intervene-set-unknown", "intervene --run {L} --set Nope=1", "unknown node 'Nope'"),
    ("intervene-set-5", "intervene --run {L} --set A=5", "values must be 0 or 1"),
    ("intervene-seed-negative", "intervene --run {L} --set A=1 --seed -3", "--seed"),
    ("intervene-n-65", "intervene --run {I} --set Male=1 --n 65", "Invalid value for '--n'"),
    ("intervene-out-suffix", "intervene --run {I} --set Male=1 --out {out}.txt", "end in .png"),
    ("intervene-out-exists", "intervene --run {I} --set Male=1 --out {in}/existing.png",
     "exists: choose another"),
    ("intervene-out-run-file", "intervene --run {I} --set Male=1 --out {I}/samples/x.png",
     "is one of the files of the run"),
    ("intervene-labels-only-grid", "intervene --run {L} --set A=1 --out {out}.png",
     "leave out --out to see the label statistics"),
    ("intervene-run-missing", "intervene --run {in}/nope --set A=1", "is not a ckgan run"),
    # run
    ("run-graph-unknown", "run --graph nope --out {out}", "unknown graph 'nope'"),
    ("run-graph-cyclic", "run --graph {in}/cyc.adjlist --out {out}", "has a cycle"),
    ("run-graph-self-loop", "run --graph {in}/self.adjlist --out {out}", "self"),
    ("run-graph-bad-name", "run --graph {in}/badname.adjlist --out {out}", "1bad"),
    ("run-graph-empty", "run --graph {in}/empty.adjlist --out {out}", "empty"),
    ("run-graph-missing-file", "run --graph {in}/nope.dot --out {out}", "does not exist"),
    ("run-data-missing-csv", "run --graph {in}/g.dot --data {in}/nope.csv --out {out}",
     "nope.csv"),
    ("run-data-missing-column", "run --image none --graph {in}/g.dot --data {in}/missing.csv "
     "--out {out}", "column 'C' is not in"),
    ("run-data-empty-cell", "run --image none --graph {in}/g.dot --data {in}/emptycell.csv "
     "--out {out}", "column 'C' of"),
    ("run-data-empty-cell-line", "run --image none --graph {in}/g.dot --data {in}/emptycell.csv "
     "--out {out}", "has an empty cell on line 2"),
    ("run-data-too-many-states", "run --image none --graph {in}/g.dot --data "
     "{in}/manystates.csv --out {out}", "line 34 has 'v32', distinct value number 33"),
    ("run-bif-state-not-in-data", "run --labels tabular --image none --graph {in}/cat.bif "
     "--data {in}/cat.csv --out {out}",
     "line 6 has 'old', which is not a state of 'age' (young, adult, elderly"),
    ("run-bif-cycle", "run --image none --graph {in}/cyc.bif --data {in}/cat.csv --out {out}",
     "has a cycle"),
    ("run-bif-unknown-node", "run --image none --graph {in}/typo.bif --out {out}",
     "names 'smoek', which no variable declares"),
    ("graphs-show-bif-malformed", "graphs show {in}/broken.bif",
     "as BIF: line 5: expected '{' before the state names, found 'young'"),
    # categorical labels
    ("sample-set-unknown-state", "sample --run {C} --set age=ancient --out {out}.csv",
     "--set age=ancient: 'age' has the states adult, old, young (or their codes 0-2)"),
    ("sample-given-code-too-big", "sample --run {C} --given age=3 --out {out}.csv",
     "--given age=3: 'age' has the states"),
    ("sample-given-empty-state", "sample --run {C} --given smoke= --out {out}.csv",
     "'smoke' has the states no, yes"),
    ("intervene-set-unknown-state", "intervene --run {C} --set smoke=maybe",
     "--set smoke=maybe: 'smoke' has the states no, yes (or their codes 0-1)"),
    ("intervene-set-and-given-by-name-and-code", "intervene --run {C} --set age=old --given age=1",
     "node 'age' is both set (do) and given"),
    ("run-data-no-images", "run --graph {in}/g.dot --data {in}/d.csv --out {out}",
     "has labels only"),
    ("run-labels-unknown", "run --labels nope --out {out}", "unknown label generator 'nope'"),
    ("run-image-unknown", "run --image nope --out {out}", "unknown image stage 'nope'"),
    ("run-preset-unknown", "run --preset huge --out {out}",
     "unknown preset 'huge' for the 'causalgan' image stage (known: quick, paper)"),
    ("run-size-unknown", "run --size 48 --out {out}", "Invalid value for '--size'"),
    ("run-label-steps-zero", "run --label-steps 0 --out {out}", "'--label-steps'"),
    ("run-seed-negative", "run --seed -5 --out {out}", "Invalid value for '--seed'"),
    ("run-lr-text", "run --image none --label-option learning_rate=abc --out {out}",
     "option learning_rate='abc' of the label generator 'wgan': expected a number"),
    ("run-lr-negative", "run --image none --label-option learning_rate=-1 --out {out}",
     "out of range"),
    ("run-lr-list", "run --image none --label-option learning_rate=[1] --out {out}",
     "expected a number"),
    ("run-hidden-bad", "run --image none --label-option hidden=[32,0] --out {out}",
     "expected a list of whole numbers"),
    ("run-n-critic-float", "run --image none --label-option n_critic=2.5 --out {out}",
     "expected a whole number"),
    ("run-n-critic-zero", "run --image none --label-option n_critic=0 --out {out}",
     "n_critic=0 of the label generator 'wgan' is out of range: it must be in [1, inf)"),
    ("run-clamp-fraction-one", "run --image none --label-option clamp_fraction=1 --out {out}",
     "out of range"),
    ("run-label-option-unknown", "run --image none --label-option nope=1 --out {out}", "nope"),
    ("run-label-option-no-value", "run --image none --label-option nope --out {out}",
     "write KEY=VALUE"),
    ("run-tabular-alpha-negative", "run --labels tabular --image none --label-option alpha=-1 "
     "--out {out}", "out of range"),
    ("run-image-option-text", "run --image causalbegan --image-option gamma=abc --out {out}",
     "option gamma='abc'"),
    ("run-image-option-steps-zero", "run --image-option steps=0 --out {out}", "out of range"),
    ("run-image-option-beta", "run --image-option beta_1=1.5 --out {out}", "out of range"),
    ("run-began-gamma-zero", "run --image causalbegan --image-option gamma=0 --out {out}",
     "gamma=0 of the image stage 'causalbegan' is out of range: it must be in (0, inf)"),
    ("run-label-weight-negative", "run --image-option label_weight=-1 --out {out}",
     "out of range"),
    ("run-image-option-without-image", "run --image none --image-option width=8 --out {out}",
     "this run has none"),
    ("run-image-option-unknown", "run --image-option gamma=0.7 --out {out}",
     "unknown option 'gamma'"),
    ("run-out-user-folder", "run --image none --out {in}/folder", "is not empty"),
    ("run-out-existing-run", "run --image none --out {L}", "already holds a run"),
    ("run-out-file", "run --image none --out {in}/afile", "is a file"),
    ("run-out-proc", "run --labels tabular --image none --graph {in}/g.dot --data {in}/d.csv "
     "--out /proc/ckgan-run", "cannot create folder"),
    ("run-resume-finished", "run --resume {L}", "nothing to resume"),
    ("run-resume-steps-no-image-stage", "run --resume {L} --image-steps 5", "no image stage"),
    ("run-resume-steps-fewer", "run --resume {I} --image-steps 2", "give more than 2"),
    ("run-resume-steps-no-checkpoint", "run --resume {R} --image-steps 4", "no checkpoint.h5",
     ("images", _remove("image/checkpoint.h5"))),
    ("run-resume-not-a-run", "run --resume {in}/folder", "holds no run to resume"),
    ("run-resume-own-settings", "run --resume {I} --seed 3 --image-option gamma=0.7",
     "leave out --seed, --image-option"),
    ("run-resume-corrupt-config", "run --resume {R}", "not an object",
     ("labels", _write("config.json", "7"))),
    ("run-resume-data-moved", "run --resume {R}", "is gone (moved or deleted)",
     ("labels", lambda f: (_set_status(f), _move_data(f)))),
    # evaluate
    ("evaluate-run-missing", "evaluate --run {in}/nope", "is not a ckgan run"),
    ("evaluate-n-small", "evaluate --run {L} --n 10", "Invalid value for '--n'"),
    ("evaluate-seed-negative", "evaluate --run {L} --seed -1", "--seed"),
    ("evaluate-unfinished", "evaluate --run {R}", "is not finished", ("labels", _set_status)),
    # graphs
    ("graphs-show-unknown", "graphs show nope", "unknown graph 'nope'"),
    ("graphs-show-format", "graphs show paper --format png", "Invalid value for '--format'"),
    ("graphs-show-cyclic", "graphs show {in}/cyc.adjlist", "has a cycle A -> B -> A"),
    ("graphs-show-folder", "graphs show {in}/folder", "folder"),
    # data
    ("data-show-unknown", "data show nope --out {out}.png", "unknown dataset 'nope'"),
    ("data-show-suffix", "data show synthfaces --out {out}.csv", "must end in .png"),
    ("data-show-exists", "data show synthfaces --out {in}/existing.png", "exists: choose another"),
    ("data-show-labels-only", "data show {in}/d.csv --out {out}.png", "has no images"),
    ("data-show-n-zero", "data show synthfaces --n 0 --out {out}.png", "Invalid value for '--n'"),
    ("data-show-split", "data show synthfaces --split nope --n 2 --size 16 --out {out}.png",
     "unknown split 'nope'"),
    ("data-show-run-file", "data show synthfaces --out {I}/samples/g.png",
     "is one of the files of the run"),
    # no command, bad command
    ("no-such-command", "frobnicate", "No such command 'frobnicate'"),
    ("no-such-option", "sample --frob", "No such option '--frob'"),
]  # fmt: skip


def _move_data(folder):
    config = json.loads((folder / "config.json").read_text())
    config["data"] = str(folder.parent / "moved-away.csv")
    (folder / "config.json").write_text(json.dumps(config))


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".ckgan.lock"
    }


def test_the_catalogue_has_at_least_60_cases():
    assert len(CASES) >= 60 and len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_and_touches_nothing(world, case, tmp_path):
    plugins.get_plugin_manager().register(TinyFaces(), name="tinyfaces-plugin")
    name, command, message, *damage = case
    (world / "damaged").mkdir(exist_ok=True)
    damaged = _damaged(world, *damage[0]) if damage else None
    out = tmp_path / "out"
    places = {"in": world / "in", "L": world / "labels", "W": world / "wgan",
              "I": world / "images", "C": world / "cat", "R": damaged, "out": out}  # fmt: skip
    args = [part.format(**places) for part in command.split()]
    before = _snapshot(world)
    result = invoke(*args)
    assert result.exit_code not in (0, None), result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:") and message in lines[0], lines[0]
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    assert _snapshot(world) == before
    assert not out.exists() and not list(tmp_path.glob("out.*"))
