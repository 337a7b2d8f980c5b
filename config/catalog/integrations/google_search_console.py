"""Google Search Console API for Seomi: search analytics, URL inspection and sitemaps."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, examples, field
from config.catalog.integrations.google_analytics import google_oauth

Dimension = Literal["query", "page", "country", "device", "date", "searchAppearance"]
FilterDimension = Literal["query", "page", "country", "device", "searchAppearance"]
Operator = Literal["equals", "notEquals", "contains", "notContains", "includingRegex", "excludingRegex"]


class DimensionFilter(Params):
    """One search-analytics filter."""

    dimension: FilterDimension = Field(description="Dimension.")
    operator: Operator = Field(default="equals", description="Comparison.")
    expression: str = Field(min_length=1, description="Value or RE2 regex.")


class SearchAnalytics(Params):
    """Parameters of ``query_search_analytics``."""

    model_config = examples(
        {"start_date": "2026-11-05", "end_date": "2026-12-02", "dimensions": ["query", "page"], "limit": 50},
    )

    start_date: date = Field(description="First day (data covers about 16 months).")
    end_date: date = Field(description="Last day.")
    dimensions: list[Dimension] = Field(default_factory=lambda: list[Dimension](["query"]),
                                        description="Group rows by.")
    search_type: Literal["web", "image", "video", "news", "discover", "googleNews"] = Field(
        default="web", description="Search type.")
    filters: list[DimensionFilter] = Field(default_factory=list, description="Conditions, all must hold.")
    aggregation_type: Literal["auto", "byPage", "byProperty"] = Field(default="auto",
                                                                      description="Aggregation.")
    data_state: Literal["final", "all"] = Field(default="final",
                                                description="'all' includes fresh, partial data.")
    limit: int = Field(default=1000, ge=1, le=100_000,
                       description="Maximum rows, fetched 25,000 per request with startRow.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> SearchAnalytics:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        by_page = "page" in self.dimensions or any(f.dimension == "page" for f in self.filters)
        if by_page and self.aggregation_type == "byProperty":
            raise ValueError("grouping or filtering by page cannot aggregate by property (use auto)")
        return self


class InspectUrl(Params):
    """Parameters of ``inspect_url``."""

    model_config = examples({"url": "https://example.com/blog/seo-guide"})

    url: str = Field(pattern=r"^https?://", description="URL inside the property.")
    language_code: str = Field(default="en-US", description="Language of the returned messages.")


class ListSitemaps(Params):
    """Parameters of ``list_sitemaps``."""

    model_config = examples({"limit": 10})

    sitemap_index: str | None = Field(default=None, description="Only the sitemaps listed in this index URL.")
    limit: int = LIMIT


class SubmitSitemap(Params):
    """Parameters of ``submit_sitemap``."""

    model_config = examples({"feedpath": "https://example.com/sitemap-news.xml"})

    feedpath: str = Field(pattern=r"^https?://", description="Full URL of the sitemap.")


class CrawlIssues(Params):
    """Parameters of ``get_crawl_issues``."""

    model_config = examples({"urls": ["https://example.com/", "https://example.com/missing-page"]})

    urls: list[str] = Field(default_factory=list, max_length=100,
                            description="URLs to inspect (URL Inspection quota: 2,000 a day per property).")
    include_sitemaps: bool = Field(default=True, description="Add the errors and warnings of submitted "
                                                             "sitemaps.")


SPEC = IntegrationSpec(
    id="google_search_console",
    provider="google_search_console",
    name="Google Search Console",
    credential_fields=(
        *google_oauth("the webmasters scope"),
        field("site_url", description="Property: sc-domain:example.com or a URL prefix such as "
                                      "https://example.com/.",
              pattern=r"sc-domain:[a-z0-9.-]+|https?://[^\s/?#]+/(?:[^\s?#]*/)?",
              pattern_hint="sc-domain:example.com or a URL prefix ending in /, e.g. https://example.com/",
              example="sc-domain:example.com"),
    ),
    implemented=True,
    actions=(
        act("query_search_analytics",
            "Clicks, impressions, CTR and position by query, page, country, device or "
            "date (POST /webmasters/v3/sites/{site_url}/searchAnalytics/query).", SearchAnalytics),
        act("inspect_url", "Index status, coverage, crawl and mobile-usability result of one URL "
            "(POST /v1/urlInspection/index:inspect).", InspectUrl),
        act("list_sitemaps", "Submitted sitemaps with their errors and warnings "
            "(GET /webmasters/v3/sites/{site_url}/sitemaps).", ListSitemaps),
        act("submit_sitemap", "Submit or resubmit a sitemap (PUT /webmasters/v3/sites/{site_url}/sitemaps/"
            "{feedpath}); naturally idempotent.", SubmitSitemap, side_effect=True),
        act("get_crawl_issues", "Crawl problems gathered from URL inspection of the given URLs (verdict, "
            "coverage state, robots and fetch state) and from sitemap errors and warnings; the API has no "
            "site-wide crawl-errors report.", CrawlIssues),
    ),
)
