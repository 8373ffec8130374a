"""Staff accounts, their memberships of communities, their server-side sessions, login attempts
and the audit log.

An account (a person: login, password, name, mobile) works in one or more communities, with a
role, a department and perhaps a 主管 post in each: one ``StaffMembership`` per community. The
account's ``role``, ``department`` and ``is_head`` are those of the community the code runs in
(``core.community.community_key``: the request's host, or ``acting_in``), read from its
memberships - in Python (``user.role``) and in SQL (``StaffUser.role.in_(...)``, a correlated
subquery) alike - so every permission check, picker and list of the back office is the
community's without saying so. An account with no membership in the community has no role
there (None): ``access.staff_required`` keeps it out and no list of the community names it.
A company role (品质部) is the account's own ``company_role`` and holds in every community.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from flask import has_app_context
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    exists,
    false,
    func,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..core.clock import utcnow
from ..core.community import community_key
from ..core.community_scope import ALL_COMMUNITIES, CommunityOwned
from ..core.extensions import db
from .roles import COMPANY_ROLES, role_label


class NotAMember(LookupError):
    """A department or 主管 post set for an account that has no role in the community."""


class StaffMembership(db.Model):
    """An account's place in one community: its role there, its department and whether it is
    one of the department's 主管 (the organisation is each community's).

    Keyed like every table, but read across communities on purpose (not ``CommunityOwned``,
    and every ORM read of it ``all_communities``, around PostgreSQL's wall too: see
    ``_memberships_are_the_accounts``): an account's memberships are loaded with it, all of
    them, so that its role is right in whichever community the code acts (``acting_in``) and
    a refusal can say where it does work. Every query of this table names its community
    itself (``_here``, ``is_member``, memberships.py)."""

    __tablename__ = "staff_membership"
    __table_args__ = (
        UniqueConstraint("staff_id", "community", name="uq_staff_membership_staff_community"),
        Index("ix_staff_membership_community", "community", "role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32), default=community_key)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(32), nullable=True)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user = relationship("StaffUser", back_populates="memberships")


def _here(column) -> ColumnElement:
    """SQL: ``column`` of the account's membership in the community this runs in (NULL when
    it has none), correlated to the ``staff_user`` row of the enclosing statement."""
    return (
        select(column)
        .where(
            StaffMembership.staff_id == StaffUser.id,
            StaffMembership.community == community_key(),
        )
        .correlate_except(StaffMembership)
        .scalar_subquery()
    )


class StaffUser(db.Model):
    """A member of staff who logs in to the back office. No account exists by default."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # The name people read (申请页、许可证、记录): "王芳"; the username is only for logging in.
    display_name: Mapped[str] = mapped_column(String(30), default="", server_default="")
    # A company role (品质部), held in every community; None for community staff, whose roles
    # are their memberships'.
    company_role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # One per rendered "new account" form: its second POST finds the account the first made.
    creation_nonce: Mapped[str | None] = mapped_column(
        String(64), unique=True, index=True, nullable=True
    )
    # A mainland mobile for personal alerts and tap-to-call (the person's, in every community).
    mobile: Mapped[str | None] = mapped_column(String(11), nullable=True)

    sessions = relationship("StaffSession", back_populates="user")
    # Every community's; ``areas`` are this community's.
    all_areas = relationship(
        "StaffArea", back_populates="user", cascade="all, delete-orphan", order_by="StaffArea.id"
    )
    # Every community's, loaded with the account (one query for a whole list of accounts).
    memberships = relationship(
        "StaffMembership",
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="StaffMembership.id",
    )

    def membership(self, community: str | None = None) -> StaffMembership | None:
        """The account's membership of ``community`` (default: the one this runs in; outside
        an application context - a detached account a script reads on - the one it was read
        in)."""
        key = community or (community_key() if has_app_context() else self.__dict__.get("_read_in"))
        return next((m for m in self.memberships if m.community == key), None)

    def _membership_here(self) -> StaffMembership:
        found = self.membership()
        if found is None:
            raise NotAMember(f"{self.username} has no role in {community_key()}")
        return found

    # The role that counts, and the staff organisation (accounts/organisation.py): each
    # community's. The department the account answers in there (an id of
    # community.organisation.departments; None: not placed yet), and whether it is one of the
    # department's 主管.
    @hybrid_property
    def role(self) -> str | None:
        """The company role, else the role in this community; None: no role here."""
        if self.company_role:
            return self.company_role
        found = self.membership()
        return found.role if found else None

    @role.inplace.setter
    def _role_setter(self, value: str) -> None:
        """Give the account ``value`` here (a company role: everywhere)."""
        if value in COMPANY_ROLES:
            self.company_role = value
            return
        found = self.membership()
        if found is None:
            self.memberships.append(StaffMembership(community=community_key(), role=value))
        else:
            found.role = value

    @role.inplace.expression
    @classmethod
    def _role_expression(cls) -> ColumnElement:
        return func.coalesce(cls.company_role, _here(StaffMembership.role))

    @hybrid_property
    def department(self) -> str | None:
        found = self.membership()
        return found.department if found else None

    @department.inplace.setter
    def _department_setter(self, value: str | None) -> None:
        self._membership_here().department = value

    @department.inplace.expression
    @classmethod
    def _department_expression(cls) -> ColumnElement:
        return _here(StaffMembership.department)

    @hybrid_property
    def is_head(self) -> bool:
        found = self.membership()
        return bool(found and found.is_head)

    @is_head.inplace.setter
    def _is_head_setter(self, value: bool) -> None:
        self._membership_here().is_head = bool(value)

    @is_head.inplace.expression
    @classmethod
    def _is_head_expression(cls) -> ColumnElement:
        return func.coalesce(_here(StaffMembership.is_head), false())

    @classmethod
    def is_member(cls, communities: Sequence[str] | None = None) -> ColumnElement:
        """SQL: the account is a member of the community this runs in (or of one of
        ``communities``, keys): the condition of every list of the community's people
        (organisation, pickers, rota, training, accounts; the company's figures)."""
        where = (
            StaffMembership.community == community_key()
            if communities is None
            else StaffMembership.community.in_(list(communities))
        )
        return exists().where(StaffMembership.staff_id == cls.id, where)

    @property
    def areas(self) -> list[StaffArea]:
        """The areas the account covers in this community."""
        key = community_key()
        return [a for a in self.all_areas if a.community == key]

    @areas.setter
    def areas(self, areas: list[StaffArea]) -> None:
        """Replace this community's areas (the other communities' stay)."""
        key = community_key()
        self.all_areas = [a for a in self.all_areas if a.community != key] + list(areas)

    @property
    def role_label(self) -> str:
        return role_label(self.role)

    @property
    def name(self) -> str:
        """The display name, or the username for accounts made without one."""
        return self.display_name or self.username


@event.listens_for(Session, "do_orm_execute")
def _memberships_are_the_accounts(state) -> None:
    """An ORM read of ``staff_membership`` (an account's memberships loading with it, a count
    of a community's 经理) reads every community's rows: an account's places are the
    account's, like the account itself (``staff_user`` is no community's). The queries that
    mean one community say so in their own conditions. A statement that only refers to the
    table in a subquery (``StaffUser.role``, ``is_member``) stays inside the wall of the
    community it runs in, which is the one its condition names."""
    if state.is_select and _selects_memberships(state):
        state.update_execution_options(**{ALL_COMMUNITIES: True})


def _selects_memberships(state) -> bool:
    """Whether ``staff_membership`` is among the entities the statement's rows are made of:
    ``any(m.class_ is StaffMembership for m in state.all_mappers)``, without building
    ``column_descriptions`` for every statement the app runs (that cost more than a simple
    statement's own execution). A selected ORM entity or attribute carries its mapper as the
    ``parententity`` annotation; any other statement asks ``all_mappers``."""
    if state.bind_mapper is _MEMBERSHIP_MAPPER:
        return True
    columns = getattr(state.statement, "_raw_columns", None)
    if columns is None:
        return any(m.class_ is StaffMembership for m in state.all_mappers)
    for column in columns:
        entity = column._annotations.get("parententity")
        if entity is not None and entity.mapper is _MEMBERSHIP_MAPPER:
            return True
    return False


_MEMBERSHIP_MAPPER = StaffMembership.__mapper__


@event.listens_for(StaffUser, "load")
def _remember_community(user: StaffUser, _context) -> None:
    user.__dict__["_read_in"] = community_key()


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
    # One row per person, community and area (a person working in two communities may cover
    # an area of the same name in each).
    __table_args__ = (
        UniqueConstraint("user_id", "community", "area", name="uq_staff_area_user_area"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    area: Mapped[str] = mapped_column(String(30))

    user = relationship("StaffUser", back_populates="all_areas")


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
