"""整改 → 复检: a 保洁 sees the failed items of their areas and records the 整改, whoever
inspects re-checks it; the loop's state on the inspection, the lists and the export; every bad
input refused in Chinese with nothing stored; the inspection itself never changes."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog, StaffArea, StaffUser
from forms_app.cleaning.areas import load_settings
from forms_app.cleaning.models import (
    CleaningFollowUp,
    CleaningFollowUpPhoto,
    CleaningInspection,
    CleaningResult,
)
from forms_app.core.community import (
    DEFAULT_COMMUNITY_FILE,
    Community,
    CommunityDataError,
    current_community,
)
from forms_app.core.extensions import db
from tests.support.forms import staff_csrf_token
from tests.support.fuzz import NOT_UTF8, odd_post
from tests.support.staff import PASSWORD, create_role_accounts, login

from .conftest import LIST_URL, PNG, Inspector, inspection_fields, results_for

pytestmark = pytest.mark.one_app_per_module

MINE = "/forms/staff/cleaning/mine"
FORM = re.compile(
    r'action="(/forms/staff/cleaning/\d+/items/(\d+)/(rectify|recheck))">\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]+)">\s*'
    r'<input type="hidden" name="nonce" value="([^"]+)">\s*'
    r'<input type="hidden" name="step" value="(\d+)">'
)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def give_areas(app, username: str, *areas: str) -> None:
    """Areas of the staff organisation for an account (as the 经理's placement stores them)."""
    with app.app_context():
        user = db.session.scalars(select(StaffUser).filter_by(username=username)).one()
        key = current_community().key
        user.areas = [StaffArea(community=key, area=a) for a in areas]
        db.session.commit()


def result_id(app, inspection_id: int, item_id: str) -> int:
    with app.app_context():
        return db.session.scalars(
            select(CleaningResult.id).filter_by(inspection_id=inspection_id, item_id=item_id)
        ).one()


def forms_on(client, inspection_id: int) -> dict[tuple[int, str], dict]:
    """The 整改/复检 forms the user is offered on the inspection's page: (result, kind) → fields."""
    page = client.get(f"/forms/staff/cleaning/{inspection_id}").get_data(as_text=True)
    return {
        (int(m.group(2)), m.group(3)): {
            "url": m.group(1),
            "csrf_token": m.group(4),
            "nonce": m.group(5),
            "step": m.group(6),
        }
        for m in FORM.finditer(page)
    }


def send(client, inspection_id: int, result: int, kind: str, files=None, **fields):
    """Fill in and send the page's 整改 (``rectify``) or 复检 (``recheck``) form."""
    form = dict(forms_on(client, inspection_id)[(result, kind)])
    url = form.pop("url")
    data = {**form, **fields}
    if files:
        data["photos"] = files
    return client.post(url, data=data, content_type="multipart/form-data")


def csrf(client) -> str:
    return staff_csrf_token(client)


def forged(client, inspection_id: int, result: int, kind: str, **fields):
    """A post the page did not offer: the user's own token, a fresh nonce."""
    data = {"csrf_token": csrf(client), "nonce": "forged-nonce-" + "n" * 20, "step": "0"}
    return client.post(
        f"/forms/staff/cleaning/{inspection_id}/items/{result}/{kind}", data={**data, **fields}
    )


def follow_ups(app) -> list[tuple]:
    with app.app_context():
        return [
            (r.result_id, r.step, r.kind, r.note, r.actor_name, r.community, len(r.photos))
            for r in db.session.scalars(select(CleaningFollowUp).order_by(CleaningFollowUp.id))
        ]


def stored_files(app) -> int:
    return sum(1 for _ in Path(app.config["UPLOAD_DIR"]).iterdir())


@pytest.fixture
def people(app, as_role):
    """An inspector (客服), the 保洁主管, a 保洁 of 3号楼 and the car parks, and another 保洁
    of 5号楼 — each a logged-in test client."""
    create_role_accounts(app, {roles.CLEANER: "cleaner-b"})
    give_areas(app, "cleaner", "3号楼", "1号车场")
    give_areas(app, "cleaner-b", "5号楼")
    other = app.test_client()
    assert login(other, "cleaner-b", PASSWORD).status_code == 302
    return {
        "inspector": Inspector(as_role(roles.SERVICE)),
        "lead": as_role(roles.CLEANING_LEAD),
        "cleaner": as_role(roles.CLEANER),
        "other": other,
        "manager": as_role(roles.MANAGER),
    }


def failed_inspection(inspector, building="3", area="lobby", item="lobby-4", note="烟头 6 个"):
    fields = inspection_fields(areas=(area,), building=building, **results_for(area, {item: note}))
    return inspector.inspect(fields)[1]


def test_the_loop_from_a_failure_to_closed(app, people):
    inspector, cleaner, lead = people["inspector"], people["cleaner"], people["lead"]
    inspection = failed_inspection(
        inspector,
        area="elevator-car",
        item="elevator-car-2",
        note="轿厢地面有水渍",
    )
    result = result_id(app, inspection, "elevator-car-2")
    with app.app_context():
        before = db.session.get(CleaningResult, result)
        recorded = (
            before.result,
            before.note,
            db.session.get(CleaningInspection, inspection).score,
        )

    # The 保洁 of 3号楼 finds it first on 我的区域的检查, with the example deadline.
    mine = text(cleaner.get(MINE))
    assert "您负责的区域：3号楼、1号车场" in mine
    assert "轿厢地面有水渍" in mine and "待整改" in mine and "整改时限" in mine
    assert f"#loop-{result}" in mine
    assert "整改时限为检查记录后（或复检不合格后）24 小时" in mine
    # Only the 整改 form is theirs; the 复检 is not offered to them, and refused if sent.
    assert set(forms_on(cleaner, inspection)) == {(result, "rectify")}
    response = send(
        cleaner, inspection, result, "rectify", [(io.BytesIO(PNG), "拖干后.png")], note="已拖干"
    )
    assert response.status_code == 303 and response.location.endswith(f"#loop-{result}")
    page = text(cleaner.get(response.location))
    assert "整改已记录，等待复检" in page
    assert 'data-state="recheck">待复检' in page and "拖干后.png" in page
    refused = forged(cleaner, inspection, result, "recheck", step="1", outcome="passed")
    assert refused.status_code == 403 and "此页面仅限" in text(refused)

    # The inspector re-checks: not yet — back to 整改 with a note.
    response = send(
        inspector.client, inspection, result, "recheck", outcome="failed", note="仍有水渍"
    )
    assert response.status_code == 303
    page = text(cleaner.get(f"/forms/staff/cleaning/{inspection}"))
    assert 'data-state="rectify">待整改' in page and "复检不合格</strong>：仍有水渍" in page
    assert "复检不合格：仍有水渍" in text(cleaner.get(MINE))

    # Put right again; the 保洁主管 re-checks it 合格, which closes it.
    assert (
        send(cleaner, inspection, result, "rectify", note="重新拖地并放置防滑垫").status_code == 303
    )
    assert send(lead, inspection, result, "recheck", outcome="passed").status_code == 303
    page = text(inspector.client.get(f"/forms/staff/cleaning/{inspection}"))
    assert 'data-state="closed">已合格' in page and "整改时限 " not in page
    assert forms_on(inspector.client, inspection) == {} and forms_on(cleaner, inspection) == {}
    assert "没有待整改或待复检的项" in text(cleaner.get(MINE))

    # The history: four steps appended; the inspection's own record never changed.
    assert [(s, k, n, who) for _r, s, k, n, who, _c, _p in follow_ups(app)] == [
        (1, "rectified", "已拖干", "cleaner（保洁）"),
        (2, "failed", "仍有水渍", "service（客服）"),
        (3, "rectified", "重新拖地并放置防滑垫", "cleaner（保洁）"),
        (4, "passed", "", "cleaning_lead（保洁主管）"),
    ]
    assert {c for *_rest, c, _p in follow_ups(app)} == {"shanshui"}
    with app.app_context():
        after = db.session.get(CleaningResult, result)
        assert (after.result, after.note, db.session.get(CleaningInspection, inspection).score) == (
            recorded
        )
        photo = db.session.scalars(select(CleaningFollowUpPhoto)).one()
        assert photo.community == "shanshui"
        actions = db.session.scalars(
            select(AuditLog.action)
            .where(AuditLog.action.like("cleaning.re%"))
            .order_by(AuditLog.id)
        ).all()
        assert actions == ["cleaning.rectify", "cleaning.recheck"] * 2
    download = cleaner.get(f"/forms/staff/cleaning/{inspection}/rectification-photos/{photo.id}")
    assert download.status_code == 200 and download.data == PNG
    assert "attachment" in download.headers["Content-Disposition"]
    assert (
        cleaner.get(
            f"/forms/staff/cleaning/{inspection + 1}/rectification-photos/{photo.id}"
        ).status_code
        == 404
    )
    assert (
        people["other"]
        .get(f"/forms/staff/cleaning/{inspection}/rectification-photos/{photo.id}")
        .status_code
        == 403
    )


def test_the_inspections_list_filters_on_the_loop(app, people):
    inspector, cleaner = people["inspector"], people["cleaner"]
    waiting = failed_inspection(inspector)  # JC00001: stays 待整改
    fixed = failed_inspection(inspector, item="lobby-3", note="地面有污渍")  # JC00002: 待复检
    inspector.inspect(inspection_fields(areas=("lobby",)))  # JC00003: nothing failed
    send(cleaner, fixed, result_id(app, fixed, "lobby-3"), "rectify", note="已清洁")

    def listed(**args):
        page = inspector.client.get(LIST_URL, query_string=args).get_data(as_text=True)
        return re.findall(r">(JC\d{5})</a>", page)

    assert listed(rectification="open") == ["JC00002", "JC00001"]
    assert listed(rectification="rectify") == ["JC00001"]
    assert listed(rectification="recheck") == ["JC00002"]
    assert listed(rectification="closed") == []
    page = text(inspector.client.get(LIST_URL))
    assert '<span class="badge bad">待整改 1</span>' in page
    assert '<span class="badge warn">待复检 1</span>' in page
    send(inspector.client, fixed, result_id(app, fixed, "lobby-3"), "recheck", outcome="passed")
    assert listed(rectification="closed") == ["JC00002"]
    assert '<span class="badge ok">已全部合格</span>' in text(inspector.client.get(LIST_URL))
    bad = text(inspector.client.get(LIST_URL, query_string={"rectification": "maybe"}))
    assert "请选择列表中的整改状态" in bad
    assert waiting


def test_a_cleaner_sees_only_the_inspections_of_their_areas(app, people):
    inspector, cleaner, other = people["inspector"], people["cleaner"], people["other"]
    failed_inspection(inspector, building="3")
    elsewhere = failed_inspection(inspector, building="5", item="lobby-5", note="墙上有广告")
    garage = failed_inspection(
        inspector, building="", area="basement", item="basement-2", note="排水沟堵塞"
    )
    restroom = failed_inspection(
        inspector, building="", area="restroom", item="restroom-9", note="隔板涂写"
    )
    _page, mixed = inspector.inspect(
        inspection_fields(
            areas=("basement", "restroom"),
            building="",
            **results_for("basement", {"basement-1": "地面积水"}),
            **results_for(
                "restroom", {"restroom-5": "门口无防滑垫"}, na=("restroom-3", "restroom-4")
            ),
        )
    )
    mine = text(cleaner.get(MINE))
    assert "烟头 6 个" in mine and "排水沟堵塞" in mine and "地面积水" in mine
    assert "墙上有广告" not in mine and "隔板涂写" not in mine and "门口无防滑垫" not in mine
    assert re.findall(r">(JC\d{5})</a>", mine) == ["JC00005", "JC00003", "JC00001"]
    # In a public inspection of the basement and a 洗手间, only the basement's item is the car
    # parks' 保洁's to put right.
    assert set(forms_on(cleaner, mixed)) == {(result_id(app, mixed, "basement-1"), "rectify")}
    response = forged(cleaner, mixed, result_id(app, mixed, "restroom-5"), "rectify", note="已铺")
    assert response.status_code == 403
    assert "此项在「未分配（由保洁主管整改）」，不在您负责的区域" in text(response)
    # Someone else's inspection, its photos, its items: refused in Chinese, nothing stored.
    refused = cleaner.get(f"/forms/staff/cleaning/{elsewhere}")
    assert refused.status_code == 403
    assert "这次检查不在您负责的区域" in text(refused) and "3号楼、1号车场" in text(refused)
    item = result_id(app, elsewhere, "lobby-5")
    assert (item, "rectify") in forms_on(other, elsewhere)
    response = forged(cleaner, elsewhere, item, "rectify", note="已清理")
    assert response.status_code == 403 and "这次检查不在您负责的区域" in text(response)
    photo = cleaner.get(f"/forms/staff/cleaning/{elsewhere}/photos/1")
    assert photo.status_code == 403
    # The 5号楼 保洁 may; the 公共洗手间 is nobody's area: the 保洁主管's.
    assert "墙上有广告" in text(other.get(MINE)) and "排水沟堵塞" not in text(other.get(MINE))
    page = text(cleaner.get(f"/forms/staff/cleaning/{restroom}"))
    assert "这次检查不在您负责的区域" in page
    lead = text(people["lead"].get(MINE))
    assert "整改与复检（全部区域）" in lead  # the 保洁主管 answers for every area
    for note in ("烟头 6 个", "墙上有广告", "排水沟堵塞", "隔板涂写"):
        assert note in lead
    assert "未分配（由保洁主管整改）" in lead
    restroom_item = result_id(app, restroom, "restroom-9")
    assert (restroom_item, "rectify") in forms_on(people["lead"], restroom)
    # Inspectors see every area, rectify none.
    overview = text(people["manager"].get(MINE))
    assert "整改与复检（全部区域）" in overview and "隔板涂写" in overview
    assert forms_on(people["manager"], garage) == {}
    assert follow_ups(app) == []


def test_a_cleaner_without_areas_is_told_whom_to_ask(app, people):
    give_areas(app, "cleaner")
    page = text(people["cleaner"].get(MINE))
    assert "您还没有负责区域" in page and "保洁主管或经理" in page
    home = text(people["cleaner"].get("/forms/staff/"))
    assert "您还没有负责区域" in home


def test_the_cleaners_home_and_tab_bar_lead_to_their_items(app, people):
    inspection = failed_inspection(people["inspector"])
    failed_inspection(people["inspector"], item="lobby-3", note="地面有污渍")
    home = people["cleaner"].get("/forms/staff/").get_data(as_text=True)
    assert 'href="/forms/staff/cleaning/mine"' in home
    assert re.search(r'id="home-to-rectify">待整改 <strong>2</strong> 项；', home)
    assert "/forms/staff/cleaning/new" not in home
    # A day and an hour later (the example's 24 hours), the first is overdue.
    with app.app_context():
        recorded = db.session.get(CleaningInspection, inspection)
        recorded.created_at -= timedelta(hours=25)
        db.session.commit()
    home = people["cleaner"].get("/forms/staff/").get_data(as_text=True)
    assert '其中 <strong class="overdue">1</strong> 项已超时' in home
    assert text(people["cleaner"].get(MINE)).count("（已超时）") == 1
    # Those who re-check hear of the items waiting for them.
    manager_home = people["manager"].get("/forms/staff/").get_data(as_text=True)
    assert "home-to-recheck" not in manager_home
    send(
        people["cleaner"],
        inspection,
        result_id(app, inspection, "lobby-4"),
        "rectify",
        note="已清理",
    )
    manager_home = people["manager"].get("/forms/staff/").get_data(as_text=True)
    assert re.search(r'id="home-to-recheck">.*<strong>1</strong> 项', manager_home)


# --- bad input ---------------------------------------------------------------------------------


@pytest.fixture
def waiting(app, people):
    """An inspection of 3号楼 with lobby-4 failed: (inspection id, result id)."""
    inspection = failed_inspection(people["inspector"])
    return inspection, result_id(app, inspection, "lobby-4")


BIG = PNG + b"\x00" * (1024 * 1024)
BAD_RECTIFICATIONS = {
    "empty note": ({"note": "  "}, None, "请写明整改情况"),
    "long note": ({"note": "净" * 501}, None, "说明不超过 500 字"),
    "pdf photo": ({"note": "已清理"}, [(b"%PDF-1.7\n" + b"\x00" * 60, "a.pdf")], "不是 JPG 或 PNG"),
    "not a photo": (
        {"note": "已清理"},
        [(b"MZ\x90\x00" + b"\x00" * 60, "a.png")],
        "按文件内容识别",
    ),
    "empty photo": ({"note": "已清理"}, [(b"", "a.jpg")], "是空文件"),
    "photo too big": ({"note": "已清理"}, [(BIG, "大.png")], "超过 1 MB"),
    "four photos": ({"note": "已清理"}, [(PNG, f"{n}.png") for n in range(4)], "最多 3 张"),
    "no nonce": ({"note": "已清理", "nonce": "x"}, None, "表单已失效"),
    "forged step": ({"note": "已清理", "step": "-1"}, None, "表单已失效"),
    "stale step": ({"note": "已清理", "step": "3"}, None, "此项刚刚有了新的记录"),
}


@pytest.mark.parametrize("case", BAD_RECTIFICATIONS, ids=list(BAD_RECTIFICATIONS))
def test_a_bad_rectification_is_refused_in_chinese_and_nothing_is_stored(
    app, people, waiting, case
):
    app.config["UPLOAD_MAX_FILE_BYTES"] = 1024 * 1024
    fields, photos, message = BAD_RECTIFICATIONS[case]
    inspection, result = waiting
    files = [(io.BytesIO(data), name) for data, name in photos or ()]
    response = send(people["cleaner"], inspection, result, "rectify", files, **fields)
    page = text(response)
    assert response.status_code in (400, 409)
    assert message in page
    if fields["note"].strip():
        assert f">{fields['note']}</textarea>" in page  # what was typed, kept
    assert follow_ups(app) == [] and stored_files(app) == 0


def test_a_note_with_broken_encoding_is_refused(app, people, waiting):
    inspection, result = waiting
    form = dict(forms_on(people["cleaner"], inspection)[(result, "rectify")])
    url = form.pop("url")
    for urlencoded in (False, True):
        response = odd_post(people["cleaner"], url, form, "note", NOT_UTF8, urlencoded)
        assert response.status_code == 400 and "含有无法识别的字符" in text(response)
    assert follow_ups(app) == []


def test_recheck_refusals(app, people, waiting):
    inspection, result = waiting
    inspector, cleaner, lead = people["inspector"].client, people["cleaner"], people["lead"]
    # Nothing to re-check before the 整改: no form, and a forged post is refused.
    assert (result, "recheck") not in forms_on(inspector, inspection)
    early = forged(inspector, inspection, result, "recheck", outcome="passed")
    assert early.status_code == 409 and "整改后才能复检" in text(early)
    assert follow_ups(app) == []
    # The 保洁主管 records the 整改 and may not re-check their own work.
    assert send(lead, inspection, result, "rectify", note="已清理烟灰缸").status_code == 303
    assert "整改是您记录的" in text(lead.get(f"/forms/staff/cleaning/{inspection}"))
    assert (result, "recheck") not in forms_on(lead, inspection)
    for fields, message in (
        ({}, "请选择复检结果"),
        ({"outcome": "excellent"}, "请选择复检结果"),
        ({"outcome": "failed"}, "复检不合格时请写明仍存在的问题"),
        ({"outcome": "failed", "note": "净" * 501}, "说明不超过 500 字"),
    ):
        response = send(inspector, inspection, result, "recheck", **fields)
        assert response.status_code == 400 and message in text(response), fields
    # A second 整改 while it waits for 复检 is refused.
    assert (result, "rectify") not in forms_on(cleaner, inspection)
    again = forged(cleaner, inspection, result, "rectify", step="1", note="再次清理")
    assert again.status_code == 409 and "正等待复检" in text(again)
    assert len(follow_ups(app)) == 1
    # Closed: a re-check sent from a page opened before is refused.
    stale = forms_on(inspector, inspection)[(result, "recheck")]
    assert send(inspector, inspection, result, "recheck", outcome="passed").status_code == 303
    response = inspector.post(
        stale.pop("url"), data={**stale, "outcome": "failed", "note": "仍有烟头"}
    )
    assert response.status_code == 409 and "此项已复检合格，整改已结束，不能再复检" in text(
        response
    )
    assert len(follow_ups(app)) == 2


def test_the_rectifying_lead_is_refused_as_rechecker_even_by_a_forged_post(app, people, waiting):
    inspection, result = waiting
    lead = people["lead"]
    assert send(lead, inspection, result, "rectify", note="已清理").status_code == 303
    response = forged(lead, inspection, result, "recheck", step="1", outcome="passed")
    assert response.status_code == 403 and "不能由您本人复检" in text(response)
    assert len(follow_ups(app)) == 1


def test_a_double_post_stores_one_step(app, people, waiting):
    inspection, result = waiting
    form = dict(forms_on(people["cleaner"], inspection)[(result, "rectify")])
    url = form.pop("url")
    first = people["cleaner"].post(url, data={**form, "note": "已清理"})
    second = people["cleaner"].post(url, data={**form, "note": "已清理"})
    assert first.status_code == second.status_code == 303
    assert "已经提交过，没有重复保存" in text(people["cleaner"].get(second.location))
    assert len(follow_ups(app)) == 1
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "cleaning.rectify")
            )
            == 1
        )


def test_a_rectification_sent_from_the_phones_draft_queue_is_answered_in_json(app, people, waiting):
    inspection, result = waiting
    form = dict(forms_on(people["cleaner"], inspection)[(result, "rectify")])
    url = form.pop("url")
    draft = {"X-Staff-Draft": "1"}
    refused = people["cleaner"].post(url, data={**form, "note": ""}, headers=draft)
    assert refused.status_code == 400 and refused.json["outcome"] == "invalid"
    replies = [
        people["cleaner"].post(url, data={**form, "note": "已清理"}, headers=draft)
        for _ in range(2)
    ]
    assert [r.json["outcome"] for r in replies] == ["saved", "duplicate"]
    assert replies[0].json["location"].endswith(f"#loop-{result}")
    assert len(follow_ups(app)) == 1


# --- export ------------------------------------------------------------------------------------


def test_the_export_carries_the_loop(app, people, waiting):
    inspection, result = waiting
    inspector = people["inspector"].client
    send(people["cleaner"], inspection, result, "rectify", note="=已清理")
    send(inspector, inspection, result, "recheck", outcome="failed", note="烟灰缸仍满")
    workbook = load_workbook(
        io.BytesIO(inspector.get("/forms/staff/cleaning/export.xlsx?rectification=open").data)
    )
    assert workbook.sheetnames == ["检查记录", "检查明细", "整改与复检"]
    summary = workbook["检查记录"]
    assert summary["A2"].value == "筛选条件：整改：有未关闭的不合格项（待整改或待复检）"
    row = dict(zip([c.value for c in summary[3]], [c.value for c in summary[4]]))
    assert (row["不合格项"], row["待整改"], row["待复检"]) == (1, 1, 0)
    items = workbook["检查明细"]
    header = [c.value for c in items[3]]
    failed = next(
        dict(zip(header, cells))
        for cells in items.iter_rows(min_row=4)
        if cells[header.index("结果")].value == "不合格"
    )
    assert failed["整改状态"].value == "待整改"
    assert failed["整改说明"].value == "'=已清理"  # a formula kept as text
    assert failed["整改人"].value == "cleaner（保洁）"
    assert failed["复检结果"].value == "复检不合格" and failed["复检说明"].value == "烟灰缸仍满"
    assert failed["复检人"].value == "service（客服）"
    assert failed["复检时间"].number_format == "yyyy-mm-dd hh:mm"
    assert failed["复检时间"].value >= failed["整改时间"].value
    assert failed["整改时限"].value > failed["复检时间"].value  # counted from the failed 复检
    passed = next(
        dict(zip(header, cells))
        for cells in items.iter_rows(min_row=4)
        if cells[header.index("结果")].value == "合格"
    )
    assert passed["整改状态"].value is None and passed["整改时间"].value is None
    steps = workbook["整改与复检"]
    assert [c.value for c in steps[3]][7:] == ["环节", "说明", "照片数", "人员", "时间"]
    assert [[c.value for c in r][7:9] for r in steps.iter_rows(min_row=4)] == [
        ["整改", "'=已清理"],
        ["复检不合格", "烟灰缸仍满"],
    ]
    csv_rows = list(
        csv.reader(
            io.StringIO(
                inspector.get("/forms/staff/cleaning/export.csv").get_data().decode("utf-8-sig")
            )
        )
    )
    header = csv_rows[0]
    assert header[11:] == [
        "整改状态",
        "整改时限",
        "整改说明",
        "整改人",
        "整改时间",
        "复检结果",
        "复检说明",
        "复检人",
        "复检时间",
    ]
    assert ["待整改", "复检不合格", "烟灰缸仍满"] == [
        next(r for r in csv_rows[1:] if r[8] == "不合格")[header.index(name)]
        for name in ("整改状态", "复检结果", "复检说明")
    ]


# --- the community's settings ------------------------------------------------------------------


def community_with(cleaning) -> Community:
    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    if cleaning is None:
        raw.pop("cleaning")
    else:
        raw["cleaning"] = cleaning
    return Community(raw, Path("own.yml"))


def test_the_example_maps_the_basement_to_the_car_parks_with_an_example_deadline(app):
    with app.app_context():
        settings = load_settings(current_community())
    assert settings.public_areas["basement"] == ("1号车场", "2号车场", "3号车场")
    assert "restroom" not in settings.public_areas
    assert settings.rectify_hours == 24
    lines = DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8").splitlines()
    assert all(
        "# example" in line
        for line in lines
        if line.lstrip().startswith(("public_areas:", "basement:", "office:", "rectify_hours:"))
    )


@pytest.mark.parametrize(
    "cleaning, message",
    [
        ({"public_areas": {"garden": ["1号车场"]}}, "garden 不是保洁检查标准的区域"),
        ({"public_areas": {"lobby": ["1号楼"]}}, "检查大堂时须选择楼栋"),
        ({"public_areas": {"basement": ["火星"]}}, "没有：火星"),
        ({"public_areas": {"basement": []}}, "须列出组织架构中的区域"),
        ({"public_areas": ["basement"]}, "cleaning.public_areas 须为"),
        ({"rectify_hours": 0}, "rectify_hours 须为正整数"),
        ({"rectify_hours": "24"}, "rectify_hours 须为正整数"),
        ("yes", "cleaning 须为设置项"),
    ],
)
def test_a_wrong_cleaning_setting_names_the_file(app, cleaning, message):
    with app.app_context(), pytest.raises(CommunityDataError) as refused:
        load_settings(community_with(cleaning))
    assert "own.yml" in str(refused.value) and message in str(refused.value)


def test_without_the_settings_nothing_is_anyones_and_no_deadline_is_shown(app):
    with app.app_context():
        settings = load_settings(community_with(None))
    assert settings.public_areas == {} and settings.rectify_hours is None
