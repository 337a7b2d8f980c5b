"""Ahrefs API v3 (Site Explorer) for Seomi: backlinks, referring domains, ratings, keywords, competitors."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, examples, field

Mode = Literal["exact", "prefix", "domain", "subdomains"]


class Target(Params):
    """The target every Site Explorer call takes."""

    target: str = Field(min_length=3, description="Domain or URL, e.g. example.com.")
    mode: Mode = Field(default="subdomains", description="Scope of the target.")


class Backlinks(Target):
    """Parameters of ``backlinks``."""

    model_config = examples({"target": "acme.example", "limit": 20, "order_by": "domain_rating_source:desc"})

    select: list[str] = Field(
        default_factory=lambda: ["url_from", "url_to", "anchor", "domain_rating_source", "first_seen_link"],
        min_length=1, description="Columns to return (each costs units).")
    aggregation: Literal["similar_links", "1_per_domain", "all"] = Field(default="similar_links",
                                                                         description="Grouping of links.")
    history: str = Field(default="live", pattern=r"^(live|all_time|since:\d{4}-\d{2}-\d{2})$",
                         description="live, all_time or since:YYYY-MM-DD.")
    where: str | None = Field(default=None, description="Ahrefs filter expression (JSON).")
    order_by: str | None = Field(default=None, description="e.g. domain_rating_source:desc.")
    limit: int = LIMIT


class ReferringDomains(Target):
    """Parameters of ``referring_domains``."""

    model_config = examples({"target": "acme.example", "limit": 10})

    select: list[str] = Field(
        default_factory=lambda: ["domain", "domain_rating", "links_to_target", "first_seen"],
        min_length=1, description="Columns to return.")
    history: str = Field(default="live", pattern=r"^(live|all_time|since:\d{4}-\d{2}-\d{2})$",
                         description="live, all_time or since:YYYY-MM-DD.")
    order_by: str | None = Field(default=None, description="e.g. domain_rating:desc.")
    limit: int = LIMIT


class DomainRating(Params):
    """Parameters of ``domain_rating``."""

    model_config = examples({"target": "acme.example"})

    target: str = Field(min_length=3, description="Domain.")
    date: dt.date | None = Field(default=None, description="Day of the rating; today when omitted.")


class Overview(Target):
    """Parameters of ``site_explorer_overview``."""

    model_config = examples({"target": "acme.example", "country": "us"})

    date: dt.date | None = Field(default=None, description="Day of the metrics; today when omitted.")
    country: str | None = Field(default=None, pattern=r"^[a-z]{2}$",
                                description="Organic metrics for one country.")


class OrganicCompetitors(Target):
    """Parameters of ``organic_competitors``."""

    model_config = examples({"target": "acme.example", "limit": 5})

    country: str = Field(default="us", pattern=r"^[a-z]{2}$", description="Country of the organic results.")
    date: dt.date | None = Field(default=None, description="Day; today when omitted.")
    limit: int = LIMIT


class OrganicKeywords(Target):
    """Parameters of ``organic_keywords``."""

    model_config = examples({"target": "acme.example", "country": "us", "limit": 25})

    country: str = Field(default="us", pattern=r"^[a-z]{2}$", description="Country of the organic results.")
    date: dt.date | None = Field(default=None, description="Day; today when omitted.")
    select: list[str] = Field(
        default_factory=lambda: ["keyword", "best_position", "best_position_url", "volume", "sum_traffic"],
        min_length=1, description="Columns to return.")
    order_by: str | None = Field(default="sum_traffic:desc", description="Sort.")
    limit: int = LIMIT


SPEC = IntegrationSpec(
    id="ahrefs",
    provider="ahrefs",
    name="Ahrefs",
    credential_fields=(field("api_key", secret=True,
                             description="API v3 key, created by a workspace admin.",
                             example="0000000000000000000000000000000000000000"),),
    actions=(
        act("backlinks", "Backlinks to a target (GET /site-explorer/all-backlinks).", Backlinks),
        act("referring_domains", "Domains linking to a target (GET /site-explorer/refdomains).",
            ReferringDomains),
        act("domain_rating", "Domain Rating and Ahrefs Rank on a day (GET /site-explorer/domain-rating).",
            DomainRating),
        act("site_explorer_overview", "Overview metrics: backlinks, referring domains, organic keywords and "
            "traffic (GET /site-explorer/metrics and /site-explorer/backlinks-stats).", Overview),
        act("organic_competitors", "Domains competing for the same organic keywords "
            "(GET /site-explorer/organic-competitors).", OrganicCompetitors),
        act("organic_keywords", "Keywords the target ranks for (GET /site-explorer/organic-keywords).",
            OrganicKeywords),
    ),
    implemented=True,
    reason="Plan-gated: API v3 access needs a paid Ahrefs plan that includes it (none on Free or Starter; "
           "Lite and up per Ahrefs' pricing, Enterprise for large volumes), with a per-plan cap on rows per "
           "request. Every request spends API units (at least 50; cache hits are free); see Account settings "
           "-> Limits & usage.",
)
