"""The permit as one PNG image an owner keeps in the phone's album and shows at the gate: the
QR code a guard scans, large, and the facts the gate checks. Drawn on the server with Pillow,
so every phone gets the same picture (a phone's album keeps PNG, not SVG).

Chinese text needs a CJK font on the server (Debian's ``fonts-noto-cjk``, which the PDF
handbook needs too); ``PERMIT_FONT`` in the config names another file. Without one the
picture still carries the QR code, the reference and the dates, and the log says why.
"""

from __future__ import annotations

import glob
import io
import logging
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .permits import qr_code

log = logging.getLogger(__name__)

WIDTH = 1080
MARGIN = 60
# Modules of the code drawn this many pixels wide: a version-4 code with its quiet zone
# (4 modules each side) is 41 × 14 = 574 px, half the width of the picture.
QR_SCALE = 14
INK = (31, 35, 40)
MUTED = (87, 96, 106)
BRAND = (26, 127, 100)
CLOSING = "，。、；：！？）》」』"
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
# Regular first; a collection (.ttc) holds the Simplified Chinese face at one of its indexes.
FONT_PATTERNS = ("**/NotoSansCJK-Regular.ttc", "**/*SansCJK*Regular*", "**/*CJK*", "**/wqy*")


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


def _try_face(path: str) -> int | None:
    """The index of the Simplified Chinese face in ``path`` (0 for a single font)."""
    for index in range(10):
        try:
            font = ImageFont.truetype(path, 20, index=index)
        except OSError:
            return None if index == 0 else _fallback_index(path)
        family = " ".join(font.getname())
        if " SC" in family or "SC " in family or "GB" in family:
            return index
    return _fallback_index(path)


def _fallback_index(path: str) -> int | None:
    try:
        font = ImageFont.truetype(path, 20, index=0)
    except OSError:
        return None
    return 0 if font.getbbox("装") != font.getbbox("\ufffd") else None


@lru_cache(maxsize=4)
def cjk_font(configured: str | None) -> tuple[str, int] | None:
    """(path, index) of a font that draws Chinese, or None."""
    candidates = [configured] if configured else []
    for folder in FONT_DIRS:
        for pattern in FONT_PATTERNS:
            candidates.extend(sorted(glob.glob(f"{folder}/{pattern}", recursive=True)))
    for path in candidates:
        index = _try_face(path)
        if index is not None:
            return path, index
    log.warning("No CJK font found for the permit image: install fonts-noto-cjk or set PERMIT_FONT")
    return None


def _font(found: tuple[str, int] | None, size: int):
    if found is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(found[0], size, index=found[1])


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """``text`` cut into lines no wider than ``width`` (Chinese breaks between any two
    characters)."""
    lines, line = [], ""
    for char in text:
        # A closing mark stays at the end of its line rather than starting the next one.
        if draw.textlength(line + char, font=font) > width and line and char not in CLOSING:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


def render(
    *,
    url: str,
    heading: str,
    title: str,
    reference: str,
    facts: list[Fact],
    footnote: list[str],
    font_file: str | None = None,
) -> bytes:
    """The permit picture as PNG bytes."""
    found = cjk_font(font_file)
    ascii_only = found is None

    def text(value: str) -> str:
        # Without a CJK font, keep what a guard can still read: digits, letters, dates.
        return value.encode("ascii", "ignore").decode() if ascii_only else value

    small, body, big = _font(found, 34), _font(found, 40), _font(found, 76)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_width = max((scratch.textlength(text(f.label), font=body) for f in facts), default=0)
    value_x = MARGIN + int(label_width) + 30
    rows = [
        (text(f.label), _wrap(scratch, text(f.value), body, WIDTH - MARGIN - value_x))
        for f in facts
    ]
    notes = [
        line for note in footnote for line in _wrap(scratch, text(note), small, WIDTH - 2 * MARGIN)
    ]

    png = io.BytesIO()
    qr_code(url).save(png, kind="png", scale=QR_SCALE, border=4)
    qr = Image.open(io.BytesIO(png.getvalue())).convert("RGB")
    line_height = 56
    height = (
        MARGIN
        + 50
        + 100
        + 60
        + 30  # heading, title, reference, rule
        + qr.height
        + 90  # the code and its caption
        + sum(len(lines) for _label, lines in rows) * line_height
        + 30
        + len(notes) * 46
        + MARGIN
    )
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, WIDTH - 13, height - 13), outline=BRAND, width=6)
    y = MARGIN
    draw.text((WIDTH // 2, y), text(heading), font=small, fill=MUTED, anchor="ma")
    y += 50
    draw.text((WIDTH // 2, y), text(title), font=big, fill=INK, anchor="ma")
    y += 100
    draw.text((WIDTH // 2, y), f"{text('编号')} {reference}", font=body, fill=INK, anchor="ma")
    y += 60
    draw.line((MARGIN, y, WIDTH - MARGIN, y), fill=BRAND, width=3)
    y += 30
    image.paste(qr, ((WIDTH - qr.width) // 2, y))
    y += qr.height
    draw.text((WIDTH // 2, y), text("门岗扫码核验"), font=body, fill=INK, anchor="ma")
    y += 90
    for label, lines in rows:
        draw.text((MARGIN, y), label, font=body, fill=MUTED)
        for line in lines:
            draw.text((value_x, y), line, font=body, fill=INK)
            y += line_height
    y += 30
    for line in notes:
        draw.text((MARGIN, y), line, font=small, fill=MUTED)
        y += 46
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
