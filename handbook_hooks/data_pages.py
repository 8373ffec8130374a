"""MkDocs hook: render the data files into the handbook pages at build time.

Each Markdown page is a Jinja template with these names available:

- ``community``: the community data (``data/community.yml``) through ``forms_app.community``;
- ``cleaning``: the cleaning quality standards (``data/cleaning_standards.yml``);
- ``rules``: the renovation rules (``data/renovation_rules.yml``);
- ``forms``: the URL prefix of the forms app (``/forms``).

So a company deploying for another community edits the data files, not the pages.
"""
from __future__ import annotations

from pathlib import Path

import jinja2

from forms_app import URL_PREFIX
from forms_app.community import DATA_DIR, load_community, load_data

_env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _context() -> dict:
    return {
        "community": load_community(),
        "cleaning": load_data("cleaning_standards.yml"),
        "rules": load_data("renovation_rules.yml"),
        "forms": URL_PREFIX,
    }


def on_config(config, **_kwargs):
    """Name the site after the community of the data file; rebuild on `mkdocs serve` when a
    data file changes."""
    config.site_name = f"{load_community().name} 物业服务手册"
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
