"""Who may do what: no session → the login page; roles that do not inspect → 403."""

from __future__ import annotations

import pytest

from forms_app.accounts import roles

from .conftest import inspection_fields

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

PAGES = [
    "/forms/staff/cleaning/",
    "/forms/staff/cleaning/new",
    "/forms/staff/cleaning/1",
    "/forms/staff/cleaning/summary",
    "/forms/staff/cleaning/export.csv",
    "/forms/staff/cleaning/export.xlsx",
    "/forms/staff/cleaning/mine",
    "/forms/staff/cleaning/1/photos/1",
    "/forms/staff/cleaning/1/rectification-photos/1",
]


@pytest.mark.parametrize("path", PAGES)
def test_without_login_every_page_goes_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/forms/staff/login?next=")


def test_a_posted_inspection_without_login_stores_nothing(client, stored):
    response = client.post("/forms/staff/cleaning/new", data=inspection_fields())
    assert response.status_code in (302, 400)
    assert stored.counts() == (0, 0, 0)


@pytest.mark.parametrize("role", [roles.ENGINEERING, roles.SECURITY])
@pytest.mark.parametrize("path", PAGES[:-2])
def test_roles_that_do_not_inspect_get_a_chinese_403(as_role, role, path):
    response = as_role(role).get(path)
    assert response.status_code == 403
    assert "此页面仅限" in response.get_data(as_text=True)


def test_cleaners_open_their_list_but_neither_inspect_nor_export(as_role):
    for role in (roles.CLEANER, roles.CLEANING_LEAD):
        client = as_role(role)
        assert client.get("/forms/staff/cleaning/mine").status_code == 200
        for path in PAGES[:2] + PAGES[3:6]:
            assert client.get(path).status_code == 403, (role, path)


def test_the_summary_is_for_the_manager(as_role):
    assert as_role(roles.SERVICE).get("/forms/staff/cleaning/summary").status_code == 403
    assert as_role(roles.MANAGER).get("/forms/staff/cleaning/summary").status_code == 200


@pytest.mark.parametrize(
    "role, shown, own_list",
    [
        (roles.SERVICE, True, False),
        (roles.MANAGER, True, False),
        (roles.ENGINEERING, False, False),
        (roles.SECURITY, False, False),
        (roles.CLEANER, False, True),
        (roles.CLEANING_LEAD, False, True),
    ],
)
def test_the_back_office_menu_links_the_inspections_for_inspecting_roles(
    as_role, role, shown, own_list
):
    page = as_role(role).get("/forms/staff/").get_data(as_text=True)
    assert ('href="/forms/staff/cleaning/"' in page) == shown
    assert (">我的区域</a>" in page) == own_list
