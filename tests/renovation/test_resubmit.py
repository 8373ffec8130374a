"""After 驳回: the owner opens 修改后重新提交 from the status page with everything filled in
and the attachments attached; the new application links to the rejected one. Only a
rejected application, only once; a made-up or mismatched link changes nothing."""

from __future__ import annotations

import io
import re

import pytest

from tests.renovation.conftest import move_to
from tests.support.renovation import APPLY_URL, REFERENCE, application_fields, nonce_from

from .test_kept_files import kept_on
from .test_uploads import PDF

pytestmark = pytest.mark.one_app_per_module

RESUBMIT_LINK = re.compile(r'id="resubmit-link" href="([^"]+)"')


def file_and_reject(owner, reason="缺少施工图纸，请补充水电改造图。"):
    fields = application_fields(
        building=3,
        unit=2,
        room="1502",
        workers="8",
        work_items=["plumbing_electric", "other"],
        description="改厨房水路。",
        wants_extinguisher="y",
    )
    fields["attachments"] = [(io.BytesIO(PDF), "原平面图.pdf")]
    page, status_url = owner.submit_ok(fields)
    reference = REFERENCE.search(page).group()
    move_to(owner.client.application, reference, ("rejected", reason))
    return reference, status_url


def open_resubmission(owner, status_url):
    page = owner.client.get(status_url).get_data(as_text=True)
    link = RESUBMIT_LINK.search(page)
    assert link, "no 修改后重新提交 on the status page"
    response = owner.client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def form_fields(page: str) -> dict:
    """What the browser would send back from the filled-in form, as it stands."""
    fields = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
        "nonce": nonce_from(page),
        "previous": re.search(
            r'id="previous" name="previous" type="hidden" value="([^"]+)"', page
        ).group(1),
    }
    for name, value in re.findall(
        r'<input[^>]* name="(\w+)"[^>]* type="text" value="([^"]*)"', page
    ):
        fields[name] = value
    for name, value in re.findall(
        r'<input[^>]* name="(\w+)"[^>]* type="(?:date|number|tel)" value="([^"]*)"', page
    ):
        fields[name] = value
    for name, value in re.findall(
        r'<input checked[^>]* name="(\w+)" type="checkbox" value="([^"]*)"', page
    ):
        fields.setdefault(name, [])
        fields[name] = [*fields[name], value] if name == "work_items" else value
    for name in ("building", "unit", "room"):
        fields[name] = re.search(
            rf'<select[^>]*name="{name}"[^>]*>.*?<option selected value="([^"]*)"', page, re.S
        ).group(1)
    fields["description"] = (
        re.search(r'<textarea[^>]*name="description"[^>]*>\s*([^<]*)</textarea>', page)
        .group(1)
        .strip()
    )
    fields["includes_prohibited"] = re.search(
        r'value="(\w+)" id="includes_prohibited-\w+"\s*checked', page
    ).group(1)
    fields["kept_upload"] = [file_id for file_id, _name in kept_on(page)]
    return fields


def test_rejected_application_comes_back_filled_in_and_links_to_the_new_one(app, owner, stored):
    reference, status_url = file_and_reject(owner)
    page = open_resubmission(owner, status_url)
    assert f"这是对已驳回申请 <strong>{reference}</strong> 的修改后重新提交" in page
    assert "缺少施工图纸，请补充水电改造图。" in page
    fields = form_fields(page)
    assert (fields["building"], fields["unit"], fields["room"]) == ("3", "2", "1502")
    assert fields["workers"] == "8" and fields["description"] == "改厨房水路。"
    assert fields["work_items"] == ["plumbing_electric", "other"]
    assert fields["wants_extinguisher"] == "y" and fields["includes_prohibited"] == "no"
    assert [name for _id, name in kept_on(page)] == ["原平面图.pdf"]

    # The owner ticks the agreements again, adds the drawing asked for and sends it.
    fields.update(
        ack_agreement="y",
        ack_fire_safety="y",
        ack_prohibitions="y",
        attachments=[(io.BytesIO(PDF), "水电改造图.pdf")],
    )
    response = owner.client.post(APPLY_URL, data=fields, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    new_page = owner.client.get(response.location).get_data(as_text=True)
    assert f"本申请是对已驳回申请 {reference} 的修改后重新提交" in new_page
    assert "驳回后修改并重新提交装修申请" in new_page

    old, new = stored.applications()
    assert new.previous_id == old.id and new.state == "pending"
    assert [a.original_name for a in new.attachments] == ["原平面图.pdf", "水电改造图.pdf"]
    # The old application keeps its own attachment file; the new one has a copy.
    assert old.attachments[0].stored_name != new.attachments[0].stored_name
    assert len(stored.files()) == 3
    old_page = owner.client.get(status_url).get_data(as_text=True)
    assert f"新申请编号 <strong>{new.reference}</strong>" in old_page
    assert 'id="resubmit-link"' not in old_page
    # Opening the old link again leads back to the old status page, not to a second copy.
    again = owner.client.get(f"{APPLY_URL}?from={status_url.rsplit('/', 1)[1]}")
    assert again.status_code == 303 and again.location == status_url


def test_a_second_resubmission_of_the_same_rejection_is_refused(app, owner, stored):
    _reference, status_url = file_and_reject(owner)
    first = form_fields(open_resubmission(owner, status_url))
    second = form_fields(open_resubmission(owner, status_url))
    for fields in (first, second):
        fields.update(ack_agreement="y", ack_fire_safety="y", ack_prohibitions="y")
    assert (
        owner.client.post(APPLY_URL, data=first, content_type="multipart/form-data").status_code
        == 303
    )
    response = owner.client.post(APPLY_URL, data=second, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "原申请已经修改后重新提交过，不能再次提交" in response.get_data(as_text=True)
    assert stored.count() == 2


def test_only_a_rejected_application_can_be_resubmitted(app, owner, stored):
    _page, status_url = owner.submit_ok()
    token = status_url.rsplit("/", 1)[1]
    assert 'id="resubmit-link"' not in owner.client.get(status_url).get_data(as_text=True)
    response = owner.client.get(f"{APPLY_URL}?from={token}")
    assert response.status_code == 409
    assert "只有被驳回的申请才能修改后重新提交；该申请当前状态为「待审核」" in response.get_data(
        as_text=True
    )

    # A form posted with the token of an application that is not rejected stores nothing.
    response = owner.submit(application_fields(room="102", previous=token))
    assert response.status_code == 400
    assert "只有被驳回的申请才能修改后重新提交" in response.get_data(as_text=True)
    assert stored.count() == 1


def test_made_up_previous_links_change_nothing(app, owner, stored, nul_sent_to_database):
    for odd in ("x" * 40, "\x00" * 20, "short", "'; drop table x; --" * 3):
        response = owner.submit(application_fields(previous=odd))
        assert response.status_code == 400, odd
        assert "原申请" in response.get_data(as_text=True)
        assert owner.client.get(APPLY_URL, query_string={"from": odd}).status_code == 404
    assert stored.count() == 0
    assert nul_sent_to_database == []


def test_staff_see_both_ends_of_the_link(app, owner, stored, as_role):
    _reference, status_url = file_and_reject(owner)
    fields = form_fields(open_resubmission(owner, status_url))
    fields.update(ack_agreement="y", ack_fire_safety="y", ack_prohibitions="y")
    owner.client.post(APPLY_URL, data=fields, content_type="multipart/form-data")
    old, new = stored.applications()
    staff = as_role("service")
    page = staff.get(f"/forms/staff/renovations/{new.id}").get_data(as_text=True)
    assert f">{old.reference}</a>，驳回理由：缺少施工图纸" in page
    page = staff.get(f"/forms/staff/renovations/{old.id}").get_data(as_text=True)
    assert (
        f'业主已修改后重新提交：<a href="/forms/staff/renovations/{new.id}">{new.reference}</a>'
        in page
    )
