"""MkDocs hook: weigh the search index so results land on the section that answers.

Runs after the theme's search plugin has written ``search/search_index.json`` (of either half
of the handbook: each has its own index) and sets the per-entry ``boost`` the theme's search
reads: a page's top entry (its title and introduction) gets a lower weight. The theme already
multiplies a page's top entry by up to 2.5 against its sections, so a page whose introduction
merely lists its topics ("搬家预约、大件物品……") outranked the section that answers. The factor
below puts both on the same footing.

``scripts/bench_search.py`` measures the effect (hit@1 / hit@3 of realistic queries).
"""

from __future__ import annotations

import json
from pathlib import Path

PAGE_TOP_FACTOR = 0.4


def weight(location: str) -> float:
    """Search weight of one index entry, from its location ("page/#anchor")."""
    return 1.0 if "#" in location else PAGE_TOP_FACTOR


def on_post_build(config, **_kwargs):
    path = Path(config.site_dir) / "search" / "search_index.json"
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    for doc in index["docs"]:
        factor = weight(doc["location"])
        if factor != 1.0:
            doc["boost"] = round(doc.get("boost", 1.0) * factor, 3)
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
