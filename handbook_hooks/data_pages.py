"""MkDocs hook: render the data files into the handbook pages at build time.

Each Markdown page is a Jinja template with these names available:

- ``community``: the community data (``data/community.yml``) through ``forms_app.core.community``;
- ``cleaning``: the cleaning quality standards (``data/cleaning_standards.yml``);
- ``rules``: the renovation rules (``data/renovation_rules.yml``);
- ``forms``: the URL prefix of the forms app (``/forms``);

and the filter ``tel``: ``{{ community.service_phone | tel }}`` is the number as a tap-to-call
link, so every phone number in the handbook can be dialled from a phone.

So a company deploying for another community edits the data files, not the pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from forms_app import URL_PREFIX
from forms_app.core.community import DATA_DIR, load_community, load_data


def tel(number: str) -> str:
    """A phone number as a Markdown ``tel:`` link (the link keeps only digits and "+")."""
    return f"[{number}](tel:{re.sub(r'[^0-9+]', '', str(number))})"


_env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_env.filters["tel"] = tel


def _context() -> dict:
    return {
        "community": load_community(),
        "cleaning": load_data("cleaning_standards.yml"),
        "rules": load_data("renovation_rules.yml"),
        "forms": URL_PREFIX,
    }


def on_config(config, **_kwargs):
    """Put the community's name in front of the site's name (物业服务手册, 员工手册), mark every
    page while the file is the example community (``theme/main.html`` shows
    ``extra.example_notice``), and rebuild on `mkdocs serve` when a data file changes."""
    community = load_community()
    config.site_name = f"{community.name} {config.site_name}"
    config.extra["example_notice"] = community.example_notice
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
