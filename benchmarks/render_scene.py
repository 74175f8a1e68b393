"""Render a small labelled scene as a user's image folder: PNGs, a CSV and a causal graph.

Run by hand::

    python benchmarks/render_scene.py shapes|beacons --out DIR [--n 12000] [--seed 0]

then ``ckgan run --data DIR --graph DIR/graph.adjlist ...``. Two scenes of
another kind than faces, each with a causal link that makes one combination
rare, for checking the image stages outside synthfaces:

* ``shapes``: one object on a background. Night (dark background) makes
  Large rare; Circle makes Red common (a red square is rare); Ring (a white
  outline) comes with red, large objects. Nuisance: position, size jitter,
  hue jitter, background texture.
* ``beacons`` (the held-out case, never used for tuning): a tower of stacked
  bars. Tall (three bars instead of two); Lit (a yellow lamp on top, mostly
  on tall towers); Striped bars (mostly unlit towers); Snow (white ground,
  independent). Nuisance: position, colours, lamp size.

Labels follow the graph's tables exactly, so a do() on any node has a known
answer; images are 32x32 RGB, flip-safe (no label depends on left or right).
``--independent`` draws every label 1 with probability 1/2 on its own instead:
the training data of a fair judge for the scene (``image_fidelity.py
--fair-data``), one that cannot read one label off another.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SCENES = {
    "shapes": {
        "edges": [("Night", "Large"), ("Circle", "Red"), ("Red", "Ring"), ("Large", "Ring")],
        "nodes": ("Night", "Circle", "Large", "Red", "Ring"),
    },
    "beacons": {
        "edges": [("Tall", "Lit"), ("Lit", "Striped")],
        "nodes": ("Tall", "Snow", "Lit", "Striped"),
    },
}


def shapes_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    night = rng.random(n) < 0.4
    circle = rng.random(n) < 0.5
    large = rng.random(n) < np.where(night, 0.06, 0.6)
    red = rng.random(n) < np.where(circle, 0.9, 0.04)
    ring = rng.random(n) < np.where(red & large, 0.6, np.where(red | large, 0.1, 0.02))
    return np.stack([night, circle, large, red, ring], axis=1).astype(np.uint8)


def beacons_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    tall = rng.random(n) < 0.45
    snow = rng.random(n) < 0.3
    lit = rng.random(n) < np.where(tall, 0.8, 0.05)
    striped = rng.random(n) < np.where(lit, 0.05, 0.6)
    return np.stack([tall, snow, lit, striped], axis=1).astype(np.uint8)


def render_shapes(labels: np.ndarray, rng: np.random.Generator, size: int = 32) -> list:
    images = []
    for night, circle, large, red, ring in labels:
        light = rng.uniform(0.05, 0.25) if night else rng.uniform(0.7, 0.95)
        tint = rng.uniform(-0.05, 0.05, 3)
        bg = np.clip(light + tint, 0, 1) * np.array([0.8, 0.85, 1.0])
        pixels = np.ones((size, size, 3)) * bg + rng.normal(0, 0.03, (size, size, 3))
        img = Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        radius = (rng.uniform(9, 11) if large else rng.uniform(4.5, 6.5)) * size / 32
        cx = rng.uniform(radius + 2, size - radius - 2)
        cy = rng.uniform(radius + 2, size - radius - 2)
        hue_jitter = rng.uniform(-25, 25)
        if red:
            colour = (int(215 + hue_jitter / 2), int(40 + hue_jitter), 40)
        else:
            colour = (40, int(170 + hue_jitter), int(80 - hue_jitter))
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        outline = (255, 255, 255) if ring else None
        width = 2 if ring else 0
        if circle:
            draw.ellipse(box, fill=colour, outline=outline, width=width)
        else:
            draw.rectangle(box, fill=colour, outline=outline, width=width)
        images.append(img)
    return images


def render_beacons(labels: np.ndarray, rng: np.random.Generator, size: int = 32) -> list:
    images = []
    for tall, snow, lit, striped in labels:
        sky = np.array([0.45, 0.6, 0.85]) + rng.uniform(-0.1, 0.1, 3)
        pixels = np.ones((size, size, 3)) * np.clip(sky, 0, 1)
        ground = 24 + int(rng.integers(-1, 2))
        pixels[ground:] = (0.95, 0.95, 0.97) if snow else (0.35, 0.25, 0.15)
        img = Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        cx = rng.uniform(9, size - 9)
        half = rng.uniform(3, 5)
        body = tuple(int(c) for c in rng.uniform(60, 140, 3))
        bars = 3 if tall else 2
        top = ground
        for _ in range(bars):
            draw.rectangle((cx - half, top - 6, cx + half, top - 1), fill=body)
            if striped:
                draw.line((cx - half, top - 4, cx + half, top - 4), fill=(240, 240, 240), width=1)
            top -= 6
        if lit:
            r = rng.uniform(2, 3)
            draw.ellipse((cx - r, top - 2 * r, cx + r, top), fill=(255, 230, 40))
        images.append(img)
    return images


def write_scene(
    name: str, out: Path, n: int = 12_000, seed: int = 0, independent: bool = False
) -> Path:
    """Write ``n`` images of scene ``name``, ``labels.csv`` and ``graph.adjlist`` into ``out``.

    ``independent``: every label 1 with probability 1/2, independently (no causal links).
    """
    rng = np.random.default_rng(seed)
    scene = SCENES[name]
    if independent:
        labels = (rng.random((n, len(scene["nodes"]))) < 0.5).astype(np.uint8)
    else:
        labels = {"shapes": shapes_labels, "beacons": beacons_labels}[name](rng, n)
    images = {"shapes": render_shapes, "beacons": render_beacons}[name](labels, rng)
    (out / "images").mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["filename", *scene["nodes"]])
        for i, (img, row) in enumerate(zip(images, labels, strict=True)):
            path = f"images/{i:05d}.png"
            img.save(out / path)
            writer.writerow([path, *row.tolist()])
    children: dict[str, list[str]] = {node: [] for node in scene["nodes"]}
    for parent, child in scene["edges"]:
        children[parent].append(child)
    lines = [f"# {name}: a rendered scene (benchmarks/render_scene.py)"]
    lines += [" ".join([node, *children[node]]) for node in scene["nodes"]]
    (out / "graph.adjlist").write_text("\n".join(lines) + "\n")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scene", choices=sorted(SCENES))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--independent", action="store_true",
                        help="labels independent, each 1 with probability 1/2")  # fmt: skip
    args = parser.parse_args(argv)
    print(write_scene(args.scene, args.out, args.n, args.seed, args.independent))


if __name__ == "__main__":
    main()
