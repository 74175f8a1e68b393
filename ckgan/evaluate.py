"""``evaluate``: does a trained run sample the right interventional distributions?

Label stage: TV to the data's label distribution and, when the dataset knows
its truth, to the exact pmf observationally and under every single-node do.
Image stage, judged by an attribute classifier (trained on the dataset's
images re-rendered with independent labels where the dataset can render them,
so that it reads each attribute on its own; else on the data): label
consistency, the do-versus-conditioning table (from generated images, next to
the exact values), a Frechet distance in the judge's feature space, and the
diversity of images that share a label vector, relative to real ones. For
every single-node ``do(X=x)``, the share of images that show ``x`` is given
overall and among the images whose other labels make ``x`` rare in the data
(a bald woman, a man wearing lipstick): the images a user asks an
intervention for, and the ones a generator that copies the data's
correlations gets wrong.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from .bayesnet import config_index, pmf_marginals
from .errors import CkganError
from .judge import Judge, frechet_distance
from .metrics import marginals
from .run import Run, label_metrics, write_do_vs_condition_grids
from .storage import RARE_CONTEXT_DIR, atomic_write_text

#: what the judge learns from: ``independent`` (the dataset's images re-rendered with
#: independent labels, where it can render them; else the data) or ``data``
JUDGES = ("independent", "data")


def evaluate(
    run: Run, n: int = 2000, seed: int = 0, verbose: int = 1, judge: str = "independent"
) -> dict[str, Any]:
    """Every metric of ``run``, as the JSON-ready dict ``ckgan evaluate --json`` prints.

    ``n`` sets the number of generated images per measurement (label metrics
    use 100x as many label samples). ``judge`` (one of ``JUDGES``) picks what
    the judge is trained on.
    """
    dataset = run.dataset
    graph = run.graph
    data_labels = dataset.labels("train", graph.nodes)
    result: dict[str, Any] = {"run": str(run.directory)}
    labels = label_metrics(run.label_generator, dataset, data_labels, n=max(100 * n, 100_000))
    if "tv_observational" not in labels and "tv_data" in labels:
        labels["tv_observational"] = labels["tv_data"]
    result["labels"] = labels
    if run.config.get("image", "none") == "none":
        return result
    stage = run.image_stage
    reader, trained_on = judge_for(dataset, stage.size, judge, verbose=verbose)
    result["judge"] = {
        "trained_on": trained_on,
        "accuracy": reader.accuracy,
        "nuisance_r2": reader.nuisance_r2,
    }
    result["images"] = image_metrics(run, reader, n=n, seed=seed)
    return result


def judge_for(dataset, size: int, kind: str = "independent", verbose: int = 1):
    """The judge of ``dataset`` at ``size`` and what it learnt from (``"independent
    labels"`` or ``"data"``): ``kind`` ``independent`` uses ``dataset.independent()``
    where the dataset offers it, ``data`` the data themselves."""
    if kind not in JUDGES:
        raise CkganError(f"unknown judge '{kind}': use one of {', '.join(JUDGES)}")
    twin = dataset.independent() if kind == "independent" else None
    if twin is not None:
        return Judge.for_dataset(twin, size, verbose=verbose), "independent labels"
    return Judge.for_dataset(dataset, size, verbose=verbose), "data"


#: a context is rare for X=x when the data make x this many times less likely there
RARE_RATIO = 0.1
#: a do's rare-context share counts in the summary from this many images on
RARE_MIN_IMAGES = 10
#: pseudo-rows that pull a context's estimate towards the marginal (few rows: little evidence)
RARE_PRIOR = 10.0


def context_probability(
    data_labels: np.ndarray,
    column: int,
    value: int,
    rows: np.ndarray,
    prior: float = RARE_PRIOR,
    cards=None,
) -> tuple[np.ndarray, float]:
    """``P_data(X=value | the other labels of each row)`` and ``P_data(X=value)``.

    ``X`` is column ``column`` of state codes (0/1, rounded, when ``cards`` is
    None). The conditional counts the data's rows that match a row on every
    other label, shrunk towards the marginal by ``prior`` pseudo-rows, so a
    context the data hardly hold is not called rare (or common) on the
    strength of a few rows.
    """
    if cards is None:
        data = np.asarray(data_labels) >= 0.5
        rows = np.asarray(rows) >= 0.5
        cards = (2,) * data.shape[1]
    else:
        data, rows = np.asarray(data_labels), np.asarray(rows)
    if not len(data):
        return np.full(len(rows), 0.5), 0.5
    marginal = float((data[:, column] == value).mean())
    others = [i for i in range(data.shape[1]) if i != column]
    bits = np.cumprod([1] + [int(cards[i]) for i in others], dtype=np.int64)[: len(others)]
    keys, inverse = np.unique(data[:, others].astype(np.int64) @ bits, return_inverse=True)
    total = np.bincount(inverse, minlength=len(keys)).astype(float)
    hits = np.bincount(inverse, weights=data[:, column] == value, minlength=len(keys))
    row_key = rows[:, others].astype(np.int64) @ bits
    pos = np.minimum(np.searchsorted(keys, row_key), len(keys) - 1)
    found = keys[pos] == row_key
    n, k = np.where(found, total[pos], 0.0), np.where(found, hits[pos], 0.0)
    return (k + prior * marginal) / (n + prior), marginal


def rare_rows(
    data_labels: np.ndarray,
    column: int,
    value: int,
    rows: np.ndarray,
    ratio: float = RARE_RATIO,
    cards=None,
) -> np.ndarray:
    """Which ``rows`` (label vectors with ``X=value`` set) are a rare context for it.

    Rare: the data make ``X=value`` at least ``1 / ratio`` times less likely
    given the row's other labels than overall, ``P(x | others) < ratio P(x)``.
    On synthfaces: women under do(Mustache=1) or do(Bald=1), men under
    do(Wearing_Lipstick=1).
    """
    conditional, marginal = context_probability(data_labels, column, value, rows, cards=cards)
    return conditional < ratio * marginal


def _judged(run: Run, judge: Judge, labels: np.ndarray, seed: int) -> np.ndarray:
    """Judge's reading of images generated from ``labels``, as codes in graph order.

    A binary node is its column rounded at 0.5; a categorical node the state
    whose ``X=s`` column the judge finds likeliest (one column per state).
    """
    images = run.generate_images(labels, seed=seed)
    probs = judge.predict(images)
    graph = run.graph
    if graph.encoding.identity:
        cols = [judge.nodes.index(node) for node in graph.nodes]
        return (probs[:, cols] >= 0.5).astype(np.uint8)
    cols = [judge.nodes.index(column) for column in graph.encoding.columns]
    return graph.encoding.decode(probs[:, cols])


def image_metrics(run: Run, judge: Judge, n: int = 2000, seed: int = 0) -> dict[str, Any]:
    graph = run.graph
    nodes = graph.nodes
    out: dict[str, Any] = {}
    per_case = max(n // 10, 50)

    # label consistency, observational and under each single-node do
    labels = run.sample_labels(n, seed=seed)
    judged = _judged(run, judge, labels, seed)
    consistency = {"observational": _agreement(labels, judged, nodes), "do": {}}
    table: dict[str, Any] = {}
    rare: dict[str, Any] = {}
    truth = run.truth()
    data_labels = run.dataset.labels("train", nodes)
    for column, node in enumerate(nodes):
        for value, state in enumerate(graph.states(node)):
            key = f"{node}={state}"
            do_labels = run.sample_labels(per_case, do={node: value}, seed=seed)
            do_judged = _judged(run, judge, do_labels, seed)
            consistency["do"][key] = _agreement(do_labels, do_judged, nodes)
            where = rare_rows(data_labels, column, value, do_labels, cards=graph.cards)
            shown_rare = do_judged[where, column] == value
            rare[key] = {
                "images": int(where.sum()),
                "share": float(shown_rare.mean()) if where.any() else None,
            }
            row = {"do": _means(do_judged, graph)}
            try:
                cond_labels = run.sample_labels(per_case, given={node: value}, seed=seed)
                row["condition"] = _means(_judged(run, judge, cond_labels, seed), graph)
            except CkganError as e:  # the model (nearly) never produces node=value
                row["condition"] = None
                row["condition_error"] = str(e)
            if truth is not None:
                row["exact_do"] = _exact_means(truth, graph, do={node: value})
                row["exact_condition"] = _exact_means(truth, graph, given={node: value})
            table[key] = row
    out["consistency"] = consistency
    out["consistency_mean"] = {
        "observational": float(np.mean(list(consistency["observational"].values()))),
        "do": float(np.mean([np.mean(list(v.values())) for v in consistency["do"].values()])),
    }
    # does the image show the intervened value itself? Rare values on unusual
    # parents (do(Mustache=1) on women) are where a generator fails first.
    shown = {key: cases[key.split("=")[0]] for key, cases in consistency["do"].items()}
    out["shown_under_do"] = shown
    worst = min(shown, key=shown.get)
    out["shown_under_do_summary"] = {
        "mean": float(np.mean(list(shown.values()))),
        "worst": worst,
        "worst_value": shown[worst],
    }
    out["shown_under_do_rare_context"] = rare
    rated = {key: v["share"] for key, v in rare.items() if v["images"] >= RARE_MIN_IMAGES}
    if rated:
        worst = min(rated, key=rated.get)
        out["shown_under_do_rare_context_summary"] = {
            "mean": float(np.mean(list(rated.values()))),
            "worst": worst,
            "worst_value": rated[worst],
            "cases": len(rated),
            "ratio": RARE_RATIO,
        }
    out["do_vs_condition"] = table

    # image quality: Frechet distance in the judge's feature space
    real = _real_images(run, judge, n)
    fake = run.generate_images(run.sample_labels(len(real), seed=seed + 1), seed=seed + 1)
    out["frechet"] = frechet_distance(judge.features(real), judge.features(fake))
    out["frechet_real_vs_real"] = _real_baseline(run, judge, n)
    out["diversity"] = diversity(run, judge, seed=seed)
    return out


def _agreement(labels, judged, nodes) -> dict[str, float]:
    return {node: float(v) for node, v in zip(nodes, (labels == judged).mean(axis=0), strict=True)}


def _means(rows, graph) -> dict[str, float]:
    """Each model-vector column's share among code rows (``P(X=1)``, ``P(X=s)``)."""
    return marginals(rows, graph)


def _exact_means(truth, graph, do=None, given=None) -> dict[str, float]:
    return pmf_marginals(truth.pmf(do=do, given=given), graph)


def _split_images(run: Run, judge: Judge, split: str, limit: int):
    """Real images of a split with their model vectors in graph order (first ``limit``)."""
    dataset = run.dataset
    nodes = list(run.graph.encoding.columns)
    if dataset.images_in_memory:
        images = np.asarray(dataset.images(split, judge.size)[:limit])
        return images, dataset.label_vectors(split, nodes)[:limit].astype(np.uint8)
    images, labels = [], []
    ds = dataset.tf_dataset(split, nodes, size=judge.size, images=True).take(limit)
    for x, y in ds.batch(512).as_numpy_iterator():
        images.append(np.clip((x + 1) * 127.5, 0, 255).round().astype(np.uint8))
        labels.append(y.astype(np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def _real_images(run, judge, n):
    return _split_images(run, judge, "test", n)[0]


def _real_baseline(run, judge, n) -> float:
    """Frechet distance between two real splits: the floor a perfect generator sits at."""
    a = _split_images(run, judge, "test", n)[0]
    b = _split_images(run, judge, "validation", n)[0]
    m = min(len(a), len(b))
    return frechet_distance(judge.features(a[:m]), judge.features(b[:m]))


def diversity(run: Run, judge: Judge, vectors: int = 6, per_vector: int = 48, seed: int = 0):
    """Spread of generated images sharing a label vector, relative to real ones.

    For the most frequent label vectors of the real test split, compare the
    spread (root mean variance) of judge features, and of each nuisance
    factor the judge reads well (R^2 >= 0.8), between ``per_vector``
    generated images and the real images with that vector. 1 is as diverse as
    the data; a generator drawing one image per label vector scores near 0.
    """
    images, labels = _split_images(run, judge, "test", 10_000)
    if run.graph.encoding.identity:
        index = config_index(labels)
    else:  # one-hot blocks: number the distinct vectors
        index = np.unique(labels, axis=0, return_inverse=True)[1].reshape(-1)
    counts = np.bincount(index)
    common = [int(i) for i in np.argsort(-counts)[:vectors] if counts[i] >= 16]
    factors = [f for f, r2 in judge.nuisance_r2.items() if r2 >= 0.8]
    per_vector_out = []
    for i in common:
        real = images[index == i][:200]
        vector = labels[index == i][0]
        fake = run.image_stage.generate(np.repeat(vector[None], per_vector, axis=0), seed=seed)
        fake_read, real_read = judge.read(fake), judge.read(real)  # one pass each
        columns = run.graph.encoding.columns
        entry = {
            "labels": {n: int(v) for n, v in zip(columns, vector, strict=True)},
            "real_images": int(len(real)),
            "features": _spread(fake_read["features"]) / max(_spread(real_read["features"]), 1e-9),
        }
        if factors:
            entry["nuisance"] = {}
            for f in factors:
                cols = judge.nuisance_columns[f]  # a circular factor's spread is 2-d
                fake_spread = np.sqrt(fake_read["nuisance"][:, cols].var(axis=0).sum())
                real_spread = np.sqrt(real_read["nuisance"][:, cols].var(axis=0).sum())
                entry["nuisance"][f] = float(fake_spread / max(real_spread, 1e-9))
        per_vector_out.append(entry)
    summary: dict[str, Any] = {"per_vector": per_vector_out}
    if per_vector_out:
        summary["features"] = float(np.mean([e["features"] for e in per_vector_out]))
        if factors:
            summary["nuisance"] = {
                f: float(np.mean([e["nuisance"][f] for e in per_vector_out])) for f in factors
            }
    return summary


def _spread(features: np.ndarray) -> float:
    return float(np.sqrt(features.var(axis=0).mean()))


def rare_context_grids(run: Run, folder: str | Path, n: int = 8, seed: int = 0) -> list[Path]:
    """A PNG per single-node do(X=x) with rare contexts: ``n`` images drawn in them.

    The label rows come from the label stage under the do, kept where their
    other labels make ``x`` rare in the data (``rare_rows``); cases with no
    such row in 50 ``n`` draws get no grid.
    """
    from .viz import label_caption, save_grid

    graph = run.graph
    nodes = graph.nodes
    data_labels = run.dataset.labels("train", nodes)
    paths = []
    for column, node in enumerate(nodes):
        for value, state in enumerate(graph.states(node)):
            labels = run.sample_labels(50 * n, do={node: value}, seed=seed)
            labels = labels[rare_rows(data_labels, column, value, labels, cards=graph.cards)][:n]
            if not len(labels):
                continue
            images = run.generate_images(labels, seed=seed)
            vectors = graph.encoding.encode(labels)
            captions = [label_caption(row, graph.encoding.columns) for row in vectors]
            path = Path(folder) / f"{node}={state}.png"
            paths.append(save_grid(images, path, ncols=n, captions=captions,
                                   row_titles=[f"do({node}={state}),\nrare context"]))  # fmt: skip
    return paths


def write_report(run: Run, result: dict[str, Any], path: str | Path) -> Path:
    """A one-page HTML report: the tables and the do-vs-condition grids."""
    path = Path(path)
    grids = sorted((run.directory / "interventions").glob("*.png"))
    if not grids and "images" in result:
        grids = write_do_vs_condition_grids(run, run.directory / "interventions")
    esc = html.escape
    parts = [
        "<!doctype html><meta charset=utf-8><title>ckgan evaluation</title>",
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
        "text-align:right}th{background:#eee}table{border-collapse:collapse;margin:1em 0}"
        "</style>",
        f"<h1>ckgan evaluation: {esc(str(run.directory))}</h1>",
    ]
    setting = {k: run.config.get(k) for k in ("labels", "image", "graph", "data")}
    parts.append(f"<p>{esc(json.dumps(setting))}</p>")
    labels = result["labels"]
    parts.append("<h2>Label stage</h2><table><tr><th>measure</th><th>TV</th></tr>")
    for key in ("tv_observational", "tv_data", "tv_do_worst"):
        if key in labels:
            parts.append(f"<tr><td>{key}</td><td>{labels[key]:.4f}</td></tr>")
    parts.append("</table>")
    if "tv_do" in labels:
        parts.append("<table><tr><th>do</th><th>TV to the exact pmf</th></tr>")
        for key, value in labels["tv_do"].items():
            parts.append(f"<tr><td>do({esc(key)})</td><td>{value:.4f}</td></tr>")
        parts.append("</table>")
    images = result.get("images")
    if images:
        judge = result["judge"]["accuracy"]
        parts.append(f"<h2>Image stage</h2><p>{esc(judge_line(result['judge']))}</p>")
        parts.append("<table><tr><th>attribute</th><th>judge accuracy</th>"
                     "<th>consistency (obs)</th></tr>")  # fmt: skip
        for node, value in images["consistency"]["observational"].items():
            accuracy = f"{judge[node]:.3f}" if node in judge else "-"  # "-": a categorical node
            parts.append(f"<tr><td>{esc(node)}</td><td>{accuracy}</td>"
                         f"<td>{value:.3f}</td></tr>")  # fmt: skip
        parts.append("</table>")
        parts.append("<table><tr><th>do</th><th>images showing the set value</th>"
                     "<th>in rare contexts</th><th>rare-context images</th></tr>")  # fmt: skip
        rare = images.get("shown_under_do_rare_context", {})
        for key, value in images.get("shown_under_do", {}).items():
            case = rare.get(key, {})
            share = "-" if case.get("share") is None else f"{case['share']:.3f}"
            parts.append(f"<tr><td>do({esc(key)})</td><td>{value:.3f}</td><td>{share}</td>"
                         f"<td>{case.get('images', 0)}</td></tr>")  # fmt: skip
        parts.append("</table><p>A rare context: the image's other labels make the set value "
                     f"at least {1 / RARE_RATIO:.0f} times less likely in the data than overall "
                     "(a woman under do(Mustache=1)).</p>")  # fmt: skip
        parts.append(f"<p>Frechet distance (judge features): {images['frechet']:.3f} "
                     f"(real vs real: {images['frechet_real_vs_real']:.3f}); diversity given the "
                     f"labels (features): {images['diversity'].get('features', float('nan')):.2f}"
                     "</p>")  # fmt: skip
        parts.append("<h3>do versus conditioning (judged from generated images; exact)</h3>")
        parts.append("<table><tr><th>case</th><th>Y</th><th>P(Y) do</th><th>P(Y) condition</th>"
                     "<th>exact do</th><th>exact condition</th></tr>")  # fmt: skip
        for case, row in images["do_vs_condition"].items():
            for node, p_do in row["do"].items():
                if case.split("=")[0] == node.split("=")[0]:
                    continue
                cond = (row.get("condition") or {}).get(node)
                cells = [p_do, cond, row.get("exact_do", {}).get(node),
                         row.get("exact_condition", {}).get(node)]  # fmt: skip
                text = "".join(f"<td>{'-' if c is None else f'{c:.3f}'}</td>" for c in cells)
                parts.append(f"<tr><td>{esc(case)}</td><td>{esc(node)}</td>{text}</tr>")
        parts.append("</table>")
        rare_grids = rare_context_grids(run, path.parent / RARE_CONTEXT_DIR)
        for grid in grids:
            rel = Path(grid).relative_to(path.parent) if path.parent in Path(grid).parents else grid
            parts.append(f"<h3>{esc(Path(grid).stem)}</h3><img src='{esc(str(rel))}'>")
        if rare_grids:
            parts.append("<h3>do(X=x) in rare contexts</h3>")
        for grid in rare_grids:
            rel = Path(grid).relative_to(path.parent)
            parts.append(f"<h4>do({esc(Path(grid).stem)})</h4><img src='{esc(str(rel))}'>")
    atomic_write_text(path, "\n".join(parts) + "\n")
    return path


def judge_line(judge: dict[str, Any]) -> str:
    """What the judge learnt from, in one line (the summary and report.html)."""
    if judge.get("trained_on") == "independent labels":
        return "judge: trained on the dataset's images re-rendered with independent labels"
    return (
        "judge: trained on the data's images (it may read one attribute as evidence "
        "for another, and under-read rare combinations)"
    )
