"""The staff home page: pipeline, today's patrols and moves, satisfaction and cleaning figures."""

from __future__ import annotations

import re

import pytest

from forms_app.accounts import roles
from forms_app.surveys.forms import Answer
from tests.surveys.conftest import TODAY, store
from tests.surveys.test_results import with_min_answers


@pytest.fixture
def dated(app):
    """The app on a date inside the shipped surveys' windows (the second half of 2026)."""
    app.config["TODAY"] = TODAY
    return app


def test_manager_sees_satisfaction_against_target_and_cleaning(dated, as_role, tmp_path):
    with_min_answers(dated, tmp_path, 2)
    for cleaning, overall in ((5, 4), (2, 3)):
        store(
            dated,
            "satisfaction",
            [Answer("cleaning", value=cleaning), Answer("overall", value=overall)],
        )
    page = as_role(roles.MANAGER).get("/forms/staff/").get_data(as_text=True)
    assert "业主综合满意率" in page
    assert "2026年下半年" in page
    # Two of four scale answers are 满意 or 非常满意: 50%, below the 90% target, on 2 答卷.
    assert '50%<span class="sample">（2 份答卷）' in page and "未达标" in page
    assert "目标 90% 以上" in page
    assert "本月保洁检查" in page and "共检查 <strong>0</strong> 次" in page
    assert "今日搬家" in page and "0/3" in page


def test_satisfaction_and_cleaning_figures_follow_the_roles(dated, as_role):
    service = as_role(roles.SERVICE).get("/forms/staff/").get_data(as_text=True)
    assert "业主综合满意率" in service and "本月保洁检查" not in service
    engineer = as_role(roles.ENGINEERING).get("/forms/staff/").get_data(as_text=True)
    assert "业主综合满意率" not in engineer and "本月保洁检查" not in engineer
    assert "今日搬家" in engineer and "今日待巡查" in engineer


def test_each_role_opens_on_its_work_for_today(dated, as_role):
    """The registry puts the panels a role works from today first (HomePanel.today_for)."""

    def first_panel(role):
        page = as_role(role).get("/forms/staff/").get_data(as_text=True)
        today_work = page.split('id="today-work"')[1].split("</section>")[0]
        return today_work.split("<h2")[1]

    assert 'id="home-patrols"' in first_panel(roles.SECURITY)
    assert 'id="home-pending"' in first_panel(roles.SERVICE)
    assert 'id="home-awaiting_acceptance"' in first_panel(roles.ENGINEERING)
    assert 'id="home-satisfaction"' in first_panel(roles.MANAGER)
    guard = as_role(roles.SECURITY).get("/forms/staff/").get_data(as_text=True)
    assert guard.index('id="home-moves"') < guard.index('id="other-panels"')
    assert "装修申请概况" in guard.split('id="other-panels"')[1]


def test_the_navigation_links_follow_the_sites_root(app, as_role):
    """The navigation's links are kept per root the site is served under (accounts/registry.py
    nav_url): mounted under a prefix, every link carries it; at the root, none does."""
    client = as_role(roles.MANAGER)
    for root in ("", "/wuye", ""):
        page = client.get("/forms/staff/", environ_overrides={"SCRIPT_NAME": root})
        html = page.get_data(as_text=True)
        links = re.findall(r'<a href="([^"]+)">员工账号</a>', html)
        assert links == [f"{root}/forms/staff/accounts/"] * 2, (root, links)
        assert f'<a href="{root}/forms/staff/">工作台</a>' in html
