"""Fake CelebA files in the official layout, for tests that must not download anything.

``write_fake_celeba`` writes what a user unpacks from the CelebA release: small
random JPEGs (178 wide x 218 high) in ``img_align_celeba.zip`` (entries under
``img_align_celeba/``, as in the official zip) or an extracted folder, plus
``list_attr_celeba.txt`` and ``list_eval_partition.txt`` spaced like the
originals, so the code under test takes the path real files take.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses "
    "Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache "
    "Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks "
    "Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick "
    "Wearing_Necklace Wearing_Necktie Young"
).split()


def fake_partition(n: int) -> np.ndarray:
    """The split id (0 train, 1 validation, 2 test) of each of ``n`` fake images."""
    return np.array([(0, 0, 0, 0, 1, 2)[i % 6] for i in range(n)], dtype=np.int64)


def write_fake_celeba(folder: str | Path, n: int = 12, zipped: bool = True, seed: int = 0) -> dict:
    """Write ``n`` fake CelebA images and their attribute and partition files into ``folder``.

    Returns ``{"filenames", "values" (n x 40 of -1/1), "partition", "images"
    (n x 218 x 178 x 3 uint8, before JPEG)}`` so tests can compare against what
    was written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    filenames = [f"{i + 1:06d}.jpg" for i in range(n)]
    values = rng.choice(np.array([-1, 1]), size=(n, len(ATTRIBUTES)))
    partition = fake_partition(n)
    # Coarse random blocks, upsampled: compresses well and survives JPEG.
    blocks = rng.integers(0, 256, size=(n, 28, 23, 3), dtype=np.uint8)
    images = np.stack(
        [np.asarray(Image.fromarray(b).resize((178, 218), Image.NEAREST)) for b in blocks]
    )

    def jpeg(image: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=95, subsampling=0)
        return buffer.getvalue()

    if zipped:
        with zipfile.ZipFile(folder / "img_align_celeba.zip", "w") as archive:
            archive.writestr("img_align_celeba/", b"")
            for name, image in zip(filenames, images, strict=True):
                archive.writestr(f"img_align_celeba/{name}", jpeg(image))
    else:
        image_dir = folder / "img_align_celeba"
        image_dir.mkdir(exist_ok=True)
        for name, image in zip(filenames, images, strict=True):
            (image_dir / name).write_bytes(jpeg(image))

    # As in the official file: a count, the names (with a trailing space), then
    # each value right-aligned in 2 characters after a space ("x.jpg -1  1  1 -1").
    lines = [f"{n}", " ".join(ATTRIBUTES) + " "]
    for name, row in zip(filenames, values, strict=True):
        lines.append(name + "".join(f" {v:>2d}" for v in row))
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (folder / "list_eval_partition.txt").write_text(
        "".join(f"{name} {p}\r\n" for name, p in zip(filenames, partition, strict=True))
    )
    return {"filenames": filenames, "values": values, "partition": partition, "images": images}
