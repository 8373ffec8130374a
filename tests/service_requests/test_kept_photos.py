"""Owner repair and complaint forms keep the photos of a refused try on the server (as the
renovation form keeps its attachments): listed as attached, removable, claimed on filing."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from forms_app.core.extensions import db
from forms_app.files.pending_uploads import PendingUpload
from forms_app.files.uploads import upload_dir
from forms_app.service_requests.models import ServicePhoto

from .conftest import COMPLAINT_URL, JPEG, PNG, REPAIR_URL, complaint_fields, repair_fields

pytestmark = pytest.mark.one_app_per_module

KEPT = re.compile(r'name="kept_upload" value="(\d+)"')


def pending_rows(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (row.form, row.original_name)
            for row in db.session.scalars(select(PendingUpload).order_by(PendingUpload.id))
        ]


@pytest.mark.parametrize(
    ("url", "fields", "form_name"),
    [
        (REPAIR_URL, repair_fields(description=""), "service_repair"),
        (COMPLAINT_URL, complaint_fields(wish=""), "service_complaint"),
    ],
)
def test_photos_of_a_refused_try_are_kept_and_filed_with_the_request(
    owner, stored, app, url, fields, form_name
):
    hidden = owner.open_form(url)
    photos = [(io.BytesIO(JPEG), "漏水.jpg"), (io.BytesIO(PNG), "水渍.png")]
    refused = owner.submit(url, fields, hidden=hidden, files=photos)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "您已填写的内容和已附上的照片都已保留" in page
    assert "漏水.jpg" in page and "水渍.png" in page and 'id="kept-files"' in page
    ids = KEPT.findall(page)
    assert len(ids) == 2 and stored.count() == 0
    assert pending_rows(app) == [(form_name, "漏水.jpg"), (form_name, "水渍.png")]

    # Remove one, then send the corrected form without choosing photos again.
    removed = owner.client.post(
        url,
        data={**hidden, **fields, "kept_upload": ids, "remove_upload": ids[1]},
        content_type="multipart/form-data",
    )
    assert removed.status_code == 200
    assert KEPT.findall(removed.get_data(as_text=True)) == ids[:1]
    good = repair_fields() if url == REPAIR_URL else complaint_fields()
    response = owner.client.post(
        url, data={**hidden, **good, "kept_upload": ids[:1]}, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    item = stored.request()
    with app.app_context():
        names = db.session.scalars(
            select(ServicePhoto.stored_name).where(ServicePhoto.request_id == item.id)
        ).all()
        assert len(names) == 1 and (upload_dir() / names[0]).read_bytes() == JPEG
    assert [p.original_name for p in item.photos] == ["漏水.jpg"]
    assert pending_rows(app) == []


def test_a_kept_photo_that_is_gone_is_named_and_nothing_is_filed(owner, stored, app):
    hidden = owner.open_form()
    response = owner.client.post(
        REPAIR_URL,
        data={**hidden, **repair_fields(), "kept_upload": ["999999", "x"]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "有 2 张之前附上的照片已失效" in response.get_data(as_text=True)
    assert stored.count() == 0


def test_another_forms_kept_photos_are_not_taken(owner, stored, app):
    first = owner.open_form()
    refused = owner.submit(
        REPAIR_URL,
        repair_fields(description=""),
        hidden=first,
        files=[(io.BytesIO(JPEG), "a.jpg")],
    )
    [kept_id] = KEPT.findall(refused.get_data(as_text=True))
    second = owner.open_form()
    response = owner.client.post(
        REPAIR_URL,
        data={**second, **repair_fields(), "kept_upload": [kept_id]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and stored.count() == 0
    assert len(pending_rows(app)) == 1


def test_a_kept_photo_of_another_community_is_not_shown_taken_or_removed(owner, stored, app):
    """Issue 28: a kept photo belongs to the community whose form kept it; the same form's
    nonce and id here neither list, file, remove nor (through the plain DELETEs of the
    filing path) claim or sweep it."""
    from sqlalchemy import update

    from forms_app.core.community_scope import all_communities
    from forms_app.core.database import write_transaction
    from forms_app.files import pending_uploads

    hidden = owner.open_form()
    refused = owner.submit(
        REPAIR_URL,
        repair_fields(description=""),
        hidden=hidden,
        files=[(io.BytesIO(JPEG), "a.jpg")],
    )
    [kept_id] = KEPT.findall(refused.get_data(as_text=True))
    stored.execute(update(PendingUpload.__table__).values(community="other"))
    fields = {**hidden, **repair_fields(), "kept_upload": [kept_id]}
    removed = owner.client.post(
        REPAIR_URL, data={**fields, "remove_upload": kept_id}, content_type="multipart/form-data"
    )
    assert "a.jpg" not in removed.get_data(as_text=True)
    response = owner.client.post(REPAIR_URL, data=fields, content_type="multipart/form-data")
    assert response.status_code == 400 and stored.count() == 0
    assert "有 1 张之前附上的照片已失效" in response.get_data(as_text=True)
    with app.test_request_context():
        with pytest.raises(pending_uploads.PendingUploadGone):
            with write_transaction() as session:
                pending_uploads.claim(session, "service_repair", hidden["nonce"], [int(kept_id)])
        with write_transaction() as session:
            assert pending_uploads.expire(session, "service_repair", hidden["nonce"]) == []
        every = db.session.scalars(all_communities(select(PendingUpload.original_name))).all()
    assert every == ["a.jpg"] and pending_rows(app) == []
