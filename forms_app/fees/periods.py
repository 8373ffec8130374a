"""Billing periods: a period is named by its first month, ``YYYY-MM``; with a quarterly or
yearly billing cycle it covers three or twelve months from there.

Bills and meter readings are both kept per period. A period is accepted from staff and the
command line only when it is a real month, starts a billing cycle, and is not later than next
month (bills are issued for the month running or the one about to start, never further ahead).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..core.refusals import Refused

PERIOD_TEXT = re.compile(r"(\d{4})-(\d{2})")
# Periods earlier than this are typing mistakes, not bills anyone issues.
EARLIEST_YEAR = 2000


class PeriodRefused(Refused):
    default_field = "period"


@dataclass(frozen=True)
class Period:
    year: int
    month: int
    months: int = 1  # the billing cycle's length

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return next_month_start(self.year, self.month, self.months) - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def label(self) -> str:
        if self.months == 1:
            return f"{self.year}年{self.month}月"
        end = self.last_day
        return f"{self.year}年{self.month}月—{end.year}年{end.month}月"

    def due_on(self, due_day: int) -> date:
        """The bill of a period is due on the fee file's ``due_day`` of its first month."""
        last = calendar.monthrange(self.year, self.month)[1]
        return date(self.year, self.month, min(due_day, last))


def next_month_start(year: int, month: int, months: int = 1) -> date:
    index = year * 12 + (month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_of(key: str, months: int = 1) -> Period:
    """A stored period key (trusted) as a Period."""
    year, month = key.split("-")
    return Period(int(year), int(month), months)


def parse_period(text, today: date, months: int = 1) -> Period:
    """What staff or the command line typed as a period, checked; ``PeriodRefused`` says why."""
    raw = (text or "").strip() if isinstance(text, str) else ""
    matched = PERIOD_TEXT.fullmatch(raw)
    if not matched:
        raise PeriodRefused("账期须写成 年-月，例如 2026-12。")
    year, month = int(matched[1]), int(matched[2])
    if not 1 <= month <= 12:
        raise PeriodRefused(f"没有 {month} 月：账期须写成 年-月，例如 2026-12。")
    if year < EARLIEST_YEAR:
        raise PeriodRefused(f"账期不能早于 {EARLIEST_YEAR} 年。")
    period = Period(year, month, months)
    latest = next_month_start(today.year, today.month)
    if period.first_day > latest:
        raise PeriodRefused(
            f"账期不能晚于下个月（{month_key(latest)}）：只能开具本月或下月的账单。"
        )
    if (month - 1) % months:
        starts = "、".join(str(m) for m in range(1, 13, months))
        raise PeriodRefused(f"本小区按{months}个月一期收费，账期须从 {starts} 月开始。")
    return period
