"""The staff organisation in the back office: every department with its 主管 and members (and
their mobiles to call), the 经理's placement of an account (department, 主管, mobile, areas),
and the organisation's export."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..core.clock import today
from ..core.community import current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..web.exports import YES_NO, Column, Table, table_csv_response, xlsx_tables_response
from ..web.template_filters import mask_mobile
from .access import current_staff, staff_required
from .audit import record_audit
from .blueprint import bp
from .models import StaffArea, StaffUser
from .organisation import (
    PlacementRefused,
    check_areas,
    check_mobile,
    check_placement,
    department_name,
    organisation,
    supervisor_of,
)
from .permissions import allowed
from .staff_accounts import account_or_404, account_page


def _people() -> list[StaffUser]:
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.active.is_(True), StaffUser.is_member())
            .order_by(StaffUser.is_head.desc(), StaffUser.role, StaffUser.id)
        )
    )


@bp.get("/organisation/")
@staff_required("organisation.view")
def organisation_page():
    """Departments with their 主管 and members, the areas each covers, their mobiles."""
    people = _people()
    by_department: dict[str, list[StaffUser]] = {}
    for person in people:
        by_department.setdefault(person.department or "", []).append(person)
    return render_template(
        "accounts/organisation.html",
        departments=organisation().departments.values(),
        by_department=by_department,
        unplaced=by_department.get("", []),
        supervisors={p.id: supervisor_of(p) for p in people},
        manage=allowed(current_staff().role, "organisation.manage"),
    )


@bp.post("/accounts/<int:user_id>/organisation")
@staff_required("organisation.manage")
def place_account(user_id: int):
    """Place an account: department, whether it is a 主管 there, mobile, areas."""
    form = request.form
    values = {
        "department": (form.get("department") or "")[:32],
        "is_head": form.get("is_head") == "1",
        "mobile": (form.get("mobile") or "")[:30],
        "areas": [a[:30] for a in form.getlist("areas")][:200],
    }
    try:
        mobile = check_mobile(values["mobile"])
        areas = check_areas(values["department"] or None, values["areas"])
        with write_transaction() as session:
            user = account_or_404(user_id, session)
            if not user.active:
                raise PlacementRefused("账号已停用：启用后再分配部门。", "department")
            check_placement(session, user, values["department"] or None, values["is_head"])
            before = _describe(user)
            user.department = values["department"] or None
            user.is_head = values["is_head"]
            user.mobile = mobile
            community = current_community().key
            kept = {a.area: a for a in user.areas}
            user.areas = [kept.get(a) or StaffArea(community=community, area=a) for a in areas]
            session.flush()
            after = _describe(user)
            if after != before:
                record_audit(
                    "organisation.place", target=user.username, detail=f"{before} → {after}"
                )
    except PlacementRefused as refused:
        db.session.rollback()
        return account_page(
            account_or_404(user_id), {refused.field: refused.message}, placement=values, status=400
        )
    flash("组织架构已保存。", "success")
    return redirect(url_for(".account", user_id=user_id) + "#organisation", code=303)


def _describe(user: StaffUser) -> str:
    parts = [department_name(user.department) + ("主管" if user.is_head else "")]
    if user.mobile:
        parts.append(mask_mobile(user.mobile or ""))
    if user.areas:
        parts.append("区域 " + "、".join(a.area for a in user.areas))
    return "，".join(parts)


PEOPLE_COLUMNS = (
    Column("部门"),
    Column("姓名"),
    Column("角色"),
    Column("主管", YES_NO),
    Column("上级"),
    Column("手机"),
    Column("负责区域", width=30),
)


@bp.get("/organisation/export.<fmt>")
@staff_required("organisation.manage")
def export_organisation(fmt: str):
    """The organisation as a workbook (or CSV): one row per active member of staff."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    order = {d: i for i, d in enumerate(organisation().departments)}
    people = sorted(
        _people(), key=lambda p: (order.get(p.department or "", len(order)), not p.is_head, p.id)
    )
    rows = [
        (
            department_name(p.department),
            p.name,
            p.role_label,
            p.is_head,
            "、".join(s.name for s in supervisor_of(p)),
            p.mobile or "",
            "、".join(a.area for a in p.areas),
        )
        for p in people
    ]
    record_audit("export", target="组织架构", detail=f"{fmt}；{len(rows)} 人")
    tables = [Table("组织架构", PEOPLE_COLUMNS, rows, described="启用的账号")]
    filename = f"组织架构-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        return table_csv_response(filename, tables[0])
    return xlsx_tables_response(filename, tables, generated=today().isoformat())
