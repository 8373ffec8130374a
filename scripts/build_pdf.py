"""Render the printable owner handbook to a PDF: site/owner/print/ -> site/owner/handbook.pdf.

Run after the site is built (`make pdf` does both). WeasyPrint lays the page out with the print
styles of theme/assets/handbook.css and the system's CJK fonts (Debian: fonts-noto-cjk). It reads
only local files, never another host.

    python scripts/build_pdf.py [--site-dir site] [--output site/owner/handbook.pdf]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handbook_hooks.pdf import PdfUnavailable, build_pdf  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, default=ROOT / "site")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        target = build_pdf(args.site_dir, args.output)
    except (PdfUnavailable, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"PDF: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
