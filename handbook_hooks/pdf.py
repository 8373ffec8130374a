"""The printable owner handbook as a PDF: site/owner/print/ -> site/owner/handbook.pdf.

Not a MkDocs hook: ``make pdf`` (``scripts/build_pdf.py``) calls it after the site is built,
and the tests call it directly. WeasyPrint lays the page out with the print styles of
theme/assets/handbook.css and the system's CJK fonts (Debian: fonts-noto-cjk). It reads only
local files, never another host.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRINT_PAGE = Path("owner/print/index.html")
PDF_PATH = Path("owner/handbook.pdf")
MISSING_LIBS_HINT = (
    "WeasyPrint 需要系统库 pango 和中文字体：sudo apt-get install libpango-1.0-0 "
    "libpangoft2-1.0-0 libharfbuzz0b fonts-noto-cjk"
)


CJK_FONT_HINT = (
    "没有找到中文字体：PDF 中的汉字会显示成空白方框，因此不生成 PDF。"
    "请安装中文字体后重试：sudo apt-get install fonts-noto-cjk"
)


class PdfUnavailable(RuntimeError):
    """WeasyPrint's system libraries or a CJK font are missing on this machine."""


def has_cjk_font() -> bool:
    """Whether fontconfig knows a font that covers Chinese (``fc-list :lang=zh``).

    Without one WeasyPrint draws every Chinese character as an empty box and still exits 0.
    """
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    listed = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True)
    return listed.returncode == 0 and bool(listed.stdout.strip())


def require_cjk_font() -> None:
    """Refuse, with the install hint, where no CJK font is installed."""
    if not has_cjk_font():
        raise PdfUnavailable(CJK_FONT_HINT)


def load_weasyprint():
    """Import WeasyPrint, turning its missing-library error into a clear hint."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        raise PdfUnavailable(f"{MISSING_LIBS_HINT} ({error})") from error
    return weasyprint


def build_pdf(site_dir: Path, output: Path | None = None) -> Path:
    """Write the owner handbook PDF from the built print page; return its path."""
    page = site_dir / PRINT_PAGE
    if not page.is_file():
        raise FileNotFoundError(f"{page} 不存在：请先构建网站（make site）")
    require_cjk_font()
    weasyprint = load_weasyprint()
    from weasyprint.urls import URLFetcher

    target = output or site_dir / PDF_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    # Only the built site's own files (and data: URIs) may be read.
    fetcher = URLFetcher(allowed_protocols={"file", "data"})
    document = weasyprint.HTML(filename=str(page), url_fetcher=fetcher, media_type="print")
    document.write_pdf(str(target))
    return target
