"""Kept attachments are bounded per form, per client address and in total (issue 26): one
client sending refused forms over and over cannot fill the disk. Beyond a bound the form says
so in Chinese and keeps nothing more, on disk or in the database."""

from __future__ import annotations

import io

from tests.support.renovation import application_fields

from .test_kept_files import first_try, kept_on, pending_count
from .test_uploads import PDF, PNG


def files_on_disk(stored) -> int:
    return len(list(stored.files()))


def test_a_form_never_keeps_more_than_its_limit_however_often_it_is_sent(app, owner, stored):
    """The client may leave the kept files out of its next try: they still count."""
    hidden = owner.open_form()
    first_try(owner, hidden, *[(PNG, f"图{i}.png") for i in range(5)])
    assert pending_count(app) == 5
    page = first_try(owner, hidden, (PDF, "又一个.pdf"))
    assert "这份表单已暂存 5 个附件，最多 5 个，新选的附件未保存" in page
    assert kept_on(page) == []
    assert pending_count(app) == 5 and files_on_disk(stored) == 5 and stored.count() == 0


def test_one_address_keeps_at_most_its_bytes(app, owner, stored):
    app.config["PENDING_UPLOAD_MAX_BYTES_PER_ADDRESS"] = 2 * len(PNG)
    first_try(owner, owner.open_form(), (PNG, "一.png"), (PNG, "二.png"))
    page = first_try(owner, owner.open_form(), (PNG, "三.png"))
    assert "您所在的网络暂存的附件已达上限，新选的附件未保存" in page
    assert pending_count(app) == 2 and files_on_disk(stored) == 2
    # Another address still keeps its own.
    other = owner.__class__(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    page = first_try(other, other.open_form(), (PNG, "四.png"))
    assert [name for _id, name in kept_on(page)] == ["四.png"]
    assert pending_count(app) == 3


def test_all_kept_files_together_stay_under_the_total(app, owner, stored):
    app.config["PENDING_UPLOAD_MAX_TOTAL_BYTES"] = len(PNG) + len(PDF)
    first_try(owner, owner.open_form(), (PNG, "一.png"), (PDF, "二.pdf"))
    other = owner.__class__(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    page = first_try(other, other.open_form(), (PNG, "三.png"))
    assert "系统暂存的附件已达上限，新选的附件未保存" in page
    assert pending_count(app) == 2 and files_on_disk(stored) == 2
    # The refused owner still files the application, choosing the files again on sending.
    fields = application_fields()
    fields["attachments"] = [(io.BytesIO(PNG), "三.png")]
    assert other.submit(fields).status_code == 303
