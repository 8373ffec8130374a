"""住户档案 in the back office: find a household (room, name or a mobile's last digits), its page
(一户一档: the room, its people and their history, the changes 客服 make, the whole business in
one timeline), the weekly list of registry changes for the 经理 and the domains' records whose
room the registry does not have."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.permissions import allowed
from ..core.clock import LOCAL_TZ, local_time, today, utcnow
from ..core.extensions import db
from ..web.errors import render_error
from ..web.exports import (
    DATETIME,
    Column,
    Table,
    table_response,
)
from ..web.template_filters import local_minute
from ..web.typed_input import clean_line
from . import forms
from .claims import pending_count
from .keys import handovers_of, keys_of
from .models import (
    HANDOVER_STATES,
    PERSON_ROLES,
    HouseholdChange,
    HouseholdPerson,
    HouseholdRoom,
)
from .records import unmatched_records
from .registry import (
    RegistryRefused,
    community_key,
    end_person,
    people_of,
    room_or_404,
    search,
    set_contacts,
    set_room_facts,
)
from .registry import add_person as registry_add_person
from .registry import transfer as registry_transfer
from .timeline import changes_of, timeline

bp = Blueprint("households_staff", __name__)

MAX_QUERY = 30


@bp.get("/")
@staff_required("households.view")
def index():
    """The search: a room ("3-1-1201", "3号楼1单元1201"), a name, or a mobile's last 4+ digits."""
    query = clean_line(request.args.get("q", ""))[:MAX_QUERY]
    found = search(query) if query else []
    user = current_staff()
    may = {
        "claims": allowed(user.role, "households.claims"),
        "keys_register": allowed(user.role, "households.keys.register"),
        "import_": allowed(user.role, "households.import"),
        "export": allowed(user.role, "households.export"),
    }
    return render_template(
        "households/staff/index.html",
        query=query,
        found=found,
        may_see_changes=allowed(user.role, "households.changes"),
        may=may,
        pending_claims=pending_count() if may["claims"] else 0,
    )


# ----- one household -------------------------------------------------------------------------


def _why_ended(people: list[HouseholdPerson], changes: list[HouseholdChange]) -> dict[int, str]:
    """The reason recorded when each former person's standing ended: their own 迁出, or the
    过户 that brought in the owners who stood from the day they left."""
    ended = {c.person_id: c.reason for c in changes if c.action == "person.end" and c.person_id}
    transfers = {c.person_id: c.reason for c in changes if c.action == "transfer" and c.person_id}
    why = {}
    for person in people:
        if person.end_reason == "transfer":
            successors = [
                p.id
                for p in people
                if p.id in transfers and p.since == person.until and p.id > person.id
            ]
            if successors:
                why[person.id] = transfers[min(successors)]
        elif person.id in ended:
            why[person.id] = ended[person.id]
    return why


def household_page(room: HouseholdRoom, posted: dict | None = None, status: int = 200):
    """The page of one household; ``posted`` holds the form sent back with its errors."""
    user = current_staff()
    day = today()
    people = people_of(room.id)
    current = [p for p in people if not p.ended_by(day)]
    former = sorted(
        (p for p in people if p.ended_by(day)),
        key=lambda p: (p.until or p.lease_end or p.since, p.id),
        reverse=True,
    )
    keys = keys_of(room.id)
    return (
        render_template(
            "households/staff/household.html",
            room=room,
            current=current,
            former=former,
            why=_why_ended(people, changes_of(room.id)),
            entries=timeline(room, people),
            keys=keys,
            handovers=handovers_of([key.id for key in keys]),
            posted=posted or {},
            may_edit=allowed(user.role, "households.edit"),
            may_reveal=allowed(user.role, "households.reveal"),
            today=day,
            roles=PERSON_ROLES,
            handover_states=HANDOVER_STATES,
            end_choices=forms.END_CHOICES,
            transfer_rows=range(1, forms.TRANSFER_ROWS + 1),
        ),
        status,
    )


@bp.get("/<int:room_id>")
@staff_required("households.view")
def household(room_id: int):
    return household_page(room_or_404(room_id))


def _refused(room, name: str, posted: forms.Posted, error: RegistryRefused, renamed=None):
    """The page again with the registry's refusal beside its field (or above the form)."""
    field = (renamed or {}).get(error.field, error.field) if error.field else None
    if field not in posted.values:
        field = "form"
    posted.errors[field] = error.message
    return household_page(room, {name: posted}, 400)


def _done(room: HouseholdRoom, message: str, anchor: str):
    flash(message, "success")
    return redirect(url_for(".household", room_id=room.id) + f"#{anchor}", code=303)


@bp.post("/<int:room_id>/room")
@staff_required("households.edit")
def room_facts(room_id: int):
    """收费面积 and the 交房 state, with the reason."""
    room = room_or_404(room_id)
    posted = forms.room_facts(request.form)
    if not posted.ok:
        return household_page(room, {"room": posted}, 400)
    try:
        set_room_facts(room.id, **posted.data)
    except RegistryRefused as error:
        return _refused(room, "room", posted, error)
    return _done(room, "房屋资料已保存。", "room")


@bp.post("/<int:room_id>/people")
@staff_required("households.edit")
def add_person(room_id: int):
    """Register a 业主, 家庭成员 or 租户."""
    room = room_or_404(room_id)
    posted = forms.person(request.form)
    if not posted.ok:
        return household_page(room, {"person": posted}, 400)
    try:
        added = registry_add_person(room.id, posted.data["person"], posted.data["reason"])
    except RegistryRefused as error:
        return _refused(room, "person", posted, error)
    return _done(room, f"已登记{added.role_label} {added.name}。", "people")


@bp.post("/<int:room_id>/transfer")
@staff_required("households.edit")
def transfer(room_id: int):
    """过户: everyone of the room stops on the date, the new owners stand from it."""
    room = room_or_404(room_id)
    posted = forms.transfer(request.form)
    if not posted.ok:
        return household_page(room, {"transfer": posted}, 400)
    try:
        registry_transfer(room.id, **posted.data)
    except RegistryRefused as error:
        return _refused(room, "transfer", posted, error, {"name": "name_1"})
    return _done(room, "过户已办理。", "people")


def _person_of(room: HouseholdRoom, person_id: int) -> HouseholdPerson:
    person = db.session.get(HouseholdPerson, person_id)
    if person is None or person.room_id != room.id:
        abort(404)
    return person


@bp.post("/<int:room_id>/people/<int:person_id>/end")
@staff_required("households.edit")
def end(room_id: int, person_id: int):
    """迁出 of one person (or a registration made in error)."""
    room = room_or_404(room_id)
    person = _person_of(room, person_id)
    posted = forms.end(request.form)
    name = f"end-{person.id}"
    if not posted.ok:
        return household_page(room, {name: posted}, 400)
    try:
        end_person(person.id, **posted.data)
    except RegistryRefused as error:
        return _refused(room, name, posted, error)
    return _done(room, f"{person.name} 的登记已于 {posted.data['on']} 结束。", "people")


@bp.post("/<int:room_id>/contacts")
@staff_required("households.edit")
def contacts(room_id: int):
    """主要联系人 and 紧急联系人."""
    room = room_or_404(room_id)
    posted = forms.contacts(request.form)
    if not posted.ok:
        return household_page(room, {"contacts": posted}, 400)
    try:
        set_contacts(room.id, posted.data["primary"], posted.data["emergency"])
    except RegistryRefused as error:
        return _refused(room, "contacts", posted, error)
    return _done(room, "联系人已保存。", "people")


@bp.post("/<int:room_id>/people/<int:person_id>/reveal")
@staff_required("households.reveal")
def reveal(room_id: int, person_id: int):
    """A current person's whole mobile as a tap-to-call link; the reveal is audited. A former
    person's mobile is never shown."""
    room = room_or_404(room_id)
    person = _person_of(room, person_id)
    if not person.active_on(today()) or not person.mobile:
        return render_error(403, "只能查看现登记人员的手机号；已迁出或过户的人员号码不再显示。")
    record_audit(
        "households.reveal",
        target=room.code,
        detail=f"{room.label} {person.role_label} {person.name}",
    )
    return render_template("households/staff/call.html", room=room, person=person)


# ----- the week's changes --------------------------------------------------------------------


def _week_arg() -> tuple[date, str | None]:
    """The Monday of the week asked for (default this week) and a message when unreadable."""
    this_week = today() - timedelta(days=today().weekday())
    raw = (request.args.get("week") or "").strip()
    if not raw:
        return this_week, None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return this_week, "周的格式应为 年-月-日（该周任一天，如 2026-05-04）；已显示本周。"
    if not date(1990, 1, 8) <= day <= date(9999, 12, 20):
        return this_week, "日期超出范围；已显示本周。"
    return day - timedelta(days=day.weekday()), None


def _utc(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def _week_changes(monday: date):
    """The week's changes (all rooms), oldest first, each with its room."""
    return db.session.execute(
        select(HouseholdChange, HouseholdRoom)
        .join(HouseholdRoom, HouseholdRoom.id == HouseholdChange.room_id)
        .where(
            HouseholdChange.community == HouseholdRoom.community,
            HouseholdRoom.community == community_key(),
            HouseholdChange.created_at >= _utc(monday),
            HouseholdChange.created_at < _utc(monday + timedelta(days=7)),
        )
        .order_by(HouseholdChange.created_at, HouseholdChange.id)
    ).all()


ACTION_LABELS = {
    "person.add": "登记人员",
    "person.end": "迁出",
    "transfer": "过户",
    "contacts": "联系人",
    "room": "房屋资料",
    "key.add": "钥匙收存",
    "key.out": "钥匙借出",
    "key.back": "钥匙归还",
    "key.returned": "钥匙退还业主",
}


@bp.get("/changes")
@staff_required("households.changes")
def changes():
    """The week's registry changes (Monday to Sunday) for the 经理, with who and why."""
    monday, error = _week_arg()
    return render_template(
        "households/staff/changes.html",
        monday=monday,
        sunday=monday + timedelta(days=6),
        rows=_week_changes(monday),
        error=error,
        previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
        this_week=today() - timedelta(days=today().weekday()),
        action_labels=ACTION_LABELS,
    )


EXPORT_COLUMNS = (
    Column("时间", DATETIME),
    Column("房屋", width=20),
    Column("变更", width=10),
    Column("内容", width=40),
    Column("原因", width=30),
    Column("经办人", width=14),
)


def _export_rows(monday: date):
    for change, room in _week_changes(monday):
        yield (
            local_time(change.created_at).replace(tzinfo=None),
            room.label,
            ACTION_LABELS.get(change.action, change.action),
            change.summary,
            change.reason,
            change.actor_name,
        )


@bp.get("/changes/export.<fmt>")
@staff_required("households.changes")
def export_changes(fmt: str):
    """The week's changes as .xlsx or CSV (UTF-8 with BOM); audited."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    monday, error = _week_arg()
    if error:
        flash("周的日期有误，请修改后再导出。", "error")
        return redirect(url_for(".changes"), code=303)
    sunday = monday + timedelta(days=6)
    described = f"{monday.isoformat()} 至 {sunday.isoformat()}"
    record_audit("export", target="住户档案变更", detail=f"{fmt}；{described}")
    filename = f"住户档案变更-{monday.isoformat()}.{fmt}"
    table = Table("住户档案变更", EXPORT_COLUMNS, _export_rows(monday), described)
    return table_response(fmt, filename, [table], local_minute(utcnow()))


# ----- records whose room is not in the registry ---------------------------------------------


@bp.get("/unmatched")
@staff_required("households.view")
def unmatched():
    """The domains' records (renovation, move-in, repairs, complaints) naming a room the
    registry does not have, so staff can correct the record or the registry."""
    return render_template("households/staff/unmatched.html", records=unmatched_records())
