"""Every table carries the community key (issue 28: many communities in one deployment).

Tables made before that rule are listed here until each gets its key; the list may only
shrink: a table in it that has the key fails too, so the list stays true. A new table never
goes on it."""

from __future__ import annotations

from forms_app.core.extensions import db

# Tables from before the rule (to be keyed as issue 28 moves each domain over).
NOT_YET_KEYED: set[str] = set()
# Not a community's: the deployment's signing key; a stored file's chunks and a session's
# attendance (their file and their session have the key); what a person read, answered and
# passed (training records belong to the person, wherever they trained).
NEVER_KEYED = {
    # A person's account is the company's: the communities it works in, with a role in each,
    # are its memberships (staff_membership, keyed).
    "staff_user",
    # A login on one host; the community it acts in is the request's (its host).
    "staff_session",
    # Failed logins per account and per address, counted across the deployment: a guesser
    # gains nothing by trying another community's host.
    "staff_login_attempt",
    # Counted requests per address and per room: the deployment's flood limits; a room's
    # budget names its community in its key (accounts/public_posts.py).
    "throttle_hit",
    "cleaning_photo",  # a checked item's photo: its inspection has the key
    "cleaning_result",  # an inspection's checked item: its inspection has the key
    "deployment_secret",
    "notification_attempt",  # a delivery attempt of a message: its notification has the key
    "owner_code_failure",  # a wrong 我的办理 code: locks count across the deployment
    "renovation_attachment",  # an application's drawing: its application has the key
    "renovation_event",  # an application's history step: its application has the key
    "renovation_patrol_photo",  # a photo of a patrol: its patrol has the key
    "service_event",  # a step of a request's history: its request has the key
    "service_photo",  # a request's photo, served only under its request: the request has it
    "stored_file_chunk",
    "training_attendance",
    "training_answer",
    "training_attempt",
    "training_read_mark",
}


def test_every_new_table_carries_the_community_key(app):
    tables = {table.name: table for table in db.metadata.sorted_tables}
    missing = sorted(name for name, table in tables.items() if "community" not in table.c)
    assert not set(missing) - NOT_YET_KEYED - NEVER_KEYED, (
        "tables without a community column (every new table carries it)"
    )
    keyed_now = sorted(NOT_YET_KEYED & {n for n, t in tables.items() if "community" in t.c})
    assert not keyed_now, f"now keyed: take {keyed_now} off NOT_YET_KEYED"
    gone = sorted((NOT_YET_KEYED | NEVER_KEYED) - set(tables))
    assert not gone, f"no such tables any more: {gone}"


def test_one_hook_keeps_every_orm_statement_in_the_requests_community(app):
    """core/community_scope.py: a row of another community is not read, counted or changed by
    any ORM statement; only a statement marked all_communities() sees it."""
    from datetime import date

    from sqlalchemy import func, select, update

    from forms_app.cleaning.models import CleaningInspection
    from forms_app.core.community import community_key
    from forms_app.core.community_scope import all_communities

    def inspection(nonce: str, **extra) -> CleaningInspection:
        fields = dict(inspected_on=date(2026, 12, 1), inspector_name="甲", passed_count=1)
        fields.update(failed_count=0, na_count=0, key_failed_count=0)
        return CleaningInspection(submission_nonce=nonce, **fields, **extra)

    with app.app_context():
        ours, theirs = inspection("ours"), inspection("theirs", community="other")
        db.session.add_all([ours, theirs])
        db.session.commit()
        assert ours.community == community_key() != "other"
        ours_id, theirs_id = ours.id, theirs.id
        db.session.expunge_all()

        listed = db.session.scalars(select(CleaningInspection)).all()
        assert [row.id for row in listed] == [ours_id]
        assert db.session.get(CleaningInspection, theirs_id) is None
        assert db.session.scalar(select(func.count(CleaningInspection.id))) == 1
        changed = db.session.execute(update(CleaningInspection).values(spot="改"))
        assert changed.rowcount == 1
        db.session.commit()

        every = db.session.scalars(all_communities(select(CleaningInspection))).all()
        assert {row.id: row.spot for row in every} == {ours_id: "改", theirs_id: ""}
