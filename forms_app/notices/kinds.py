"""The kinds of notice and what each asks for (data/notices/kinds.yml), the community's notice
settings (community file: ``notices``), and a notice's time written for people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from ..core.clock import LOCAL_TZ, local_time
from ..core.community import cached_data, current_community

ACTIVITY = "activity"  # messaged only to households that asked for it
WORKS = "works"  # the renovation 温馨提示 is one of these
# When the community file says nothing (the defaults).
DEFAULT_MESSAGE_KINDS = ("water", "power", "gas", "lift")
DEFAULT_QUIET = ("21:00", "08:00")


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    required: bool
    multiline: bool
    placeholder: str


@dataclass(frozen=True)
class Kind:
    id: str
    name: str
    title: str
    fields: tuple[Field, ...]
    body: str


@lru_cache(maxsize=1)
def kinds() -> dict[str, Kind]:
    """The kinds file, read once per process (data files change only with a deploy, as
    ``cached_data`` assumes); every notice on a page asks for its kind's name."""
    found = {}
    for raw in cached_data("notices/kinds.yml")["kinds"]:
        fields = tuple(
            Field(
                f["id"],
                f["label"],
                bool(f.get("required")),
                bool(f.get("multiline")),
                str(f.get("placeholder") or ""),
            )
            for f in raw.get("fields", ())
        )
        found[raw["id"]] = Kind(raw["id"], raw["name"], raw.get("title") or "", fields, raw["body"])
    return found


def kind_name(kind_id: str) -> str:
    found = kinds().get(kind_id)
    return found.name if found else kind_id


def _settings() -> dict:
    return current_community().get("notices") or {}


def message_kinds() -> frozenset[str]:
    """Kinds sent by message to every household in scope (社区活动 is never one of them)."""
    chosen = _settings().get("message_kinds", DEFAULT_MESSAGE_KINDS)
    return frozenset(k for k in chosen if k != ACTIVITY)


def quiet_hours() -> tuple[time, time]:
    quiet = _settings().get("quiet_hours") or {}
    start = quiet.get("start", DEFAULT_QUIET[0])
    end = quiet.get("end", DEFAULT_QUIET[1])
    return time.fromisoformat(start), time.fromisoformat(end)


def after_quiet_hours(moment: datetime) -> datetime:
    """``moment`` (naive UTC), or the end of the quiet hours it falls in (naive UTC)."""
    start, end = quiet_hours()
    local = local_time(moment)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return moment
    if start < end:
        quiet = start <= clock < end
        end_day = local.date()
    else:  # over midnight (21:00–08:00)
        quiet = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not quiet:
        return moment
    return _to_utc(datetime.combine(end_day, end, tzinfo=LOCAL_TZ))


def _to_utc(aware: datetime) -> datetime:
    return aware.astimezone(UTC).replace(tzinfo=None)


def from_local(text: str) -> datetime | None:
    """A ``datetime-local`` value typed in China ("2026-12-09T09:00") as naive UTC."""
    try:
        typed = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        return None
    if typed.tzinfo is not None:
        return None
    return _to_utc(typed.replace(tzinfo=LOCAL_TZ))


def local_input(moment: datetime | None) -> str:
    """A stored time as the value of a ``datetime-local`` input."""
    return local_time(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _day(moment: datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日"


def time_label(starts_at: datetime, ends_at: datetime) -> str:
    """From … until in local time: "2026年12月9日 09:00至17:00", or with both days."""
    start, end = local_time(starts_at), local_time(ends_at)
    if start.date() == end.date():
        return f"{_day(start)} {start:%H:%M}至{end:%H:%M}"
    if end.time() == time(0) and (end.date() - start.date()).days >= 1 and start.time() == time(0):
        last = end - timedelta(days=1)
        if last.date() == start.date():
            return f"{_day(start)}全天"
        return f"{_day(start)}至{_day(last)}"
    return f"{_day(start)} {start:%H:%M}至{_day(end)} {end:%H:%M}"


def compose(kind: Kind, answers: dict[str, str], scope: str, when: str, note: str) -> str:
    """The notice's body: the kind's sentence with the answers, then the 补充说明."""
    values = {f.id: answers.get(f.id, "") for f in kind.fields}
    body = kind.body.format(scope=scope, time=when, **values).strip()
    body = body.replace("。。", "。")
    return f"{body}\n{note}".strip() if note else body
