"""Simulated Zendesk Help Center articles, macros and satisfaction ratings (mounted by ``zendesk.py``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from simulator.control import state
from simulator.providers._zendesk_core import (
    SEARCH_CAP,
    account,
    bad_attribute,
    body_of,
    cursor_page,
    fail,
    invalid,
    new_router,
    not_found,
    now,
    offset_page,
    route,
)
from simulator.providers._zendesk_data import PERMISSION_GROUP, new_id, seed

router = new_router(prefix="")  # mounted under the prefix by zendesk.py
#: Score filters of ``GET /satisfaction_ratings`` and what each keeps.
SCORES = {
    "offered": lambda r: r["score"] == "offered", "unoffered": lambda r: r["score"] == "unoffered",
    "received": lambda r: r["score"] in ("good", "bad"),
    "received_with_comment": lambda r: r["score"] in ("good", "bad") and bool(r["comment"]),
    "received_without_comment": lambda r: r["score"] in ("good", "bad") and not r["comment"],
    "good": lambda r: r["score"] == "good", "bad": lambda r: r["score"] == "bad",
    "good_with_comment": lambda r: r["score"] == "good" and bool(r["comment"]),
    "good_without_comment": lambda r: r["score"] == "good" and not r["comment"],
    "bad_with_comment": lambda r: r["score"] == "bad" and bool(r["comment"]),
    "bad_without_comment": lambda r: r["score"] == "bad" and not r["comment"],
}


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def _snippet(article: dict[str, Any], words: list[str]) -> str:
    text = _plain(article["body"])
    for word in words:
        text = re.sub(re.escape(word), lambda m: f"<em>{m.group(0)}</em>", text, flags=re.I)
    return text[:160]


@route(router, "GET", "/help_center/articles/search")
def search_articles(request: Request) -> dict[str, Any]:
    """GET /help_center/articles/search (``query``, ``locale`` or ``*``, ``section``; offset pages)."""
    acct, q = account(request, seed), request.query_params
    if not (q.get("query") or q.get("section") or q.get("category") or q.get("label_names")):
        bad_attribute("query, category, section or label_names is required")
    words = (q.get("query") or "").lower().split()
    locale, sections = q.get("locale") or "en-us", {s for s in (q.get("section") or "").split(",") if s}
    with state(request).lock:
        found = []
        for a in acct["articles"].values():
            text = f"{a['title']} {_plain(a['body'])}".lower()
            if (locale in ("*", a["locale"]) and (not sections or str(a["section_id"]) in sections)
                    and all(w in text for w in words)):
                found.append({**a, "snippet": _snippet(a, words), "result_type": "article"})
    return offset_page(request, found, "results", cap=SEARCH_CAP)


def _article(acct: dict[str, Any], aid: int) -> dict[str, Any]:
    article = acct["articles"].get(aid)
    if article is None:
        not_found()
    return article


@route(router, "GET", "/help_center/articles/{aid}")
def get_article(aid: int, request: Request) -> dict[str, Any]:
    """GET /help_center/articles/{id}."""
    acct = account(request, seed)
    with state(request).lock:
        return {"article": _article(acct, aid)}


@route(router, "GET", "/help_center/{locale}/articles/{aid}")
def get_localized_article(locale: str, aid: int, request: Request) -> dict[str, Any]:
    """GET /help_center/{locale}/articles/{id}."""
    return get_article(aid, request)


def _section(acct: dict[str, Any], sid: int) -> None:
    if sid not in acct["sections"]:
        not_found()


@route(router, "GET", "/help_center/{locale}/sections/{sid}/articles")
def section_articles(locale: str, sid: int, request: Request) -> dict[str, Any]:
    """GET /help_center/{locale}/sections/{id}/articles (drafts included for agents; cursor pages)."""
    acct, q = account(request, seed), request.query_params
    with state(request).lock:
        _section(acct, sid)
        items = [a for a in acct["articles"].values() if a["section_id"] == sid and a["locale"] == locale]
    key = q.get("sort_by") or "position"
    items.sort(key=lambda a: (str(a.get(key) or ""), a["id"]), reverse=q.get("sort_order") == "desc")
    return cursor_page(request, items, "articles")


def _check_article(acct: dict[str, Any], article: dict[str, Any]) -> None:
    if not str(article.get("title") or "").strip():
        invalid("title", "Title: cannot be blank", "BlankValue")
    if "user_segment_id" not in article:
        invalid("user_segment_id", "user_segment_id is required (null for everyone)", "BlankValue")
    if article.get("permission_group_id") != PERMISSION_GROUP:
        invalid("permission_group_id", "Permission group: is invalid")


@route(router, "POST", "/help_center/{locale}/sections/{sid}/articles")
async def create_article(locale: str, sid: int, request: Request) -> JSONResponse:
    """POST /help_center/{locale}/sections/{id}/articles."""
    acct, data = account(request, seed), (await body_of(request, "article"))["article"]
    with state(request).lock:
        _section(acct, sid)
        _check_article(acct, data)
        aid = new_id(acct)
        article = {"id": aid, "url": f"/api/v2/help_center/{locale}/articles/{aid}.json",
                   "html_url": f"https://sim.zendesk.com/hc/{locale}/articles/{aid}", "title": data["title"],
                   "body": data.get("body") or "", "locale": data.get("locale") or locale,
                   "source_locale": locale, "section_id": sid, "author_id": acct["me"],
                   "permission_group_id": data["permission_group_id"],
                   "user_segment_id": data["user_segment_id"], "draft": bool(data.get("draft", False)),
                   "promoted": bool(data.get("promoted", False)), "outdated": False,
                   "label_names": list(data.get("label_names") or []), "vote_sum": 0, "vote_count": 0,
                   "created_at": now(), "updated_at": now(), "edited_at": now()}
        acct["articles"][aid] = article
        return JSONResponse({"article": article}, status_code=201)


def _macros(request: Request, active_only: bool) -> dict[str, Any]:
    acct, q = account(request, seed), request.query_params
    active = q.get("active")
    if active not in (None, "true", "false"):
        bad_attribute("active must be true or false")
    with state(request).lock:
        items = [m for m in acct["macros"].values() if (not active_only or m["active"])
                 and (active is None or m["active"] == (active == "true"))]
    items.sort(key=lambda m: m["position"])
    return cursor_page(request, items, "macros")


@route(router, "GET", "/macros")
def list_macros(request: Request) -> dict[str, Any]:
    """GET /macros (``active`` filter; cursor pages)."""
    return _macros(request, active_only=False)


@route(router, "GET", "/macros/active")
def list_active_macros(request: Request) -> dict[str, Any]:
    """GET /macros/active."""
    return _macros(request, active_only=True)


def _time(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.isdigit():
        bad_attribute("start_time and end_time are Unix epoch seconds")
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@route(router, "GET", "/satisfaction_ratings")
def satisfaction_ratings(request: Request) -> dict[str, Any]:
    """GET /satisfaction_ratings (``score``, ``start_time``, ``end_time``; cursor pages, newest first)."""
    acct, q = account(request, seed), request.query_params
    score = q.get("score")
    if score is not None and score not in SCORES:
        fail(400, "InvalidValue", f"score {score!r} is not a valid filter")
    start, end = _time(q.get("start_time")), _time(q.get("end_time"))
    with state(request).lock:
        items = [r for r in acct["ratings"].values() if (score is None or SCORES[score](r))
                 and (start is None or r["created_at"] >= start) and (end is None or r["created_at"] < end)]
    items.sort(key=lambda r: r["created_at"], reverse=True)
    return cursor_page(request, items, "satisfaction_ratings")

