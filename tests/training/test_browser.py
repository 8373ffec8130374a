"""On a 360 px phone: a cleaner follows the reading path into the handbook and back, takes the
cleaning quiz, is sent to the section behind a wrong answer and passes on the retake; a 经理
creates an account on the web, records a session the new colleague signs in to on their own
phone, and sees who is behind."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from forms_app.accounts import roles
from tests.support.browser import PHONE, guard_outside_hosts
from tests.support.staff import login, open_place

pytestmark = [pytest.mark.browser, pytest.mark.long_module]

PASSWORD = "correct-horse-9"


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def create(live_server, username: str, role: str, name: str) -> None:
    live_server.flask(
        "create-user", username, "--role", role, "--display-name", name, input=PASSWORD + "\n"
    )


def answer(page, question_id: str, *options: str) -> None:
    for option in options:
        exact = re.compile(rf"^\s*{re.escape(option)}\s*$")
        page.locator(f"#question-{question_id} label.option", has_text=exact).click()


@pytest.fixture(scope="module")
def cleaning_quiz():
    """The cleaning quiz as the app reads it: its answers, to answer whatever a draw asks."""
    from forms_app.core.community import load_community
    from forms_app.training.definitions import TRAINING_DIR, read_training
    from forms_app.training.handbook_sections import cached_handbook, default_config_file

    handbook = cached_handbook(str(default_config_file()), None)
    return read_training(TRAINING_DIR, handbook, load_community()).quizzes["cleaning"]


def drawn(page) -> list[str]:
    """The ids of the questions the page asks, in order."""
    ids = page.locator("fieldset.question").evaluate_all("nodes => nodes.map(n => n.id)")
    return [i.removeprefix("question-") for i in ids]


def right(quiz, question_id: str) -> list[str]:
    question = quiz.question(question_id)
    return [o for o in question.options if o in question.answers]


def wrong(quiz, question_id: str) -> str:
    question = quiz.question(question_id)
    return next(o for o in question.options if o not in question.answers)


def test_a_cleaner_reads_and_passes_the_cleaning_quiz_on_a_phone(live_server, phone, cleaning_quiz):
    quiz = cleaning_quiz
    create(live_server, "px-cleaner", roles.CLEANER, "赵阿姨")
    login(phone, "px-cleaner", PASSWORD, base_url=live_server.url)
    phone.wait_for_url(re.compile(r"/forms/staff/$"))
    panel = phone.locator("#training-home")
    assert "已读 0/9 节" in panel.inner_text()
    assert "赵阿姨（保洁）" in phone.locator(".who").inner_text()
    panel.get_by_role("link", name="继续培训").click()
    phone.wait_for_url(re.compile(r"/forms/staff/training/$"))
    assert fits(phone)

    # Into the handbook and back: the first section of the path.
    phone.locator("#path li").first.get_by_role("link").click()
    phone.wait_for_url(re.compile(r"/staff/service-code/\?read=[^#]+#"))
    assert unquote(phone.url).endswith("#ssmile微笑")
    assert phone.locator("[id='ssmile微笑']").is_visible()
    phone.go_back()
    phone.locator("#path li").first.get_by_role("button", name="标为已读").click()
    phone.wait_for_url(re.compile(r"/forms/staff/training/"))
    assert "已标记「S：SMILE（微笑）」为已读" in phone.locator(".flash").inner_text()
    assert "已读" in phone.locator("#path li").first.locator(".badge").inner_text()

    # The cleaning quiz, a draw of the bank: one question left out, then three wrong answers.
    phone.locator(".quiz-item", has_text="保洁服务品质检查标准").get_by_role(
        "link", name="开始测验"
    ).click()
    phone.wait_for_url(re.compile(r"/quizzes/cleaning$"))
    asked = drawn(phone)
    assert len(asked) == quiz.draw < len(quiz.questions)
    # Changed below: questions of one answer, so one click changes the choice.
    left_out, kept, third = [i for i in asked if len(right(quiz, i)) == 1][:3]
    for question_id in asked:
        if question_id != left_out:
            answer(phone, question_id, *right(quiz, question_id))
    assert fits(phone)
    phone.get_by_role("button", name="交卷").click()
    phone.locator("#error-summary").wait_for()
    assert "请作答" in phone.locator(f"#question-{left_out}").inner_text()
    (kept_option,) = right(quiz, kept)
    exact = re.compile(rf"^\s*{re.escape(kept_option)}\s*$")
    kept_input = phone.locator(f"#question-{kept} label.option", has_text=exact).locator("input")
    assert kept_input.is_checked()  # kept
    for question_id in (left_out, kept, third):
        answer(phone, question_id, wrong(quiz, question_id))
    phone.get_by_role("button", name="交卷").click()
    phone.wait_for_url(re.compile(r"/attempts/\d+$"))
    total = quiz.draw
    assert f"答对 {total - 3}/{total} 题" in phone.locator("#score").inner_text()
    assert "未通过" in phone.locator("#score").inner_text()  # below 80%
    wrong_answers = phone.locator("#wrong-answers li")
    assert wrong_answers.count() == 3
    kept_entry = wrong_answers.filter(has_text=quiz.question(kept).text)
    assert kept_entry.count() == 1 and f"正确答案：{kept_option}" in kept_entry.inner_text()
    assert fits(phone)
    section = quiz.question(left_out).section
    wrong_answers.filter(has_text=quiz.question(left_out).text).get_by_role("link").click()
    phone.wait_for_url(re.compile(r"/staff/cleaning-standards/#"))
    assert unquote(phone.url).endswith(f"#{section.anchor}")
    assert phone.locator(f"[id='{section.anchor}']").is_visible()
    phone.go_back()

    # The retake is a fresh draw, answered right.
    phone.get_by_role("link", name="再测一次").click()
    phone.wait_for_url(re.compile(r"/quizzes/cleaning$"))
    for question_id in drawn(phone):
        answer(phone, question_id, *right(quiz, question_id))
    phone.get_by_role("button", name="交卷").click()
    phone.wait_for_url(re.compile(r"/attempts/\d+$"))
    assert "100 分" in phone.locator("#score").inner_text()
    phone.goto(live_server.url + "/forms/staff/")
    assert "测验通过 1/2" in phone.locator("#training-home").inner_text()
    assert fits(phone)


def test_a_manager_adds_a_colleague_who_signs_in_to_a_session_on_their_phone(
    live_server, phone, browser
):
    create(live_server, "px-manager", roles.MANAGER, "张经理")
    login(phone, "px-manager", PASSWORD, base_url=live_server.url)
    open_place(phone, "员工账号")
    phone.get_by_role("link", name="新建账号").click()
    phone.fill("#username", "px-guard")
    phone.fill("#display_name", "钱师傅")
    phone.select_option("#role", label="秩序维护")
    phone.fill("#password", "short")
    phone.fill("#password_confirm", "short")
    phone.get_by_role("button", name="创建账号").click()
    assert "密码至少 10 位" in phone.locator("#password-error").inner_text()
    assert phone.locator("#display_name").input_value() == "钱师傅"
    phone.fill("#password", PASSWORD)
    phone.fill("#password_confirm", PASSWORD)
    phone.get_by_role("button", name="创建账号").click()
    assert "已创建账号 px-guard（钱师傅，秩序维护）" in phone.locator(".flash").inner_text()
    assert fits(phone)

    open_place(phone, "培训进度")
    phone.wait_for_url(re.compile(r"/training/people/$"))
    assert phone.locator("#people tr", has_text="钱师傅").locator(".badge").inner_text() == "0%"
    assert fits(phone)
    phone.locator(".training-nav").get_by_role("link", name="培训记录").click()
    phone.get_by_role("link", name="登记培训").click()
    phone.fill("#starts_at", "00:00")
    phone.fill("#topic", "装修人员与材料管理")
    phone.locator("#sections summary", has_text="装修服务控制要点").click()
    phone.locator("#sections label", has_text="装修人员管理").click()
    phone.locator("#sections label", has_text="装修材料管理").click()
    phone.select_option("#quiz", label="装修管理要点")
    assert fits(phone)
    phone.get_by_role("button", name="保存培训记录").click()
    phone.wait_for_url(re.compile(r"/training/sessions/\d+$"))
    assert "培训记录已保存" in phone.locator(".flash").inner_text()
    assert "还没有参加人" in phone.locator("#attendance").inner_text()
    assert phone.locator("#sign-in-link .link a").get_attribute("href")

    # The new colleague, on their own phone.
    context = browser.new_context(**PHONE)
    blocked: list[str] = []
    guard_outside_hosts(context, blocked)
    own = context.new_page()
    own.set_default_timeout(15000)
    login(own, "px-guard", PASSWORD, base_url=live_server.url)
    open_place(own, "我的培训")
    own.locator("[id^='sign-in-']").get_by_role("link", name="签到").click()
    # The code on the trainer's screen in the room.
    phone.get_by_role("link", name="在现场屏幕上显示签到码").click()
    phone.wait_for_url(re.compile(r"/sessions/\d+/code$"))
    code = phone.locator("#code").inner_text()
    assert re.fullmatch(r"[0-9]{4}", code) and phone.locator("#sign-in-code svg").count() == 1
    own.fill("#code", code)
    own.get_by_role("button", name="签到：钱师傅").click()
    assert "已签到" in own.locator("#sign-in").inner_text()
    assert fits(own)
    context.close()
    assert not blocked

    phone.get_by_role("link", name="返回培训记录").click()
    phone.wait_for_url(re.compile(r"/training/sessions/\d+$"))
    row = phone.locator("#attendance tr", has_text="钱师傅")
    assert "本人签到" in row.inner_text()
    phone.goto(live_server.url + "/forms/staff/training/people/")
    phone.locator("#people").get_by_role("link", name="钱师傅").click()
    assert "装修人员与材料管理" in phone.locator("#record-sessions").inner_text()
    with phone.expect_download() as download:
        phone.goto(live_server.url + "/forms/staff/training/people/")
        phone.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.startswith("员工培训记录-")
    assert download.value.suggested_filename.endswith(".xlsx")


def test_a_section_is_marked_read_at_its_end_and_back_to_the_path(live_server, phone):
    create(live_server, "px-reader", roles.SECURITY, "孙师傅")
    login(phone, "px-reader", PASSWORD, base_url=live_server.url)
    phone.goto(live_server.url + "/forms/staff/training/")
    first = phone.locator("#path li").first
    title = first.locator(".path-title a").inner_text()
    first.locator(".path-title a").click()
    phone.wait_for_url(re.compile(r"/staff/.*\?read="))
    mark = phone.locator("#read-mark")
    expect(mark.get_by_role("button", name="读完了，标为已读并返回")).to_be_visible()
    mark.get_by_role("button", name="读完了，标为已读并返回").click()
    phone.wait_for_url(re.compile(r"/forms/staff/training/"))
    expect(phone.locator(".flash-success")).to_contain_text("已标记")
    assert "已读" in phone.locator("#path li").first.locator(".badge").inner_text()
    # Opened again from the path: read, one tap back.
    phone.locator("#path li").first.locator(".path-title a").click()
    phone.wait_for_url(re.compile(r"/staff/.*\?read="))
    expect(phone.locator("#read-mark")).to_contain_text("本节已读")
    assert title
