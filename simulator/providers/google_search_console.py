"""Simulated Google Search Console API under ``/google_search_console``: ``webmasters/v3`` sites, search
analytics and sitemaps, ``v1/urlInspection/index:inspect``, and the OAuth token endpoint (``/token``).

Every account sees three properties: ``sc-domain:example.com`` (owner), ``https://www.example.com/`` (full
user) and ``https://blog.example.com/`` (restricted: cannot submit sitemaps); any other site answers
Google's 403. ``sc-domain:example.com`` has a submitted sitemap index whose posts sitemap has errors.
URL inspection verdicts follow the URL: ``404``/``missing`` -> not found, ``noindex`` -> excluded by a
noindex tag, ``private`` -> blocked by robots.txt, ``soft`` -> soft 404, else indexed.
Search analytics rows are deterministic per (site, keys) and sorted by clicks, descending; grouping or
filtering by page with ``aggregationType: byProperty`` is a 400, as documented. Errors are Google's legacy
shape (``errors[]`` plus ``status``); a quota error is 429.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlparse

from fastapi import Request, Response

from simulator.control import state
from simulator.providers._google import account, fail, google_api, json_body

PROVIDER = "google_search_console"
SIM, router = google_api(PROVIDER, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per "
                         "user' of service 'searchconsole.googleapis.com'.",
                         "https://www.googleapis.com/auth/webmasters", legacy=True)
fault_response = SIM.fault_response

SITES = {"sc-domain:example.com": "siteOwner", "https://www.example.com/": "siteFullUser",
         "https://blog.example.com/": "siteRestrictedUser"}
WRITERS = ("siteOwner", "siteFullUser")
QUERIES = ("seo tools", "keyword research", "backlink checker", "site audit", "rank tracker", "serp api",
           "technical seo", "meta description length", "canonical tag", "robots txt tester", "sitemap xml",
           "page speed", "core web vitals", "schema markup", "local seo", "link building",
           "content gap", "search console api", "hreflang", "internal links")
PAGES = ("", "pricing", "features", "blog/", "blog/seo-guide", "blog/keyword-research", "blog/link-building",
         "docs/api", "tools/site-audit", "tools/rank-tracker", "about", "contact")
VALUES = {"query": QUERIES, "country": ("usa", "gbr", "deu", "fra", "ind", "can", "aus", "bra"),
          "device": ("DESKTOP", "MOBILE", "TABLET"),
          "searchAppearance": ("AMP_BLUE_LINK", "RICHCARD", "VIDEO", "FAQ_RICH_RESULT")}
TYPES = ("web", "image", "video", "news", "discover", "googleNews")
OPERATORS = ("equals", "notEquals", "contains", "notContains", "includingRegex", "excludingRegex")
QUERY_FIELDS = frozenset({"startDate", "endDate", "dimensions", "type", "searchType", "dimensionFilterGroups",
                          "aggregationType", "rowLimit", "startRow", "dataState"})
MAX_ROWS, MAX_GENERATED, INSPECTIONS_PER_DAY = 25_000, 60_000, 2000


def number(key: str, low: int, high: int) -> int:
    """A stable pseudo-random number in ``[low, high]`` for ``key``."""
    return low + int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % (high - low + 1)


def now() -> str:
    """An RFC 3339 timestamp like Google's."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def origin(site: str) -> str:
    """The URL the property's pages start with."""
    return f"https://{site.removeprefix('sc-domain:')}/" if site.startswith("sc-domain:") else site


def in_property(site: str, url: str) -> bool:
    """Whether ``url`` belongs to the property ``site``."""
    if site.startswith("sc-domain:"):
        host, domain = urlparse(url).hostname or "", site.removeprefix("sc-domain:")
        return host == domain or host.endswith("." + domain)
    return url.startswith(site)


def _sitemap(path: str, *, index: bool = False, errors: int = 0, warnings: int = 0,
             pending: bool = False, parent: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"path": path, "lastSubmitted": now(), "isPending": pending,
                            "isSitemapsIndex": index, "errors": str(errors), "warnings": str(warnings),
                            "_parent": parent, "_reads": 0}
    if not pending:
        item |= {"type": "sitemap", "lastDownloaded": now(),
                 "contents": [{"type": "web", "submitted": str(number(path, 10, 400)), "indexed": "0"}]}
    return item


def _seed() -> dict[str, Any]:
    root = "https://example.com/"
    maps = {"sc-domain:example.com": [
        _sitemap(root + "sitemap_index.xml", index=True, errors=3, warnings=1),
        _sitemap(root + "sitemap-posts.xml", errors=3, warnings=1, parent=root + "sitemap_index.xml"),
        _sitemap(root + "sitemap-pages.xml", parent=root + "sitemap_index.xml")],
        "https://www.example.com/": [_sitemap("https://www.example.com/sitemap.xml")]}
    return {"sites": dict(SITES), "sitemaps": {s: {m["path"]: m for m in ms} for s, ms in maps.items()},
            "inspections": {}}


def site_of(acct: dict[str, Any], site: str, *, write: bool = False) -> str:
    """``site`` when the account may use it (and write to it), else Google's 403."""
    level = acct["sites"].get(site)
    if level is None or (write and level not in WRITERS):
        fail(403, f"User does not have sufficient permission for site '{site}'. See also: "
                  "https://support.google.com/webmasters/answer/2451999.", legacy=True, reason="forbidden")
    return site


def _public(sitemap: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sitemap.items() if not k.startswith("_") and v is not None}


def _read(sitemap: dict[str, Any]) -> dict[str, Any]:
    """A sitemap as read; a pending one is processed after it was read once."""
    sitemap["_reads"] += 1
    if sitemap["isPending"] and sitemap["_reads"] > 1:
        sitemap.update(_sitemap(sitemap["path"]) | {"lastSubmitted": sitemap["lastSubmitted"], "_reads": 2})
    return _public(sitemap)


@router.get("/webmasters/v3/sites")
def list_sites(request: Request) -> dict[str, Any]:
    """``sites.list``: the properties the user has access to."""
    acct = account(request, PROVIDER, _seed, legacy=True)
    return {"siteEntry": [{"siteUrl": s, "permissionLevel": p} for s, p in acct["sites"].items()]}


@router.api_route("/webmasters/v3/sites/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
async def site_resource(rest: str, request: Request) -> Any:
    """Sites, sitemaps and search analytics; parsed from the raw path, since site URLs hold ``%2F``."""
    acct = account(request, PROVIDER, _seed, legacy=True)
    raw = request.scope.get("raw_path", b"").decode().split("?", 1)[0]
    parts = [unquote(p) for p in raw.split("/webmasters/v3/sites/", 1)[1].split("/")]
    method, site = request.method, unquote(parts[0])
    if parts[1:] == ["searchAnalytics", "query"] and method == "POST":
        body = await json_body(request, QUERY_FIELDS, legacy=True)
        with state(request).lock:
            return search_analytics(site_of(acct, site), body)
    if len(parts) in (2, 3) and parts[1] == "sitemaps":
        with state(request).lock:
            return sitemaps(acct, site, parts[2] if len(parts) == 3 else None, request)
    if len(parts) == 1 and method == "GET":
        return {"siteUrl": site, "permissionLevel": acct["sites"][site_of(acct, site)]}
    fail(404, "Not Found", legacy=True, reason="notFound")


def sitemaps(acct: dict[str, Any], site: str, feed: str | None, request: Request) -> Any:
    """``sitemaps.list`` / ``get`` / ``submit`` (PUT) / ``delete``."""
    method = request.method
    site_of(acct, site, write=method in ("PUT", "DELETE"))
    maps: dict[str, Any] = acct["sitemaps"].setdefault(site, {})
    if feed is None and method == "GET":
        index = request.query_params.get("sitemapIndex")
        items = [_read(m) for m in maps.values() if m["_parent"] == index]
        return {"sitemap": items} if items else {}
    if feed is None:
        fail(405, "Method Not Allowed", legacy=True, reason="httpMethodNotAllowed")
    if method == "PUT":
        if not re.match(r"^https?://", feed):
            fail(400, "Invalid sitemap URL.", legacy=True, reason="invalidParameter")
        if feed not in maps:
            maps[feed] = _sitemap(feed, pending=True)
        maps[feed]["lastSubmitted"] = now()
        return Response(status_code=204)
    if feed not in maps:
        fail(404, "Requested entity was not found.", legacy=True, reason="notFound")
    if method == "DELETE":
        del maps[feed]
        return Response(status_code=204)
    return _read(maps[feed])


def _dates(body: dict[str, Any]) -> list[str]:
    try:
        start, end = date.fromisoformat(body["startDate"]), date.fromisoformat(body["endDate"])
    except KeyError as exc:
        fail(400, f"Missing required field: {exc.args[0]}.", legacy=True, reason="required")
    except (TypeError, ValueError):
        fail(400, "Invalid date, expected YYYY-MM-DD.", legacy=True, reason="invalidParameter")
    if end < start:
        fail(400, "endDate must not be before startDate.", legacy=True, reason="invalidParameter")
    last = date.today() - timedelta(days=0 if body.get("dataState") == "all" else 2)
    first = max(start, date.today() - timedelta(days=486))  # about 16 months of data
    return [(first + timedelta(days=n)).isoformat() for n in range((min(end, last) - first).days + 1)]


def _matches(value: str, op: str, expr: str) -> bool:
    return {"equals": value == expr, "notEquals": value != expr, "contains": expr in value,
            "notContains": expr not in value, "includingRegex": re.search(expr, value) is not None,
            "excludingRegex": re.search(expr, value) is None}[op]


def _check_query(body: dict[str, Any], dims: list[str]) -> list[dict[str, Any]]:
    """The filters of a valid query; Google's 400 for a bad dimension, type, operator or row limit."""
    for dim in dims:
        if dim not in (*VALUES, "page", "date"):
            fail(400, f"Invalid dimension: {dim}.", legacy=True, reason="invalidParameter")
    if body.get("type", "web") not in TYPES:
        fail(400, f"Invalid search type: {body.get('type')}.", legacy=True, reason="invalidParameter")
    if not 1 <= int(body.get("rowLimit", 1000)) <= MAX_ROWS:
        fail(400, f"rowLimit must be between 1 and {MAX_ROWS}.", legacy=True, reason="invalidParameter")
    filters = [f for g in body.get("dimensionFilterGroups") or [] for f in g.get("filters") or []]
    if body.get("aggregationType") == "byProperty" and ("page" in dims or any(
            f.get("dimension") == "page" for f in filters)):
        fail(400, "Cannot aggregate by property when grouping or filtering by page.", legacy=True,
             reason="invalidParameter")
    for f in filters:
        if f.get("operator", "equals") not in OPERATORS or f.get("dimension") not in (*VALUES, "page"):
            fail(400, "Invalid dimension filter.", legacy=True, reason="invalidParameter")
    return filters


def search_analytics(site: str, body: dict[str, Any]) -> dict[str, Any]:
    """``searchanalytics.query``: deterministic rows, filtered, sorted and cut by startRow/rowLimit."""
    dims = list(body.get("dimensions") or [])
    filters, days = _check_query(body, dims), _dates(body)
    values = {**VALUES, "page": tuple(origin(site) + p for p in PAGES), "date": tuple(days)}
    rows: list[dict[str, Any]] = []
    combos = itertools.product(*(values[d] for d in dims)) if days else iter(())
    for keys in itertools.islice(combos, MAX_GENERATED):
        row = dict(zip(dims, keys, strict=True))
        if all(_matches(row[f["dimension"]], f.get("operator", "equals"), f["expression"])
               for f in filters if f["dimension"] in row):
            impressions = number(f"{site}|{keys}|{body.get('type', 'web')}", 1, 5000)
            clicks = impressions * number(f"{keys}|ctr", 0, 30) // 100
            rows.append({**({"keys": list(keys)} if dims else {}), "clicks": clicks,
                         "impressions": impressions, "ctr": clicks / impressions if impressions else 0.0,
                         "position": number(f"{keys}|pos", 10, 500) / 10})
    rows.sort(key=lambda r: -r["clicks"])
    start, limit = int(body.get("startRow", 0)), int(body.get("rowLimit", 1000))
    aggregation = body.get("aggregationType", "auto")
    answer: dict[str, Any] = {"responseAggregationType": "byPage" if aggregation == "byPage" or (
        aggregation == "auto" and "page" in dims) else "byProperty"}
    if rows[start: start + limit]:
        answer["rows"] = rows[start: start + limit]
    if body.get("dataState") == "all":
        answer["metadata"] = {"firstIncompleteDate": (date.today() - timedelta(days=1)).isoformat()}
    return answer


def _inspection(site: str, url: str, maps: dict[str, Any]) -> dict[str, Any]:
    """A UrlInspectionResult for ``url``, by the keywords in its path."""
    index: dict[str, Any] = {"verdict": "PASS", "coverageState": "Submitted and indexed",
                             "robotsTxtState": "ALLOWED", "indexingState": "INDEXING_ALLOWED",
                             "lastCrawlTime": now(), "pageFetchState": "SUCCESSFUL", "googleCanonical": url,
                             "userCanonical": url, "crawledAs": "MOBILE",
                             "sitemap": [p for p in maps if not maps[p]["isSitemapsIndex"]][:1],
                             "referringUrls": [origin(site)]}
    if "404" in url or "missing" in url:
        index |= {"verdict": "FAIL", "coverageState": "Not found (404)", "pageFetchState": "NOT_FOUND"}
    elif "soft" in url:
        index |= {"verdict": "FAIL", "coverageState": "Soft 404", "pageFetchState": "SOFT_404"}
    elif "noindex" in url:
        index |= {"verdict": "NEUTRAL", "coverageState": "Excluded by ‘noindex’ tag",
                  "indexingState": "BLOCKED_BY_META_TAG"}
    elif "private" in url:
        index |= {"verdict": "NEUTRAL", "coverageState": "Blocked by robots.txt",
                  "robotsTxtState": "DISALLOWED", "pageFetchState": "BLOCKED_ROBOTS_TXT"}
    if index["verdict"] != "PASS":
        for key in ("googleCanonical", "lastCrawlTime", "userCanonical"):
            index.pop(key)
    link = f"https://search.google.com/search-console/inspect?resource_id={site}&id={number(url, 1, 10**9)}"
    mobile = "PASS" if index["verdict"] == "PASS" else "VERDICT_UNSPECIFIED"
    return {"inspectionResultLink": link, "indexStatusResult": index,
            "mobileUsabilityResult": {"verdict": mobile}}


@router.post("/v1/urlInspection/index:inspect")
async def inspect(request: Request) -> dict[str, Any]:
    """``urlInspection.index.inspect`` (2,000 a day per property)."""
    acct = account(request, PROVIDER, _seed)
    body = await json_body(request, frozenset({"inspectionUrl", "siteUrl", "languageCode"}))
    site, url = str(body.get("siteUrl") or ""), str(body.get("inspectionUrl") or "")
    if not site or not url:
        fail(400, "Request contains an invalid argument.")
    with state(request).lock:
        site_of(acct, site)
        if not in_property(site, url):
            fail(400, f"URL '{url}' is not in property '{site}'.")
        used = acct["inspections"].get((site, date.today()), 0)
        if used >= INSPECTIONS_PER_DAY:
            fail(429, "Quota exceeded for quota metric 'URL Inspection requests per day per property'.")
        acct["inspections"][(site, date.today())] = used + 1
        return {"inspectionResult": _inspection(site, url, acct["sitemaps"].get(site, {}))}
