"""Amplitude Dashboard REST API, Behavioral Cohorts API and User Profile API for Dexter."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from config.catalog.base import (
    LIMIT,
    IntegrationSpec,
    ParamError,
    Params,
    act,
    examples,
    field,
    in_order,
    one_of,
)


class SegmentFilter(Params):
    """One user-property condition of a segment."""

    prop: str = Field(min_length=1, description="Property, e.g. country or gp:plan.")
    op: Literal["is", "is not", "contains", "does not contain", "less", "less or equal", "greater",
                "greater or equal", "set is", "set is not"] = Field(default="is", description="Operator.")
    values: list[str] = Field(min_length=1, description="Values.")


class EventSegmentation(Params):
    """Parameters of ``event_segmentation``."""

    model_config = examples(
        {"event_type": "Play Song", "start": "2026-09-01", "end": "2026-09-07", "group_by": "country",
         "segment": [{"prop": "platform", "values": ["iOS"]}]},
    )

    event_type: str = Field(min_length=1, description="Event type; _active for any active event.")
    start: date = Field(description="First day.")
    end: date = Field(description="Last day.")
    metric: Literal["uniques", "totals", "pct_dau", "average", "histogram", "sums", "value_avg"] = Field(
        default="uniques", description="Metric (m=).")
    interval: Literal["realtime", "hourly", "daily", "weekly", "monthly"] = Field(default="daily",
                                                                                  description="Bucket size.")
    group_by: str | None = Field(default=None, description="Property to group by.")
    segment: list[SegmentFilter] = Field(default_factory=list, description="User filters (all must hold).")

    @model_validator(mode="after")
    def _grouped(self) -> EventSegmentation:
        if self.metric in ("histogram", "sums", "value_avg") and not self.group_by:
            raise ParamError("group_by", f"is required with metric {self.metric!r} (an event property)")
        in_order("start", self.start, "end", self.end)
        return self


class UserSearch(Params):
    """Parameters of ``user_search``."""

    model_config = examples({"user": "alice@example.com"})

    user: str = Field(min_length=1, description="Amplitude id, user id or device id.")


class UserActivity(Params):
    """Parameters of ``user_activity``."""

    model_config = examples({"amplitude_id": 356893043036, "limit": 20})

    amplitude_id: int = Field(ge=1, description="Amplitude id (from user_search).")
    direction: Literal["latest", "earliest"] = Field(default="latest", description="Which events first.")
    limit: int = LIMIT


class ListCohorts(Params):
    """Parameters of ``list_cohorts``."""

    model_config = examples({"limit": 10})

    limit: int = LIMIT


class GetCohort(Params):
    """Parameters of ``get_cohort``."""

    model_config = examples({"cohort_id": "26umsb5", "limit": 25})

    cohort_id: str = Field(min_length=1, description="Cohort id (from list_cohorts).")
    include_properties: bool = Field(default=False, description="Also return user properties (props=1).")
    property_keys: list[str] = Field(default_factory=list, description="Only these properties.")
    limit: int = Field(default=1000, ge=1, le=100_000,
                       description="Most members to return (member_count still counts them all).")


class UserPropensity(Params):
    """Parameters of ``user_propensity``."""

    model_config = examples({"prediction_ids": ["0x10x"], "user_id": "alice@example.com"})

    prediction_ids: list[str] = Field(min_length=1, max_length=20,
                                      description="Prediction ids (end of the prediction's Audiences URL).")
    user_id: str | None = Field(default=None, min_length=1, description="User id; or pass device_id.")
    device_id: str | None = Field(default=None, min_length=1, description="Device id; or pass user_id.")
    propensity_type: Literal["score", "pct"] = Field(default="pct",
                                                     description="Raw score, or percentile among users.")

    @model_validator(mode="after")
    def _one_user(self) -> UserPropensity:
        if not (self.user_id or self.device_id):
            raise ValueError("pass user_id or device_id")
        return self


class Predictions(Params):
    """Parameters of ``predictive_analytics``."""

    prediction_id: str = Field(min_length=1, description="Prediction id.")
    limit: int = LIMIT


SPEC = IntegrationSpec(
    id="amplitude",
    provider="amplitude",
    name="Amplitude",
    implemented=True,
    credential_fields=(
        field("api_key", secret=True, description="Project API key (Basic auth user).",
              example="0123456789abcdef0123456789abcdef"),
        field("secret_key", secret=True, description="Project secret key (Basic auth password).",
              example="fedcba9876543210fedcba9876543210"),
        field("region", **one_of("us", "eu"),
              description="Data residency: us (amplitude.com) or eu (analytics.eu.amplitude.com).",
              example="us"),
    ),
    actions=(
        act("event_segmentation", "Uniques, totals or averages of an event over time, optionally grouped "
            "(GET /2/events/segmentation).", EventSegmentation),
        act("user_search",
            "Find a user by Amplitude id, user id or device id (GET /2/usersearch).", UserSearch),
        act("user_activity", "A user's event stream and summary (GET /2/useractivity).", UserActivity),
        act("list_cohorts", "Discoverable behavioral cohorts (GET /3/cohorts).", ListCohorts),
        act("get_cohort", "Members of a cohort, asynchronously: request (GET /5/cohorts/request/{id}), poll "
            "(/5/cohorts/request-status/{request_id}), download (/5/cohorts/request/{request_id}/file). "
            "500 downloads a month on Growth and Enterprise.", GetCohort),
        act("user_propensity", "One user's propensity (raw score or percentile) for predictions synced to "
            "the Profile API (GET https://profile-api.amplitude.com/v1/userprofile?get_propensity=true; "
            "Api-Key auth with the secret key; not offered in the EU region).", UserPropensity),
        act("predictive_analytics", "Scores of an Amplitude prediction (propensity to convert or churn).",
            Predictions,
            restricted="Amplitude has no public REST endpoint that lists a prediction's scores: the User "
                       "Profile API answers one user at a time (user_propensity); for the whole audience "
                       "save the prediction as a cohort in Amplitude and read it with get_cohort "
                       "(list_cohorts flags it is_predictive)."),
    ),
)
