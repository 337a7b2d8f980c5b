"""Pure timing: cron parsing and fire times in IANA zones, across daylight-saving changes."""

from __future__ import annotations

from datetime import datetime, UTC

import pytest

from schedules.cron import CronError, fire_times, latest_fire, next_fire, parse_cron, zone

UTC = UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("expr", "tz", "after", "expected"), [
    ("0 9 * * *", "UTC", utc(2026, 1, 1, 8, 59), utc(2026, 1, 1, 9, 0)),
    ("0 9 * * *", "UTC", utc(2026, 1, 1, 9, 0), utc(2026, 1, 2, 9, 0)),  # strictly after
    ("*/15 * * * *", "UTC", utc(2026, 1, 1, 10, 7), utc(2026, 1, 1, 10, 15)),
    ("0 9 * * MON", "UTC", utc(2026, 11, 24), utc(2026, 11, 30, 9)),  # next Monday
    ("0 0 29 2 *", "UTC", utc(2026, 3, 1), utc(2028, 2, 29)),  # leap day
    ("0 12 1 * 1", "UTC", utc(2026, 6, 2), utc(2026, 6, 8, 12)),  # dom OR dow when both restricted
    ("0 9 * * 7", "UTC", utc(2026, 11, 24), utc(2026, 11, 29, 9)),  # 7 is Sunday
    ("0 9 * * *", "Europe/Paris", utc(2026, 3, 28, 9), utc(2026, 3, 29, 7)),  # after spring-forward: UTC+2
    ("0 9 * * *", "Europe/Paris", utc(2026, 10, 24, 8), utc(2026, 10, 25, 8)),  # after fall-back: UTC+1
    ("30 2 * * *", "Europe/Paris", utc(2026, 3, 28, 2), utc(2026, 3, 29, 1, 30)),  # gap: 02:30 -> 03:30 CEST
    ("30 2 * * *", "Europe/Paris", utc(2026, 10, 24, 2), utc(2026, 10, 25, 0, 30)),  # repeated: first one
    ("0 9 * * *", "America/New_York", utc(2026, 3, 7, 15), utc(2026, 3, 8, 13)),
])
def test_next_fire(expr: str, tz: str, after: datetime, expected: datetime) -> None:
    assert next_fire(parse_cron(expr), zone(tz), after) == expected


def test_paris_9am_fires_at_9_local_once_a_day_across_both_changes() -> None:
    tz = zone("Europe/Paris")
    for start in (utc(2026, 3, 25), utc(2026, 10, 22)):
        times = fire_times(parse_cron("0 9 * * *"), tz, start, 7)
        assert [t.astimezone(tz).hour for t in times] == [9] * 7
        assert len({t.astimezone(tz).date() for t in times}) == 7


def test_repeated_local_time_fires_once() -> None:
    tz = zone("Europe/Paris")
    times = fire_times(parse_cron("*/30 2 * * *"), tz, utc(2026, 10, 24, 12), 4)
    assert [t.astimezone(tz).strftime("%d %H:%M") for t in times] == ["25 02:00", "25 02:30", "26 02:00", "26 02:30"]


def test_latest_fire_picks_the_most_recent_missed_time() -> None:
    cron, tz = parse_cron("0 9 * * *"), zone("UTC")
    assert latest_fire(cron, tz, utc(2026, 1, 5, 12), since=utc(2026, 1, 1, 8)) == utc(2026, 1, 5, 9)
    assert latest_fire(cron, tz, utc(2026, 1, 1, 8, 30), since=utc(2026, 1, 1, 8)) is None


@pytest.mark.parametrize(("expr", "problem"), [
    ("* * * *", "must have 5 fields"),
    ("61 * * * *", "minute field: 61 is outside 0-59"),
    ("0 25 * * *", "hour field: 25"),
    ("0 9 * FOO *", "month field: 'FOO'"),
    ("*/0 * * * *", "step '0'"),
    ("0 9 10-5 * *", "runs backwards"),
    ("0 0 30 2 *", "never fires"),
])
def test_invalid_cron_names_the_problem(expr: str, problem: str) -> None:
    with pytest.raises(CronError, match=problem):
        parse_cron(expr)


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(CronError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
