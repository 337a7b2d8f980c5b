"""Semrush for Seomi: keyword and domain analytics (Standard API) plus Site Audit and Position Tracking."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, field

Database = Field(default="us", pattern=r"^(mobile-)?[a-z]{2}(-ext)?$",
                 description="Regional database, e.g. us, uk, de, mobile-us, il-ext (gb is read as uk).")


class KeywordOverview(Params):
    """Parameters of ``keyword_overview``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phrase": "running shoes", "database": "us"}]})

    phrase: str = Field(min_length=1, description="Keyword.")
    database: str = Database
    all_databases: bool = Field(default=False, description="Overview in every database (type=phrase_all).")


class RelatedKeywords(Params):
    """Parameters of ``related_keywords``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"phrase": "running shoes", "database": "uk", "limit": 20}]})

    phrase: str = Field(min_length=1, description="Seed keyword.")
    database: str = Database
    limit: int = LIMIT


class DomainOrganicKeywords(Params):
    """Parameters of ``domain_organic_keywords``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"domain": "example.com", "database": "us", "sort": "tr_desc", "limit": 25}]})

    domain: str = Field(min_length=3, description="Domain, e.g. example.com.")
    database: str = Database
    sort: str = Field(default="tr_desc", description="display_sort, e.g. tr_desc (traffic), po_asc "
                                                     "(position).")
    limit: int = LIMIT


class Competitors(Params):
    """Parameters of ``competitors``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"domain": "example.com", "database": "us", "limit": 10}]})

    domain: str = Field(min_length=3, description="Domain.")
    database: str = Database
    limit: int = LIMIT


class ProjectId(Params):
    """Parameters of the Site Audit actions."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"project_id": 6647718}]})

    project_id: int = Field(ge=1, description="Semrush project with Site Audit set up.")


class PositionTracking(Params):
    """Parameters of ``position_tracking``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"campaign_id": "6647718_272401", "url": "*.example.com/*", "limit": 20}]})

    campaign_id: str = Field(pattern=r"^\d+(_\d+)?$", description="Position Tracking campaign id as Semrush "
                             "shows it (projectID_campaignNumber, e.g. 6647718_272401), or the project id.")
    url: str = Field(min_length=1, description="Tracked domain mask, e.g. *.example.com/*.")
    date_begin: date | None = Field(default=None, description="First day; the latest data when omitted.")
    date_end: date | None = Field(default=None, description="Last day.")
    limit: int = LIMIT

    @field_validator("campaign_id", mode="before")
    @classmethod
    def _digits(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


SPEC = IntegrationSpec(
    id="semrush",
    provider="semrush",
    name="Semrush",
    credential_fields=(field("api_key", secret=True, example="0123456789abcdef0123456789abcdef",
                             description="Semrush API key (sent as ?key=)."),),
    actions=(
        act("keyword_overview", "Volume, CPC, competition and trend of a keyword (type=phrase_this, or "
            "phrase_all); answers are semicolon-separated text.", KeywordOverview),
        act("related_keywords", "Keywords related to a seed keyword (type=phrase_related).", RelatedKeywords),
        act("domain_organic_keywords", "Keywords a domain ranks for in organic search (type=domain_organic).",
            DomainOrganicKeywords),
        act("competitors",
            "A domain's organic search competitors (type=domain_organic_organic).", Competitors),
        act("site_audit_start", "Launch a Site Audit crawl of a project "
            "(POST /reports/v1/projects/{id}/siteaudit/launch), poll it and return the results; uses the "
            "audit page limit. A retried job resumes the audit it launched.", ProjectId, side_effect=True),
        act("site_audit_status", "Status and results of the last audit: health score, errors, warnings, "
            "notices (GET /reports/v1/projects/{id}/siteaudit/info).", ProjectId),
        act("position_tracking", "Tracked keyword positions of a project "
            "(GET /reports/v1/projects/{campaign_id}/tracking/?type=tracking_position_organic).",
            PositionTracking),
    ),
    implemented=True,
    reason="Needs a Semrush SEO Business subscription plus a purchased API-units package; every returned row "
           "spends units (Site Audit info 100 per call), so ask for what you need.",
)
