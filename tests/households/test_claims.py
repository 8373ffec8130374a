"""房屋认证: the person's claim (room, who, an optional document photo, consent), its private
status page, the staff queue, approve (registered from today, SMS, photo deleted) and refuse
(reason required, SMS, photo deleted), decisions taken once, role gates."""

from __future__ import annotations

import io
import re
import stat
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.core.clock import today
from forms_app.core.extensions import db
from forms_app.households.models import HouseholdChange, HouseholdClaim, HouseholdPerson
from forms_app.households.registry import find_room
from forms_app.notifications.models import Notification
from tests.support.forms import csrf_token_from
from tests.support.fuzz import ODD_TEXT, assert_chinese_errors, odd_post
from tests.support.households import register

pytestmark = pytest.mark.one_app_per_module

FORM = "/forms/households/claim"
QUEUE = "/forms/staff/households/claims/"
NONCE = re.compile(r'name="nonce"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="nonce"')


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def form_page(client) -> tuple[str, str]:
    html = client.get(FORM).get_data(as_text=True)
    match = NONCE.search(html)
    return csrf_token_from(html), match.group(1) or match.group(2)


VALUES = {
    "building": "3",
    "unit": "1",
    "room": "1201",
    "owner_name": "李四",
    "owner_mobile": "13900139000",
    "role": "family",
    "consent": "y",
}


def file_claim(client, photo: bool = False, **changes):
    csrf, nonce = form_page(client)
    data = {"csrf_token": csrf, "nonce": nonce, **VALUES, **changes}
    data = {name: value for name, value in data.items() if value is not None}
    if photo:
        data["document"] = (io.BytesIO(jpeg()), "房产证.jpg")
    return client.post(FORM, data=data, content_type="multipart/form-data")


def claims(app) -> list[HouseholdClaim]:
    with app.app_context():
        rows = db.session.scalars(select(HouseholdClaim).order_by(HouseholdClaim.id)).all()
        db.session.expunge_all()
        return rows


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def messages(app, kind) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.kind == kind)).all()
        db.session.expunge_all()
        return rows


def upload_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


@pytest.fixture
def service(as_role):
    return as_role(roles.SERVICE)


def decide(client, claim_id, action, **data):
    url = f"{QUEUE}{claim_id}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(f"{url}/{action}", data={"csrf_token": token, **data})


def test_the_form_says_what_is_kept_and_why(client):
    html = client.get(FORM).get_data(as_text=True)
    notice = html.split('id="consent-notice"')[1]
    assert "姓名、手机号" in notice and "审核完成（通过或不通过）后即删除" in notice
    assert 'name="consent"' in notice and 'id="room-directory"' in html


def test_a_claim_without_a_photo_gets_a_private_status_page(app, client):
    response = file_claim(client)
    assert response.status_code == 303
    (claim,) = claims(app)
    assert (claim.name, claim.mobile, claim.role, claim.state) == (
        "李四",
        "13900139000",
        "family",
        "pending",
    )
    assert claim.consent_at is not None and claim.document_path is None
    assert response.headers["Location"].endswith(f"/forms/households/claim/{claim.token}?new=1")
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "待审核" in html and "139****9000" in html and "认证申请已提交" in html
    assert "no-store" in page.headers["Cache-Control"]
    assert client.get("/forms/households/claim/not-a-real-token-at-all").status_code == 404


def test_a_claim_with_a_photo_keeps_it_private(app, client, service):
    assert file_claim(client, photo=True).status_code == 303
    (claim,) = claims(app)
    stored = upload_dir(app) / claim.document_path
    assert stored.is_file() and stat.S_IMODE(stored.stat().st_mode) == 0o600
    # Staff only: an owner's client is sent to the login page.
    assert client.get(f"{QUEUE}{claim.id}/document").status_code == 302
    response = service.get(f"{QUEUE}{claim.id}/document")
    assert response.status_code == 200 and response.data[:3] == b"\xff\xd8\xff"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_the_same_form_sent_twice_is_one_claim(app, client):
    csrf, nonce = form_page(client)
    data = {"csrf_token": csrf, "nonce": nonce, **VALUES}
    first = client.post(FORM, data=data)
    second = client.post(FORM, data=data)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"].replace("?new=1", "")
    assert count(app, HouseholdClaim) == 1


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"consent": None}, "consent", "请勾选同意"),
        ({"owner_mobile": "1234"}, "owner_mobile", "11位中国大陆手机号码"),
        ({"owner_name": ""}, "owner_name", "请填写您的姓名"),
        ({"role": "landlord"}, "role", "请选择您与这户房屋的关系"),
        ({"role": "tenant"}, "lease_end", "租户请填写租约到期日"),
        ({"role": "tenant", "lease_end": "2020-01-01"}, "lease_end", "租约已到期"),
        ({"role": "tenant", "lease_end": "明年"}, "lease_end", "格式应为"),
        ({"room": "9999"}, "room", "没有9999室"),
        ({"building": "²"}, "building", "请选择小区内的楼栋"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_stores_nothing(
    app, client, changes, field, message
):
    response = file_claim(client, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and f'id="{field}-error"' in html
    if field != "owner_name":
        assert 'value="李四"' in html  # what was typed stays
    assert count(app, HouseholdClaim) == 0
    assert not any(upload_dir(app).glob("*")) if upload_dir(app).exists() else True


def test_a_bad_photo_is_refused(app, client):
    csrf, nonce = form_page(client)
    data = {
        "csrf_token": csrf,
        "nonce": nonce,
        **VALUES,
        "document": (io.BytesIO(b"<html>not a photo</html>"), "房产证.jpg"),
    }
    response = client.post(FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "不是 PDF、JPG 或 PNG 文件" in response.get_data(as_text=True)
    assert count(app, HouseholdClaim) == 0


def test_one_pending_claim_per_mobile_and_room(app, client):
    assert file_claim(client).status_code == 303
    response = file_claim(client, photo=True, owner_name="李四四")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "已有一份待审核的认证申请" in html
    assert 'value="李四四"' in html
    assert count(app, HouseholdClaim) == 1
    assert not list(upload_dir(app).glob("*.jpg"))  # the second one's photo is not kept
    # Another room, or another mobile, is another claim.
    assert file_claim(client, room="1202").status_code == 303
    assert file_claim(client, owner_mobile="13700137000").status_code == 303


def test_approve_registers_the_person_sends_an_sms_and_deletes_the_photo(app, client, service):
    file_claim(client, photo=True, role="tenant", lease_end="2099-06-30")
    (claim,) = claims(app)
    stored = upload_dir(app) / claim.document_path
    page = service.get(f"{QUEUE}{claim.id}").get_data(as_text=True)
    assert "李四" in page and "13900139000" in page and "2099-06-30" in page
    response = decide(service, claim.id, "approve", lease_end="2099-06-30")
    assert response.status_code == 303
    (claim,) = claims(app)
    assert claim.state == "approved" and claim.person_id and claim.document_path is None
    assert not stored.exists()
    with app.app_context():
        person = db.session.get(HouseholdPerson, claim.person_id)
        assert (person.name, person.mobile, person.role) == ("李四", "13900139000", "tenant")
        assert person.since == today() and person.lease_end.isoformat() == "2099-06-30"
        change = db.session.scalars(
            select(HouseholdChange).where(HouseholdChange.person_id == person.id)
        ).one()
        assert change.reason == f"房屋认证 #{claim.id}"
    (sms,) = messages(app, "household.claim_approved")
    assert sms.recipient == "13900139000" and "3号楼1单元1201室" in sms.text
    assert claim.token in sms.text
    status = client.get(f"/forms/households/claim/{claim.token}").get_data(as_text=True)
    assert "已通过" in status


def test_refuse_needs_a_reason_then_sends_it_and_deletes_the_photo(app, client, service):
    file_claim(client, photo=True)
    (claim,) = claims(app)
    stored = upload_dir(app) / claim.document_path
    response = decide(service, claim.id, "refuse", reason="  ")
    assert response.status_code == 400 and "请填写不通过的理由" in response.get_data(as_text=True)
    assert claims(app)[0].state == "pending" and stored.exists()
    assert decide(service, claim.id, "refuse", reason="房号与证件不符").status_code == 303
    (claim,) = claims(app)
    assert claim.state == "refused" and claim.reason == "房号与证件不符"
    assert claim.document_path is None and not stored.exists()
    assert count(app, HouseholdPerson) == 0
    (sms,) = messages(app, "household.claim_refused")
    assert sms.recipient == "13900139000" and "房号与证件不符" in sms.text
    status = client.get(f"/forms/households/claim/{claim.token}").get_data(as_text=True)
    assert "未通过" in status and "房号与证件不符" in status


def test_a_claim_is_decided_once(app, client, service, as_role):
    file_claim(client)
    (claim,) = claims(app)
    manager = as_role(roles.MANAGER)
    url = f"{QUEUE}{claim.id}"
    # Both open the claim; the first to send wins, the second is refused.
    first = csrf_token_from(service.get(url).get_data(as_text=True))
    second = csrf_token_from(manager.get(url).get_data(as_text=True))
    assert service.post(f"{url}/approve", data={"csrf_token": first}).status_code == 303
    response = manager.post(f"{url}/refuse", data={"csrf_token": second, "reason": "不符"})
    assert response.status_code == 409 and "不能重复处理" in response.get_data(as_text=True)
    again = manager.post(f"{url}/approve", data={"csrf_token": second})
    assert again.status_code == 409
    assert claims(app)[0].state == "approved"
    assert count(app, HouseholdPerson) == 1
    assert len(messages(app, "household.claim_approved")) == 1
    assert not messages(app, "household.claim_refused")


def test_approving_a_mobile_already_registered_with_that_role_is_refused(app, client, service):
    register(app, 3, 1, "1201", "李四", "13900139000", role="family")
    file_claim(client)
    (claim,) = claims(app)
    before = count(app, HouseholdPerson)
    response = decide(service, claim.id, "approve")
    assert response.status_code == 409
    assert "已以家庭成员身份登记" in response.get_data(as_text=True)
    assert claims(app)[0].state == "pending" and count(app, HouseholdPerson) == before
    assert not messages(app, "household.claim_approved")


def test_the_queue_and_role_gates(app, client, service, as_role):
    file_claim(client)
    (claim,) = claims(app)
    html = service.get(QUEUE).get_data(as_text=True)
    assert f"#{claim.id}" in html and "139****9000" in html and "13900139000" not in html
    assert as_role(roles.MANAGER).get(QUEUE).status_code == 200
    for role in (roles.SECURITY, roles.ENGINEERING, roles.CLEANER):
        other = as_role(role)
        assert other.get(QUEUE).status_code == 403
        assert other.get(f"{QUEUE}{claim.id}").status_code == 403
        token = csrf_token_from(other.get("/forms/staff/").get_data(as_text=True))
        assert (
            other.post(f"{QUEUE}{claim.id}/approve", data={"csrf_token": token}).status_code == 403
        )
    assert client.get(QUEUE).status_code == 302  # not logged in: the login page
    assert service.get(f"{QUEUE}999999").status_code == 404
    assert service.get(f"{QUEUE}999999/document").status_code == 404
    assert service.get(f"{QUEUE}{claim.id}/document").status_code == 404  # no photo
    odd = service.get(f"{QUEUE}?state=odd")
    assert odd.status_code == 200 and "请从列表中选择状态" in odd.get_data(as_text=True)
    decided = service.get(f"{QUEUE}?state=approved").get_data(as_text=True)
    assert f"#{claim.id}" not in decided
    with app.test_request_context():
        assert find_room(3, 1, "1201") is not None


OWNER_FIELDS = ("building", "unit", "room", "owner_name", "owner_mobile", "role", "lease_end")
CHOICES = ("building", "unit", "room", "owner_mobile", "role", "lease_end")


@pytest.mark.parametrize("value", [*ODD_TEXT, None, "²", "٣", "9" * 5000, "2027-02-30"])
def test_odd_values_in_every_claim_field_change_nothing(app, client, value, nul_sent_to_database):
    csrf, nonce = form_page(client)
    fields = {"csrf_token": csrf, "nonce": nonce, **VALUES, "role": "tenant"}
    fields["lease_end"] = "2099-01-01"
    plain_text = value in ("²", "٣", "9" * 5000, "2027-02-30")
    for field in (*OWNER_FIELDS, "consent", "nonce"):
        if plain_text and field not in CHOICES:
            continue  # a name may hold any readable text
        if field == "consent" and value not in (None, ""):
            continue  # any value ticks a checkbox
        response = odd_post(client, FORM, fields, field, value)
        assert response.status_code == 400, (field, value)
        if field != "nonce":
            assert_chinese_errors(response.get_data(as_text=True))
    assert count(app, HouseholdClaim) == 0
    assert nul_sent_to_database == []


@pytest.mark.parametrize("value", [*ODD_TEXT, None])
def test_odd_refusal_reasons_change_nothing(app, client, service, value, nul_sent_to_database):
    file_claim(client, photo=True)
    (claim,) = claims(app)
    url = f"{QUEUE}{claim.id}"
    token = csrf_token_from(service.get(url).get_data(as_text=True))
    response = odd_post(service, f"{url}/refuse", {"csrf_token": token}, "reason", value)
    assert response.status_code == 400, repr(value)[:20]
    assert_chinese_errors(response.get_data(as_text=True))
    (claim,) = claims(app)
    assert claim.state == "pending" and claim.document_path
    assert not messages(app, "household.claim_refused")
    assert nul_sent_to_database == []


@pytest.mark.parametrize(
    "value", [*ODD_TEXT, "²", "0001-01-01", "9999-12-31", "2027-02-30", "2020-01-01"]
)
def test_odd_lease_ends_at_approval_change_nothing(
    app, client, service, value, nul_sent_to_database
):
    file_claim(client, role="tenant", lease_end="2099-06-30")
    (claim,) = claims(app)
    url = f"{QUEUE}{claim.id}"
    token = csrf_token_from(service.get(url).get_data(as_text=True))
    response = odd_post(service, f"{url}/approve", {"csrf_token": token}, "lease_end", value)
    if value in ("", "   ", "\u3000", "\u200b", "\x00"):
        # Blank: the lease end the tenant typed.
        assert response.status_code == 303, repr(value)[:20]
        return
    assert response.status_code == 400, repr(value)[:20]
    assert_chinese_errors(response.get_data(as_text=True))
    assert claims(app)[0].state == "pending" and count(app, HouseholdPerson) == 0
    assert not messages(app, "household.claim_approved")
    assert nul_sent_to_database == []
