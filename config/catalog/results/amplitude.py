"""Amplitude results: dicts the client builds from the Dashboard REST and User Profile APIs."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Series(Result):
    """One series of an Event Segmentation chart."""

    label: str = desc("The group value (or the event type when not grouped).")
    values: dict[str, float] = desc("Metric per x value (day, week, ...).")
    collapsed: float | None = desc("The series' total over the range, when Amplitude sent one.")


class EventSegmentation(Result):
    """An Event Segmentation chart: one series per group."""

    event_type: str = desc("The event counted.")
    metric: str = desc("The metric (uniques, totals, ...).")
    interval: str = desc("The bucket size.")
    group_by: str | None = desc("The property the series are grouped by.")
    x_values: list[str] = desc("The buckets, in order.")
    series: list[Series] = desc("One series per group.")


class UserSearch(Result):
    """Users matching a user id, device id or Amplitude id."""

    query: str = desc("What was searched for.")
    type: str | None = desc("What Amplitude matched it as.")
    matches: list[dict[str, Any]] = desc("Matching users (user_id, amplitude_id, last_seen, ...).")


class Event(Result):
    """One event of a user's stream."""

    event_type: str = desc("The event's type.")
    event_time: str | None = desc("When it happened (UTC).")


class UserActivity(Result):
    """A user's summary and their latest (or earliest) events."""

    amplitude_id: int = desc("The user's Amplitude id.")
    direction: str = desc("latest or earliest.")
    user: dict[str, Any] | None = desc("The user's summary (user_id, num_events, first_used, ...).")
    count: int = desc("Number of events returned.")
    events: list[Event] = desc("The events.")


class Propensity(Result):
    """One prediction's propensity for the user."""

    prediction_id: str = desc("The prediction.")
    value: float = desc("The propensity (a score or percentile, see type).")
    type: str | None = desc("score or pct.")


class UserPropensity(Result):
    """A user's propensities from the User Profile API."""

    user_id: str | None = desc("The user's id.")
    device_id: str | None = desc("The device id, when asked by device.")
    propensity_type: str = desc("score or pct, as asked.")
    propensities: list[Propensity] = desc("One per prediction found.")


class Cohort(Result):
    """A cohort's facts (without its members)."""

    id: str = desc("The cohort's id.")
    name: str | None = desc("The cohort's name.")
    size: int | None = desc("Number of members at the last computation.")


class ListCohorts(Result):
    """The project's cohorts."""

    cohorts: list[Cohort] = desc("Cohorts, up to the limit.")
    total: int = desc("Number of cohorts in the project.")


class GetCohort(Result):
    """A cohort's members, downloaded from its CSV export."""

    cohort_id: str = desc("The cohort.")
    request_id: str = desc("Amplitude's id of the export request.")
    member_count: int = desc("Number of members in the file.")
    returned: int = desc("Number of member rows returned.")
    columns: list[str] = desc("The columns of the member rows.")
    members: list[dict[str, str]] = desc("Member rows, column -> value.")


RESULTS: Registry = register("amplitude", {
    "event_segmentation": EventSegmentation, "user_search": UserSearch, "user_activity": UserActivity,
    "user_propensity": UserPropensity, "list_cohorts": ListCohorts, "get_cohort": GetCohort,
})
