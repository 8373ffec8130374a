"""Staff training (员工培训): read marks, quiz attempts and answers, training sessions and
attendance; staff accounts get a display name and the nonce of the web form that made them.

Renamed from 0007_training.py so that file names sort in run order. The revision id keeps its
old number (0007_training) so that databases already stamped with it stay on their chain.

Revision ID: 0007_training
Revises: 0008_service_requests
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_training"
down_revision = "0008_service_requests"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN and a unique index: no table rebuild of staff_user, which others reference.
    op.add_column(
        "staff_user",
        sa.Column("display_name", sa.String(length=30), nullable=False, server_default=""),
    )
    op.add_column("staff_user", sa.Column("creation_nonce", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_staff_user_creation_nonce"), "staff_user", ["creation_nonce"], unique=True
    )
    op.create_table(
        "training_read_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_user.id"],
            name=op.f("fk_training_read_mark_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_read_mark")),
        sa.UniqueConstraint("user_id", "section_key", name="uq_training_read_mark_user_section"),
    )
    op.create_table(
        "training_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=60), nullable=False),
        sa.Column("quiz_title", sa.String(length=100), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_user.id"],
            name=op.f("fk_training_attempt_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attempt")),
        sa.UniqueConstraint("submission_nonce", name=op.f("uq_training_attempt_submission_nonce")),
    )
    op.create_index("ix_training_attempt_user_quiz", "training_attempt", ["user_id", "quiz_id"])
    op.create_table(
        "training_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=60), nullable=False),
        sa.Column("question_text", sa.Text(), nullable=False),
        sa.Column("chosen", sa.Text(), nullable=False),
        sa.Column("right_answer", sa.Text(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("section_key", sa.String(length=200), nullable=False),
        sa.Column("section_title", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["training_attempt.id"],
            name=op.f("fk_training_answer_attempt_id_training_attempt"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_answer")),
        sa.UniqueConstraint(
            "attempt_id", "question_id", name="uq_training_answer_attempt_question"
        ),
    )
    op.create_table(
        "training_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("trainer_id", sa.Integer(), nullable=True),
        sa.Column("trainer_name", sa.String(length=100), nullable=False),
        sa.Column("section_keys", sa.Text(), nullable=False),
        sa.Column("section_titles", sa.Text(), nullable=False),
        sa.Column("quiz_id", sa.String(length=60), nullable=True),
        sa.Column("quiz_title", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trainer_id"],
            ["staff_user.id"],
            name=op.f("fk_training_session_trainer_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_user.id"],
            name=op.f("fk_training_session_recorded_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_session")),
        sa.UniqueConstraint("submission_nonce", name=op.f("uq_training_session_submission_nonce")),
    )
    op.create_index("ix_training_session_held_on", "training_session", ["held_on", "id"])
    op.create_table(
        "training_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_session.id"],
            name=op.f("fk_training_attendance_session_id_training_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_user.id"],
            name=op.f("fk_training_attendance_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attendance")),
        sa.UniqueConstraint("session_id", "user_id", name="uq_training_attendance_session_user"),
    )
    op.create_index("ix_training_attendance_user", "training_attendance", ["user_id"])


def downgrade():
    op.drop_index("ix_training_attendance_user", table_name="training_attendance")
    op.drop_table("training_attendance")
    op.drop_index("ix_training_session_held_on", table_name="training_session")
    op.drop_table("training_session")
    op.drop_table("training_answer")
    op.drop_index("ix_training_attempt_user_quiz", table_name="training_attempt")
    op.drop_table("training_attempt")
    op.drop_table("training_read_mark")
    op.drop_index(op.f("ix_staff_user_creation_nonce"), table_name="staff_user")
    # SQLite (3.35+) and PostgreSQL both drop a plain column in place.
    op.drop_column("staff_user", "creation_nonce")
    op.drop_column("staff_user", "display_name")
