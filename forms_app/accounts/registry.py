"""What each domain contributes to the back office, registered by the domain itself.

The staff home page, the navigation and the audit log's labels are built from these
registrations, so the accounts layer never imports a domain: a domain's ``init_app`` calls
``register_section`` and the factory decides which domains exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask import Flask, current_app, request, url_for

from .permissions import STAFF, allowed

EXTENSION_KEY = "staff_sections"


@dataclass(frozen=True)
class NavLink:
    """One entry of the back-office navigation, shown to the roles holding ``permission``."""

    label: str
    endpoint: str
    permission: str = STAFF


@dataclass(frozen=True)
class HomePanel:
    """A domain's part of the staff home: ``figures(user, day)`` gives the template's
    values, or None when there is nothing to show that user.

    ``today_for`` names the roles whose working day this panel is (the guard's patrols due,
    the 客服's applications to review, the 工程's acceptances, the 经理's figures): their home
    opens on these panels, the others follow."""

    template: str
    figures: Callable[[object, date], dict | None]
    permission: str = STAFF
    today_for: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StaffSection:
    """One domain's contribution: navigation links, home panels, audit action labels."""

    name: str
    nav: tuple[NavLink, ...] = ()
    home: tuple[HomePanel, ...] = ()
    audit_labels: dict[str, str] = field(default_factory=dict)


def register_section(app: Flask, section: StaffSection) -> None:
    """Add a domain's section; the order of registration is the order on the page."""
    sections = app.extensions.setdefault(EXTENSION_KEY, [])
    if any(s.name == section.name for s in sections):
        raise ValueError(f"staff section {section.name!r} registered twice")
    sections.append(section)


def sections() -> list[StaffSection]:
    return current_app.extensions.get(EXTENSION_KEY, [])


def nav_links(role: str) -> list[NavLink]:
    """The navigation this role sees."""
    return [link for s in sections() for link in s.nav if allowed(role, link.permission)]


# The bottom tab bar on a phone: after 工作台, each role's three main places (endpoints of
# registered navigation links), then 更多 with everything else. One table for every role; a
# place the role may not open, or that no domain registered, is left out.
ROLE_TABS: dict[str, tuple[str, ...]] = {
    "service": (
        "service_requests_staff.register",
        "renovation_staff.renovations",
        "fees_ledger.counter",
    ),
    "service_lead": (
        "service_requests_staff.register",
        "notices_staff.index",
        "training_staff.people",
    ),
    "engineering": (
        "service_requests_staff.jobs",
        "renovation_staff.renovations",
        "fees_meter.index",
    ),
    "engineering_lead": (
        "service_requests_staff.jobs",
        "renovation_staff.renovations",
        "fees_meter.index",
    ),
    "security": (
        "renovation_staff.patrols_due",
        "move_in_staff.schedule",
        "households_staff.index",
    ),
    "security_lead": (
        "renovation_staff.patrols_due",
        "move_in_staff.schedule",
        "households_staff.index",
    ),
    "manager": (
        "service_requests_staff.register",
        "renovation_staff.renovations",
        "fees_report.arrears",
    ),
    "cleaner": ("cleaning_staff.mine", "training_staff.index"),
    "cleaning_lead": ("cleaning_staff.mine", "training_staff.index"),
    "finance": ("fees_ledger.index", "fees_bill.index", "training_staff.index"),
    "quality": (
        "accounts.company_figures_page",
        "service_requests_staff.figures",
        "training_staff.people",
    ),
}


# The URL of each place the navigation links, kept per app and script root: every back-office
# page links the role's places twice (the top navigation and the phone's 更多 sheet), some sixty
# url_for calls a page that always give the same answers, a fifth of a simple page's time.
NAV_URLS_KEY = "staff_nav_urls"
NAV_URLS_KEPT = 1000  # far more than the places times a deployment's roots: bounded anyway


def nav_url(endpoint: str) -> str:
    """``url_for(endpoint)`` of a place of the navigation (an endpoint without arguments)."""
    kept = current_app.extensions.setdefault(NAV_URLS_KEY, {})
    key = (request.script_root, endpoint)
    url = kept.get(key)
    if url is None:
        if len(kept) >= NAV_URLS_KEPT:
            kept.clear()
        url = kept[key] = url_for(endpoint)
    return url


def tab_links(role: str) -> list[NavLink]:
    """The role's main places for the phone's tab bar, in the table's order."""
    links = {link.endpoint: link for link in nav_links(role)}
    return [links[endpoint] for endpoint in ROLE_TABS.get(role, ()) if endpoint in links]


def home_panels(user, day: date) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """(template, values) of every home panel this user may see and that has something to
    say, split into today's work for the user's role and the rest (each in registration
    order)."""
    today_work, others = [], []
    for section in sections():
        for panel in section.home:
            if not allowed(user.role, panel.permission):
                continue
            values = panel.figures(user, day)
            if values is not None:
                (today_work if user.role in panel.today_for else others).append(
                    (panel.template, values)
                )
    return today_work, others


def audit_labels() -> dict[str, str]:
    """Every audit action code with its Chinese label, from every registered section."""
    labels: dict[str, str] = {}
    for section in sections():
        labels.update(section.audit_labels)
    return labels
