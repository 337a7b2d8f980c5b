"""Salesforce results: record writes, SOQL rows, opportunity summaries and Analytics report runs."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Created(Result):
    """A record created."""

    id: str = desc("The record's id.")
    sobject: str = desc("Its object type (Account, Lead, ...).")
    created: bool = desc("Always True once the job succeeds.")
    resumed: bool = desc("True when an earlier attempt of this job had already created it.")


class Updated(Result):
    """A record updated."""

    id: str = desc("The record's id.")
    sobject: str = desc("Its object type.")
    updated: list[str] = desc("The fields sent, sorted.")


class Upserted(Result):
    """A record upserted by an external id."""

    id: str = desc("The record's id.")
    sobject: str = desc("Its object type.")
    created: bool = desc("True when it was created, False when updated.")
    external_id_field: str = desc("The external id field matched on.")
    external_id: str = desc("The external id.")


class Query(Result):
    """The rows of a SOQL query."""

    total_size: int = desc("Number of rows the query matches.")
    returned: int = desc("Number of rows returned (up to the limit).")
    complete: bool = desc("True when every matching row was returned.")
    records: list[dict[str, Any]] = desc("The rows: field -> value (Salesforce's attributes left out).")


class Opportunity(Result):
    """An Opportunity in Sintra's words."""

    id: str = desc("The opportunity's id.")
    name: str | None = desc("Its name.")
    stage: str | None = desc("Its stage.")
    amount: float | None = desc("Its amount.")
    close_date: str | None = desc("When it is expected to close.")
    owner_id: str | None = desc("The user who owns it.")
    account_id: str | None = desc("Its account.")
    probability: float | None = desc("Its probability (percent).")
    is_closed: bool | None = desc("Whether it is closed.")
    is_won: bool | None = desc("Whether it is won.")


class Opportunities(Result):
    """Opportunities matching a filter."""

    total_size: int = desc("Number of matching opportunities.")
    opportunities: list[Opportunity] = desc("The opportunities, up to the limit.")


class Group(Result):
    """One group of the pipeline."""

    key: Any = desc("The group's value (stage, owner, or YYYY-MM close month).")
    count: int = desc("Opportunities in it.")
    amount: float = desc("Their amounts summed.")


class PipelineSummary(Result):
    """Opportunity counts and amounts grouped by stage, owner or close month."""

    group_by: str = desc("stage, owner or close_month.")
    include_closed: bool = desc("Whether closed opportunities were counted.")
    groups: list[Group] = desc("The groups (by amount, or by month).")
    total_count: int = desc("Opportunities counted.")
    total_amount: float = desc("Their amounts summed.")


class Report(Result):
    """A report run (Analytics REST API), its fact map flattened into rows."""

    report_id: str | None = desc("The report.")
    name: str | None = desc("Its name.")
    format: str | None = desc("TABULAR, SUMMARY or MATRIX.")
    all_data: bool | None = desc("False when Salesforce cut the rows at its limit.")
    has_detail_rows: bool | None = desc("Whether detail rows were included.")
    columns: list[dict[str, Any]] = desc("The detail columns ({name, label}).")
    aggregates: list[Any] = desc("The grand totals.")
    groupings: list[dict[str, Any]] = desc("The groupings ({key, depth, label, value, aggregates}).")
    rows: list[dict[str, Any]] = desc("Detail rows: column -> value (and _group for grouped reports).")
    row_count: int = desc("Number of rows.")


RESULTS: Registry = register("salesforce", {
    "create_record": Created, "update_record": Updated, "upsert_record": Upserted, "query": Query,
    "list_opportunities": Opportunities, "pipeline_summary": PipelineSummary, "run_report": Report,
})
