"""Cron expressions and their fire times in an IANA time zone, as pure functions.

Five fields: minute hour day-of-month month day-of-week, each ``*``, a number, a range ``a-b``, a
step ``*/n`` or ``a-b/n``, or a comma list of those; months and days also by name (``JAN``, ``MON``);
day-of-week 0-7 with 0 and 7 both Sunday. As in classic cron, when both day-of-month and
day-of-week are restricted a day matches if either does.

Fire times are wall-clock times in the schedule's zone. Daylight-saving rules (documented behaviour):

* a local time that occurs twice (clocks go back) fires once, at its first occurrence;
* a local time that does not exist (clocks go forward) fires once, shifted forward by the size of
  the gap (02:30 on a night that jumps from 02:00 to 03:00 fires at 03:30 local time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_NAMES = {
    3: {n: i for i, n in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                    "NOV", "DEC"], 1)},
    4: {n: i for i, n in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])},
}
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
#: How far ahead to look for a matching day (covers 29 February and every leap-year combination).
SEARCH_DAYS = 366 * 8


class CronError(ValueError):
    """An invalid cron expression or time zone; the message says which part is wrong."""


def _value(text: str, index: int) -> int:
    name, low, high = _FIELDS[index]
    token = text.upper()
    if index in _NAMES and token in _NAMES[index]:
        return _NAMES[index][token]
    if not token.isdigit():
        raise CronError(f"{name} field: {text!r} is not a number" + (" or a name" if index in _NAMES else ""))
    value = int(token)
    if not low <= value <= high:
        raise CronError(f"{name} field: {value} is outside {low}-{high}")
    return value


def _field(text: str, index: int) -> frozenset[int]:
    name, low, high = _FIELDS[index]
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{name} field: step {step_text!r} must be a positive number")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            start, end = _value(a, index), _value(b, index)
            if start > end:
                raise CronError(f"{name} field: range {body!r} runs backwards")
        elif body:
            start = _value(body, index)
            end = high if step_text else start
        else:
            raise CronError(f"{name} field: empty item in {text!r}")
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression."""

    expr: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def matches_day(self, d: date) -> bool:
        """Whether the schedule can fire on local date ``d``."""
        if d.month not in self.months:
            return False
        dom, dow = d.day in self.days, (d.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow


@lru_cache(maxsize=4096)
def parse_cron(expr: str) -> Cron:
    """Parse a five-field cron expression or raise :class:`CronError` naming the bad field."""
    parts = expr.split()
    if len(parts) != 5:
        raise CronError(f"cron expression {expr!r} must have 5 fields (minute hour day-of-month month "
                        f"day-of-week), it has {len(parts)}")
    fields = [_field(p, i) for i, p in enumerate(parts)]
    cron = Cron(expr=" ".join(parts), minutes=fields[0], hours=fields[1], days=fields[2], months=fields[3],
                weekdays=fields[4], days_restricted=parts[2] != "*", weekdays_restricted=parts[4] != "*")
    if not any(cron.matches_day(date(2024, 1, 1) + timedelta(days=i)) for i in range(SEARCH_DAYS)):
        raise CronError(f"cron expression {expr!r} never fires (no such date)")
    return cron


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` or :class:`CronError`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Paris'") from None


def _to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A local wall time as UTC: first occurrence when repeated, shifted past a gap when missing."""
    aware = local.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local:  # inside a gap: fold=0 uses the old offset
        utc = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
        utc = max(utc, aware.astimezone(UTC))
    return utc


def next_fire(cron: Cron, tz: ZoneInfo, after: datetime) -> datetime:
    """The first fire time strictly after ``after`` (aware), as an aware UTC datetime."""
    after_utc = after.astimezone(UTC)
    day = (after_utc.astimezone(tz) - timedelta(days=1)).date()  # a day back: gaps shift times forward
    for _ in range(SEARCH_DAYS):
        if cron.matches_day(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    candidate = _to_utc(datetime.combine(day, time(hour, minute)), tz)
                    if candidate > after_utc:
                        return candidate
        day += timedelta(days=1)
    raise CronError(f"cron expression {cron.expr!r} has no fire time after {after.isoformat()}")


def fire_times(cron: Cron, tz: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times after ``after``."""
    out: list[datetime] = []
    for _ in range(count):
        after = next_fire(cron, tz, after)
        out.append(after)
    return out


def latest_fire(cron: Cron, tz: ZoneInfo, not_after: datetime, since: datetime) -> datetime | None:
    """The last fire time in ``(since, not_after]``, or None."""
    latest = None
    at = since
    while True:
        at = next_fire(cron, tz, at)
        if at > not_after:
            return latest
        latest = at
