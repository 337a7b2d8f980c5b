"""Search Console results: search analytics rows, URL inspections and sitemaps in the client's own shape."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Row(Result):
    """One row of search analytics."""

    keys: dict[str, str] = desc("Dimension name -> value (query, page, country, device, date).")
    clicks: float = desc("Clicks.")
    impressions: float = desc("Impressions.")
    ctr: float = desc("Click-through rate, 0-1.")
    position: float | None = desc("Average position in the results.")


class SearchAnalytics(Result):
    """A search analytics query."""

    site_url: str = desc("The Search Console property.")
    dimensions: list[str] = desc("The dimensions the rows are keyed by.")
    aggregation: str | None = desc("How Google aggregated the figures (byPage, byProperty, ...).")
    metadata: dict[str, Any] | None = desc("Google's metadata (incomplete-data dates), when it sent some.")
    row_count: int = desc("Number of rows returned.")
    rows: list[Row] = desc("The rows.")


class Inspection(Result):
    """The index status of one URL (URL Inspection API)."""

    url: str = desc("The URL inspected.")
    verdict: str | None = desc("PASS, PARTIAL, FAIL or NEUTRAL.")
    coverage_state: str | None = desc("Google's coverage state in words.")
    indexing_state: str | None = desc("Whether indexing is allowed.")
    robots_txt_state: str | None = desc("Whether robots.txt allows the URL.")
    page_fetch_state: str | None = desc("How the last fetch went.")
    last_crawl_time: str | None = desc("When Google last crawled it.")
    google_canonical: str | None = desc("The canonical Google chose.")
    user_canonical: str | None = desc("The canonical the page declares.")
    sitemaps: list[str] = desc("Sitemaps that list the URL.")
    referring_urls: list[str] = desc("Pages linking to it.")
    link: str | None = desc("The inspection in Search Console.")
    issue: str | None = desc("Why the URL is not (cleanly) indexed, or None when it passes.")


class Sitemap(Result):
    """A sitemap and how Google read it."""

    path: str = desc("The sitemap's URL.")
    type: str | None = desc("sitemap, rssFeed, atomFeed, ...")
    is_pending: bool = desc("True while Google has not processed it yet.")
    is_sitemaps_index: bool = desc("True for a sitemap index.")
    last_submitted: str | None = desc("When it was last submitted.")
    last_downloaded: str | None = desc("When Google last downloaded it.")
    errors: int = desc("Errors Google found in it.")
    warnings: int = desc("Warnings Google found in it.")
    contents: list[dict[str, Any]] = desc("URLs submitted per content type ({type, submitted}).")


class Sitemaps(Result):
    """The property's sitemaps (or those of one sitemap index)."""

    site_url: str = desc("The Search Console property.")
    sitemaps: list[Sitemap] = desc("The sitemaps, up to the limit.")
    total: int = desc("Number of sitemaps in all.")


class SubmittedSitemap(Sitemap):
    """A sitemap submitted, as Google reads it back."""

    site_url: str = desc("The Search Console property.")
    submitted: bool = desc("Always True once the job succeeds.")
    resumed: bool = desc("True when an earlier attempt of this job had already submitted it.")


class CrawlIssues(Result):
    """URLs inspected and sitemaps checked for crawl problems."""

    site_url: str = desc("The Search Console property.")
    inspected: int = desc("Number of URLs inspected.")
    url_issues: list[Inspection] = desc("The inspections that found an issue.")
    urls: list[Inspection] = desc("Every inspection.")
    sitemap_issues: list[Sitemap] = desc("Sitemaps with errors or warnings (empty unless asked for).")


RESULTS: Registry = register("google_search_console", {
    "query_search_analytics": SearchAnalytics, "inspect_url": Inspection, "list_sitemaps": Sitemaps,
    "submit_sitemap": SubmittedSitemap, "get_crawl_issues": CrawlIssues,
})
