"""The status page says what happens next, who does it and by when — from the application,
the community file and the fee file only — and offers the private link to copy."""

from __future__ import annotations

import re

import pytest

from forms_app.core.community import load_community
from forms_app.core.fee_standards import current_fee_standards
from tests.renovation.conftest import move_to
from tests.support.renovation import REFERENCE, application_fields


def next_step(page: str) -> dict[str, str]:
    section = re.search(
        r'<section class="card next-step" id="next-step">(.*?)</section>', page, re.S
    )
    assert section, "no next step on the status page"
    return {
        key: re.sub(r"<[^>]+>", "", value).strip()
        for key, value in re.findall(r'<dd id="next-(\w+)">(.*?)</dd>', section.group(1), re.S)
    }


PATHS = {
    "pending": (),
    "approved": (("approved", "资料齐全"),),
    "rejected": (("rejected", "缺少图纸"),),
    "in_progress": (("approved", ""), ("in_progress", "")),
    "awaiting_acceptance": (("approved", ""), ("in_progress", ""), ("awaiting_acceptance", "")),
    "acceptance_failed": (
        ("approved", ""),
        ("in_progress", ""),
        ("awaiting_acceptance", ""),
        ("acceptance_failed", "墙面开裂"),
    ),
    "accepted": (
        ("approved", ""),
        ("in_progress", ""),
        ("awaiting_acceptance", ""),
        ("accepted", ""),
    ),
    "deposit_refunded": (
        ("approved", ""),
        ("in_progress", ""),
        ("awaiting_acceptance", ""),
        ("accepted", ""),
        ("deposit_refunded", ""),
    ),
}


@pytest.mark.parametrize("state", list(PATHS))
def test_each_state_says_what_happens_next_and_who_does_it(app, owner, state):
    fields = application_fields()
    page, status_url = owner.submit_ok(fields)
    reference = REFERENCE.search(page).group()
    if PATHS[state]:
        move_to(app, reference, *PATHS[state])
    page = owner.client.get(status_url).get_data(as_text=True)
    step = next_step(page)
    community = load_community(app.config["COMMUNITY_FILE"])
    with app.app_context():
        deposit = current_fee_standards().deposit("renovation")
    assert step["what"]
    if state == "deposit_refunded":
        assert "无需再办理" in step["what"] and "who" not in step
        return
    if state == "accepted" and deposit is None:
        assert "无需再办理" in step["what"]
        return
    assert step["who"]
    if state == "pending":
        assert step["who"] == community["service_center"]
        # The community sets no time for the review: the page says so, and gives none.
        assert "本小区未规定审核时限" in step["when"]
        assert not re.search(r"\d+(个工作日|天|小时)", step["when"])
    if state == "approved":
        assert step["who"].startswith("您")
        assert fields["start_date"] in step["when"] and community["office_hours"] in step["when"]
        assert f"为{fields['workers']}名装修人员办理出入证件" in step["what"]
        if deposit:
            assert f"缴纳装修押金{deposit.amount_text}元" in step["what"]
        for office in community["offices"]:
            assert office["location"] in step["where"]
    if state in ("in_progress", "acceptance_failed"):
        assert fields["end_date"] in step["when"]
        assert str(community["renovation"]["max_extended_duration_days"]) in step["when"]
    if state == "awaiting_acceptance":
        assert "工程人员" in step["who"] and "未规定验收时限" in step["when"]
    if state == "accepted":
        assert f"退还装修押金{deposit.amount_text}元" in step["what"]


def test_the_private_link_has_a_copy_button_that_only_script_shows(owner):
    page, status_url = owner.submit_ok()
    assert f'id="status-url">http://localhost{status_url}<' in page
    assert re.search(r'<button [^>]*data-copy="status-url"[^>]*hidden>复制链接</button>', page)
    assert 'src="/forms/static/copy_link.js' in page
