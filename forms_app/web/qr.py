"""QR codes as inline SVG that scale: a ``viewBox`` and no fixed size, so CSS may set any width
and the whole code is drawn (on screen, printed, in a PDF), with its quiet zone."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(url: str, title: str, css_class: str = "qr-code") -> Markup:
    """``url`` as an inline SVG QR code (safe markup: segno writes only its own path).

    Level M survives a crease or a smudge on a printed sheet and keeps the code small."""
    code = segno.make(url, error="m", micro=False)
    return Markup(
        code.svg_inline(scale=4, omitsize=True, title=title, svgclass=css_class, lineclass=None)
    )
