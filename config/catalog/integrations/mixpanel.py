"""Mixpanel Query API and Raw Export for Dexter: segmentation, insights, funnels, retention, experiments."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from config.catalog.base import IntegrationSpec, Params, ParamError, act, field, in_order, one_of

#: A week of the simulator's sandbox project (its data is generated for any date; bookmark 1001 and funnel 7509
#: are saved reports there).
WEEK = {"from_date": "2026-09-01", "to_date": "2026-09-07"}
#: Segmentation buckets: the Query API accepts no "week" here (funnels and retention do).
Unit = Literal["minute", "hour", "day", "month"]
FromDate = Field(description="First day (project timezone).")
ToDate = Field(description="Last day.")
Where = Field(default=None, description='Filter expression, e.g. properties["country"] == "US".')


class Segmentation(Params):
    """Parameters of ``segmentation``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**WEEK, "event": "Signed up", "on": 'properties["$browser"]', "unit": "day"}]})

    event: str = Field(min_length=1, description="Event name.")
    from_date: date = FromDate
    to_date: date = ToDate
    on: str | None = Field(default=None, description='Property to segment by, e.g. properties["$browser"].')
    where: str | None = Where
    unit: Unit = Field(default="day", description="Time bucket.")
    type: Literal["general", "unique", "average"] = Field(default="general", description="Count type.")


class Insights(Params):
    """Parameters of ``insights``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"bookmark_id": 1001}]})

    bookmark_id: int = Field(ge=1, description="Id of a saved Insights report (from its URL).")


class Funnels(Params):
    """Parameters of ``funnels``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{**WEEK, "funnel_id": 7509}]})

    funnel_id: int = Field(ge=1, description="Id of a saved funnel.")
    from_date: date = FromDate
    to_date: date = ToDate
    length: int | None = Field(default=None, ge=1, description="Conversion window length.")
    length_unit: Literal["second", "minute", "hour", "day"] | None = Field(default=None,
                                                                           description="Window unit.")
    unit: Literal["day", "week", "month"] | None = Field(default=None, description="Time bucket.")
    on: str | None = Field(default=None, description="Property to segment by.")
    where: str | None = Where


class Flows(Params):
    """Parameters of ``flows``."""

    start_event: str = Field(min_length=1, description="Event the paths start from.")
    from_date: date = FromDate
    to_date: date = ToDate
    steps: int = Field(default=5, ge=1, le=10, description="Steps after the start event.")


class Retention(Params):
    """Parameters of ``retention``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        **WEEK, "born_event": "Signed up", "event": "Purchase", "unit": "day", "interval_count": 4}]})

    from_date: date = FromDate
    to_date: date = ToDate
    born_event: str | None = Field(default=None, description="Event that puts a user in a cohort.")
    event: str | None = Field(default=None, description="Event that counts as returning; any event when "
                                                        "omitted.")
    retention_type: Literal["birth", "compounded"] = Field(default="birth", description="Retention type.")
    unit: Literal["day", "week", "month"] = Field(default="day", description="Bucket size.")
    interval_count: int = Field(default=8, ge=1, le=100, description="Buckets to return.")
    on: str | None = Field(default=None, description="Property to segment by.")
    where: str | None = Where

    @model_validator(mode="after")
    def _cohort(self) -> Retention:
        if self.retention_type == "birth" and not self.born_event:
            raise ParamError("born_event", "is required with retention_type 'birth' (the event that starts a cohort)")
        in_order("from_date", self.from_date, "to_date", self.to_date)
        return self


class ExperimentBreakdown(Params):
    """Parameters of ``experiment_breakdown``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**WEEK, "event": "Purchase", "experiment": "Checkout test"}]})

    event: str = Field(min_length=1, description="Metric event, e.g. Purchase.")
    from_date: date = FromDate
    to_date: date = ToDate
    variant_property: str = Field(default="Variant name",
                                  description="Property holding the variant (sent with the events).")
    experiment_property: str = Field(default="Experiment name",
                                     description="Property holding the experiment.")
    experiment: str | None = Field(default=None, description="Only events of this experiment.")
    type: Literal["general", "unique", "average"] = Field(default="unique", description="Count type.")
    unit: Unit = Field(default="day", description="Time bucket.")


class ExportEvents(Params):
    """Parameters of ``export_events``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**WEEK, "events": ["Signed up", "Purchase"], "limit": 100}]})

    from_date: date = FromDate
    to_date: date = ToDate
    events: list[str] = Field(default_factory=list, description="Only these events; all when empty.")
    where: str | None = Where
    limit: int = Field(default=1000, ge=1, le=100_000, description="Maximum events to return.")

    @model_validator(mode="after")
    def _ordered(self) -> ExportEvents:
        in_order("from_date", self.from_date, "to_date", self.to_date)
        return self


SPEC = IntegrationSpec(
    id="mixpanel",
    provider="mixpanel",
    name="Mixpanel",
    implemented=True,
    credential_fields=(
        field("service_account_username", example="sintra.3b1f2a.mp-service-account",
              description="Service-account username."),
        field("service_account_secret", secret=True, example="0123456789abcdef0123456789abcdef",
              description="Service-account secret."),
        field("project_id", pattern="[0-9]{1,19}", pattern_hint="the numeric project id", example="12345",
              description="Numeric project id (sent with every query)."),
        field("region", **one_of("us", "eu", "in"), example="us",
              description="Data residency: us (mixpanel.com, data.mixpanel.com), eu "
                          "(eu.mixpanel.com, data-eu.mixpanel.com) or in (in.mixpanel.com, "
                          "data-in.mixpanel.com)."),
        field("workspace_id", required=False, pattern="[0-9]{1,19}", pattern_hint="the numeric workspace id",
              example="3456789", description="Workspace id, for projects with data views."),
    ),
    actions=(
        act("segmentation", "Event counts over time, optionally split by a property (GET "
                            "/query/segmentation).",
            Segmentation),
        act("insights", "Results of a saved Insights report (GET /query/insights?bookmark_id=).", Insights),
        act("funnels", "Conversion of a saved funnel by step (GET /query/funnels).", Funnels),
        act("flows", "User paths after an event.", Flows,
            restricted="The Query API has no Flows endpoint (it offers Insights, Funnels, Retention, "
                       "Segmentation, Event Breakdown, Profiles, Cohorts, Activity Feed and JQL); Flows "
                       "reports are web-app only."),
        act("retention", "Retention cohorts (GET /query/retention).", Retention),
        act("experiment_breakdown", "An experiment's metric by variant: segmentation of the metric event on "
                                    "the variant property, filtered to the experiment (GET "
                                    "/query/segmentation).", ExperimentBreakdown),
        act("export_events", "Raw events as JSON lines (GET https://data.mixpanel.com/api/2.0/export; 60 an "
                             "hour, 3 a second).", ExportEvents),
    ),
)
