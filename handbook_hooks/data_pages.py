"""MkDocs hook: render the data files into the handbook pages at build time.

Each Markdown page is a Jinja template with these names available:

- ``community``: the community data (``data/communities/<id>.yml``) through ``forms_app.core.community``;
- ``fees``: the community's fee standards (``data/fees/<community id>.yml``) through
  ``forms_app.core.fee_standards``, the loader the bills use: the 缴费 page's standards and price
  list, the deposits and the 灭火器 rent of the renovation pages;
- ``cleaning``: the cleaning quality standards (``data/cleaning_standards.yml``);
- ``rules``: the renovation rules (``data/renovation_rules.yml``);
- ``forms``: the URL prefix of the forms app (``/forms``);

and the filters ``tel``: ``{{ community.service_phone | tel }}`` is the number as a tap-to-call
link, so every phone number in the handbook can be dialled from a phone; ``yuan``: an amount of
the fee file as published (``1.80``, ``2000``), written the same way as on the permit.

So a company deploying for another community edits the data files, not the pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from forms_app import URL_PREFIX
from forms_app.core.community import DATA_DIR, load_community, load_data
from forms_app.core.fee_standards import fee_file_for, price_text, read_fee_standards


def tel(number: str) -> str:
    """A phone number as a Markdown ``tel:`` link (the link keeps only digits and "+")."""
    return f"[{number}](tel:{re.sub(r'[^0-9+]', '', str(number))})"


_env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_env.filters["tel"] = tel
_env.filters["yuan"] = price_text


def _fees(community):
    """The community's fee file as it is now (read anew each build, so `mkdocs serve` sees edits)."""
    return read_fee_standards(fee_file_for(community))


def _context() -> dict:
    community = load_community()
    return {
        "community": community,
        "fees": _fees(community),
        "cleaning": load_data("cleaning_standards.yml"),
        "rules": load_data("renovation_rules.yml"),
        "forms": URL_PREFIX,
    }


def on_config(config, **_kwargs):
    """Put the community's name in front of the site's name (物业服务手册, 员工手册), mark every
    page while the community file or the fee file is the example (``theme/main.html`` shows
    ``extra.example_notice``), and rebuild on `mkdocs serve` when a data file changes. A broken
    fee file stops the build here, with the file and the key named."""
    community = load_community()
    fees = _fees(community)
    config.site_name = f"{community.name} {config.site_name}"
    config.extra["example_notice"] = community.example_notice or fees.example_notice
    config.watch.append(str(Path(DATA_DIR)))
    return config


def on_page_markdown(markdown: str, page, **_kwargs) -> str:
    """Render the page's Markdown as a Jinja template over the data files."""
    if "{{" not in markdown and "{%" not in markdown:
        return markdown
    try:
        return _env.from_string(markdown).render(**_context())
    except jinja2.TemplateError as error:
        raise RuntimeError(f"{page.file.src_uri}: 数据渲染失败: {error}") from error
