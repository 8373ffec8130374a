"""Survey responses (one row per answer), invitations and the submission log.

Revision ID: 0004_surveys
Revises: 0003_staff
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_surveys"
down_revision = "0003_staff"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "survey_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("building", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.Column("used_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitation")),
        sa.UniqueConstraint(
            "survey", "building", "unit", "room", name="uq_survey_invitation_survey_room"
        ),
        sa.UniqueConstraint("token", name=op.f("uq_survey_invitation_token")),
    )
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("building", sa.Integer(), nullable=True),
        sa.Column("unit", sa.Integer(), nullable=True),
        sa.Column("room", sa.String(length=8), nullable=True),
        sa.Column("respondent_name", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["survey_invitation.id"],
            name=op.f("fk_survey_response_invitation_id_survey_invitation"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_response")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_response_invitation_id")),
        sa.UniqueConstraint("nonce", name=op.f("uq_survey_response_nonce")),
    )
    op.create_index("ix_survey_response_survey_id", "survey_response", ["survey", "id"])
    op.create_table(
        "survey_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("question_id", sa.String(length=41), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("option", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_response.id"],
            name=op.f("fk_survey_answer_response_id_survey_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answer")),
    )
    op.create_index("ix_survey_answer_response_id", "survey_answer", ["response_id"])
    op.create_index(
        "ix_survey_answer_results",
        "survey_answer",
        ["survey", "question_id", "period", "value", "option"],
    )
    op.create_index(
        "ix_survey_answer_question_id", "survey_answer", ["survey", "question_id", "id"]
    )
    op.create_table(
        "survey_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=40), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_submission")),
    )
    op.create_index(
        "ix_survey_submission_client", "survey_submission", ["survey", "client_hash", "created_at"]
    )
    op.create_index("ix_survey_submission_created_at", "survey_submission", ["created_at"])


def downgrade():
    op.drop_index("ix_survey_submission_created_at", table_name="survey_submission")
    op.drop_index("ix_survey_submission_client", table_name="survey_submission")
    op.drop_table("survey_submission")
    op.drop_index("ix_survey_answer_question_id", table_name="survey_answer")
    op.drop_index("ix_survey_answer_results", table_name="survey_answer")
    op.drop_index("ix_survey_answer_response_id", table_name="survey_answer")
    op.drop_table("survey_answer")
    op.drop_index("ix_survey_response_survey_id", table_name="survey_response")
    op.drop_table("survey_response")
    op.drop_table("survey_invitation")
