"""Owners answer every shipped survey on a phone against real gunicorn (2 workers); two
submissions racing on one invitation store exactly one questionnaire."""

from __future__ import annotations

import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from playwright.sync_api import expect

from tests.support.server import LiveServer
from tests.support.staff import create_staff, login
from tests.surveys.conftest import CSRF, PASSWORD, TODAY, form_tokens, requests_login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_database):
    """gunicorn with 2 workers, today fixed inside the shipped surveys' windows."""
    instance = tmp_path_factory.mktemp("surveys-live") / "instance"
    instance.mkdir(parents=True)
    (instance / "config.py").write_text(f'TODAY = "{TODAY}"\n', encoding="utf-8")
    live = LiveServer(instance, database_template=migrated_database).start()
    create_staff(live, "manager", "manager", PASSWORD)
    yield live
    live.stop()


def query(server, sql, *args):
    with sqlite3.connect(server.instance_path / "forms.sqlite3") as connection:
        return connection.execute(sql, args).fetchall()


def fits_the_phone(page) -> bool:
    page.wait_for_load_state()  # a click's navigation may still be under way
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def choose(page, question_id, label):
    page.locator(f"#q-{question_id}").get_by_label(label, exact=True).check()


def test_owner_answers_satisfaction_survey_on_phone(server, phone):
    phone.goto(server.url + "/forms/")
    phone.get_by_role("link", name="参与调查").click()
    phone.locator("li", has_text="业主满意度调查").get_by_role("link", name="开始填写").click()
    assert fits_the_phone(phone)
    for question_id, label in [
        ("customer_service", "非常满意"),
        ("maintenance", "满意"),
        ("security", "满意"),
        ("renovation", "满意"),
        ("greening", "一般"),
        ("overall", "满意"),
    ]:
        choose(phone, question_id, label)
    choose(phone, "recommend", "9")
    phone.fill("textarea[name=q_comments]", "希望增加夜间巡逻。")
    phone.get_by_role("button", name="提交").click()

    # 保洁 was skipped: the page says so beside the question and keeps everything else.
    assert phone.locator("#q-cleaning .field-error").inner_text() == "请选择满意程度。"
    expect(phone.locator("#error-summary")).to_be_visible()
    assert phone.locator("#q-customer_service").get_by_label("非常满意", exact=True).is_checked()
    assert phone.locator("textarea[name=q_comments]").input_value() == "希望增加夜间巡逻。"
    assert query(server, "SELECT COUNT(*) FROM survey_response") == [(0,)]

    choose(phone, "cleaning", "不满意")
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_role("heading", name="提交成功，感谢您的参与！")).to_be_visible()
    assert query(server, "SELECT value FROM survey_answer WHERE question_id = 'cleaning'") == [(2,)]
    assert query(server, "SELECT room, respondent_name FROM survey_response") == [(None, None)]

    # The same phone again: already answered, nothing stored.
    phone.goto(server.url + "/forms/surveys/satisfaction")
    expect(phone.get_by_role("heading", name="您已提交过本调查")).to_be_visible()


def test_owner_answers_needs_survey_on_phone(server, phone):
    phone.goto(server.url + "/forms/surveys/needs")
    phone.select_option("select[name=building]", label="9号楼")
    phone.select_option("select[name=unit]", label="1单元")
    phone.fill("input[name=room]", "2602")
    choose(phone, "household", "4人")
    choose(phone, "special_care", "70岁以上老人")
    choose(phone, "personal_services", "家电维修")
    choose(phone, "personal_services", "其他（请注明）")
    choose(phone, "preferred_contact", "微信")
    choose(phone, "activities", "健康讲座")
    phone.fill("input[name=q_other_needs]", "增加电动车充电桩")
    phone.get_by_role("button", name="提交").click()
    # 其他 without a note: asked for it, the rest kept.
    assert "请注明具体内容" in phone.locator("#q-personal_services .field-error").inner_text()
    assert phone.locator("input[name=room]").input_value() == "2602"
    assert phone.locator("#q-personal_services").get_by_label("家电维修", exact=True).is_checked()
    phone.fill("input[name=q_personal_services_other]", "代收药品")
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_role("heading", name="提交成功，感谢您的参与！")).to_be_visible()
    assert query(
        server, "SELECT building, unit, room FROM survey_response WHERE survey='needs'"
    ) == [(9, 1, "2602")]
    assert query(
        server,
        "SELECT option, text FROM survey_answer WHERE question_id='personal_services' ORDER BY id",
    ) == [("家电维修", None), ("其他（请注明）", "代收药品")]


def test_manager_invites_and_owner_answers_move_in_visit_on_phone(server, desktop, phone):
    login(desktop, "manager", PASSWORD, base_url=server.url)
    desktop.get_by_role("link", name="调查结果").click()
    desktop.locator("tr", has_text="入住回访").get_by_role("link", name="邀请链接").click()
    desktop.select_option("#building", label="12号楼")
    desktop.get_by_label("全部房屋（含未登记、未入住）").check()
    desktop.get_by_role("button", name="生成邀请链接").click()
    assert "已新建 66 个邀请链接" in desktop.locator(".flash").inner_text()
    link = desktop.get_by_label("12号楼1单元101室的链接").input_value()

    phone.goto(link)
    expect(phone.get_by_text("12号楼1单元101室")).to_be_visible()
    for topic in ("handover", "renovation", "moving", "quality_fixes", "service_center"):
        choose(phone, topic, "满意")
    phone.fill("textarea[name=q_moving_comment]", "搬家当天有人帮忙，很感谢。")
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_role("heading", name="提交成功，感谢您的参与！")).to_be_visible()
    phone.goto(link)
    expect(phone.get_by_role("heading", name="您已提交过本调查")).to_be_visible()

    desktop.goto(server.url + "/forms/staff/surveys/move-in-visit")
    assert desktop.locator("#response-count").inner_text() == "1"
    assert desktop.locator("#overall-rate").inner_text() == "100.0%"
    assert desktop.locator("figure.chart").count() >= 2
    assert "搬家当天有人帮忙" in desktop.locator("#result-moving_comment").inner_text()


def test_two_submissions_racing_on_one_invitation_store_exactly_one(server):
    manager = requests_login(server.url, "manager")
    invitations = server.url + "/forms/staff/surveys/move-in-visit/invitations"
    csrf = CSRF.search(manager.get(invitations, timeout=10).text).group(1)
    manager.post(invitations, data={"csrf_token": csrf, "building": "3", "whom": "all"}, timeout=30)
    listing = manager.get(invitations + ".csv", timeout=10).content.decode("utf-8-sig")
    links = re.findall(r"http://[^,]+/forms/surveys/i/[A-Za-z0-9_-]+", listing)[:5]
    assert len(links) == 5
    answers = {
        f"q_{topic}": "4"
        for topic in ("handover", "renovation", "moving", "quality_fixes", "service_center")
    }

    for link in links:
        phones = [requests.Session() for _ in range(2)]
        # A fresh connection for each POST (see tests/move_in/test_live.py open_form).
        forms = [
            form_tokens(s.get(link, timeout=10, headers={"Connection": "close"}).text)
            for s in phones
        ]
        start = threading.Barrier(2)

        def submit(index, phones=phones, forms=forms, start=start, link=link):
            start.wait()
            return phones[index].post(
                link, data={**forms[index], **answers}, allow_redirects=False, timeout=30
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(submit, range(2)))
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 302], statuses
        refused = next(r for r in results if r.status_code == 200)
        assert "本住户已经提交过这份调查" in refused.text

    token_list = [link.rsplit("/", 1)[1] for link in links]
    marks = ",".join("?" * len(token_list))
    stored = query(
        server,
        "SELECT COUNT(*), COUNT(DISTINCT r.invitation_id) FROM survey_response r"
        f" JOIN survey_invitation i ON i.id = r.invitation_id WHERE i.token IN ({marks})",
        *token_list,
    )
    assert stored == [(5, 5)]
