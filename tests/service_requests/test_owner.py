"""Owners report a repair or complain on the phone's form: a reference number (BX…/TS…), a
private status page, photos checked by their content, one request per form however often
it is sent, and every mistake explained beside its field."""

from __future__ import annotations

import io
import re

import pytest

from forms_app.service_requests import states

from .conftest import (
    COMPLAINT_URL,
    JPEG,
    PDF,
    PNG,
    REPAIR_URL,
    complaint_fields,
    repair_fields,
)

pytestmark = pytest.mark.one_app_per_module


def test_the_owner_home_offers_repair_and_complaint(client):
    page = client.get("/forms/").get_data(as_text=True)
    assert 'href="/forms/service/repair"' in page and "我要报修" in page
    assert 'href="/forms/service/complaint"' in page and "我要投诉" in page


def test_a_repair_gets_a_bx_reference_and_a_private_status_page(owner, client, stored):
    path = owner.file(files=[(io.BytesIO(JPEG), "漏水.jpg"), (io.BytesIO(PNG), "水管.png")])
    response = client.get(path + "?new=1")
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    reference = re.search(r'id="reference">([^<]+)<', page).group(1)
    assert re.fullmatch(r"BX\d{8}-001", reference)
    assert 'id="filed-notice"' in page and "待派工" in page and "2 张" in page
    item = stored.request(reference)
    assert (item.kind, item.source, item.state) == (states.REPAIR, states.ONLINE, states.NEW)
    assert item.owner_mobile == "13800138000" and item.recorded_by == "业主"
    assert sorted(p.original_name for p in item.photos) == ["水管.png", "漏水.jpg"]
    assert {p.stage for p in item.photos} == {"report"}


def test_a_complaint_gets_a_ts_reference_and_an_answer_deadline(owner, client, stored):
    path = owner.file(COMPLAINT_URL)
    page = client.get(path).get_data(as_text=True)
    assert re.search(r"TS\d{8}-001", page) and "待处理" in page and "秩序维护部" in page
    item = stored.request()
    assert item.kind == states.COMPLAINT and item.wish.startswith("请加强")
    # community.yml: complaint_answer_hours (an example setting).
    assert (item.due_at - item.created_at).total_seconds() == 48 * 3600


def test_references_count_per_register_and_day(owner, stored):
    owner.file()
    owner.file(fields=repair_fields(room="1201"))
    owner.file(COMPLAINT_URL)
    suffixes = sorted((r[:2], r[-4:]) for r in stored.references())
    assert suffixes == [("BX", "-001"), ("BX", "-002"), ("TS", "-001")]


def test_a_public_area_repair_needs_the_place_not_the_time(owner, stored):
    response = owner.submit(fields=repair_fields(location="public", available_time=""))
    assert response.status_code == 400
    assert 'id="place-error"' in response.get_data(as_text=True)
    owner.file(fields=repair_fields(location="public", place="5号楼2单元电梯", available_time=""))
    item = stored.request()
    assert item.where == "公共区域：5号楼2单元电梯"


def test_a_home_repair_needs_a_time_to_call(owner, stored):
    response = owner.submit(fields=repair_fields(available_time=" "))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="available_time-error"' in page
    assert "卫生间洗手盆下水管漏水。" in page  # what was typed stays
    assert stored.count() == 0


def test_photos_are_checked_by_their_content(owner, stored):
    response = owner.submit(files=[(io.BytesIO(PDF), "照片.jpg")])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="photos-error"' in page and "不是 JPG 或 PNG 照片" in page
    assert "照片需要重新选择" in page
    response = owner.submit(files=[(io.BytesIO(JPEG), f"{i}.jpg") for i in range(6)])
    assert response.status_code == 400 and "照片最多 5 张" in response.get_data(as_text=True)
    assert stored.count() == 0


def test_a_double_tap_files_one_request(owner, stored):
    hidden = owner.open_form()
    first = owner.submit(hidden=hidden, files=[(io.BytesIO(JPEG), "a.jpg")])
    second = owner.submit(hidden=hidden, files=[(io.BytesIO(JPEG), "a.jpg")])
    assert first.status_code == second.status_code == 303
    assert first.location.partition("?")[0] == second.location
    assert stored.count() == 1
    assert len(stored.request().photos) == 1


def test_the_complaint_department_must_be_one_of_the_list(owner, stored):
    response = owner.submit(COMPLAINT_URL, complaint_fields(department="董事会"))
    assert response.status_code == 400
    assert 'id="department-error"' in response.get_data(as_text=True)
    owner.file(COMPLAINT_URL, complaint_fields(department="不清楚"))
    assert stored.request().department == ""


def test_unknown_status_links_are_404(client):
    for path in (
        "/forms/service/status/" + "a" * 32,
        "/forms/service/status/%00",
        "/forms/service/status/" + "x" * 5000,
    ):
        response = client.get(path)
        assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)


def test_the_forms_are_never_cached(client):
    for url in (REPAIR_URL, COMPLAINT_URL):
        assert client.get(url).headers["Cache-Control"] == "private, no-store"
