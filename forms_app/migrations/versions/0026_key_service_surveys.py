"""Repairs and complaints, surveys, the outbox, kept uploads and the audit log carry the
community key

Revision ID: 0026_key_service_surveys
Revises: 0025_key_renovation_move_in
Create Date: 2026-12-07 17:30:00

Rows written before are the deployment's one community's: the key of the community file the
app runs on is written into them (migrations/community_key.py). The list indexes now lead
with the key (the ones they replace go), and a survey's one invitation per room holds per
community (two communities both have 1-1-101); request references (BX/TS…) stay unique across
the deployment, like renovation's and move-in's. A request's history and photos and a
message's delivery attempts stay keyed through their parent.
"""

from alembic import op

from forms_app.migrations.community_key import add_community_key, drop_community_key

# revision identifiers, used by Alembic.
revision = "0026_key_service_surveys"
down_revision = "0025_key_renovation_move_in"
branch_labels = None
depends_on = None

# table: (new index, its columns after community, the index it replaces or None)
KEYED = {
    "service_request": ("ix_service_request_community", ["state", "due_at"], None),
    "service_follow_up": (
        "ix_service_follow_up_community",
        ["called_at"],
        ("ix_service_follow_up_called", ["called_at"]),
    ),
    "survey_invitation": ("ix_survey_invitation_community", ["survey", "used_on"], None),
    "survey_response": (
        "ix_survey_response_community",
        ["survey", "id"],
        ("ix_survey_response_survey_id", ["survey", "id"]),
    ),
    "survey_answer": (
        "ix_survey_answer_community",
        ["survey", "question_id", "period", "value", "option"],
        ("ix_survey_answer_results", ["survey", "question_id", "period", "value", "option"]),
    ),
    "survey_submission": (
        "ix_survey_submission_community",
        ["survey", "client_hash", "created_at"],
        ("ix_survey_submission_client", ["survey", "client_hash", "created_at"]),
    ),
    # No index of its own: every owner's filing writes two messages, and each index is another
    # page written then (the renovation POST's floor); the outbox pages go by state (the
    # worker's index) and by id.
    "notification": (None, [], None),
    "pending_upload": (
        "ix_pending_upload_community",
        ["form", "nonce"],
        ("ix_pending_upload_form_nonce", ["form", "nonce"]),
    ),
    "audit_log": ("ix_audit_log_community", ["action"], None),
}
# table: (old unique key, its columns, the new one with community first)
UNIQUE = {
    "survey_invitation": (
        "uq_survey_invitation_survey_room",
        ["survey", "building", "unit", "room"],
        "uq_survey_invitation_community_room",
    ),
}


def upgrade():
    for table, (index, columns, replaced) in KEYED.items():
        add_community_key(table, index, columns)
        if replaced is not None:
            op.drop_index(replaced[0], table_name=table)
    # The state index of the requests is led by the key now (ix_service_request_community).
    op.drop_index("ix_service_request_state_due", table_name="service_request")
    for table, (old, columns, new) in UNIQUE.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(old, type_="unique")
            batch_op.create_unique_constraint(new, ["community", *columns])


def downgrade():
    for table, (old, columns, new) in UNIQUE.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(new, type_="unique")
            batch_op.create_unique_constraint(old, columns)
    op.create_index("ix_service_request_state_due", "service_request", ["state", "due_at"])
    for table, (index, _columns, replaced) in reversed(KEYED.items()):
        if replaced is not None:
            op.create_index(replaced[0], table, replaced[1])
        drop_community_key(table, index)
