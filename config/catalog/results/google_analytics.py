"""Google Analytics 4 results: Data API reports flattened into rows keyed by dimension and metric names."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Metadata(Result):
    """What the response metadata says about the data's quality."""

    currency_code: str | None = desc("The property's currency.")
    time_zone: str | None = desc("The property's time zone.")
    subject_to_thresholding: bool = desc("True when Google withheld rows to protect privacy.")
    data_loss_from_other_row: bool = desc("True when some values were bucketed into (other).")
    sampled: bool = desc("True when the report was computed on a sample.")
    empty_reason: str | None = desc("Why there are no rows, when Google says.")


class _Quota(Result):
    property_id: str = desc("The GA4 property.")
    quota_remaining: dict[str, int] | None = desc("Remaining property quota (tokensPerDay, tokensPerHour, ...).")


class Report(_Quota):
    """A runReport: one row per combination of dimension values."""

    dimensions: list[str] = desc("The dimension names, as columns of the rows.")
    metrics: list[str] = desc("The metric names, as columns of the rows.")
    row_count: int = desc("Number of rows the report has in all.")
    returned: int = desc("Number of rows returned (up to the limit).")
    rows: list[dict[str, Any]] = desc("Rows: dimension name -> string, metric name -> number.")
    metadata: Metadata = desc("Data-quality facts of the report.")


class RealtimeReport(Report):
    """A runRealtimeReport over the last minutes."""

    minutes_ago: list[int] = desc("The window: [minutes ago it starts, minutes ago it ends].")


class FunnelStep(Result):
    """One step of a funnel (per breakdown value when broken down)."""

    position: int | None = desc("The step's place in the funnel, from 1 (None: GA's name had no number).")
    step: str = desc("The step's name.")
    active_users: float | None = desc("Users who reached the step.")
    completion_rate: float | None = desc("Share of the step's users who went on to the next step.")
    abandonments: float | None = desc("Users who left at this step.")
    abandonment_rate: float | None = desc("Share of the step's users who left at this step.")


class FunnelReport(_Quota):
    """A runFunnelReport (Data API v1alpha)."""

    open_funnel: bool = desc("True when users may enter at any step.")
    breakdown_dimension: str | None = desc("The dimension each step is broken down by.")
    steps: list[FunnelStep] = desc("The steps, in order, with completion and abandonment rates.")
    metadata: dict[str, Any] = desc("The funnel table's metadata as Google sends it.")


RESULTS: Registry = register("google_analytics", {
    "organic_traffic_report": Report, "user_behavior_report": Report, "conversions_report": Report,
    "run_custom_report": Report, "traffic_report": Report, "custom_events_report": Report,
    "run_realtime_report": RealtimeReport, "run_funnel_report": FunnelReport,
})
