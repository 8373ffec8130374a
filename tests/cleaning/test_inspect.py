"""Recording an inspection: stored with the standard's wording, scored, every bad input refused
in Chinese with the typed values kept and nothing stored, a double submit stored once."""

from __future__ import annotations

import html
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from forms_app.accounts.models import AuditLog
from forms_app.cleaning import staff_views
from forms_app.cleaning.checklist import Checklist, checklist
from forms_app.cleaning.models import CleaningInspection, CleaningResult
from forms_app.core.extensions import db
from tests.support.fuzz import NOT_UTF8, odd_post

from .conftest import JPEG, NEW_URL, PNG, TODAY, inspection_fields, results_for

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module


def test_an_inspection_is_stored_with_snapshots_and_scored(app, inspector, stored):
    fields = inspection_fields(**results_for("elevator-car", {"elevator-car-3": "门槽有泥沙"}))
    page, inspection_id = inspector.inspect(fields)
    assert "检查记录已保存" in page
    assert ">91.7%</span> 11/12 项合格" in page
    assert '<dd id="key-failures"><span class="badge bad">1 项</span>' in page
    assert "门槽有泥沙" in page and "3号楼 2单元 1层" in page
    with app.app_context():
        inspection = db.session.get(CleaningInspection, inspection_id)
        assert inspection.inspected_on == TODAY and inspection.building == 3
        assert inspection.inspector_name == "service（客服）"
        assert (inspection.passed_count, inspection.failed_count, inspection.key_failed_count) == (
            11,
            1,
            1,
        )
        expected = [
            (a.id, a.name, i.id, i.text)
            for aid in ("lobby", "elevator-car")
            for a in [checklist().areas[aid]]
            for i in a.items
        ]
        snapshots = [(r.area_id, r.area_name, r.item_id, r.item_text) for r in inspection.results]
        assert snapshots == expected
        failed = [r for r in inspection.results if r.result == "fail"]
        assert [(f.item_id, f.note, f.key_area) for f in failed] == [
            ("elevator-car-3", "门槽有泥沙", True)
        ]
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "cleaning.inspect")
        ).one()
        assert entry.target == inspection.reference and entry.actor_name == "service"


def test_not_applicable_is_left_out_of_the_score(inspector):
    fields = inspection_fields(
        areas=("restroom",), building="", **results_for("restroom", na=("restroom-3", "restroom-4"))
    )
    page, _id = inspector.inspect(fields)
    assert ">100%</span> 8/8 项合格，2 项不适用" in page
    assert "公共区域 2单元 1层" in page


def test_photos_of_a_failure_are_kept_and_only_staff_download_them(app, inspector, client, stored):
    fields = inspection_fields(areas=("lobby",), **results_for("lobby", {"lobby-4": "烟头 6 个"}))
    fields["photos-lobby-4"] = [(io.BytesIO(PNG), "烟灰缸.png"), (io.BytesIO(JPEG), "地面.jpg")]
    page, inspection_id = inspector.inspect(fields)
    assert "烟灰缸.png" in page and "地面.jpg" in page
    assert stored.counts()[2] == 2
    with app.app_context():
        photo = (
            db.session.scalars(select(CleaningResult).where(CleaningResult.item_id == "lobby-4"))
            .one()
            .photos[0]
        )
        url = f"/forms/staff/cleaning/{inspection_id}/photos/{photo.id}"
    download = inspector.client.get(url)
    assert download.status_code == 200 and download.data == PNG
    assert "attachment" in download.headers["Content-Disposition"]
    elsewhere = f"/forms/staff/cleaning/{inspection_id + 1}/photos/{photo.id}"
    assert inspector.client.get(elsewhere).status_code == 404
    assert client.get(url).status_code == 302


def test_notes_and_photos_of_items_not_failed_are_not_kept(inspector, stored):
    fields = inspection_fields(areas=("lobby",), **{"note-lobby-1": "草稿"})
    fields["photos-lobby-1"] = [(io.BytesIO(PNG), "a.png")]
    page, _id = inspector.inspect(fields)
    assert "草稿" not in page
    assert stored.counts() == (1, 7, 0)


def test_results_of_areas_not_ticked_are_ignored(inspector, stored):
    fields = inspection_fields(areas=("lobby",), **results_for("basement"))
    inspector.inspect(fields)
    assert stored.counts() == (1, 7, 0)


def test_a_double_submit_stores_one_inspection(inspector, stored):
    hidden = inspector.open_form()
    first = inspector.submit(inspection_fields(), hidden)
    second = inspector.submit(inspection_fields(), hidden)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert "已经提交过" in html.unescape(
        inspector.client.get(second.location).get_data(as_text=True)
    )
    assert stored.counts() == (1, 12, 0)


def _without(fields: dict, *names) -> dict:
    return {k: v for k, v in fields.items() if k not in names}


def _fail_without_note():
    fields = inspection_fields()
    fields["result-lobby-3"] = "fail"
    return fields


INVALID = {
    "no area": (lambda: _without(inspection_fields(), "areas"), "areas", "请至少选择一个检查区域"),
    "missing result": (
        lambda: _without(inspection_fields(), "result-elevator-car-2"),
        "item-elevator-car-2",
        "请选择合格或不合格",
    ),
    "fail without note": (_fail_without_note, "item-lobby-3", "不合格时请写明问题"),
    "not applicable on a required item": (
        lambda: inspection_fields(**{"result-lobby-2": "na"}),
        "item-lobby-2",
        "此项不能选「不适用」",
    ),
    "future date": (
        lambda: inspection_fields(day=TODAY + timedelta(days=1)),
        "inspected_on",
        "检查日期不能晚于今天",
    ),
    "date years back": (
        lambda: inspection_fields(day=TODAY - timedelta(days=400)),
        "inspected_on",
        "检查日期不能早于 366 天前",
    ),
    "bad date": (
        lambda: inspection_fields(inspected_on="2026-13-40"),
        "inspected_on",
        "检查日期格式应为",
    ),
    "no date": (lambda: inspection_fields(inspected_on=""), "inspected_on", "请填写检查日期"),
    "lobby without building": (
        lambda: inspection_fields(building=""),
        "building",
        "检查大堂、电梯轿厢时请选择楼栋",
    ),
    "unknown building": (
        lambda: inspection_fields(building="99"),
        "building",
        "请选择列表中的楼栋",
    ),
    "long spot": (lambda: inspection_fields(spot="楼" * 61), "spot", "具体位置不超过 60 字"),
    "forged item id": (
        lambda: inspection_fields(**{"result-lobby-99": "pass"}),
        "form",
        "不存在的检查项",
    ),
    "forged area": (
        lambda: {**inspection_fields(), "areas": ["lobby", "elevator-car", "garden"]},
        "areas",
        "所选区域不在检查标准中",
    ),
    "forged result": (
        lambda: inspection_fields(**{"result-lobby-1": "excellent"}),
        "item-lobby-1",
        "请选择合格或不合格",
    ),
}


@pytest.mark.parametrize("case", INVALID, ids=list(INVALID))
def test_bad_input_is_explained_in_chinese_keeps_values_and_stores_nothing(inspector, stored, case):
    make, key, message = INVALID[case]
    fields = make()
    fields["note-lobby-6"] = "<玻璃门有手印>"
    fields["result-lobby-6"] = "fail"
    response = inspector.submit(fields)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert message in page
    assert f'href="#{key}"' in page and f'id="{key}"' in page
    assert "<玻璃门有手印>" in page  # the typed note, kept (and escaped in the markup)
    assert "&lt;玻璃门有手印&gt;" in response.get_data(as_text=True)
    assert 'name="result-lobby-6" value="fail" checked' in page
    assert 'value="2单元 1层"' in page or case == "long spot"
    assert stored.counts() == (0, 0, 0)


@pytest.mark.parametrize(
    "upload, message",
    [
        ((b"MZ\x90\x00" + b"\x00" * 60, "病毒.png"), "不是 PDF、JPG 或 PNG 文件"),
        ((b"%PDF-1.7\n" + b"\x00" * 60, "报告.pdf"), "不是 JPG 或 PNG 照片"),
        ((b"", "空.jpg"), "是空文件"),
    ],
)
def test_a_bad_photo_is_refused_and_nothing_is_stored(app, inspector, stored, upload, message):
    fields = inspection_fields(**{"result-lobby-5": "fail", "note-lobby-5": "墙面有广告"})
    fields["photos-lobby-5"] = [(io.BytesIO(upload[0]), upload[1])]
    response = inspector.submit(fields)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert message in page and "照片需要重新选择" in page and "墙面有广告" in page
    assert stored.counts() == (0, 0, 0)
    assert not any(Path(app.config["UPLOAD_DIR"]).iterdir())


def test_too_many_photos_are_refused(inspector, stored):
    fields = inspection_fields(
        **{
            "result-lobby-5": "fail",
            "note-lobby-5": "广告",
            "result-lobby-6": "fail",
            "note-lobby-6": "手印",
        }
    )
    fields["photos-lobby-5"] = [(io.BytesIO(PNG), f"{n}.png") for n in range(3)]
    fields["photos-lobby-6"] = [(io.BytesIO(PNG), f"{n}.png") for n in range(3)]
    page = html.unescape(inspector.submit(fields).get_data(as_text=True))
    assert "照片合计最多 5 张" in page
    fields["photos-lobby-5"] = [(io.BytesIO(PNG), f"{n}.png") for n in range(4)]
    fields.pop("photos-lobby-6")
    page = html.unescape(inspector.submit(fields).get_data(as_text=True))
    assert "每项照片最多 3 张" in page
    assert stored.counts() == (0, 0, 0)


def test_a_stale_form_without_a_valid_nonce_gets_a_fresh_one(inspector, stored):
    hidden = inspector.open_form()
    hidden["nonce"] = "short"
    response = inspector.submit(inspection_fields(), hidden)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "表单已失效" in page
    assert 'name="nonce" value="short"' not in page
    assert stored.counts() == (0, 0, 0)


def test_old_inspections_still_display_after_the_standards_drop_an_item(inspector, monkeypatch):
    fields = inspection_fields(**results_for("lobby", {"lobby-7": "信报箱积灰"}))
    _page, inspection_id = inspector.inspect(fields)
    current = checklist()
    lobby = current.areas["lobby"]
    trimmed_lobby = type(lobby)(
        lobby.id, lobby.name, lobby.key_area, lobby.group_name, lobby.items[:-1]
    )
    groups = tuple(
        type(g)(
            g.id, g.number, g.name, tuple(trimmed_lobby if a.id == "lobby" else a for a in g.areas)
        )
        for g in current.groups
    )
    monkeypatch.setattr(staff_views, "checklist", lambda: Checklist(groups))
    detail = html.unescape(
        inspector.client.get(f"/forms/staff/cleaning/{inspection_id}").get_data(as_text=True)
    )
    assert lobby.items[-1].text in detail and "信报箱积灰" in detail
    listing = inspector.client.get("/forms/staff/cleaning/?area=lobby")
    assert listing.status_code == 200
    assert "lobby-7" not in inspector.client.get("/forms/staff/cleaning/new").get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing(inspector, stored):
    hidden = inspector.open_form()
    del hidden["csrf_token"]
    response = inspector.submit(inspection_fields(), hidden)
    assert response.status_code == 400
    assert stored.counts() == (0, 0, 0)


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_a_note_with_broken_encoding_is_refused_and_nothing_is_stored(inspector, stored, encoding):
    fields = {
        **inspector.open_form(),
        **inspection_fields(**{"result-lobby-5": "fail", "note-lobby-5": "墙面有广告"}),
    }
    response = odd_post(
        inspector.client,
        NEW_URL,
        fields,
        "note-lobby-5",
        NOT_UTF8,
        urlencoded=encoding == "urlencoded",
    )
    assert response.status_code == 400
    assert "含有无法识别的字符" in response.get_data(as_text=True)
    assert stored.counts() == (0, 0, 0)
