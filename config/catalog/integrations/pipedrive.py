"""Pipedrive for Buddy: pipelines, deals, activities and forecasts (API v2; v1 only where v2 has none)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, field, some_change

# The examples name the simulator sandbox's seeded pipelines (1, 2), stages (1-7) and deals (1-6).
DealStatus = Literal["open", "won", "lost"]


class ListPipelines(Params):
    """Parameters of ``list_pipelines``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"limit": 10}]})

    limit: int = LIMIT


class ListDeals(Params):
    """Parameters of ``list_deals``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"pipeline_id": 1, "status": "open", "limit": 20}]})

    pipeline_id: int | None = Field(default=None, description="Only this pipeline.")
    stage_id: int | None = Field(default=None, description="Only this stage.")
    status: DealStatus | None = Field(default="open", description="Deal status; all when null.")
    owner_id: int | None = Field(default=None, description="Only this owner's.")
    updated_since: datetime | None = Field(default=None, description="Updated since.")
    limit: int = LIMIT


class DealFields(Params):
    """Deal fields shared by create and update."""

    value: float | None = Field(default=None, ge=0, description="Deal value.")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO currency code.")
    person_id: int | None = Field(default=None, description="Contact person.")
    org_id: int | None = Field(default=None, description="Organization.")
    pipeline_id: int | None = Field(default=None, description="Pipeline.")
    stage_id: int | None = Field(default=None, description="Stage.")
    owner_id: int | None = Field(default=None, description="Owner (user id).")
    expected_close_date: date | None = Field(default=None, description="Expected close date.")
    custom_fields: dict[str, Any] | None = Field(default=None, description="Custom fields by field key.")


class CreateDeal(DealFields):
    """Parameters of ``create_deal``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "Acme upsell", "value": 2500, "currency": "EUR", "pipeline_id": 1, "stage_id": 2,
        "expected_close_date": "2031-03-31"}]})

    title: str = Field(min_length=1, description="Deal title.")


class UpdateDeal(DealFields):
    """Parameters of ``update_deal``: at least one change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"deal_id": 3, "stage_id": 5, "value": 9000}]})

    deal_id: int = Field(ge=1, description="Deal id.")
    title: str | None = Field(default=None, min_length=1, description="New title.")
    status: DealStatus | None = Field(default=None, description="Mark open, won or lost.")
    lost_reason: str | None = Field(default=None, description="Why it was lost.")

    _something = some_change("deal_id")


class DealHistory(Params):
    """Parameters of ``get_deal_history``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"deal_id": 2}]})

    deal_id: int = Field(ge=1, description="Deal id.")
    limit: int = LIMIT


class CreateActivity(Params):
    """Parameters of ``create_activity``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "subject": "Demo call", "type": "meeting", "deal_id": 2, "due_date": "2031-01-06", "due_time": "10:00",
        "duration": "00:45"}]})

    subject: str = Field(min_length=1, description="Subject.")
    type: str = Field(default="call",
                      description="Activity type key: call, meeting, task, deadline, email...")
    due_date: date | None = Field(default=None, description="Due date.")
    due_time: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$", description="Due time, HH:MM (UTC).")
    duration: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$", description="Duration, HH:MM.")
    deal_id: int | None = Field(default=None, description="Deal.")
    person_id: int | None = Field(default=None, description="Person.")
    org_id: int | None = Field(default=None, description="Organization.")
    owner_id: int | None = Field(default=None, description="Assignee (user id).")
    note: str | None = Field(default=None, description="Note (HTML).")
    done: bool = Field(default=False, description="Already done.")


class ListActivities(Params):
    """Parameters of ``list_activities``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"deal_id": 2, "done": False}]})

    deal_id: int | None = Field(default=None, description="Only this deal's.")
    owner_id: int | None = Field(default=None, description="Only this user's.")
    done: bool | None = Field(default=None, description="Done (True), to do (False) or both (null).")
    updated_since: datetime | None = Field(default=None, description="Updated since.")
    limit: int = LIMIT


class DealSummary(Params):
    """Parameters of ``deal_summary``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"by": "stage", "pipeline_id": 1}]})

    by: Literal["stage", "period"] = Field(default="stage", description="Totals per stage, or a forecast per "
                                                                        "period.")
    pipeline_id: int | None = Field(default=None, description="Only this pipeline.")
    status: DealStatus = Field(default="open", description="Deal status (by stage).")
    start_date: date | None = Field(default=None, description="First period's start (by period; today if "
                                                              "omitted).")
    interval: Literal["day", "week", "month", "quarter"] = Field(default="month", description="Period size.")
    amount: int = Field(default=3, ge=1, le=24, description="Number of periods.")
    field_key: str = Field(default="expected_close_date", description="Date field that places deals in "
                                                                      "periods.")


SPEC = IntegrationSpec(
    id="pipedrive",
    provider="pipedrive",
    name="Pipedrive",
    credential_fields=(
        field("api_token", secret=True, example="0123456789abcdef0123456789abcdef01234567",
              description="Personal API token, sent as the x-api-token header."),
    ),
    actions=(
        act("list_pipelines", "Pipelines and their stages (GET /api/v2/pipelines, /api/v2/stages).",
            ListPipelines),
        act("list_deals", "Deals (GET /api/v2/deals, cursor paging).", ListDeals),
        act("create_deal", "Create a deal (POST /api/v2/deals). No idempotency key: on retry, the newest "
            "deals are listed first and one with the same title and fields is reused.", CreateDeal,
            side_effect=True),
        act("update_deal",
            "Update a deal, incl. moving stage or marking won/lost (PATCH /api/v2/deals/{id}).",
            UpdateDeal, side_effect=True),
        act("get_deal_history", "Field changes of a deal (GET /v1/deals/{id}/changelog; no v2 version "
                                "exists).",
            DealHistory),
        act("create_activity", "Create a call, meeting or task (POST /api/v2/activities; a person becomes "
            "the primary participant). On retry, the newest activities are listed first.", CreateActivity,
            side_effect=True),
        act("list_activities", "Activities (GET /api/v2/activities, cursor paging).", ListActivities),
        act("deal_summary", "Deal counts, values and weighted values per stage (GET /v1/deals/summary, once "
                            "per stage of the pipeline) or a forecast per period (GET /v1/deals/timeline); "
                            "both are v1 endpoints with no v2 replacement.", DealSummary),
    ),
    reason="A personal API token; calls draw on the company's daily token budget (30,000 x plan multiplier "
           "x seats), with a burst limit per 2-second window.",
    implemented=True,
)
