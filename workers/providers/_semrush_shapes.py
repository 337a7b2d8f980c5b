"""Semrush wire shapes: ``ERROR nn :: TEXT`` bodies, semicolon-separated reports, Site Audit summaries.

Standard (Analytics) API reports are text: the first line names the columns (``Keyword;Position;...``),
one line per row after it, in the order of the ``export_columns`` codes asked for. We ask with
``export_escape=1`` so every value is double-quoted and a keyword may contain a semicolon.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from workers.errors import MalformedResponse

#: ``ERROR 50 :: NOTHING FOUND`` and friends, at the start of a text body.
ERROR_LINE = re.compile(r"^\s*ERROR\s+(\d+)\s*(?:::\s*(.*))?", re.S)
#: The report code meaning "no rows" (not an error).
NOTHING_FOUND = 50
#: Codes that mean the key is wrong or has no API access (reconnect needed).
AUTH_CODES = frozenset({70, 110, 120, 121, 122, 130, 402})
#: Codes that mean a units or request quota is used up (retry much later).
QUOTA_CODES = frozenset({131, 132, 134, 136})
#: Codes of a transient failure on Semrush's side.
SERVER_CODES = frozenset({500, 511})
#: Semrush's intent codes (``In`` column).
INTENTS = {0: "commercial", 1: "informational", 2: "navigational", 3: "transactional"}

#: export_columns code -> (header Semrush writes, our key, kind).
COLUMNS: dict[str, tuple[str, str, str]] = {
    "Ph": ("Keyword", "keyword", "str"), "Po": ("Position", "position", "num"),
    "Pp": ("Previous Position", "previous_position", "num"), "Nq": ("Search Volume", "volume", "num"),
    "Cp": ("CPC", "cpc", "num"), "Co": ("Competition", "competition", "num"),
    "Nr": ("Number of Results", "results", "num"), "Td": ("Trends", "trend", "nums"),
    "In": ("Intents", "intents", "intents"), "Kd": ("Keyword Difficulty Index", "difficulty", "num"),
    "Ur": ("Url", "url", "str"), "Tr": ("Traffic (%)", "traffic_pct", "num"),
    "Tg": ("Traffic", "traffic", "num"), "Tc": ("Traffic Cost (%)", "traffic_cost_pct", "num"),
    "Rr": ("Related Relevance", "relevance", "num"), "Dn": ("Domain", "domain", "str"),
    "Cr": ("Competitor Relevance", "relevance", "num"), "Np": ("Common Keywords", "common_keywords", "num"),
    "Or": ("Organic Keywords", "organic_keywords", "num"),
    "Ot": ("Organic Traffic", "organic_traffic", "num"),
    "Oc": ("Organic Cost", "organic_cost", "num"), "Ad": ("Adwords Keywords", "adwords_keywords", "num"),
    "Dt": ("Date", "date", "str"), "Db": ("Database", "database", "str"),
}

#: Site Audit issue titles for the ids Semrush documents (others are named by id).
ISSUES = {
    1: "5xx errors", 2: "4xx errors", 3: "Title tag is missing or empty", 4: "Blocked from crawling",
    6: "Duplicate title tag", 7: "Duplicate content", 8: "Broken internal links", 9: "Pages not crawled",
    10: "DNS resolution issue", 11: "Page URL could not be opened", 13: "Broken internal images",
    15: "Duplicate meta descriptions", 16: "Invalid robots.txt format", 17: "Invalid sitemap.xml format",
    18: "Incorrect pages found in sitemap.xml", 19: "www resolve issues", 20: "Viewport not configured",
    21: "Large HTML page size", 22: "Missing canonical tags in AMP pages", 26: "Non-secure pages",
    27: "Certificate expiration",
}


def error_line(text: str) -> tuple[int, str] | None:
    """``(code, message)`` of a Semrush ``ERROR nn :: TEXT`` body, or None."""
    match = ERROR_LINE.match(text[:500])
    if match is None:
        return None
    return int(match.group(1)), " ".join((match.group(2) or "").split())


def number(value: str) -> int | float | None:
    """A report cell as a number (None when empty or not a number)."""
    value = value.strip()
    if not value or value.lower() in ("n/a", "-"):
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        as_float = float(value)
    except ValueError:
        return None
    return int(as_float) if as_float.is_integer() and "." not in value else as_float


def cell(kind: str, value: str) -> Any:
    """One report cell converted to its JSON value."""
    if kind == "str":
        return value
    if kind == "num":
        return number(value)
    parts = [p for p in value.split(",") if p.strip()]
    if kind == "nums":
        return [n for n in (number(p) for p in parts) if n is not None]
    codes = [number(p) for p in parts]
    return [INTENTS.get(c, str(c)) for c in codes if isinstance(c, int)]


def parse_report(text: str, codes: Sequence[str], what: str) -> list[dict[str, Any]]:
    """Rows of a semicolon-separated report asked for with ``export_columns=codes``."""
    found = error_line(text)
    if found and found[0] == NOTHING_FOUND:
        return []
    lines = list(csv.reader(io.StringIO(text.strip()), delimiter=";", quotechar='"'))
    if not lines:
        return []
    header, rows = [h.strip() for h in lines[0]], lines[1:]
    first = COLUMNS[codes[0]][0]
    if len(header) != len(codes) or header[0].lower() != first.lower():
        raise MalformedResponse(f"semrush answered {what} with an unexpected header "
                                f"({len(header)} columns, first {header[0][:40]!r}; expected {first!r})")
    out = []
    for row in rows:
        if not row or row == [""]:
            continue
        if len(row) != len(codes):
            raise MalformedResponse(f"semrush answered {what} with a row of {len(row)} columns, not "
                                    f"{len(codes)}")
        out.append({COLUMNS[c][1]: cell(COLUMNS[c][2], v) for c, v in zip(codes, row, strict=True)})
    return out


def units(text: str) -> int | None:
    """The unit balance ``countapiunits.html`` answers (``48210`` or ``1,000``), or None."""
    value = text.strip().replace(",", "")
    return int(value) if value.isdigit() else None


def issues(items: Any, top: int = 10) -> list[dict[str, Any]]:
    """The most frequent issues of one severity, with their titles."""
    rows = [i for i in items or [] if isinstance(i, Mapping) and isinstance(i.get("id"), int)]
    rows.sort(key=lambda i: -(i.get("count") or 0))
    return [{"id": i["id"], "title": ISSUES.get(i["id"], f"Issue {i['id']}"), "count": i.get("count", 0),
             "delta": i.get("delta", 0)} for i in rows[:top] if i.get("count")]


def audit_summary(project_id: int, info: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of ``GET /siteaudit/info``: status, progress and the last finished snapshot."""
    status = str(info["status"])
    snap = info.get("current_snapshot") if isinstance(info.get("current_snapshot"), Mapping) else None
    running = status != "FINISHED"
    done, limit = info.get("running_pages_crawled") or 0, info.get("running_pages_limit") or 0
    out: dict[str, Any] = {
        "project_id": project_id, "status": status, "running": running,
        "progress_pct": round(min(100.0, 100.0 * done / limit), 1) if running and limit else
        (100.0 if not running else 0.0),
        "pages_crawled": info.get("pages_crawled"), "pages_limit": info.get("pages_limit"),
        "errors": info.get("errors"), "warnings": info.get("warnings"), "notices": info.get("notices"),
        "last_audit": info.get("last_audit"), "snapshot_id": None, "health_score": None,
    }
    if snap:
        quality = snap.get("quality") if isinstance(snap.get("quality"), Mapping) else {}
        out |= {"snapshot_id": snap.get("snapshot_id"), "health_score": quality.get("value"),
                "health_delta": quality.get("delta"), "finished_at": snap.get("finish_date"),
                "top_errors": issues(snap.get("errors")), "top_warnings": issues(snap.get("warnings")),
                "top_notices": issues(snap.get("notices"), 5)}
    return out


def tracking_rows(data: Any, mask: str) -> list[dict[str, Any]]:
    """Keyword rows of a ``tracking_position_organic`` page, for the tracked URL ``mask``."""
    items = list(data.values()) if isinstance(data, Mapping) else list(data or [])
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            raise MalformedResponse("semrush answered tracking_position_organic with a row that is not "
                                    "an object")
        landing = raw if isinstance(raw := item.get("Lu"), Mapping) else {}
        last_url = next((v.get(mask) for v in reversed(list(landing.values())) if isinstance(v, Mapping)),
                        None)
        tags = item.get("Tg")
        out.append({
            "keyword": item["Ph"], "volume": number(str(item.get("Nq", ""))),
            "cpc": number(str(item.get("Cp", ""))),
            "position": _rank(_of(item.get("Fi"), mask)), "start_position": _rank(_of(item.get("Be"), mask)),
            "change": _of(item.get("Diff"), mask), "url": last_url,
            "tags": list(tags.values()) if isinstance(tags, Mapping) else list(tags or []),
        })
    return out


def _of(values: Any, mask: str) -> Any:
    return values.get(mask) if isinstance(values, Mapping) else None


def _rank(value: Any) -> int | None:
    """A tracked position; Semrush writes 0 or '-' when the URL is not in the top 100."""
    n = number(str(value)) if value is not None else None
    return int(n) if isinstance(n, (int, float)) and n > 0 else None
