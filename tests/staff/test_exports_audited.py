"""Every export of the back office leaves an audit entry (who, what, when): whatever route a
domain adds under /forms/staff/ whose path names an export, in both formats."""

from __future__ import annotations

from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.extensions import db
from forms_app.surveys.catalog import all_surveys

EXPORT_ACTIONS = ("export", "households.export")


def export_rules(app):
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.rule.startswith("/forms/staff/") and "export" in r.rule and "GET" in r.methods
        ),
        key=lambda r: r.rule,
    )


def audited(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action.in_(EXPORT_ACTIONS))
        )


def test_every_export_is_audited(app, as_role):
    with app.app_context():
        survey = next(iter(all_surveys().values()))
    rules = export_rules(app)
    endpoints = {r.endpoint for r in rules}
    assert {"service_requests_staff.export", "renovation_staff.export_register"} <= endpoints
    assert len(rules) >= 12
    manager = as_role(roles.MANAGER)
    for rule in rules:
        for fmt in ("csv", "xlsx"):
            values = {"fmt": fmt, "slug": survey.slug}
            url = rule.build({n: values[n] for n in rule.arguments}, append_unknown=False)[1]
            before = audited(app)
            response = manager.get(url)
            body = response.data  # the whole (streamed) file
            if response.status_code == 404 and fmt == "xlsx":
                continue  # an export offered as CSV only
            assert response.status_code == 200 and body, (url, response.status_code)
            assert audited(app) == before + 1, url
