"""Every message text, in one place: short Chinese, with the reference number and a link.

``text`` is what the log, the staff robot and the back office show. An SMS goes out through a
template registered with the provider (``SMS_TEMPLATES`` maps a kind to the provider's
template id); ``sms_params`` are the values of its {1}, {2}, … in order, so the template
registered for a kind should read like ``text`` with those values as its variables.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import OWNER, STAFF

# A reason longer than this is cut in the message; the status page has it whole.
MAX_REASON = 60


@dataclass(frozen=True)
class Message:
    kind: str
    audience: str
    label: str  # what the back office calls it
    text: str  # str.format template over the enqueued values
    sms_params: tuple[str, ...] = ()
    secret: bool = False


MESSAGES: dict[str, Message] = {
    m.kind: m
    for m in (
        # 装修申请, to the owner.
        Message(
            "renovation.received",
            OWNER,
            "申请已收到",
            "您的装修申请{reference}已收到，物业将尽快审核。进度：{link}",
            ("reference", "link"),
        ),
        Message(
            "renovation.approved",
            OWNER,
            "申请已批准",
            "您的装修申请{reference}已批准，可在进度页打印装修许可证：{link}",
            ("reference", "link"),
        ),
        Message(
            "renovation.rejected",
            OWNER,
            "申请被驳回",
            "您的装修申请{reference}未通过审核，理由：{reason}。修改后可重新申请，详情：{link}",
            ("reference", "reason", "link"),
        ),
        Message(
            "renovation.started",
            OWNER,
            "已开工",
            "您的装修{reference}已登记开工，请按许可证施工。进度：{link}",
            ("reference", "link"),
        ),
        Message(
            "renovation.acceptance_failed",
            OWNER,
            "验收不通过",
            "您的装修{reference}验收不通过：{reason}。整改后请申请验收，详情：{link}",
            ("reference", "reason", "link"),
        ),
        Message(
            "renovation.accepted",
            OWNER,
            "验收通过",
            "您的装修{reference}已验收通过。进度：{link}",
            ("reference", "link"),
        ),
        Message(
            "renovation.deposit_refunded",
            OWNER,
            "押金已退还",
            "您的装修{reference}押金已退还，装修办理完毕。详情：{link}",
            ("reference", "link"),
        ),
        # 搬家预约, to the owner.
        Message(
            "move_in.confirmed",
            OWNER,
            "预约已确认",
            "您的搬家预约{reference}已确认：{date} {slot}。进场路线：{link}",
            ("reference", "date", "slot", "link"),
        ),
        Message(
            "move_in.changed",
            OWNER,
            "预约已改约",
            "您的搬家预约{reference}已改到{date} {slot}。进场路线：{link}",
            ("reference", "date", "slot", "link"),
        ),
        Message(
            "move_in.cancelled",
            OWNER,
            "预约已取消",
            "您的搬家预约{reference}（{date} {slot}）已取消。详情：{link}",
            ("reference", "date", "slot", "link"),
        ),
        # 报修与投诉, to the owner ({what} is 报修 or 投诉).
        Message(
            "service.received",
            OWNER,
            "报修/投诉已收到",
            "您的{what}{reference}已收到，物业将尽快处理。进度：{link}",
            ("what", "reference", "link"),
        ),
        Message(
            "service.dispatched",
            OWNER,
            "报修已派工",
            "您的报修{reference}已派工，维修人员将于{due}前上门。进度：{link}",
            ("reference", "due", "link"),
        ),
        Message(
            "service.finished",
            OWNER,
            "报修已完工",
            "您的报修{reference}已完工，请打开链接确认是否修好并评价（未修好可直接反馈）：{link}",
            ("reference", "link"),
        ),
        Message(
            "service.answered",
            OWNER,
            "投诉已答复",
            "您的投诉{reference}已答复，请查看并评价，如有不同意见可回复一次：{link}",
            ("reference", "link"),
        ),
        Message(
            "service.reopened",
            OWNER,
            "回访不满意，主管上门",
            "您对{what}{reference}的处理不满意，相关部门主管将亲自上门重新为您服务。详情：{link}",
            ("what", "reference", "link"),
        ),
        Message(
            "service.closed",
            OWNER,
            "已办结",
            "您的{what}{reference}已办结，感谢您的意见。详情：{link}",
            ("what", "reference", "link"),
        ),
        # 房屋认证 (一户一档), to the person who asked to be registered.
        Message(
            "household.claim_approved",
            OWNER,
            "房屋认证已通过",
            "您申请登记为{room}的{role}已通过审核（房屋认证{reference}）。详情：{link}",
            ("room", "role", "reference", "link"),
        ),
        Message(
            "household.claim_refused",
            OWNER,
            "房屋认证未通过",
            "您申请登记为{room}的{role}未通过审核（房屋认证{reference}），理由：{reason}。"
            "详情：{link}",
            ("room", "role", "reference", "reason", "link"),
        ),
        # 调查: a registered household's personal link, to its 主要联系人.
        Message(
            "survey.invitation",
            OWNER,
            "调查邀请",
            "物业服务中心邀请{room}参加“{title}”，您的专属填写链接（仅限本户使用一次）：{link}",
            ("room", "title", "link"),
        ),
        # 收费: a household's bill, to its 主要联系人 (one message per bill; one reminder).
        Message(
            "fees.bill_issued",
            OWNER,
            "账单已出",
            "{room}{period}物业费账单已出，应缴{amount}元，请于{due_on}前缴纳。明细：{link}",
            ("room", "period", "amount", "due_on", "link"),
        ),
        Message(
            "fees.bill_due",
            OWNER,
            "缴费提醒",
            "{room}{period}账单尚有{amount}元未缴，缴费截止日{due_on}。明细：{link}",
            ("room", "period", "amount", "due_on", "link"),
        ),
        # 公告: to each household in scope's 主要联系人; the body is on the notice's page.
        Message(
            "notice.published",
            OWNER,
            "公告",
            "小区公告（{notice_kind}）：{scope}，{time}。详情：{link}",
            ("notice_kind", "scope", "time", "link"),
        ),
        Message(
            "notice.corrected",
            OWNER,
            "公告更正",
            "小区公告更正（{notice_kind}）：{scope}，{time}。详情：{link}",
            ("notice_kind", "scope", "time", "link"),
        ),
        Message(
            "notice.withdrawn",
            OWNER,
            "公告撤回",
            "小区公告撤回（{notice_kind}）：原定{scope}，{time}，已取消。详情：{link}",
            ("notice_kind", "scope", "time", "link"),
        ),
        # Any record: the status link again, sent by staff on request.
        Message(
            "status_link",
            OWNER,
            "进度链接（重发）",
            "您办理的{record_label}{reference}的进度链接：{link}",
            ("record_label", "reference", "link"),
        ),
        # 我的办理: the one-time code.
        Message(
            "my.code",
            OWNER,
            "验证码",
            "验证码{code}，{minutes}分钟内有效，用于查看{room}的办理记录，请勿告诉他人。",
            ("code", "minutes"),
            secret=True,
        ),
        # Alerts to the staff group.
        Message(
            "renovation.new",
            STAFF,
            "新装修申请",
            "新装修申请{reference}：{room}，请审核。{link}",
            ("reference", "room", "link"),
        ),
        Message(
            "move_in.new",
            STAFF,
            "新搬家预约",
            "新搬家预约{reference}：{room}，{date} {slot}。{link}",
            ("reference", "room", "date", "slot", "link"),
        ),
        Message(
            "service.new",
            STAFF,
            "新报修/投诉",
            "新{what}{reference}（{source}）：{room}，请处理。{link}",
            ("what", "reference", "source", "room", "link"),
        ),
        Message(
            "service.owner_reopened",
            STAFF,
            "业主反馈未修好/不满意",
            "返修：业主反馈报修{reference}{verdict}（{room}）：{comment}。请{supervisor}亲自上门重新维修，"
            "{due}前完成。{link}",
            ("reference", "verdict", "room", "comment", "supervisor", "due", "link"),
        ),
        Message(
            "service.owner_replied",
            STAFF,
            "业主回复投诉答复",
            "业主回复投诉{reference}（{room}）：{comment}。已退回{department}重新处理，请{supervisor}"
            "于{due}前答复。{link}",
            ("reference", "room", "comment", "department", "supervisor", "due", "link"),
        ),
        Message(
            "service.job",
            STAFF,
            "派工单",
            "派工单{reference}给{assignee}：{where}，{due}前完成。{link}",
            ("reference", "assignee", "where", "due", "link"),
        ),
        # Personal alerts to one member of staff (staff_alerts.alert_staff: the group robot
        # mentioning the person's mobile, or SMS); {person} is 姓名（角色）.
        Message(
            "service.complaint_assigned",
            STAFF,
            "投诉转交部门",
            "致{person}：投诉{reference}（{room}）已转交{department}，请于{due}前答复业主。{link}",
            ("person", "reference", "room", "department", "due", "link"),
        ),
        Message(
            "service.supervisor_job",
            STAFF,
            "回访不满意，主管上门",
            "致{person}：{what}{reference}回访不满意（{where}），请亲自上门重新服务，{due}前完成。"
            "业主意见：{comment}。{link}",
            ("person", "what", "reference", "where", "due", "comment", "link"),
        ),
        Message(
            "service.overdue",
            STAFF,
            "超时督办",
            "超时督办，致{person}：{what}{reference}（{where}）应于{due}前{duty}，现已超时，"
            "经办：{handler}。{link}",
            ("person", "what", "reference", "where", "due", "duty", "handler", "link"),
        ),
        Message(
            "renovation.patrol_escalated",
            STAFF,
            "巡查逾期督办",
            "巡查逾期督办，致{person}：{reference} {room}的{patrol}应于{due_on}进行，至今未巡查。"
            "{link}",
            ("person", "reference", "room", "patrol", "due_on", "link"),
        ),
        Message(
            "move_in.owner_moved",
            STAFF,
            "业主改约",
            "致{person}：业主将搬家预约{reference}（{room}）从{old_date} {old_slot}改到"
            "{date} {slot}。{link}",
            ("person", "reference", "room", "old_date", "old_slot", "date", "slot", "link"),
        ),
        Message(
            "move_in.owner_cancelled",
            STAFF,
            "业主取消预约",
            "致{person}：业主取消了搬家预约{reference}（{room}，{date} {slot}）。{link}",
            ("person", "reference", "room", "date", "slot", "link"),
        ),
        Message(
            "fees.transfer_arrears",
            STAFF,
            "过户房屋有欠费",
            "过户提醒：{room}尚有过户前欠费{amount}元（{count}张账单），请结清或由经理结转。{link}",
            ("room", "amount", "count", "link"),
        ),
        Message(
            "renovation.patrol_overdue",
            STAFF,
            "巡查逾期",
            "巡查逾期：{reference} {room}，{patrol}应于{due_on}巡查，已逾期{days}天。{link}",
            ("reference", "room", "patrol", "due_on", "days", "link"),
        ),
    )
}


def short_reason(reason: str) -> str:
    """A reason short enough for a message (the status page shows it whole)."""
    reason = " ".join((reason or "").split())
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


def render(kind: str, values: dict) -> tuple[Message, str, list[str]]:
    """The message definition, its text and its SMS parameters for these values."""
    message = MESSAGES[kind]
    text = message.text.format(**values)
    params = [str(values[name]) for name in message.sms_params]
    return message, text, params
