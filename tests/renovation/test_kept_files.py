"""Attachments kept across errors: files that passed the check are stored against the form's
nonce, shown as already attached, removable, claimed by the submission, and swept after a day
if the form is never sent. A nonce or file id from elsewhere, or a file gone in between,
changes nothing and says so."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from forms_app.core.clock import utcnow
from forms_app.core.extensions import db
from forms_app.files.pending_uploads import PendingUpload
from tests.support.renovation import application_fields

from .test_uploads import PDF, PNG

pytestmark = pytest.mark.one_app_per_module

KEPT = re.compile(
    r'<input type="hidden" name="kept_upload" value="(\d+)">\s*'
    r'<span class="kept-name">([^<]*)</span>'
)


def kept_on(page: str) -> list[tuple[str, str]]:
    """(id, name) of each file the form shows as already attached."""
    return KEPT.findall(page)


def pending_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(PendingUpload.id)))


def first_try(owner, hidden, *files, **overrides):
    """A try with files and an error (no contractor): the page shown back."""
    fields = application_fields(contractor_company="", **overrides)
    fields["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    response = owner.submit(fields, hidden=hidden)
    assert response.status_code == 400
    return response.get_data(as_text=True)


def test_files_survive_an_error_and_go_with_the_application(app, owner, stored):
    hidden = owner.open_form()
    page = first_try(owner, hidden, (PDF, "平面图.pdf"), (PNG, "效果图.png"))
    kept = kept_on(page)
    assert [name for _id, name in kept] == ["平面图.pdf", "效果图.png"]
    assert "您已填写的内容和已附上的附件都已保留" in page
    assert stored.count() == 0 and pending_count(app) == 2

    # The owner fixes the field and sends the form; the kept files come along, no new ones.
    fields = application_fields(kept_upload=[file_id for file_id, _name in kept])
    response = owner.submit(fields, hidden=hidden)
    assert response.status_code == 303
    [application] = stored.applications()
    assert [(a.original_name, a.size) for a in application.attachments] == [
        ("平面图.pdf", len(PDF)),
        ("效果图.png", len(PNG)),
    ]
    assert sorted(f.read_bytes() for f in stored.files()) == sorted([PDF, PNG])
    assert pending_count(app) == 0


def test_new_files_add_to_the_kept_ones_within_the_limit(app, owner, stored):
    hidden = owner.open_form()
    kept = kept_on(first_try(owner, hidden, *[(PNG, f"图{i}.png") for i in range(4)]))
    fields = application_fields(kept_upload=[i for i, _ in kept])
    fields["attachments"] = [(io.BytesIO(PDF), "多一个.pdf"), (io.BytesIO(PDF), "再多一个.pdf")]
    response = owner.submit(fields, hidden=hidden)
    assert response.status_code == 400
    assert "最多上传5个附件（已附上的也算在内）" in response.get_data(as_text=True)
    assert stored.count() == 0 and pending_count(app) == 4

    fields["attachments"] = [(io.BytesIO(PDF), "第五个.pdf")]
    assert owner.submit(fields, hidden=hidden).status_code == 303
    [application] = stored.applications()
    assert [a.original_name for a in application.attachments][-1] == "第五个.pdf"
    assert len(application.attachments) == 5


def test_a_kept_file_can_be_removed(app, owner, stored):
    hidden = owner.open_form()
    kept = kept_on(first_try(owner, hidden, (PDF, "旧图纸.pdf"), (PNG, "效果图.png")))
    fields = application_fields(kept_upload=[i for i, _ in kept], remove_upload=kept[0][0])
    response = owner.submit(fields, hidden=hidden)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "附件已移除。" in page and 'data-open-step="step-files"' in page
    assert [name for _id, name in kept_on(page)] == ["效果图.png"]
    # Removing is not submitting: no error summary, nothing stored, the rest kept as typed.
    assert 'id="form-errors"' not in page and stored.count() == 0
    assert 'value="金陵家装有限公司"' in page
    assert [f.read_bytes() for f in stored.files()] == [PNG]

    response = owner.submit(application_fields(kept_upload=[kept[1][0]]), hidden=hidden)
    assert response.status_code == 303
    [application] = stored.applications()
    assert [a.original_name for a in application.attachments] == ["效果图.png"]


def test_a_file_id_of_another_form_is_refused_and_left_alone(app, owner, stored):
    other = owner.open_form()
    theirs = kept_on(first_try(owner, other, (PDF, "别人的图纸.pdf")))
    mine = owner.open_form()
    response = owner.submit(application_fields(kept_upload=[theirs[0][0]]), hidden=mine)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "有 1 个之前附上的附件已失效" in page
    assert "别人的图纸.pdf" not in page
    assert stored.count() == 0 and pending_count(app) == 1
    # Nor can the other form's file be removed from this one.
    fields = application_fields(remove_upload=theirs[0][0])
    assert "该附件已不在" in owner.submit(fields, hidden=mine).get_data(as_text=True)
    assert pending_count(app) == 1 and [f.read_bytes() for f in stored.files()] == [PDF]


def test_a_file_gone_between_tries_is_explained_and_nothing_is_stored(app, owner, stored):
    hidden = owner.open_form()
    kept = kept_on(first_try(owner, hidden, (PDF, "图纸.pdf"), (PNG, "效果图.png")))
    for path in stored.files():
        if path.read_bytes() == PDF:
            path.unlink()  # removed on disk behind the database's back
    response = owner.submit(application_fields(kept_upload=[i for i, _ in kept]), hidden=hidden)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "有 1 个之前附上的附件已失效" in page
    assert [name for _id, name in kept_on(page)] == ["效果图.png"]
    assert stored.count() == 0


def test_odd_kept_and_remove_values_change_nothing(app, owner, stored):
    hidden = owner.open_form()
    kept = kept_on(first_try(owner, hidden, (PDF, "图纸.pdf")))
    for odd in ("", "x", "-1", "9" * 30, "١", "\x00"):
        response = owner.submit(application_fields(kept_upload=[odd]), hidden=hidden)
        assert response.status_code == 400, odd
        assert "之前附上的附件已失效" in response.get_data(as_text=True)
        response = owner.submit(application_fields(remove_upload=odd), hidden=hidden)
        assert response.status_code == 200, odd
    assert stored.count() == 0 and pending_count(app) == 1
    assert (
        owner.submit(application_fields(kept_upload=[kept[0][0]]), hidden=hidden).status_code == 303
    )


def age_pending(app, hours: int) -> None:
    with app.app_context():
        db.session.execute(
            update(PendingUpload).values(created_at=utcnow() - timedelta(hours=hours))
        )
        db.session.commit()


def test_sweep_command_removes_files_kept_longer_than_a_day(app, owner, stored, runner):
    hidden = owner.open_form()
    first_try(owner, hidden, (PDF, "放弃的图纸.pdf"))
    age_pending(app, 25)
    first_try(owner, owner.open_form(), (PNG, "刚传的.png"))
    result = runner.invoke(args=["sweep-uploads"])
    assert result.exit_code == 0
    assert "已清除 1 个超过 24 小时未提交的暂存附件" in result.output
    assert [f.read_bytes() for f in stored.files()] == [PNG]
    assert pending_count(app) == 1


def test_a_submission_sweeps_old_kept_files_and_its_own_leftovers(app, owner, stored):
    abandoned = owner.open_form()
    first_try(owner, abandoned, (PDF, "放弃的图纸.pdf"))
    age_pending(app, 30)
    hidden = owner.open_form()
    kept = kept_on(first_try(owner, hidden, (PNG, "要的.png"), (PNG, "不要的.png"), room="102"))
    # Sent without naming the second file (a page changed by hand): it goes with the rest.
    response = owner.submit(application_fields(room="102", kept_upload=[kept[0][0]]), hidden=hidden)
    assert response.status_code == 303
    [application] = stored.applications()
    assert [a.original_name for a in application.attachments] == ["要的.png"]
    assert pending_count(app) == 0
    assert [f.name for f in stored.files()] == [application.attachments[0].stored_name]


def test_a_swept_file_is_explained_when_the_form_comes_back(app, owner, stored, runner):
    hidden = owner.open_form()
    kept = kept_on(first_try(owner, hidden, (PDF, "图纸.pdf")))
    age_pending(app, 48)
    assert runner.invoke(args=["sweep-uploads"]).exit_code == 0
    response = owner.submit(application_fields(kept_upload=[kept[0][0]]), hidden=hidden)
    assert response.status_code == 400
    assert "请重新选择这些附件" in response.get_data(as_text=True)
    assert stored.count() == 0 and stored.files() == []


def test_the_form_page_names_its_steps_and_links_errors_to_fields(owner):
    page = first_try(owner, owner.open_form())
    steps = re.findall(r'<section class="card form-step" id="([\w-]+)" data-title="([^"]+)">', page)
    assert [title for _anchor, title in steps] == [
        "房屋与业主",
        "施工方与工期",
        "装修内容",
        "附件与服务",
        "阅读并确认",
    ]
    # The error opens its step and the summary links to the field.
    assert 'data-open-step="step-works"' in page
    assert '<a href="#contractor_company" data-error-link>装修公司：' in page
    assert re.search(r'<li data-for="step-works" class="has-error">', page)
