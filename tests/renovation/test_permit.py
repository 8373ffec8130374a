"""The permit's QR code and the guard's verification page; staff notes for the owner and
internal notes; irreversible steps taken only when confirmed."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from forms_app.core.clock import today
from forms_app.core.extensions import db
from forms_app.renovation import permits
from forms_app.renovation.models import RenovationApplication
from tests.renovation.conftest import move_to
from tests.support.forms import csrf_token_from
from tests.support.renovation import REFERENCE, application_fields

pytestmark = pytest.mark.one_app_per_module

STAFF_DETAIL = "/forms/staff/renovations/{}"


def approved(owner, **fields):
    """An application filed by the owner and approved; (reference, status url)."""
    page, status_url = owner.submit_ok(application_fields(**fields))
    reference = REFERENCE.search(page).group()
    move_to(owner.client.application, reference, ("approved", "资料齐全"))
    return reference, status_url


def verify_url_of(app, reference: str) -> str:
    with app.test_request_context():
        application = db.session.scalar(
            select(RenovationApplication).where(RenovationApplication.reference == reference)
        )
        return f"/forms/renovation/verify/{permits.verification_token(application)}"


def test_permit_carries_a_qr_code_of_its_verification_link(app, owner):
    reference, status_url = approved(owner)
    page = owner.client.get(status_url + "/permit").get_data(as_text=True)
    verify = verify_url_of(app, reference)
    # The QR code on the page is the one of the verification link (made with segno).
    path = re.search(r'<svg[^>]*class="permit-qr-code".*?</svg>', page, re.S).group()
    expected = str(permits.qr_svg("http://localhost" + verify))
    assert path == expected
    # The owner's private link is not what the code carries.
    assert status_url.rsplit("/", 1)[1] not in verify
    assert "门岗扫码核验" in page
    assert "/owner/renovation/rules/" not in re.sub(r'href="[^"]*"', "", page)


@pytest.mark.parametrize(
    "state, start, end, valid, headline",
    [
        ("approved", 0, 30, True, "许可证有效，今日可以施工"),
        ("in_progress", -10, 0, True, "许可证有效，今日可以施工"),
        ("acceptance_failed", -40, 5, True, "许可证有效，今日可以施工"),
        ("approved", 2, 30, False, "许可证尚未生效"),
        ("in_progress", -30, -1, False, "许可证已过期"),
        ("accepted", -30, 5, False, "许可证已失效"),
    ],
)
def test_the_guard_sees_whether_the_permit_is_valid_today(
    app, owner, state, start, end, valid, headline
):
    reference, _status = approved(owner)
    with app.app_context():
        application = db.session.scalar(
            select(RenovationApplication).where(RenovationApplication.reference == reference)
        )
        application.start_date = today() + timedelta(days=start)
        application.end_date = today() + timedelta(days=end)
        application.state = state
        db.session.commit()
    response = owner.client.get(verify_url_of(app, reference))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    verdict = re.search(r'<div class="verdict (\w+)" id="verdict" role="status">([^<]*)', page)
    assert verdict.groups() == ("valid" if valid else "invalid", headline)
    assert f'id="verify-reference">{reference}<' in page
    assert 'id="verify-room">1号楼1单元101室<' in page
    # Only what the gate needs: no owner name, no mobile numbers.
    fields = application_fields()
    for private in (fields["owner_name"], fields["owner_mobile"], fields["site_lead_mobile"]):
        assert private not in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" * 40,
        lambda token: "%00",
        lambda token: "a" * 500,
        lambda token: URLSafeSerializer("another key", salt=permits.SALT).dumps("ZX20261201-001"),
        lambda token: URLSafeSerializer("test", salt="another-salt").dumps("ZX20261201-001"),
    ],
)
def test_a_forged_or_damaged_code_cannot_be_verified(app, owner, forge):
    reference, _status = approved(owner)
    token = verify_url_of(app, reference).rsplit("/", 1)[1]
    response = owner.client.get(f"/forms/renovation/verify/{forge(token)}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "无法核验" in page and reference not in page


def test_a_signed_reference_that_does_not_exist_is_not_valid(app, owner):
    with app.app_context():
        token = URLSafeSerializer(app.secret_key, salt=permits.SALT).dumps("ZX20990101-001")
    response = owner.client.get(f"/forms/renovation/verify/{token}")
    assert response.status_code == 404 and "无法核验" in response.get_data(as_text=True)


def test_the_permit_saves_as_a_png_image(app, owner):
    import zxingcpp
    from PIL import Image

    reference, status_url = approved(owner, contractor_company="<秦淮&装饰>")
    response = owner.client.get(status_url + "/permit.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"{reference}.png" in response.headers["Content-Disposition"]
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    picture = Image.open(io.BytesIO(response.get_data()))
    assert picture.format == "PNG"
    found = [code.text for code in zxingcpp.read_barcodes(picture)]
    assert found == ["http://localhost" + verify_url_of(app, reference)]
    # The permit page links to the picture; no SVG picture is offered any more.
    permit = owner.client.get(status_url + "/permit").get_data(as_text=True)
    assert f'href="{status_url}/permit.png" download>保存许可证图片' in permit
    assert owner.client.get(status_url + "/permit.svg").status_code == 404
    # Not approved: no permit, no image.
    _page, pending = owner.submit_ok(application_fields(room="102"))
    assert owner.client.get(pending + "/permit.png").status_code == 404


def staff_post(client, application_id, action, **data):
    html = client.get(STAFF_DETAIL.format(application_id)).get_data(as_text=True)
    return client.post(
        f"{STAFF_DETAIL.format(application_id)}/steps/{action}",
        data={"csrf_token": csrf_token_from(html), "owner_confirmed": "yes", **data},
    )


def application_id_of(app, reference):
    with app.app_context():
        return db.session.scalar(
            select(RenovationApplication.id).where(RenovationApplication.reference == reference)
        )


@pytest.mark.parametrize(
    "action, comment",
    [
        ("approve", ""),
        ("reject", "缺少图纸"),
    ],
)
def test_an_irreversible_step_needs_the_confirmation(app, owner, as_role, action, comment):
    page, status_url = owner.submit_ok()
    application_id = application_id_of(app, REFERENCE.search(page).group())
    service = as_role("service")
    detail = service.get(STAFF_DETAIL.format(application_id)).get_data(as_text=True)
    assert f'id="confirm-{action}"' in detail
    response = staff_post(service, application_id, action, comment=comment)
    assert response.status_code == 400
    assert "不能撤销，请勾选确认后再提交" in response.get_data(as_text=True)
    assert 'id="state">待审核' in owner.client.get(status_url).get_data(as_text=True)
    assert (
        staff_post(service, application_id, action, comment=comment, confirm="yes").status_code
        == 303
    )


def test_the_main_step_comes_first(app, owner, as_role):
    page, _status = owner.submit_ok()
    application_id = application_id_of(app, REFERENCE.search(page).group())
    detail = as_role("manager").get(STAFF_DETAIL.format(application_id)).get_data(as_text=True)
    assert detail.index('id="step-approve"') < detail.index('id="step-reject"')


def test_internal_notes_never_reach_the_owner(app, owner, as_role):
    page, status_url = owner.submit_ok()
    application_id = application_id_of(app, REFERENCE.search(page).group())
    service = as_role("service")
    assert (
        staff_post(
            service,
            application_id,
            "approve",
            confirm="yes",
            comment="请于开工前到物业服务中心办理出入证。",
            internal_note="业主电话里态度不好，注意沟通",
        ).status_code
        == 303
    )
    owner_page = owner.client.get(status_url).get_data(as_text=True)
    assert "请于开工前到物业服务中心办理出入证。" in owner_page
    assert "态度不好" not in owner_page
    permit = owner.client.get(status_url + "/permit").get_data(as_text=True)
    assert "态度不好" not in permit
    staff_page = service.get(STAFF_DETAIL.format(application_id)).get_data(as_text=True)
    assert 'class="internal-note card-wide">业主电话里态度不好，注意沟通</td>' in staff_page
    # The permit names who approved it the way records name staff.
    assert re.search(r'id="permit-approved">[^<]*，service（客服）<', permit)


def test_without_a_chinese_font_the_picture_still_carries_the_code(monkeypatch):
    import zxingcpp
    from PIL import Image

    from forms_app.renovation import permit_image

    monkeypatch.setattr(permit_image, "cjk_font", lambda configured: None)
    url = "http://localhost/forms/renovation/verify/abc"
    png = permit_image.render(
        url=url,
        heading="山水花园",
        title="装修许可证",
        reference="ZX20261201-001",
        facts=[permit_image.Fact("装修工期", "2026-12-01 至 2027-01-30")],
        footnote=["示例"],
    )
    picture = Image.open(io.BytesIO(png))
    assert [code.text for code in zxingcpp.read_barcodes(picture)] == [url]
