"""The cleaning standards data file: complete against the seed, with stable ids for inspections."""

from __future__ import annotations

import re

from forms_app.core.community import load_data

# The seed's areas in order, with their number of standard items; * marks the key areas.
SEED_AREAS = {
    "室内": [
        ("大堂*", 7),
        ("楼层", 6),
        ("电梯轿厢*", 5),
        ("办公区", 3),
        ("公共洗手间*", 10),
        ("地下室", 3),
    ],
    "外立面": [("天面", 3), ("雨棚*", 3), ("雨台、天台", 2)],
}


def areas(standards):
    return [area for group in standards["groups"] for area in group["areas"]]


def test_groups_areas_key_areas_and_item_counts_match_the_seed():
    standards = load_data("cleaning_standards.yml")
    found = {
        group["name"]: [
            (area["name"] + ("*" if area["key_area"] else ""), len(area["items"]))
            for area in group["areas"]
        ]
        for group in standards["groups"]
    }
    assert found == SEED_AREAS


def test_ids_are_unique_slugs_and_items_are_prefixed_by_their_area():
    standards = load_data("cleaning_standards.yml")
    slug = re.compile(r"^[a-z][a-z0-9-]*$")
    area_ids = [area["id"] for area in areas(standards)]
    item_ids = [item["id"] for area in areas(standards) for item in area["items"]]
    group_ids = [group["id"] for group in standards["groups"]]
    for ids in (area_ids, item_ids, group_ids):
        assert len(ids) == len(set(ids))
        assert all(slug.match(i) for i in ids), ids
    for area in areas(standards):
        assert isinstance(area["key_area"], bool)
        for item in area["items"]:
            assert item["id"].startswith(area["id"] + "-")
            assert item["text"].strip()


def test_same_as_references_name_an_existing_area():
    standards = load_data("cleaning_standards.yml")
    by_id = {area["id"]: area for area in areas(standards)}
    references = [item for area in areas(standards) for item in area["items"] if "same_as" in item]
    assert len(references) == 2  # 楼层 and 办公区 refer to 大堂
    for item in references:
        assert by_id[item["same_as"]]["name"] in item["text"]
