"""Staff accounts, their server-side sessions, login attempts and the audit log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.community_scope import CommunityOwned
from ..core.extensions import db
from .roles import role_label


class StaffUser(db.Model):
    """A member of staff who logs in to the back office. No account exists by default."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # The name people read (申请页、许可证、记录): "王芳"; the username is only for logging in.
    display_name: Mapped[str] = mapped_column(String(30), default="", server_default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # One per rendered "new account" form: its second POST finds the account the first made.
    creation_nonce: Mapped[str | None] = mapped_column(
        String(64), unique=True, index=True, nullable=True
    )

    # The staff organisation (accounts/organisation.py): the department the account answers in
    # (an id of community.organisation.departments; None: not placed yet), whether it is one of
    # the department's 主管, and a mainland mobile for personal alerts and tap-to-call.
    department: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    mobile: Mapped[str | None] = mapped_column(String(11), nullable=True)

    sessions = relationship("StaffSession", back_populates="user")
    areas = relationship(
        "StaffArea", back_populates="user", cascade="all, delete-orphan", order_by="StaffArea.id"
    )

    @property
    def role_label(self) -> str:
        return role_label(self.role)

    @property
    def name(self) -> str:
        """The display name, or the username for accounts made without one."""
        return self.display_name or self.username


class StaffSession(db.Model):
    """One login. The cookie carries a random token; only its SHA-256 is stored.

    Ending the row (logout, disabled account, new password) makes a copied cookie useless,
    which a signed cookie alone cannot do.
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    address: Mapped[str] = mapped_column(String(64), default="")

    user = relationship("StaffUser", back_populates="sessions")


class LoginAttempt(db.Model):
    """A login attempt, counted in the database so every worker process sees the same count."""

    __tablename__ = "staff_login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(CommunityOwned, db.Model):
    """Who did what and when in a community: logins, state changes, patrols, exports, account
    changes."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_community", "community", "action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    # Kept as text so the entry still reads correctly after an account is renamed or removed.
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class StaffArea(db.Model):
    """An area a 保洁 or 秩序维护 covers: a building, a public area or a car park (by its name
    in the community file)."""

    __tablename__ = "staff_area"
    __table_args__ = (UniqueConstraint("user_id", "area", name="uq_staff_area_user_area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    area: Mapped[str] = mapped_column(String(30))

    user = relationship("StaffUser", back_populates="areas")


class DutyShift(db.Model):
    """One person on duty (值班) for one shift of one day in one department's rota."""

    __tablename__ = "duty_shift"
    __table_args__ = (
        UniqueConstraint(
            "community", "department", "day", "shift", "user_id", name="uq_duty_shift_person"
        ),
        Index("ix_duty_shift_community_day", "community", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    user = relationship("StaffUser")


def actor_label(actor, open_jobs: int | None = None) -> str:
    """How a staff member is named wherever people read or pick them, never by login name
    alone: 姓名（角色）; where work is handed out, with what they hold now:
    姓名（角色，在办 n 单）. Templates use it as the ``person_label`` filter."""
    if open_jobs is None:
        return f"{actor.name}（{actor.role_label}）"
    return f"{actor.name}（{actor.role_label}，在办 {open_jobs} 单）"
