"""Pipedrive results: deals, activities and pipelines (API v2 objects) and deal summaries (v1)."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Deal(Result):
    """The facts of a deal, custom fields included."""

    id: int = desc("The deal's id.")
    title: str | None = desc("Its title.")
    value: float | None = desc("Its value.")
    currency: str | None = desc("The value's currency.")
    status: str | None = desc("open, won, lost or deleted.")
    pipeline_id: int | None = desc("Its pipeline.")
    stage_id: int | None = desc("Its stage.")
    owner_id: int | None = desc("The user who owns it.")
    person_id: int | None = desc("Its contact person.")
    org_id: int | None = desc("Its organization.")
    expected_close_date: str | None = desc("When it is expected to close.")
    add_time: str | None = desc("When it was created.")
    update_time: str | None = desc("When it last changed.")
    custom_fields: dict[str, Any] = desc("Custom field key -> value.")


class UpdatedDeal(Deal):
    """A deal after an update."""

    changed: list[str] = desc("The fields sent, sorted.")


class Deals(Result):
    """Deals matching a filter."""

    deals: list[Deal] = desc("The deals, up to the limit.")
    count: int = desc("Number returned.")


class Pipeline(Result):
    """A pipeline with its stages in board order."""

    id: int = desc("The pipeline's id.")
    name: str | None = desc("Its name.")
    stages: list[dict[str, Any]] = desc("Its stages (id, name, order_nr, deal_probability, ...).")


class Pipelines(Result):
    """The company's pipelines."""

    pipelines: list[Pipeline] = desc("The pipelines.")


class History(Result):
    """A deal's field changes."""

    deal_id: int = desc("The deal.")
    changes: list[dict[str, Any]] = desc("Changes (field_key, old_value, new_value, actor_user_id, time, ...).")
    count: int = desc("Number returned.")


class Activity(Result):
    """The facts of an activity."""

    id: int = desc("The activity's id.")
    subject: str | None = desc("Its subject.")
    type: str | None = desc("call, meeting, task, ...")
    done: bool | None = desc("Whether it is done.")
    due_date: str | None = desc("The day it is due.")
    due_time: str | None = desc("The time it is due.")
    deal_id: int | None = desc("Its deal.")
    person_id: int | None = desc("Its person.")
    owner_id: int | None = desc("The user it belongs to.")
    add_time: str | None = desc("When it was created.")


class Activities(Result):
    """Activities matching a filter."""

    activities: list[Activity] = desc("The activities, up to the limit.")
    count: int = desc("Number returned.")


class DealSummary(Result):
    """Deal totals per stage (by=stage) or per period (by=period); the other variant's fields are absent."""

    by: str = desc("stage or period.")
    pipeline_id: int | None = desc("The pipeline summarised (None: all).")
    status: str | None = desc("The deal status counted (by=stage).", None)
    stages: list[dict[str, Any]] | None = desc(
        "One row per stage: stage_id, stage_name, count, value, weighted_value, by_currency (by=stage).", None)
    total_count: int | None = desc("Deals in all stages (by=stage).", None)
    total_value: float | None = desc("Value of all stages, in the company currency (by=stage).", None)
    total_weighted_value: float | None = desc("Weighted value of all stages (by=stage).", None)
    interval: str | None = desc("day, week, month or quarter (by=period).", None)
    start_date: str | None = desc("First period's start (by=period).", None)
    field_key: str | None = desc("The date field the periods are built on (by=period).", None)
    periods: list[dict[str, Any]] | None = desc(
        "One row per period: period_start, count, open_count, won_count, values, ... (by=period).", None)


RESULTS: Registry = register("pipedrive", {
    "list_pipelines": Pipelines, "list_deals": Deals, "create_deal": Deal, "update_deal": UpdatedDeal,
    "get_deal_history": History, "create_activity": Activity, "list_activities": Activities,
    "deal_summary": DealSummary,
})
