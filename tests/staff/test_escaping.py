"""Text typed by owners and staff reaches the back office escaped: names, descriptions, file
names, reasons, findings and the filters recorded in the audit log."""

from __future__ import annotations

import io
from datetime import date, timedelta

from werkzeug.datastructures import FileStorage

from forms_app.accounts import roles
from forms_app.files.uploads import check_upload
from tests.renovation.test_patrols import PNG, started_on
from tests.support.forms import csrf_token_from
from tests.support.renovation import (
    application_values,
    checklist_answers,
    file_application,
    filed,
    walk,
)

XSS = '"><script>alert(1)</script><svg onload=alert(2)>'
TODAY = date(2026, 5, 10)


def test_typed_text_is_escaped_on_every_back_office_page(app, as_role):
    app.config["TODAY"] = TODAY.isoformat()
    upload = FileStorage(
        io.BytesIO(b"%PDF-1.4\n"), filename=XSS + ".pdf", content_type="application/pdf"
    )
    with app.app_context():
        on_site = filed(
            application_values(
                owner_name=XSS[:20],
                contractor_company=XSS,
                site_lead_name=XSS[:20],
                description=XSS,
            ),
            [check_upload(upload)],
        ).id
    walk(app, on_site, "approve", "start")
    started_on(app, on_site, TODAY - timedelta(days=3))
    rejected = file_application(app, room="102")
    manager = as_role(roles.MANAGER)
    detail = f"/forms/staff/renovations/{rejected}"
    token = csrf_token_from(manager.get(detail).get_data(as_text=True))
    assert (
        manager.post(
            f"{detail}/steps/reject",
            data={
                "csrf_token": token,
                "comment": XSS,
                "internal_note": XSS,
                "confirm": "yes",
                "owner_confirmed": "yes",
            },
        ).status_code
        == 303
    )
    assert (
        manager.post(
            f"/forms/staff/renovations/{on_site}/patrols",
            data={
                "csrf_token": token,
                "nonce": "escaping-test-patrol-nonce",
                "kind": "office",
                "patrol_date": TODAY.isoformat(),
                "findings": XSS,
                **checklist_answers("office", {"passage": XSS}, on=TODAY),
                "photos-passage": [(io.BytesIO(PNG), XSS + ".png")],
            },
            content_type="multipart/form-data",
        ).status_code
        == 303
    )
    assert manager.get("/forms/staff/renovations/export.csv?q=" + XSS[:40]).status_code == 200
    for url in (
        "/forms/staff/renovations",
        f"/forms/staff/renovations/{on_site}",
        detail,
        "/forms/staff/patrols/due",
        "/forms/staff/audit",
        "/forms/staff/",
        "/forms/staff/renovations?q=" + XSS[:40],
    ):
        html = manager.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<svg onload" not in html, url
    page = manager.get(f"/forms/staff/renovations/{on_site}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
