"""The one permissions table: which role may do what, in every domain of the back office.

Views name a permission (``staff_required("renovation.export")``), the renovation workflow
names one per step (``renovation.step.approve``), and the staff home and navigation show a
domain's parts only to the roles allowed here. The role-matrix test reads this table, so a
change of who may do what is made here and nowhere else.
"""

from __future__ import annotations

from .roles import CLEANER as C
from .roles import CLEANING_LEAD as CL
from .roles import ENGINEERING as E
from .roles import ENGINEERING_LEAD as EL
from .roles import FINANCE as F
from .roles import LEADS, READ_ONLY_ROLES, ROLES
from .roles import MANAGER as M
from .roles import QUALITY as Q
from .roles import SECURITY as G
from .roles import SERVICE as S
from .roles import SERVICE_LEAD as SL

STAFF = "staff"  # any logged-in member of staff
EVERYONE = frozenset(ROLES)  # every role of a community (the company's 品质部 is added below)
# The departments of the seed's 装修管理领导小组 (the 客服主管 joins wherever 客服 is, below);
# cleaners see no owner's data.
OFFICE = frozenset({S, E, G, M})  # the leads join below

TABLE: dict[str, frozenset[str]] = {
    STAFF: EVERYONE | {Q},
    # The company's figures side by side, per community and for the company: 品质部.
    "company.figures": frozenset({Q}),
    # Accounts and access: the audit log and the accounts are the 经理's.
    "accounts.audit": frozenset({M}),
    "accounts.manage": frozenset({M}),
    # 装修申请. The seed's 装修管理领导小组: 经理 leads, 客服 reviews and signs the permit,
    # 工程 inspects and accepts, 秩序维护 (护卫) patrol. The register carries whole mobiles.
    "renovation.view": OFFICE,
    # The detail page masks the owner's mobile; the whole number is shown as a tap-to-call
    # link, one application at a time, and each reveal is audited.
    "renovation.call_owner": OFFICE,
    "renovation.export": frozenset({S, M}),
    "renovation.step.approve": frozenset({S, M}),
    "renovation.step.reject": frozenset({S, M}),
    "renovation.step.start": frozenset({S, E, M}),
    "renovation.step.extend": frozenset({S, E, M}),
    "renovation.step.complete": frozenset({S, E, M}),
    "renovation.step.fail_acceptance": frozenset({E, M}),
    "renovation.step.accept": frozenset({E, M}),
    "renovation.step.refund_deposit": frozenset({S, M}),
    # Patrol kinds (ids of community.renovation.patrols): the renovation office (装修办) is
    # staffed by 客服 and 工程; guards patrol too.
    "renovation.patrol.office": frozenset({S, E, M}),
    "renovation.patrol.guard": frozenset({G, M}),
    # 搬家预约: the office sees the day (the gate too); the desk closes bookings and exports.
    "move_in.schedule": OFFICE,
    "move_in.close": frozenset({S, M}),
    "move_in.export": frozenset({S, M}),
    # Calling an owner: lists mask mobiles; the whole number is shown one booking at a time,
    # as a tap-to-call link, and each reveal is audited. The desk may call on any day, the
    # gate (秩序维护员 who direct the move, seed 家私搬运) on the day of the move only.
    "move_in.call_owner": frozenset({G, S, M}),
    "move_in.call_owner.any_day": frozenset({S, M}),
    # 调查: the seed's 客服 collects and analyses owner opinions weekly; invitation links are
    # credentials to answer for a household, so only a 经理 creates or lists them.
    "surveys.results": frozenset({S, M}),
    "surveys.invitations": frozenset({M}),
    # 保洁品质检查: the 客服主管 joins the 管理处's daily 巡视检查, led by the 经理.
    "cleaning.inspect": frozenset({S, M}),
    "cleaning.summary": frozenset({M}),
    # 整改 → 复检 of a failed item. A 保洁 opens the inspections of the areas the organisation
    # gives them (我的区域的检查) and records the 整改 of their failed items; the 保洁主管, who
    # answers for every area, and whoever inspects see every area (cleaning.all_areas,
    # checked inside: cleaning/areas.py). Whoever inspects, and the 保洁主管, re-check (复检),
    # never the one who recorded the 整改 (cleaning/rectification.py).
    "cleaning.view": frozenset({S, M, C}),
    "cleaning.all_areas": frozenset({S, M, CL}),
    "cleaning.rectify": frozenset({C}),
    "cleaning.recheck": frozenset({S, M, CL}),
    # 通知: the desk follows what owners were told and sends a status link again on request.
    "notifications.view": frozenset({S, M}),
    "notifications.resend": frozenset({S, M}),
    # 报修与投诉. The seed's 客服 takes the calls, 派工单 to the departments, makes the 回访
    # calls and the 走访, and counts the weekly figures for the 客服主管; 工程 do the repairs;
    # the 经理 closes what cannot be settled. The register carries whole mobiles.
    "service.register": frozenset({S, M}),
    # Opening a request: the desk and the 经理 every one (service.view.all); a worker only
    # the jobs assigned to them; a department's 主管 (service.view.department) the jobs of its
    # members and the complaints passed to it (service_requests/scope.py). Pages mask the
    # owner's mobile; the whole number is one tap away (service.call_owner), audited.
    "service.view": frozenset({S, E, M}),
    "service.view.all": frozenset({S, M}),
    "service.view.department": frozenset({EL}),
    "service.call_owner": frozenset({S, E, M}),
    "service.intake": frozenset({S, M}),
    "service.dispatch": frozenset({S, M}),
    "service.work": frozenset({E, M}),
    "service.answer": frozenset({S, M}),
    "service.follow_up": frozenset({S, M}),
    "service.close": frozenset({M}),
    "service.visits": frozenset({S, M}),
    "service.figures": frozenset({S, M}),
    "service.export": frozenset({S, M}),
    # 员工培训: everyone reads their path and takes their quizzes; the seed's 客服主管 trains
    # staff weekly "有培训记录" and appraises them, so with the 经理 records sessions and sees
    # everyone's records; the 经理 exports them for audits.
    "training.learn": EVERYONE,
    "training.sessions": frozenset({SL, M}),
    "training.records": frozenset({SL, M}),
    "training.export": frozenset({SL, M}),
    # 组织架构与值班: everyone sees who is in which department, their 主管 and who is on duty
    # (to call a colleague, to escalate); the 经理 places people, sets the 主管 and the rota.
    "organisation.view": EVERYONE,
    "organisation.manage": frozenset({M}),
    # 一户一档. The seed's 客服 keeps the 业主档案 current and reports changes to the 管理处's
    # managers (the 经理's weekly list of changes); lists mask mobiles and each reveal is
    # audited; 秩序维护 find a household (a visitor, a key) and with 客服 keep the 业主留存及备用
    # 钥匙; the whole register of keys and the export of the registry are the 经理's.
    "households.view": frozenset({S, G, M}),
    "households.edit": frozenset({S, M}),
    "households.reveal": frozenset({S, M}),
    "households.import": frozenset({SL, M}),
    "households.export": frozenset({M}),
    "households.changes": frozenset({M}),
    "households.keys": frozenset({S, G, M}),
    "households.keys.register": frozenset({M}),
    "households.claims": frozenset({S, M}),
    # 收费. The seed's 客服 knows the standards, collects and issues a 收据, keeps the 收费台帐,
    # banks the day's cash and cheques and every three days reconciles with the 财务会计, reads
    # the meters with 工程, counts collection weekly for the 客服主管 and chases arrears. The
    # 财务 marks banked and reconciles; the 经理 approves waivers and refunds; nobody edits an
    # issued bill (an adjustment is a new line with a reason).
    "fees.view": frozenset({S, F, M}),
    "fees.issue": frozenset({SL, M}),
    "fees.adjust": frozenset({SL, M}),
    "fees.collect": frozenset({S, M}),
    "fees.void": frozenset({SL, M}),
    "fees.approve": frozenset({M}),
    "fees.bank": frozenset({F, M}),
    "fees.reconcile": frozenset({S, F, M}),
    "fees.meters": frozenset({E, S, M}),
    "fees.arrears": frozenset({S, M}),
    "fees.figures": frozenset({SL, F, M}),
    "fees.export": frozenset({S, F, M}),
    # 公告. The seed's 客服 passes on the government's and the company's notices and posts the
    # renovation 温馨提示; a 客服 drafts, the 客服主管 or 经理 publishes, corrects or withdraws;
    # an urgent notice (停水 at night) may be published by whoever is on the rota now, with the
    # reason recorded (publishing.may_publish), so the rota's departments may write one.
    "notices.view": OFFICE,
    "notices.draft": frozenset({S, M}),
    "notices.urgent": OFFICE,
    "notices.publish": frozenset({SL, M}),
}
# A 主管 leads a department: whatever its members may do, the 主管 may too (客服主管 ⊇ 客服,
# 工程主管 ⊇ 工程, 秩序维护主管 ⊇ 秩序维护, 保洁主管 ⊇ 保洁).
TABLE = {
    name: roles | {lead for lead, led in LEADS.items() if led in roles}
    for name, roles in TABLE.items()
}
# 品质部 (company-wide, read-only) reads every community's back office: the registers, the
# figures and the organisation, never a whole owner's mobile (no call_owner / reveal) and no
# register export (they carry whole mobiles; the company figures page has its own export). It
# holds no step of any workflow, and access.staff_required refuses it every POST.
QUALITY_READS = frozenset(
    {
        "renovation.view",
        "move_in.schedule",
        "surveys.results",
        "cleaning.view",
        "cleaning.all_areas",
        "cleaning.summary",
        "notifications.view",
        "service.register",
        "service.view",
        "service.view.all",
        "service.visits",
        "service.figures",
        "training.sessions",
        "training.records",
        "organisation.view",
        "households.view",
        "households.changes",
        "households.keys",
        "households.claims",
        "fees.view",
        "fees.arrears",
        "fees.figures",
        "notices.view",
    }
)
TABLE = {name: roles | {Q} if name in QUALITY_READS else roles for name, roles in TABLE.items()}


class UnknownPermission(KeyError):
    """A permission name that is not in the table (a typo in a view would otherwise deny all)."""


def roles_for(permission: str) -> frozenset[str]:
    """The roles that hold ``permission``."""
    try:
        return TABLE[permission]
    except KeyError:
        raise UnknownPermission(permission) from None


def allowed(role: str | None, permission: str) -> bool:
    """True when ``role`` holds ``permission``."""
    return role in roles_for(permission)


def read_only(role: str | None) -> bool:
    """True for a role that may look but not change anything (品质部)."""
    return role in READ_ONLY_ROLES
