"""Mixpanel results: Query API reports reshaped per action, and raw exported events."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register

_SEGMENTED = "The property the report is segmented by (only when asked for; the data is then passed through)."


class Segmentation(Result):
    """An event over time, split by a property when asked."""

    event: str = desc("The event counted.")
    type: str = desc("general, unique or average.")
    unit: str = desc("minute, hour, day, week or month.")
    on: str | None = desc("The property expression the values are split by.")
    dates: list[str] = desc("The buckets, sorted.")
    values: dict[str, dict[str, float]] = desc("Segment -> bucket -> value.")
    totals: dict[str, float] = desc("Segment -> sum over the buckets.")


class Insights(Result):
    """The series of a saved Insights report."""

    bookmark_id: int = desc("The saved report.")
    computed_at: str | None = desc("When Mixpanel computed it.")
    date_range: dict[str, Any] | None = desc("Its range ({from_date, to_date}).")
    headers: list[str] = desc("Its column headers.")
    series: dict[str, Any] = desc("Metric -> bucket -> value, as Mixpanel sends it.")


class FunnelStep(Result):
    """One step of a funnel on one day."""

    event: str | None = desc("The step's event (or label).")
    count: int = desc("Users who reached it.")
    step_conv_ratio: float | None = desc("Conversion from the previous step.")
    overall_conv_ratio: float | None = desc("Conversion from the first step.")


class FunnelDay(Result):
    """A funnel's steps on one day."""

    date: str = desc("The day.")
    steps: list[FunnelStep] = desc("The steps, in order.")
    analysis: dict[str, Any] | None = desc("Mixpanel's summary of the day.")


class Funnels(Result):
    """A saved funnel's steps and conversion per date bucket."""

    funnel_id: int = desc("The saved funnel.")
    dates: list[str] = desc("The date buckets.")
    days: list[FunnelDay] | None = desc("Steps per day (unsegmented funnels).", None)
    on: str | None = desc(_SEGMENTED, None)
    data: dict[str, Any] | None = desc("Mixpanel's data per date and property value (segmented funnels).", None)


class Cohort(Result):
    """One retention cohort."""

    date: str = desc("The cohort's first day.")
    first: int = desc("Users in the cohort.")
    counts: list[int] = desc("Users retained per interval.")
    rates: list[float] = desc("counts / first, per interval.")


class Retention(Result):
    """Retention cohorts with their retention rates."""

    retention_type: str = desc("birth or compounded.")
    unit: str = desc("day, week or month.")
    born_event: str | None = desc("The event that starts a cohort.")
    event: str | None = desc("The event that counts as returning.")
    cohorts: list[Cohort] | None = desc("The cohorts in date order (unsegmented retention).", None)
    on: str | None = desc(_SEGMENTED, None)
    segments: dict[str, Any] | None = desc("Mixpanel's cohorts per property value (segmented retention).", None)


class Variant(Result):
    """One variant of an experiment."""

    variant: str = desc("The variant.")
    total: float = desc("The metric summed over the range.")
    share: float = desc("Its share of all variants' total.")
    series: dict[str, float] = desc("Bucket -> value.")


class ExperimentBreakdown(Result):
    """A metric event per variant of an experiment."""

    event: str = desc("The metric event.")
    experiment: str | None = desc("The experiment (None: every experiment).")
    type: str = desc("general, unique or average.")
    unit: str = desc("The bucket size.")
    variant_property: str = desc("The property naming the variant.")
    dates: list[str] = desc("The buckets, sorted.")
    variants: list[Variant] = desc("The variants, by name.")


class Export(Result):
    """Raw events exported."""

    from_date: str = desc("First day exported.")
    to_date: str = desc("Last day exported.")
    count: int = desc("Number of events returned.")
    limit_reached: bool = desc("True when there may be more events than the limit.")
    windows: int = desc("Number of date windows the range was split into.")
    events: list[dict[str, Any]] = desc("Events ({event, properties}) as Mixpanel exports them.")


RESULTS: Registry = register("mixpanel", {
    "segmentation": Segmentation, "insights": Insights, "funnels": Funnels, "retention": Retention,
    "experiment_breakdown": ExperimentBreakdown, "export_events": Export,
})
