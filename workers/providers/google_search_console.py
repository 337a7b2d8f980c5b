"""Google Search Console client: search analytics, URL inspection, sitemaps and crawl issues for one property.

The property (``site_url``: ``sc-domain:example.com`` or a URL prefix) goes percent-encoded into the path.
Search analytics pages with ``startRow``/``rowLimit`` (25,000 rows a request). Crawl issues come from URL
inspection (2,000 a day per property), so each URL's result is stored in the job's steps as soon as it
arrives: a retry after a quota error resumes with the URLs not yet inspected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from workers.errors import AuthError
from workers.providers._google import GoogleClient, path_segment
from workers.providers.base import StepLog, expect_shape, require

#: Most rows the Search Analytics API returns for one request.
MAX_ROWS = 25_000
#: Permission levels that may submit sitemaps.
WRITERS = frozenset({"siteOwner", "siteFullUser"})


def _int(value: Any) -> int:
    """An int64 field (Google sends those as JSON strings)."""
    return int(value) if value not in (None, "") else 0


def sitemap_summary(s: Mapping[str, Any]) -> dict[str, Any]:
    """One sitemap entry in our shape (int64 strings turned into ints)."""
    return {"path": s["path"], "type": s.get("type"), "is_pending": bool(s.get("isPending")),
            "is_sitemaps_index": bool(s.get("isSitemapsIndex")), "last_submitted": s.get("lastSubmitted"),
            "last_downloaded": s.get("lastDownloaded"), "errors": _int(s.get("errors")),
            "warnings": _int(s.get("warnings")),
            # contents[].indexed is deprecated ("do not use"), so it is left out
            "contents": [{"type": c.get("type"), "submitted": _int(c.get("submitted"))}
                         for c in s.get("contents") or []]}


def inspection_summary(url: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """The index-status facts of one URL Inspection answer, plus an ``issue`` flag."""
    index = result.get("indexStatusResult") or {}
    summary = {"url": url, "verdict": index.get("verdict"), "coverage_state": index.get("coverageState"),
               "indexing_state": index.get("indexingState"), "robots_txt_state": index.get("robotsTxtState"),
               "page_fetch_state": index.get("pageFetchState"), "last_crawl_time": index.get("lastCrawlTime"),
               "crawled_as": index.get("crawledAs"), "google_canonical": index.get("googleCanonical"),
               "user_canonical": index.get("userCanonical"), "sitemaps": index.get("sitemap") or [],
               "referring_urls": index.get("referringUrls") or [],
               "mobile_usability": (result.get("mobileUsabilityResult") or {}).get("verdict"),
               "rich_results": (result.get("richResultsResult") or {}).get("verdict"),
               "link": result.get("inspectionResultLink")}
    summary["issue"] = crawl_problem(summary)
    return summary


def crawl_problem(s: Mapping[str, Any]) -> str | None:
    """Why a URL is not (cleanly) indexed, or None when it passes."""
    if s.get("page_fetch_state") not in (None, "SUCCESSFUL", "PAGE_FETCH_STATE_UNSPECIFIED"):
        return f"fetch: {s['page_fetch_state']}"
    if s.get("robots_txt_state") == "DISALLOWED":
        return "blocked by robots.txt"
    if s.get("indexing_state") not in (None, "INDEXING_ALLOWED", "INDEXING_STATE_UNSPECIFIED"):
        return f"indexing: {s['indexing_state']}"
    if s.get("verdict") not in (None, "PASS"):
        return s.get("coverage_state") or f"verdict {s['verdict']}"
    return None


class GoogleSearchConsoleClient(GoogleClient):
    """Search Console API (webmasters v3 + URL Inspection v1) for the configured property."""

    provider: ClassVar[str] = "google_search_console"
    #: Rows asked for per Search Analytics request.
    PAGE_SIZE: ClassVar[int] = MAX_ROWS

    @property
    def site_url(self) -> str:
        """The property the actions act on."""
        return self.credential("site_url")

    @property
    def _site(self) -> str:
        return f"/webmasters/v3/sites/{path_segment(self.site_url)}"

    def test_connection(self) -> dict[str, Any]:
        """Kept: the token must have verified access to the configured site, which a 200 alone does not prove."""
        data = self.send_test_call()
        with expect_shape(self.provider, "GET /webmasters/v3/sites"):
            sites = {s["siteUrl"]: s.get("permissionLevel") for s in data.get("siteEntry") or []}
        level = sites.get(self.site_url)
        if level is None or level == "siteUnverifiedUser":
            raise AuthError(f"google_search_console: this Google account has no verified access to "
                            f"{self.site_url!r} (it sees {len(sites)} properties)", status=403)
        return {"site_url": self.site_url, "permission_level": level, "can_submit_sitemaps": level in WRITERS,
                "properties": len(sites)}

    # -- search analytics -----------------------------------------------------------------------------
    def action_query_search_analytics(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body: dict[str, Any] = {
            "startDate": params.start_date.isoformat(), "endDate": params.end_date.isoformat(),
            "dimensions": params.dimensions, "type": params.search_type,
            "aggregationType": params.aggregation_type, "dataState": params.data_state}
        if params.filters:
            body["dimensionFilterGroups"] = [{"groupType": "and", "filters": [
                f.model_dump() for f in params.filters]}]
        rows, answer = self._analytics_pages(body, params.limit)
        with expect_shape(self.provider, "POST searchAnalytics/query"):
            return {"site_url": self.site_url, "dimensions": params.dimensions,
                    "aggregation": answer.get("responseAggregationType"),
                    "metadata": answer.get("metadata"), "row_count": len(rows),
                    "rows": [{"keys": dict(zip(params.dimensions, r.get("keys") or [], strict=False)),
                              "clicks": r.get("clicks", 0), "impressions": r.get("impressions", 0),
                              "ctr": r.get("ctr", 0.0), "position": r.get("position")} for r in rows]}

    def _analytics_pages(self, body: dict[str, Any], limit: int) -> tuple[list[Any], dict[str, Any]]:
        """Up to ``limit`` rows, ``startRow`` by ``startRow``; also the first answer (for its metadata)."""
        rows: list[Any] = []
        first: dict[str, Any] | None = None
        while len(rows) < limit:
            size = min(self.PAGE_SIZE, MAX_ROWS, limit - len(rows))
            page = self.json("POST", f"{self._site}/searchAnalytics/query",
                             json={**body, "rowLimit": size, "startRow": len(rows)})
            with expect_shape(self.provider, "POST searchAnalytics/query"):
                got = list(page.get("rows") or [])
                first = first or dict(page)
            rows.extend(got)
            if len(got) < size:
                break
        return rows[:limit], first or {}

    # -- URL inspection -------------------------------------------------------------------------------
    def _inspect(self, url: str, language: str) -> dict[str, Any]:
        data = self.json("POST", "/v1/urlInspection/index:inspect",
                         json={"inspectionUrl": url, "siteUrl": self.site_url, "languageCode": language})
        with expect_shape(self.provider, "POST /v1/urlInspection/index:inspect"):
            return inspection_summary(url, require(data, "inspectionResult", self.provider,
                                                   "POST /v1/urlInspection/index:inspect"))

    def action_inspect_url(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._inspect(params.url, params.language_code)

    # -- sitemaps -------------------------------------------------------------------------------------
    def _sitemaps(self, index: str | None = None) -> list[dict[str, Any]]:
        query = {"sitemapIndex": index} if index else None
        data = self.json("GET", f"{self._site}/sitemaps", params=query)
        with expect_shape(self.provider, "GET sitemaps"):
            return [sitemap_summary(s) for s in data.get("sitemap") or []]

    def action_list_sitemaps(self, params: Any, steps: StepLog) -> dict[str, Any]:
        sitemaps = self._sitemaps(params.sitemap_index)
        return {"site_url": self.site_url, "sitemaps": sitemaps[: params.limit], "total": len(sitemaps)}

    def action_submit_sitemap(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """PUT is idempotent; the step only spares a resumed job a second submission."""
        path = f"{self._site}/sitemaps/{path_segment(params.feedpath)}"
        resumed = steps.get("submitted") == params.feedpath
        if not resumed:
            steps.progress("submitting sitemap", 50.0)
            self.request("PUT", path)
            steps.put("submitted", params.feedpath)
        data = self.json("GET", path)
        with expect_shape(self.provider, "GET sitemaps/{feedpath}"):
            return {"site_url": self.site_url, "submitted": True, "resumed": resumed, **sitemap_summary(data)}

    # -- crawl issues ---------------------------------------------------------------------------------
    def action_get_crawl_issues(self, params: Any, steps: StepLog) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        urls = list(dict.fromkeys(params.urls))
        for n, url in enumerate(urls, start=1):
            key = f"inspection:{url}"
            if (done := steps.get(key)) is None:
                steps.progress(f"inspecting URL {n}/{len(urls)}", round(90.0 * n / len(urls), 1))
                done = self._inspect(url, "en-US")
                steps.put(key, done)
            results.append(done)
        sitemaps = self._sitemap_issues() if params.include_sitemaps else []
        return {"site_url": self.site_url, "inspected": len(results),
                "url_issues": [r for r in results if r["issue"]], "urls": results,
                "sitemap_issues": sitemaps}

    def _sitemap_issues(self) -> list[dict[str, Any]]:
        """Sitemaps (and the children of sitemap indexes) with errors or warnings."""
        found: list[dict[str, Any]] = []
        for sitemap in self._sitemaps():
            children = self._sitemaps(sitemap["path"]) if sitemap["is_sitemaps_index"] else []
            found.extend(s for s in [sitemap, *children] if s["errors"] or s["warnings"])
        return found


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = GoogleSearchConsoleClient
