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
    "/forms/staff/cleaning/1/photos/1",
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
@pytest.mark.parametrize("path", PAGES[:-1])
def test_roles_that_do_not_inspect_get_a_chinese_403(as_role, role, path):
    response = as_role(role).get(path)
    assert response.status_code == 403
    assert "此页面仅限" in response.get_data(as_text=True)


def test_the_summary_is_for_the_manager(as_role):
    assert as_role(roles.SERVICE).get("/forms/staff/cleaning/summary").status_code == 403
    assert as_role(roles.MANAGER).get("/forms/staff/cleaning/summary").status_code == 200


@pytest.mark.parametrize(
    "role, shown",
    [
        (roles.SERVICE, True),
        (roles.MANAGER, True),
        (roles.ENGINEERING, False),
        (roles.SECURITY, False),
    ],
)
def test_the_back_office_menu_links_the_inspections_for_inspecting_roles(as_role, role, shown):
    page = as_role(role).get("/forms/staff/").get_data(as_text=True)
    assert ('href="/forms/staff/cleaning/"' in page) == shown
