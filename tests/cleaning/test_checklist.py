"""The checklist is the standards data file: every area and item, key areas, same_as expanded;
a broken data file stops the app at start-up, naming the file."""

from __future__ import annotations

import html
import re

import pytest
import yaml

from forms_app import create_app
from forms_app.accounts import roles
from forms_app.cleaning import checklist as checklist_module
from forms_app.cleaning.checklist import ChecklistError, build_checklist, checklist
from forms_app.core.community import load_data

from .conftest import NEW_URL

RAW = load_data("cleaning_standards.yml")


def raw_areas():
    return [(group, area) for group in RAW["groups"] for area in group["areas"]]


def test_checklist_has_every_group_area_and_item_of_the_data_file_in_order():
    built = checklist()
    assert [g.name for g in built.groups] == [g["name"] for g in RAW["groups"]]
    assert list(built.areas) == [area["id"] for _group, area in raw_areas()]
    for group, area in raw_areas():
        found = built.areas[area["id"]]
        assert (found.name, found.key_area, found.group_name) == (
            area["name"],
            area["key_area"],
            group["name"],
        )
        assert [(i.id, i.text, i.same_as) for i in found.items] == [
            (i["id"], i["text"], i.get("same_as")) for i in area["items"]
        ]
    assert {a.name for a in built.areas.values() if a.key_area} == {
        "大堂",
        "电梯轿厢",
        "公共洗手间",
        "雨棚",
    }


def test_only_the_items_marked_as_circumstantial_may_be_not_applicable():
    optional = [item.id for _area, item in checklist().items.values() if item.optional]
    assert optional == ["restroom-3", "restroom-4"]


def test_the_form_shows_every_area_and_item_key_areas_marked_and_same_as_expanded(as_role):
    page = html.unescape(as_role(roles.SERVICE).get(NEW_URL).get_data(as_text=True))
    for _group, area in raw_areas():
        section = re.search(
            rf'<section class="area-section[^"]*" id="area-{area["id"]}">(.*?)</section>',
            page,
            re.S,
        )
        assert section, area["id"]
        body = section.group(1)
        assert ("★ 重点区域" in body) == area["key_area"]
        for item in area["items"]:
            assert item["text"] in body
            assert f'name="result-{item["id"]}"' in body
    floors_2 = re.search(r'id="item-floors-2">(.*?)</li>\s*<li class="item', page, re.S).group(1)
    assert "查看“大堂”的标准（7 条）" in floors_2
    lobby_texts = [item["text"] for item in RAW["groups"][0]["areas"][0]["items"]]
    assert all(text in floors_2 for text in lobby_texts)
    assert 'value="na"' in re.search(r'id="item-restroom-3">(.*?)</li>', page, re.S).group(1)
    assert 'value="na"' not in re.search(r'id="item-lobby-1">(.*?)</li>', page, re.S).group(1)


def _with_duplicate():
    broken = yaml.safe_load(yaml.safe_dump(RAW, allow_unicode=True))
    broken["groups"][0]["areas"][1]["items"][0]["id"] = "lobby-3"
    return broken


def test_a_duplicate_id_is_refused_with_the_file_named(tmp_path):
    source = tmp_path / "cleaning_standards.yml"
    with pytest.raises(ChecklistError, match=r"cleaning_standards\.yml.*lobby-3.*重复"):
        build_checklist(_with_duplicate(), source)


def test_a_same_as_to_a_missing_area_is_refused():
    broken = yaml.safe_load(yaml.safe_dump(RAW, allow_unicode=True))
    broken["groups"][0]["areas"][1]["items"][1]["same_as"] = "hall"
    with pytest.raises(ChecklistError, match="hall"):
        build_checklist(broken, "standards.yml")


def test_the_app_does_not_start_with_a_duplicate_id(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setattr(checklist_module, "cached_data", lambda _name: _with_duplicate())
    checklist.cache_clear()
    try:
        with pytest.raises(ChecklistError, match=r"cleaning_standards\.yml.*lobby-3"):
            create_app({"TESTING": True, "SITE_DIR": None})
    finally:
        checklist.cache_clear()
