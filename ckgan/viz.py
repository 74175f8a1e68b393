"""Image grids as PNG files: samples, datasets, do-versus-condition comparisons.

Only Pillow: small images are upscaled with nearest neighbour (pixels stay
crisp and honest), captions go under cells and titles left of rows, and the
file is written atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .errors import CkganError
from .storage import atomic_path

#: Short forms of the paper's attributes; other names are shortened by ``short_name``.
SHORT_NAMES = {
    "Young": "young",
    "Male": "male",
    "Eyeglasses": "glasses",
    "Bald": "bald",
    "Mustache": "mustache",
    "Smiling": "smile",
    "Wearing_Lipstick": "lipstick",
    "Mouth_Slightly_Open": "open",
    "Narrow_Eyes": "narrow",
}
_PAD = 4
_BACKGROUND = (255, 255, 255)
_TEXT = (0, 0, 0)


def short_name(node: str) -> str:
    """A short form of an attribute name for captions (``Big_Nose`` -> ``big nose``)."""
    if node in SHORT_NAMES:
        return SHORT_NAMES[node]
    words = [w for w in node.replace("-", "_").split("_") if w]
    if len(words) > 2:
        return "".join(w[0] for w in words).upper()
    return " ".join(words).lower()[:12]


def label_caption(
    labels_row: Sequence[int] | np.ndarray, nodes: Sequence[str], width: int = 16
) -> str:
    """The attributes that are 1 in ``labels_row``, shortened and wrapped at ``width`` chars.

    Values are rounded, so soft labels in [0, 1] work too; ``"none"`` when all are 0.
    """
    row = np.asarray(labels_row, dtype=np.float64).reshape(-1)
    if len(row) != len(nodes):
        raise CkganError(f"caption: {len(row)} label values but {len(nodes)} node names")
    words = [short_name(node) for node, v in zip(nodes, row, strict=True) if v >= 0.5]
    if not words:
        return "none"
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """``(n, h, w, 3)`` images as uint8: floats are taken to lie in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise CkganError(f"images have shape {images.shape}: expected (n, height, width, 3)")
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.floating):
        return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.clip(images, 0, 255).astype(np.uint8)


def save_grid(
    images: np.ndarray,
    path: str | Path,
    *,
    ncols: int = 8,
    captions: Sequence[str] | None = None,
    row_titles: Sequence[str] | None = None,
    min_cell: int = 96,
    exclusive: bool = False,
) -> Path:
    """Write ``images`` as a PNG grid of ``ncols`` columns and return its path.

    A path ending in ``.jpg`` or ``.jpeg`` gets a JPEG instead; ``exclusive``
    never replaces an existing file (``atomic_path``).

    Each image is upscaled by an integer factor to at least ``min_cell`` pixels;
    ``captions`` (one per image, newlines allowed) go under the cells and
    ``row_titles`` (one per row) to the left of the rows.
    """
    images = to_uint8(images)
    n, h, w, _ = images.shape
    if n == 0:
        raise CkganError("no images to put in a grid")
    if ncols < 1:
        raise CkganError(f"ncols={ncols}: a grid needs at least one column")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    if captions is not None and len(captions) != n:
        raise CkganError(f"{len(captions)} captions for {n} images: give one per image")
    if row_titles is not None and len(row_titles) != nrows:
        raise CkganError(f"{len(row_titles)} row titles for {nrows} rows: give one per row")

    font = ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def text_size(text: str) -> tuple[int, int]:
        if not text:
            return 0, 0
        left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font)
        return right - min(left, 0), bottom - min(top, 0)

    scale = max(1, math.ceil(min_cell / max(h, w)))
    cap_sizes = [text_size(c) for c in captions] if captions is not None else []
    cell_w = max([w * scale] + [cw for cw, _ in cap_sizes])
    cap_h = max([ch for _, ch in cap_sizes], default=0)
    cap_h = cap_h + _PAD if cap_h else 0
    title_sizes = [text_size(t) for t in row_titles] if row_titles is not None else []
    title_w = max([tw for tw, _ in title_sizes], default=0)
    title_w = title_w + 2 * _PAD if title_w else 0
    cell_h = h * scale + cap_h

    width = title_w + ncols * (cell_w + _PAD) + _PAD
    height = nrows * (cell_h + _PAD) + _PAD
    canvas = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for i in range(n):
        r, c = divmod(i, ncols)
        x0 = title_w + _PAD + c * (cell_w + _PAD)
        y0 = _PAD + r * (cell_h + _PAD)
        tile = Image.fromarray(images[i]).resize((w * scale, h * scale), Image.Resampling.NEAREST)
        canvas.paste(tile, (x0 + (cell_w - w * scale) // 2, y0))
        if captions is not None and captions[i]:
            cw, _ = cap_sizes[i]
            draw.multiline_text(
                (x0 + (cell_w - cw) // 2, y0 + h * scale + _PAD // 2),
                captions[i],
                fill=_TEXT,
                font=font,
                align="center",
            )
    for r, title in enumerate(row_titles or []):
        _, th = title_sizes[r]
        y = _PAD + r * (cell_h + _PAD) + (h * scale - th) // 2
        draw.multiline_text((_PAD, max(y, 0)), title, fill=_TEXT, font=font)

    path = Path(path)
    fmt = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    with atomic_path(path, exclusive=exclusive) as tmp:
        canvas.save(tmp, format=fmt)
    return path
