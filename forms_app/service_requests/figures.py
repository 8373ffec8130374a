"""The seed's weekly figures (每周对客户满意率、工程报修维修合格率、客户投诉回访率进行统计),
with counts and time to close, per week or per month, each with its definition.

Weeks run Monday to Sunday and months by the calendar, both in China's local time; stored
timestamps are naive UTC, so a period is turned into a UTC range once and every query is a
range on an indexed column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median

from sqlalchemy import exists, func, select

from ..core.clock import LOCAL_TZ, today, utcnow
from ..core.community import community_key
from ..core.extensions import db
from . import states
from .models import HouseholdVisit, OwnerFeedback, ServiceFollowUp, ServiceRequest

WEEK, MONTH = "week", "month"
FIRST_YEAR, LAST_YEAR = 2000, 2099


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    after: date

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return f"{self.first.year} 年 {self.first.month} 月"
        year, week, _ = self.first.isocalendar()
        last = self.after - timedelta(days=1)
        return f"{year} 年第 {week} 周（{self.first:%m-%d} 至 {last:%m-%d}）"

    @property
    def arg(self) -> str:
        """The value of the ``period`` query argument that names this period."""
        if self.kind == MONTH:
            return f"{self.first:%Y-%m}"
        year, week, _ = self.first.isocalendar()
        return f"{year}-W{week:02d}"

    def utc_range(self) -> tuple[datetime, datetime]:
        def utc(day: date) -> datetime:
            moment = datetime.combine(day, time.min, LOCAL_TZ)
            return moment.astimezone(UTC).replace(tzinfo=None)

        return utc(self.first), utc(self.after)

    def shifted(self, steps: int) -> Period:
        if self.kind == WEEK:
            return week_of(self.first + timedelta(weeks=steps))
        index = self.first.year * 12 + self.first.month - 1 + steps
        return month_of(date(index // 12, index % 12 + 1, 1))


def week_of(day: date) -> Period:
    first = day - timedelta(days=day.weekday())
    return Period(WEEK, first, first + timedelta(days=7))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    return Period(MONTH, first, (first + timedelta(days=32)).replace(day=1))


def parse_period(raw: str | None) -> tuple[Period, str | None]:
    """``2026-W48`` (a week) or ``2026-11`` (a month); default this week. A message when the
    text names no period in the years the pages go through."""
    raw = (raw or "").strip()
    if not raw:
        return week_of(today()), None
    try:
        if "-W" in raw.upper():
            year, week = raw.upper().split("-W")
            first = date.fromisocalendar(int(year), int(week), 1)
        else:
            first = date.fromisoformat(raw + "-01")
    except ValueError:
        return week_of(today()), "统计周期格式应为 2026-W48（周）或 2026-11（月）；已显示本周。"
    # Checked before the period's end is computed: the end of year 9999 is no date.
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        return week_of(today()), f"只能查看 {FIRST_YEAR}—{LAST_YEAR} 年；已显示本周。"
    return (week_of(first) if "-W" in raw.upper() else month_of(first)), None


@dataclass(frozen=True)
class Figure:
    name: str
    definition: str
    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None
    unit: str = ""  # "rate", "count" or "hours"
    median: float | None = None  # hours: the median beside the average
    sample: int | None = None  # hours: how many requests the average is over

    @property
    def sample_size(self) -> int | None:
        """How many the figure is computed over: a rate's denominator, an average's count;
        None for a count."""
        return self.denominator if self.unit == "rate" else self.sample


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def rate_figures(period: Period, communities: Sequence[str]) -> dict[str, list[Figure]]:
    """The seed's three rates of the period (客户满意率, 工程报修维修合格率, 客户投诉回访率) for
    each of ``communities`` (keys), every key given (one without records: rates of no sample).
    Each count is one query grouped by community, however many communities: a community's
    客服统计 page asks for its own (``compute``), the company's figures for every community at
    once (inside ``every_community``)."""
    keys = list(communities)
    start, end = period.utc_range()
    session = db.session
    in_period = (
        ServiceFollowUp.community.in_(keys),
        ServiceFollowUp.called_at >= start,
        ServiceFollowUp.called_at < end,
    )
    calls: dict[str, dict[bool, int]] = defaultdict(dict)
    for community, happy, n in session.execute(
        select(ServiceFollowUp.community, ServiceFollowUp.satisfied, func.count())
        .where(*in_period)
        .group_by(ServiceFollowUp.community, ServiceFollowUp.satisfied)
    ):
        calls[community][bool(happy)] = n
    # 维修合格率: each repair is judged once, by the owner's confirmation where the owner gave
    # one before any 回访, else by its first 回访.
    confirmed_first = exists().where(
        OwnerFeedback.request_id == ServiceFollowUp.request_id, OwnerFeedback.first.is_(True)
    )
    judged: dict[str, dict[bool, int]] = defaultdict(lambda: defaultdict(int))
    for community, happy, n in session.execute(
        select(ServiceFollowUp.community, ServiceFollowUp.satisfied, func.count())
        .where(
            *in_period,
            ServiceFollowUp.kind == states.REPAIR,
            ServiceFollowUp.first.is_(True),
            ~confirmed_first,
        )
        .group_by(ServiceFollowUp.community, ServiceFollowUp.satisfied)
    ):
        judged[community][bool(happy)] += n
    for row in session.scalars(
        select(OwnerFeedback).where(
            OwnerFeedback.created_at >= start,
            OwnerFeedback.created_at < end,
            OwnerFeedback.community.in_(keys),
            OwnerFeedback.kind == states.REPAIR,
            OwnerFeedback.first.is_(True),
        )
    ):
        judged[row.community][row.good] += 1

    answered = (
        ServiceRequest.community.in_(keys)
        & (ServiceRequest.kind == states.COMPLAINT)
        & (ServiceRequest.answered_at >= start)
        & (ServiceRequest.answered_at < end)
    )
    called = exists().where(ServiceFollowUp.request_id == ServiceRequest.id)
    complaints = {
        community: (n, n_called)
        for community, n, n_called in session.execute(
            select(ServiceRequest.community, func.count(), func.count().filter(called))
            .where(answered)
            .group_by(ServiceRequest.community)
        )
    }
    return {
        key: _rates(calls.get(key, {}), judged.get(key, {}), *complaints.get(key, (0, 0)))
        for key in keys
    }


def _rates(
    calls: dict[bool, int],
    judged: dict[bool, int],
    complaints_answered: int,
    complaints_called: int,
) -> list[Figure]:
    all_calls = sum(calls.values())
    satisfied_calls = calls.get(True, 0)
    first_repair = sum(judged.values())
    first_repair_ok = judged.get(True, 0)
    return [
        Figure(
            "客户满意率",
            "本期回访中业主表示满意的次数 ÷ 本期回访总次数（报修和投诉的回访都计入）。",
            _rate(satisfied_calls, all_calls),
            satisfied_calls,
            all_calls,
            "rate",
        ),
        Figure(
            "工程报修维修合格率",
            "本期首次判定的报修中一次修好（无需返修）的单数 ÷ 本期首次判定的报修单数。"
            "首次判定以业主在线确认为准（确认已修好且评价 3 分及以上为合格，在回访之前确认的）；"
            "业主没有在线确认的，以首次回访的结果为准（满意为合格）。回访电话照常拨打，"
            "计入客户满意率和回访率。",
            _rate(first_repair_ok, first_repair),
            first_repair_ok,
            first_repair,
            "rate",
        ),
        Figure(
            "客户投诉回访率",
            "本期首次答复的投诉中，已经回访的件数 ÷ 本期首次答复的投诉件数。",
            _rate(complaints_called, complaints_answered),
            complaints_called,
            complaints_answered,
            "rate",
        ),
    ]


def compute(period: Period) -> list[Figure]:
    """Every figure of the period, in the order the seed names them, counts after."""
    key = community_key()
    figures = rate_figures(period, [key])[key]
    start, end = period.utc_range()
    session = db.session
    received = dict(
        ((kind, source), n)
        for kind, source, n in session.execute(
            select(ServiceRequest.kind, ServiceRequest.source, func.count())
            .where(ServiceRequest.created_at >= start, ServiceRequest.created_at < end)
            .group_by(ServiceRequest.kind, ServiceRequest.source)
        ).all()
    )
    closed_rows = session.execute(
        select(ServiceRequest.kind, ServiceRequest.created_at, ServiceRequest.closed_at).where(
            ServiceRequest.closed_at >= start, ServiceRequest.closed_at < end
        )
    ).all()
    for kind, name in states.KIND_LABELS.items():
        total = sum(n for (k, _), n in received.items() if k == kind)
        by_source = "、".join(
            f"{label} {received.get((kind, source), 0)}"
            for source, label in states.SOURCE_LABELS.items()
        )
        figures.append(
            Figure(f"受理{name}数", f"本期登记的{name}件数（{by_source}）。", total, unit="count")
        )
    for kind, name in states.KIND_LABELS.items():
        hours = [
            (closed - created).total_seconds() / 3600
            for k, created, closed in closed_rows
            if k == kind
        ]
        figures.append(
            Figure(
                f"办结{name}数",
                f"本期办结（回访满意或经理办结）的{name}件数。",
                len(hours),
                unit="count",
            )
        )
        figures.append(
            Figure(
                f"{name}平均办结时长",
                f"本期办结的{name}从登记到办结的平均小时数，并给出中位数。",
                sum(hours) / len(hours) if hours else None,
                unit="hours",
                median=median(hours) if hours else None,
                sample=len(hours),
            )
        )
    return figures


def overdue_counts(now: datetime | None = None) -> dict[str, int]:
    """Open requests past their due time, per kind (repairs not done, complaints unanswered)."""
    now = now or utcnow()
    rows = db.session.execute(
        select(ServiceRequest.kind, func.count())
        .where(overdue_condition(now))
        .group_by(ServiceRequest.kind)
    ).all()
    return {kind: dict(rows).get(kind, 0) for kind in states.KIND_LABELS}


def overdue_condition(now: datetime):
    """SQL: the request is past its due time while work on it is still owed.

    Written as one ``state IN (…) AND due_at < now`` so the (state, due_at) index answers it;
    a state that owes work for one kind only is excluded for the other kind afterwards."""
    owing = set().union(*states.WORK_STATES.values())
    condition = ServiceRequest.state.in_(sorted(owing)) & (ServiceRequest.due_at < now)
    for kind, kind_states in states.WORK_STATES.items():
        others = sorted(owing - set(kind_states))
        if others:
            condition &= ~((ServiceRequest.kind == kind) & ServiceRequest.state.in_(others))
    return condition


@dataclass(frozen=True)
class VisitProgress:
    label: str
    done: int
    quota: int

    @property
    def share(self) -> float:
        return min(self.done / self.quota, 1.0) if self.quota else 1.0

    @property
    def met(self) -> bool:
        return self.done >= self.quota


def visited_households(kind: str, first: date, after: date) -> int:
    """Distinct households visited in [first, after) on visits of this kind."""
    rooms = (
        select(HouseholdVisit.building, HouseholdVisit.unit, HouseholdVisit.room)
        .where(
            HouseholdVisit.kind == kind,
            HouseholdVisit.visited_on >= first,
            HouseholdVisit.visited_on < after,
        )
        .distinct()
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(rooms))


def visit_progress(day: date, weekly_quota: int, monthly_quota: int) -> list[VisitProgress]:
    """This week's regular and this month's irregular visits against the seed's quotas."""
    week, month = week_of(day), month_of(day)
    return [
        VisitProgress(
            f"本周定期走访（{week.first:%m-%d} 至 {week.after - timedelta(days=1):%m-%d}）",
            visited_households(states.VISIT_REGULAR, week.first, week.after),
            weekly_quota,
        ),
        VisitProgress(
            f"本月不定期走访（{month.first.month} 月）",
            visited_households(states.VISIT_IRREGULAR, month.first, month.after),
            monthly_quota,
        ),
    ]
