"""房屋认证: a person not yet in the registry asks to be added to a room (业主, 家庭成员 or 租户),
with an optional photo of a document (房产证, 购房合同, 租赁合同); 客服 or the 经理 approve (the
person is registered through ``registry.add_person``) or refuse with a reason. Either way the
person is told by SMS, and the photo is deleted from disk at the decision.

What is kept, and why, is said on the form the person ticks consent on (``KEPT``): the
name, mobile and relation to the room (a tenant's lease end), to register them once approved;
the photo only until the decision. One pending claim per mobile and room.

The private status link is the claim's ``token``: the one-time nonce of the rendered form,
so the same form sent twice finds the first claim instead of filing a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, update

from ..accounts.audit import request_address
from ..core.clock import today, utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.tokens import is_token
from ..files.store import file_store
from ..files.uploads import EXTENSIONS, CheckedUpload, StoredFiles
from ..notifications.messages import short_reason
from ..notifications.outbox import enqueue, path_for
from ..web.paging import paginate
from .models import (
    CLAIM_APPROVED,
    CLAIM_PENDING,
    CLAIM_REFUSED,
    CLAIM_STATES,
    PERSON_ROLES,
    TENANT,
    HouseholdClaim,
    HouseholdRoom,
)
from .registry import (
    NewPerson,
    RegistryRefused,
    actor_label,
    add_person,
    community_key,
    registered_person,
    room_by_id,
)

RECORD_TYPE = "household_claim"
MAX_REASON = 500
CONTENT_TYPES = {extension: content_type for content_type, extension in EXTENSIONS.items()}

KEPT = (
    ("姓名、手机号", "核实身份、登记为这户的住户；审核结果以短信发到这个手机号。"),
    ("与房屋的关系（业主、家庭成员或租户）及租户的租约到期日", "登记住户身份和有效期。"),
    (
        "证件照片（房产证、购房合同或租赁合同，可不上传）",
        "仅供工作人员核实；审核完成（通过或不通过）后即删除。",
    ),
    ("同意时间", "证明您同意我们为上述用途保存这些信息。"),
)


class ClaimRefused(RegistryRefused):
    """A claim or a decision refused; ``message`` says why, ``field`` which input."""


@dataclass(frozen=True)
class NewClaim:
    room_id: int
    name: str
    mobile: str
    role: str
    lease_end: date | None


def reference(claim: HouseholdClaim) -> str:
    return f"#{claim.id}"


def lease_end_of(claim: HouseholdClaim) -> date | None:
    """The lease end a tenant typed."""
    return claim.lease_end if claim.role == TENANT else None


def find_by_token(token: str) -> HouseholdClaim | None:
    if not is_token(token):
        return None
    return db.session.scalar(
        select(HouseholdClaim).where(
            HouseholdClaim.token == token, HouseholdClaim.community == community_key()
        )
    )


def claim_by_id(claim_id: int) -> HouseholdClaim | None:
    claim = db.session.get(HouseholdClaim, claim_id)
    if claim is None or claim.community != community_key():
        return None
    return claim


def _pending_count(session, room_id: int, mobile: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(HouseholdClaim)
        .where(
            HouseholdClaim.room_id == room_id,
            HouseholdClaim.mobile == mobile,
            HouseholdClaim.state == CLAIM_PENDING,
        )
    )


def file_claim(new: NewClaim, document: CheckedUpload | None, token: str) -> HouseholdClaim:
    """Store a checked claim with its consent time (now) and its document photo, if any.
    Refused while the same mobile has a pending claim on the room."""
    room = room_by_id(new.room_id)
    if room is None:
        raise ClaimRefused("没有找到这户房屋，请从列表中选择。", "room")
    if new.role not in PERSON_ROLES:
        raise ClaimRefused("请选择您与这户房屋的关系。", "role")
    existing = find_by_token(token)
    if existing is not None:
        return existing
    with StoredFiles([document] if document else []) as stored:
        with write_transaction() as session:
            # Locked, so two claims for one room and mobile are checked one after the other.
            session.scalar(
                select(HouseholdRoom.id).where(HouseholdRoom.id == room.id).with_for_update()
            )
            if _pending_count(session, room.id, new.mobile):
                raise ClaimRefused(
                    "这个手机号对这户房屋已有一份待审核的认证申请，请等待审核结果短信，"
                    "不必重复提交。",
                    "owner_mobile",
                )
            now = utcnow()
            claim = HouseholdClaim(
                community=room.community,
                room_id=room.id,
                name=new.name,
                mobile=new.mobile,
                role=new.role,
                document_path=stored.names[0] if stored.names else None,
                consent_at=now,
                token=token,
                address=request_address()[:64],
                lease_end=new.lease_end if new.role == TENANT else None,
                state=CLAIM_PENDING,
                created_at=now,
            )
            session.add(claim)
        stored.keep()
    return claim


# ----- staff ---------------------------------------------------------------------------------


def queue(state: str, page_arg):
    """Claims in a state (pending oldest first, decided newest first), one page."""
    query = select(HouseholdClaim).where(HouseholdClaim.community == community_key())
    if state in CLAIM_STATES:
        query = query.where(HouseholdClaim.state == state)
    if state == CLAIM_PENDING:
        query = query.order_by(HouseholdClaim.created_at, HouseholdClaim.id)
    else:
        query = query.order_by(HouseholdClaim.created_at.desc(), HouseholdClaim.id.desc())
    return paginate(query, page_arg)


def pending_count() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(HouseholdClaim)
        .where(HouseholdClaim.community == community_key(), HouseholdClaim.state == CLAIM_PENDING)
    )


def rooms_of(claims: list[HouseholdClaim]) -> dict[int, HouseholdRoom]:
    ids = sorted({claim.room_id for claim in claims})
    if not ids:
        return {}
    return {
        room.id: room
        for room in db.session.scalars(select(HouseholdRoom).where(HouseholdRoom.id.in_(ids)))
    }


def document_file(claim: HouseholdClaim) -> tuple[str, str] | None:
    """The stored document photo (stored name, content type), or None when none is left."""
    name = claim.document_path
    if not name:
        return None
    content_type = CONTENT_TYPES.get(Path(name).suffix)
    if content_type is None or not file_store().exists(name):
        return None
    return name, content_type


def _take(session, claim_id: int, state: str, reason: str, actor: str) -> None:
    """Take the decision inside ``session``'s transaction: only while the claim waits (two
    staff at once: one wins, the other is refused)."""
    taken = session.execute(
        update(HouseholdClaim)
        .where(HouseholdClaim.id == claim_id, HouseholdClaim.state == CLAIM_PENDING)
        .values(state=state, decided_by=actor, decided_at=utcnow(), reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise ClaimRefused("这份认证申请已被处理，不能重复处理。")


def _finish(session, claim_id: int, kind: str, person_id: int | None, **values) -> str | None:
    """The person's SMS and the end of the document photo's row, in the decision's
    transaction; returns the stored photo's name, to delete once committed."""
    claim = session.get(HouseholdClaim, claim_id)
    session.refresh(claim)
    room = session.get(HouseholdRoom, claim.room_id)
    document = claim.document_path
    claim.document_path = None
    if person_id is not None:
        claim.person_id = person_id
    enqueue(
        session,
        kind,
        record_type=RECORD_TYPE,
        record_id=claim.id,
        reference=reference(claim),
        recipient=claim.mobile,
        link_path=path_for("households_claim.status", token=claim.token),
        room=room.label,
        role=claim.role_label,
        **values,
    )
    return document


def _delete_document(document: str | None) -> None:
    if document:
        file_store().delete(document)


def _decided(claim_id: int) -> ClaimRefused:
    db.session.expire_all()
    claim = db.session.get(HouseholdClaim, claim_id)
    if claim is None or claim.state == CLAIM_PENDING:
        return ClaimRefused("这份认证申请已被处理，不能重复处理。")
    return ClaimRefused(
        f"这份认证申请已由{claim.decided_by}处理（{claim.state_label}），不能重复处理。"
    )


def approve(claim_id: int, lease_end: date | None = None) -> HouseholdClaim:
    """Register the person on the room from today (reason "房屋认证 #id"), tell them, delete
    the photo. Refused when the claim was decided already, or when the mobile is already
    registered on the room with that role."""
    claim = claim_by_id(claim_id)
    if claim is None:
        raise ClaimRefused("没有找到这份认证申请。")
    if claim.state != CLAIM_PENDING:
        raise _decided(claim.id)
    room = room_by_id(claim.room_id)
    if registered_person(room, claim.mobile, (claim.role,)) is not None:
        raise ClaimRefused(
            f"手机号 {claim.mobile} 已以{claim.role_label}身份登记在{room.label}，无需再认证；"
            "请以“已登记”为由不通过。"
        )
    if claim.role == TENANT:
        lease_end = lease_end or lease_end_of(claim)
        if lease_end is None:
            raise ClaimRefused("租户须填写租约到期日（以租赁合同为准）。", "lease_end")
        if lease_end < today():
            raise ClaimRefused("租约已到期，不能登记为租户。", "lease_end")
        if lease_end.year > 2099:
            raise ClaimRefused("请填写正确的租约到期日。", "lease_end")
    note = claim.reason
    actor = actor_label()
    try:
        with write_transaction() as session:
            _take(session, claim.id, CLAIM_APPROVED, note, actor)
    except ClaimRefused:
        raise _decided(claim.id) from None
    try:
        person = add_person(
            claim.room_id,
            NewPerson(
                claim.name,
                claim.mobile,
                claim.role,
                today(),
                lease_end=lease_end if claim.role == TENANT else None,
            ),
            reason=f"房屋认证 {reference(claim)}",
        )
    except RegistryRefused as refused:
        # Not registered after all: the claim waits again, for the next decision.
        with write_transaction() as session:
            session.execute(
                update(HouseholdClaim)
                .where(HouseholdClaim.id == claim.id, HouseholdClaim.state == CLAIM_APPROVED)
                .values(state=CLAIM_PENDING, decided_by=None, decided_at=None, reason=note)
                .execution_options(synchronize_session=False)
            )
        raise ClaimRefused(refused.message, refused.field) from refused
    with write_transaction() as session:
        document = _finish(session, claim.id, "household.claim_approved", person.id)
    _delete_document(document)
    db.session.expire_all()
    return claim_by_id(claim.id)


def refuse(claim_id: int, reason: str) -> HouseholdClaim:
    """Refuse with a reason (required): the person gets it by SMS; the photo is deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise ClaimRefused("请填写不通过的理由（会以短信告知申请人）。", "reason")
    if len(reason) > MAX_REASON:
        raise ClaimRefused(f"理由不能超过{MAX_REASON}个字。", "reason")
    claim = claim_by_id(claim_id)
    if claim is None:
        raise ClaimRefused("没有找到这份认证申请。")
    actor = actor_label()
    try:
        with write_transaction() as session:
            _take(session, claim.id, CLAIM_REFUSED, reason, actor)
            document = _finish(
                session, claim.id, "household.claim_refused", None, reason=short_reason(reason)
            )
    except ClaimRefused:
        raise _decided(claim.id) from None
    _delete_document(document)
    db.session.expire_all()
    return claim_by_id(claim.id)
