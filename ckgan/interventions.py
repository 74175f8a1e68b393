"""Interventions next to conditioning: label statistics and labelled grids (the paper's figure)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .errors import CkganError
from .metrics import marginals
from .runfolder import Run
from .states import describe


def contrast(run: Run, do: Mapping[str, int], given: Mapping[str, int], n: int = 20_000):
    """Label statistics of the intervention and of its conditioning counterpart.

    Returns rows ``[(title, do, given, marginals, exact_marginals_or_None)]``:
    with ``do``, the rows are do(do) | given and conditioning on do and given
    together; with ``given`` alone, observational and conditioning. A
    conditioning the model (nearly) never produces has ``marginals`` None:
    the other row can still be drawn. Only when no row can is it an error.
    Marginals are keyed by model-vector column (``X`` for a binary node,
    ``X=s`` for each state of a categorical one); ``do`` and ``given`` take
    state names or codes.
    """
    from .labels import check_do_given

    do, given = check_do_given(run.graph, do, given)
    if do:
        cases = [(do, given), ({}, {**given, **do})]
    else:
        cases = [({}, {}), ({}, given)]
    rows = []
    truth = run.truth()
    error = None
    for case_do, case_given in cases:
        try:
            labels = run.sample_labels(n, do=case_do, given=case_given, seed=7)
        except CkganError as e:
            if not case_given:
                raise
            labels, error = None, e
        exact = None
        if truth is not None:
            from .bayesnet import pmf_marginals

            exact = pmf_marginals(truth.pmf(do=case_do, given=case_given), run.graph)
        sampled = None if labels is None else marginals(labels, run.graph)
        title = _title(run.graph, case_do, case_given)
        rows.append((title, case_do, case_given, sampled, exact))
    if all(row[3] is None for row in rows):
        raise error
    return rows


def _title(graph, do, given) -> str:
    parts = []
    if do:
        parts.append(f"do({describe(graph, do)})")
    if given:
        parts.append(f"given {describe(graph, given)}")
    return " ".join(parts) or "observational"


def intervention_grid(
    run: Run, path, do, given, n: int = 8, seed: int = 0, exclusive=False, rows=None
):
    """A PNG with one row per case of ``contrast`` (do vs conditioning), labelled.

    ``rows`` are ``contrast``'s, when the caller has them already.
    """
    from .viz import label_caption, save_grid

    stage = run.image_stage
    images, captions, titles = [], [], []
    for title, case_do, case_given, sampled, _ in rows or contrast(run, do, given, n=1000):
        if sampled is None:  # a conditioning the model never draws: a row of blanks says so
            images.append(np.full((n, stage.size, stage.size, 3), 128, np.uint8))
            captions += ["never drawn\nby the model"] * n
            titles.append(f"{title}\n(impossible\nunder the model)")
            continue
        labels = run.sample_labels(n, do=case_do, given=case_given, seed=seed)
        images.append(run.generate_images(labels, seed=seed))
        encoding = run.graph.encoding
        captions += [label_caption(row, encoding.columns) for row in encoding.encode(labels)]
        titles.append(title)
    return save_grid(
        np.concatenate(images), path, ncols=n, captions=captions, row_titles=titles,
        exclusive=exclusive,
    )  # fmt: skip


def write_do_vs_condition_grids(run: Run, folder: Path, n: int = 8) -> list[Path]:
    """do(X=1) versus conditioning on X=1 for a few attributes (the paper's figure).

    ``1`` is the code: a categorical node's second state (the file is named by the state).
    """
    nodes = run.graph.nodes
    wanted = [x for x in ("Mustache", "Bald", "Wearing_Lipstick", "Male") if x in nodes]
    paths = []
    for node in wanted or list(nodes[:3]):
        path = folder / f"{node}={run.graph.states(node)[1]}.png"
        try:
            paths.append(intervention_grid(run, path, {node: 1}, {}, n=n))
        except CkganError:
            continue  # e.g. conditioning on an event the model never produces
    return paths
