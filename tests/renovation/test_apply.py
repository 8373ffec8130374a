"""An owner applies for renovation: what the form asks, what it refuses, what it stores."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from forms_app.core.clock import today
from forms_app.core.community import DEFAULT_COMMUNITY_FILE, load_community, load_data
from forms_app.core.fee_standards import fee_file_for, fee_standards
from tests.renovation.conftest import move_to
from tests.support.households import register
from tests.support.renovation import APPLY_URL, REFERENCE, application_fields

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

COMMUNITY = load_community()
RULES = load_data("renovation_rules.yml")
LIMITS = COMMUNITY.renovation
# Amounts (deposits, the 灭火器 rent) come from the community's fee file, as on the 缴费 page.
FEES = fee_standards(COMMUNITY)


def field_error(page: str, field_id: str) -> str:
    """The error text shown beside one field."""
    found = re.findall(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', page)
    return " ".join(html.unescape(text) for text in found)


def test_form_offers_the_rooms_items_and_rules_of_the_data_files(client):
    page = client.get(APPLY_URL).get_data(as_text=True)
    for number, building in COMMUNITY.buildings.items():
        assert f'<option value="{number}">{building.label}</option>' in page
    for item in RULES["work_items"]:
        assert item["name"] in page
    assert "本次装修是否包含以下任何一项？" in page
    for change in RULES["prohibited_changes"]:
        # Each change is named and its rule can be read in place.
        assert (
            f"<summary>{change['title']}</summary><blockquote>{change['rule']}</blockquote>" in page
        )
    for acknowledgment in RULES["acknowledgments"]:
        assert acknowledgment["label"] in page
    assert 'href="/owner/renovation/#所需资料"' in page
    assert 'href="/owner/renovation/rules/#禁止行为"' in page


def test_valid_application_gets_reference_and_private_status_page(owner, stored):
    page, status_url = owner.submit_ok()
    assert f"ZX{today():%Y%m%d}-001" in page
    assert "待审核" in page
    assert "1号楼1单元101室" in page
    assert "装修申请已提交" in page
    [application] = stored.applications()
    assert status_url.endswith(f"/forms/renovation/status/{application.status_token}")
    assert f"http://localhost{status_url}</span>" in page
    assert len(application.status_token) >= 32
    assert application.work_items == ["plumbing_electric", "walls_floors"]
    assert [e.to_state for e in application.events] == ["pending"]
    second, _ = owner.submit_ok(application_fields(room="102"))
    assert f"ZX{today():%Y%m%d}-002" in second


def today_plus(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


INVALID = [
    # (field, typed value, other overrides, expected message part)
    ("owner_name", "", {}, "请填写业主姓名"),
    ("owner_name", "张" * 31, {}, "不能超过30个字"),
    ("owner_mobile", "1380013800", {}, "11位中国大陆手机号码"),
    ("owner_mobile", "23800138000", {}, "11位中国大陆手机号码"),
    ("site_lead_mobile", "abc", {}, "11位中国大陆手机号码"),
    ("contractor_company", "", {}, "请填写装修公司名称"),
    ("contractor_company", "公" * 61, {}, "不能超过60个字"),
    ("site_lead_name", "", {}, "请填写现场负责人姓名"),
    ("workers", "0", {}, f"1–{LIMITS['max_workers']}人"),
    ("workers", str(LIMITS["max_workers"] + 1), {}, f"1–{LIMITS['max_workers']}人"),
    ("workers", "六个", {}, "请填写整数"),
    ("start_date", (today() - timedelta(days=1)).isoformat(), {}, "不能早于今天"),
    ("start_date", "下周一", {}, "2026-12-01的格式"),
    ("end_date", today_plus(3), {"start_date": today_plus(3)}, "须晚于开工日期"),
    (
        "end_date",
        today_plus(3 + LIMITS["max_duration_days"]),
        {"start_date": today_plus(3)},
        f"最长{LIMITS['max_duration_days']}天",
    ),
    ("building", "13", {}, "请选择小区内的楼栋"),
    ("unit", "3", {"building": "1"}, "1号楼只有1–2单元"),
    ("room", "1901", {"building": "1"}, "1号楼1单元没有1901室"),
    ("room", "", {}, "请选择房号"),
    ("work_items", [], {}, "请至少选择一项装修项目"),
    ("work_items", ["knock_down_walls"], {}, "请从列表中选择装修项目"),
    ("description", "", {"work_items": ["other"]}, "写明具体内容"),
    ("description", "字" * 2001, {}, "不能超过2000个字"),
    ("ack_agreement", "", {}, "请阅读并勾选此项"),
    ("ack_fire_safety", "", {}, "请阅读并勾选此项"),
    ("ack_prohibitions", "", {}, "请阅读并勾选此项"),
]


@pytest.mark.parametrize(
    "field, value, others, message", INVALID, ids=[f"{c[0]}-{i}" for i, c in enumerate(INVALID)]
)
def test_invalid_field_is_explained_beside_it_and_nothing_is_stored(
    owner, stored, field, value, others, message
):
    fields = application_fields(**others)
    if value == "" and field.startswith("ack_"):
        del fields[field]
    else:
        fields[field] = value
    response = owner.submit(fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in field_error(page, field)
    assert stored.count() == 0
    # What was typed is still there.
    keeper = "contractor_company" if field == "owner_name" else "owner_name"
    assert f'value="{fields[keeper]}"' in page
    if isinstance(value, str) and value and field not in {"building", "unit", "room"}:
        assert html.escape(value, quote=True) in page


def test_selects_and_checkboxes_keep_their_choices_after_an_error(owner):
    fields = application_fields(
        building=11,
        unit=3,
        room="1102",
        owner_mobile="1",
        work_items=["ceiling", "other"],
        wants_tarpaulin="y",
    )
    page = owner.submit(fields).get_data(as_text=True)
    assert '<option selected value="11">11号楼</option>' in page
    assert '<option selected value="3">3单元</option>' in page
    assert '<option selected value="1102">1102</option>' in page
    assert re.search(
        r'<input checked id="work_items-\d" name="work_items" type="checkbox" value="ceiling">',
        page,
    )
    assert re.search(
        r'<input checked id="wants_tarpaulin" name="wants_tarpaulin" type="checkbox" value="y">',
        page,
    )


def refused_rules(page: str) -> list[str]:
    """The rules quoted in the refusal under the prohibited-change question."""
    refusal = page.partition('<div class="refused" id="refused">')[2].partition("</fieldset>")[0]
    return [
        html.unescape(rule) for rule in re.findall(r"<blockquote>([^<]*)</blockquote>", refusal)
    ]


@pytest.mark.parametrize("change", RULES["prohibited_changes"], ids=lambda c: c["id"])
def test_prohibited_change_is_refused_with_the_rule_quoted(owner, stored, change):
    page = owner.submit(
        application_fields(includes_prohibited="yes", prohibited=[change["id"]])
    ).get_data(as_text=True)
    assert "按规定禁止" in field_error(page, "prohibited")
    assert refused_rules(page) == [change["rule"]]
    assert f'href="/owner/renovation/rules/#{change["title"]}"' in page
    assert (
        '<a href="/owner/renovation/rules/#禁止行为" target="_blank" rel="noopener">'
        "查看全部禁止行为</a>" in page
    )
    assert stored.count() == 0


def test_post_without_csrf_token_is_rejected_and_nothing_stored(owner, stored):
    hidden = owner.open_form()
    del hidden["csrf_token"]
    response = owner.submit(hidden=hidden)
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert stored.count() == 0


def test_post_without_form_nonce_is_refused(owner, stored):
    hidden = owner.open_form()
    del hidden["nonce"]
    response = owner.submit(hidden=hidden)
    assert response.status_code == 400
    assert "请刷新页面后重新填写" in response.get_data(as_text=True)
    assert stored.count() == 0


def test_script_in_description_is_shown_escaped(owner):
    page, _ = owner.submit_ok(application_fields(description="<script>alert('x')</script>"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_second_open_application_for_a_room_is_refused_with_the_first_reference(app, owner, stored):
    register(app, 1, 1, "101", "张业主", "13800138000")  # the registered owner's applications
    first, _ = owner.submit_ok()
    reference = REFERENCE.search(first).group()
    response = owner.submit(application_fields(owner_name="王美华", contractor_company="另一家"))
    assert response.status_code == 400
    assert reference in field_error(response.get_data(as_text=True), "room")
    assert stored.count() == 1


def test_room_is_free_again_once_the_first_application_is_rejected(app, owner, stored):
    first, _ = owner.submit_ok()
    move_to(app, REFERENCE.search(first).group(), ("rejected", "图纸不全"))
    owner.submit_ok()
    assert stored.count() == 2


def test_same_form_sent_twice_creates_one_application(owner, stored):
    hidden = owner.open_form()
    first = owner.submit(hidden=hidden)
    again = owner.submit(hidden=hidden)
    assert first.status_code == again.status_code == 303
    assert first.location == again.location
    assert stored.count() == 1


def test_wrong_status_token_is_404(owner, client):
    _, status_url = owner.submit_ok()
    assert client.get(status_url + "x").status_code == 404
    response = client.get("/forms/renovation/status/1")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


@pytest.mark.parametrize("suffix", ["", "/permit"])
def test_status_page_and_permit_are_private(app, owner, client, suffix):
    page, status_url = owner.submit_ok()
    move_to(app, REFERENCE.search(page).group(), ("approved", ""))
    response = client.get(status_url + suffix)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    # Links and the page's own stylesheet requests carry the site, not the secret link.
    assert response.headers["Referrer-Policy"] == "strict-origin"


def test_rejection_reason_and_history_are_shown(app, owner, client):
    page, status_url = owner.submit_ok()
    move_to(app, REFERENCE.search(page).group(), ("rejected", "请补充卫生间防水施工图"))
    page = client.get(status_url).get_data(as_text=True)
    assert "装修申请已提交" not in page
    assert "已驳回" in page
    assert "驳回理由：</strong>请补充卫生间防水施工图" in page
    assert "客服 李敏" in page
    assert "permit-link" not in page


def test_pending_application_has_no_permit(owner, client):
    _, status_url = owner.submit_ok()
    response = client.get(status_url + "/permit")
    assert response.status_code == 404
    assert "尚未批准" in response.get_data(as_text=True)


@pytest.mark.parametrize("building", [1, 2, 9])
def test_permit_of_approved_application_shows_that_buildings_entrance(app, owner, client, building):
    fields = application_fields(building=building, wants_tarpaulin="y", wants_extinguisher="y")
    page, status_url = owner.submit_ok(fields)
    move_to(app, REFERENCE.search(page).group(), ("approved", ""))
    status = client.get(status_url).get_data(as_text=True)
    assert "已批准" in status and "permit-link" in status
    permit = client.get(status_url + "/permit").get_data(as_text=True)
    entrance = COMMUNITY.material_entrance_for(building)
    assert f"{building}号楼1单元101室" in permit
    assert f"<strong>{entrance['name']}</strong>（{entrance['beside']}旁边）" in permit
    others = [e["name"] for e in COMMUNITY.material_entrances if e is not entrance]
    assert not any(name in permit for name in others)
    assert fields["start_date"] in permit and fields["end_date"] in permit
    assert "金陵家装有限公司" in permit and "陈工" in permit
    for hours in LIMITS["working_hours"]["weekdays"] + LIMITS["working_hours"]["weekends_holidays"]:
        assert hours in permit
    assert f"<strong>{LIMITS['clear_out_time']}</strong>" in permit
    assert COMMUNITY["worker_gate"]["name"] in permit and "双证" in permit
    # Amounts the seed does not give are the community's own, and the example says so.
    assert "押金与服务（本小区规定）" in permit and "施工时间（本小区规定）" in permit
    assert f"装修押金{FEES.deposit('renovation').amount_text}元" in permit
    assert f"借用彩条布：押金{FEES.deposit('tarpaulin').amount_text}元" in permit
    rent = FEES.service("extinguisher")
    assert f"租用灭火器：{rent.price_text}元/{rent.unit}" in permit
    assert 'class="example-notice"' in permit


def test_the_form_offers_the_services_at_the_fee_files_amounts(client):
    form = client.get(APPLY_URL).get_data(as_text=True)
    rent = FEES.service("extinguisher")
    assert f"借用彩条布（本小区押金{FEES.deposit('tarpaulin').amount_text}元，归还后退还）" in form
    assert f"租用灭火器（本小区{rent.price_text}元/{rent.unit}）" in form


def test_a_fee_file_without_deposits_leaves_them_off_the_form_and_the_permit(
    app, owner, client, tmp_path
):
    """A deposit set to null (and a 灭火器 rent not in the price list) is not shown anywhere."""
    import yaml

    fee_raw = yaml.safe_load(fee_file_for(COMMUNITY).read_text(encoding="utf-8"))
    fee_raw["deposits"]["renovation"]["amount_yuan"] = None
    fee_raw["deposits"]["tarpaulin"]["amount_yuan"] = None
    fee_raw["special_services"] = [
        s for s in fee_raw["special_services"] if s["id"] != "extinguisher"
    ]
    fees_file = tmp_path / "fees.yml"
    fees_file.write_text(yaml.safe_dump(fee_raw, allow_unicode=True), encoding="utf-8")
    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    raw["fees_file"] = str(fees_file)
    community_file = tmp_path / "community.yml"
    community_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    app.config["COMMUNITY_FILE"] = str(community_file)
    form = client.get(APPLY_URL).get_data(as_text=True)
    assert "借用彩条布（收取押金，归还后退还）" in form and "租用灭火器</label>" in form
    fields = application_fields(wants_tarpaulin="y", wants_extinguisher="y")
    page, status_url = owner.submit_ok(fields)
    move_to(app, REFERENCE.search(page).group(), ("approved", ""))
    permit = client.get(status_url + "/permit").get_data(as_text=True)
    assert "permit-deposit" not in permit and "装修押金" not in permit
    assert "借用彩条布：收取押金，归还彩条布时退还。" in permit
    assert "<li>租用灭火器。</li>" in permit


def test_permit_of_building_12_marks_the_communitys_own_entrance(app, owner, client):
    """The seed routes no materials for building 12: its entrance is the community's setting."""
    page, status_url = owner.submit_ok(application_fields(building=12))
    move_to(app, REFERENCE.search(page).group(), ("approved", ""))
    permit = client.get(status_url + "/permit").get_data(as_text=True)
    assert "3号车场出入口</strong>（12号楼旁边）进入（本小区指定的出入口）" in permit
    page, status_url = owner.submit_ok(application_fields(building=1))
    move_to(app, REFERENCE.search(page).group(), ("approved", ""))
    assert "本小区指定" not in client.get(status_url + "/permit").get_data(as_text=True)


def test_permit_stays_available_in_later_states(app, owner, client):
    page, status_url = owner.submit_ok()
    move_to(
        app,
        REFERENCE.search(page).group(),
        ("approved", ""),
        ("in_progress", ""),
        ("awaiting_acceptance", ""),
        ("acceptance_failed", "卫生间闭水试验渗漏"),
    )
    assert client.get(status_url + "/permit").status_code == 200
    assert "验收不通过" in client.get(status_url).get_data(as_text=True)


def test_record_event_refuses_unknown_state(app, owner):
    page, _ = owner.submit_ok()
    with pytest.raises(ValueError):
        move_to(app, REFERENCE.search(page).group(), ("finished", ""))


def test_yes_without_saying_which_refuses_with_every_rule_quoted(owner, stored):
    page = owner.submit(application_fields(includes_prohibited="yes")).get_data(as_text=True)
    assert "按规定禁止" in field_error(page, "prohibited")
    assert refused_rules(page) == [change["rule"] for change in RULES["prohibited_changes"]]
    assert stored.count() == 0


def test_the_prohibited_question_must_be_answered(owner, stored):
    fields = application_fields()
    del fields["includes_prohibited"]
    page = owner.submit(fields).get_data(as_text=True)
    assert field_error(page, "includes_prohibited") == "请回答本次装修是否包含以上任何一项。"
    # The error summary links the message to the question.
    assert '<a href="#includes_prohibited" data-error-link>' in page
    assert stored.count() == 0


def test_a_ticked_change_is_refused_even_when_the_answer_says_no(owner, stored):
    page = owner.submit(application_fields(prohibited=["illegal_building"])).get_data(as_text=True)
    assert refused_rules(page) == [RULES["prohibited_changes"][1]["rule"]]
    assert stored.count() == 0
