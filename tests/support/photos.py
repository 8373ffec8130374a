"""A phone-camera-sized JPEG made with Pillow (a dependency of WeasyPrint), for the
photo-shrinking browser test and its benchmark."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image

# Fine grain over smooth gradients: detail JPEG cannot squeeze away, like a sharp photo.
GRAIN = 60
QUALITY = 95


def _photo(width: int, height: int) -> Image.Image:
    base = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize((width, height)),
            Image.radial_gradient("L").resize((width, height)),
            Image.linear_gradient("L").rotate(90).resize((width, height)),
        ],
    )
    return Image.blend(base, Image.effect_noise((width, height), GRAIN).convert("RGB"), 0.5)


def camera_photo(path: Path, megabytes: float = 12) -> Path:
    """Write a 4:3 JPEG of at least ``megabytes`` MB to ``path``."""
    target = megabytes * 1024 * 1024
    width, height = 4000, 3000
    while True:
        _photo(width, height).save(path, "JPEG", quality=QUALITY)
        size = path.stat().st_size
        if size >= target:
            return path
        scale = math.sqrt(target / size) * 1.02
        width, height = int(width * scale), int(height * scale)
