"""Simulated Facebook Graph API (Pages and Ads insights) under ``/facebook<base path>``.

A user token (Bearer header or ``access_token``) owns the state; ``GET /{page_id}?fields=access_token``
hands out a Page token bound to that Page, and Page writes, scheduled posts and Page Insights demand it
(code 190 otherwise). Any numeric id is a Page the user manages; ``act_<id>`` is an ad account (user token
only). Async insights reports are "Job Running" on the first poll and "Job Completed" on the next. Answers
carry ``X-App-Usage``, ``X-Business-Use-Case-Usage`` or ``X-Ad-Account-Usage``. A token starting with
``bad`` is rejected with code 190.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import Request, Response

from simulator.control import params, state
from simulator.providers._facebook_data import ad_rows, page_insights
from simulator.providers._graph import cursor_page, fail, graph_sim, invalid, number, stamp, unsupported
from simulator.providers._graph import token as graph_token

PROVIDER = "facebook"
SIM = graph_sim(PROVIDER, usage='{"call_count":100,"total_cputime":20,"total_time":35}')
router = SIM.router()
fault_response = SIM.fault_response
PAGE_FIELDS = ("id", "name", "about", "category", "fan_count", "followers_count", "link", "website",
               "description", "phone", "emails", "access_token")
EDITABLE = ("about", "description", "website", "phone", "emails")
POST_FIELDS = ("id", "message", "link", "created_time", "scheduled_publish_time", "is_published",
               "permalink_url")
#: Meta's bounds for ``scheduled_publish_time``: 10 minutes to 30 days ahead.
SCHEDULE_MIN_S, SCHEDULE_MAX_S = 600, 30 * 86400
#: Rows above which a synchronous Ads insights request is refused (use the async flow).
SYNC_MAX_ROWS = 400


def caller(request: Request) -> tuple[dict[str, Any], str | None]:
    """The user state behind the request's token, and the Page id when it is a Page token."""
    token = graph_token(request, SIM)
    page_tokens = state(request).account(PROVIDER, "_page_tokens", dict)
    user_token, page_id = page_tokens.get(token, (token, None))
    uid = str(number(user_token, 10**14, 10**15 - 1))
    acct = state(request).account(PROVIDER, user_token, lambda: {
        "user": {"id": uid, "name": f"Sim User {uid[-4:]}"}, "token": user_token, "pages": {}, "objects": {},
        "calls": 0})
    acct["calls"] += 1
    return acct, page_id


def page_token_for(request: Request, acct: dict[str, Any], page_id: str) -> str:
    """The Page token of ``page_id`` for this user (the same one every time)."""
    token = "EAAP" + hashlib.sha256(f"{acct['token']}:{page_id}".encode()).hexdigest()[:40]
    state(request).account(PROVIDER, "_page_tokens", dict)[token] = (acct["token"], page_id)
    return token


def page(acct: dict[str, Any], page_id: str) -> dict[str, Any]:
    """The state of a Page the user manages (made on first use)."""
    if page_id not in acct["pages"]:
        followers = number(page_id, 200, 90000)
        acct["pages"][page_id] = {
            "id": page_id, "name": f"Sim Page {page_id[-4:]}", "about": "", "category": "Bakery",
            "fan_count": followers - 50, "followers_count": followers,
            "link": f"https://www.facebook.com/{page_id}", "website": "", "description": "", "phone": "",
            "emails": [], "posts": []}
        if page_id == SANDBOX_PAGE:
            _seed_scheduled(acct, acct["pages"][page_id])
    return acct["pages"][page_id]


#: The sandbox Page (the catalog's examples run against it): it starts with one scheduled post.
SANDBOX_PAGE = "100000000000001"
#: Number part of the sandbox's scheduled post on every Page (the catalog's cancel_scheduled_post example).
SEEDED_POST = "900000000000001"


def _seed_scheduled(acct: dict[str, Any], pg: dict[str, Any]) -> None:
    """A post scheduled a week ahead, so that cancelling one works on a fresh Page."""
    post_id = f"{pg['id']}_{SEEDED_POST}"
    acct["objects"][post_id] = {
        "kind": "post", "id": post_id, "page_id": pg["id"], "message": "Sandbox: our summer menu is coming",
        "link": None, "created_time": stamp(), "scheduled_publish_time": int(time.time()) + 7 * 86400,
        "is_published": False, "permalink_url": f"https://www.facebook.com/{pg['id']}/posts/{SEEDED_POST}"}
    pg["posts"].append(post_id)


def need_page_token(token_page: str | None, page_id: str) -> None:
    """Graph's answers when a Page endpoint is called without that Page's token."""
    if token_page is None:
        fail(400, "(#190) This method must be called with a Page Access Token", 190)
    if token_page != page_id:
        fail(400, "(#200) The Page access token does not belong to this Page", 200)


def usage(response: Response, acct: dict[str, Any], token_page: str | None, ad_account: str | None) -> None:
    """Set the usage header Meta sends for this kind of call."""
    pct = min(99, acct["calls"])
    entry = {"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2,
             "estimated_time_to_regain_access": 0}
    if ad_account:
        response.headers["X-Ad-Account-Usage"] = json.dumps(
            {"acc_id_util_pct": pct, "reset_time_duration": 0, "ads_api_access_tier": "standard_access"})
        entry["type"] = "ads_insights"
        response.headers["X-Business-Use-Case-Usage"] = json.dumps({ad_account.removeprefix("act_"): [entry]})
    elif token_page:
        response.headers["X-Business-Use-Case-Usage"] = json.dumps({token_page: [entry | {"type": "pages"}]})
    else:
        response.headers["X-App-Usage"] = json.dumps({k: entry[k] for k in ("call_count", "total_cputime",
                                                                            "total_time")})


def pick(obj: dict[str, Any], request: Request, default: str) -> dict[str, Any]:
    """The fields asked for with ``fields=`` that have a value (Graph always includes ``id``)."""
    wanted = (request.query_params.get("fields") or default).split(",")
    return {"id": obj["id"], **{f: obj[f] for f in wanted if f != "id" and obj.get(f) is not None}}


def _live(post: dict[str, Any]) -> dict[str, Any]:
    """A post with its scheduled time applied (a scheduled post whose time has passed is published)."""
    when = post.get("scheduled_publish_time")
    if not post["is_published"] and when and when <= time.time():
        post["is_published"] = True
    return post


def _read_page(request: Request, acct: dict[str, Any], token_page: str | None, pg: dict[str, Any]) -> Any:
    wanted = [f for f in (request.query_params.get("fields") or "id,name").split(",") if f]
    for name in wanted:
        if name not in PAGE_FIELDS:
            fail(400, f"(#100) Tried accessing nonexisting field ({name}) on node type (Page)", 100)
    view = {**pg, "access_token": page_token_for(request, acct, pg["id"]) if token_page in (None, pg["id"])
            else None}
    return {"id": pg["id"], **{f: view[f] for f in wanted if f != "id" and view.get(f) is not None}}


def _update_page(pg: dict[str, Any], p: dict[str, Any]) -> dict[str, bool]:
    changes = {k: v for k, v in p.items() if k not in ("access_token", "appsecret_proof")}
    if not changes:
        invalid("No fields to update were given")
    for key, value in changes.items():
        if key not in EDITABLE:
            invalid(f"Param {key} is not a field of the Page that can be updated")
        if key == "emails":
            try:
                value = json.loads(value)
            except ValueError:
                invalid("Param emails must be a JSON array of e-mail addresses")
            if not isinstance(value, list) or not all(isinstance(e, str) and "@" in e for e in value):
                invalid("Param emails must be a JSON array of e-mail addresses")
        if key == "about" and len(value) > 255:
            invalid("Param about must be at most 255 characters long")
        pg[key] = value
    return {"success": True}


def _new_post(request: Request, acct: dict[str, Any], pg: dict[str, Any],
              p: dict[str, Any]) -> dict[str, str]:
    if not p.get("message") and not p.get("link"):
        invalid("The parameter message or link is required")
    published = str(p.get("published", "true")).lower() not in ("false", "0")
    when = p.get("scheduled_publish_time")
    if when is not None and published:
        invalid("You cannot specify a scheduled publish time on a published post")
    if when is not None:
        if not str(when).isdigit() or not SCHEDULE_MIN_S <= int(when) - time.time() <= SCHEDULE_MAX_S:
            invalid("The specified scheduled publish time is invalid.")
        when = int(when)
    post_id = f"{pg['id']}_{10**15 + state(request).next_id()}"
    acct["objects"][post_id] = {
        "kind": "post", "id": post_id, "page_id": pg["id"], "message": p.get("message"),
        "link": p.get("link"),
        "created_time": stamp(), "scheduled_publish_time": when, "is_published": published,
        "permalink_url": f"https://www.facebook.com/{post_id.replace('_', '/posts/')}"}
    pg["posts"].insert(0, post_id)
    return {"id": post_id}


def _posts(acct: dict[str, Any], pg: dict[str, Any], *, scheduled: bool) -> list[dict[str, Any]]:
    posts = [_live(acct["objects"][i]) for i in pg["posts"] if not acct["objects"][i].get("deleted")]
    if scheduled:
        return [p for p in posts if not p["is_published"] and p["scheduled_publish_time"]]
    return [p for p in posts if p["is_published"]]


def _report(request: Request, acct: dict[str, Any], account_id: str, query: dict[str, Any]) -> dict[str, str]:
    rows = ad_rows(account_id, query)
    run_id = str(10**15 + state(request).next_id())
    acct["objects"][run_id] = {"kind": "report", "id": run_id, "account_id": account_id.removeprefix("act_"),
                               "rows": rows, "polls": 0, "async_status": "Job Not Started",
                               "async_percent_completion": 0}
    return {"report_run_id": run_id}


def _poll(report: dict[str, Any]) -> dict[str, Any]:
    report["polls"] += 1
    done = report["polls"] >= 2
    report |= {"async_status": "Job Completed" if done else "Job Running",
               "async_percent_completion": 100 if done else 50}
    return report


@router.api_route("/{obj_id}", methods=["GET", "POST", "DELETE"])
async def node(obj_id: str, request: Request, response: Response) -> Any:
    """One Graph object: ``me``, a Page, a post, an ad account or an async report."""
    acct, token_page = caller(request)
    p, method = await params(request), request.method
    with state(request).lock:
        usage(response, acct, token_page, obj_id if obj_id.startswith("act_") else None)
        obj = acct["objects"].get(obj_id)
        if obj_id == "me" and method == "GET":
            return pick(acct["user"], request, "id,name")
        if obj is not None and not obj.get("deleted"):
            if obj["kind"] == "report" and method == "GET":
                return pick(_poll(obj), request, "id,async_status,async_percent_completion")
            if obj["kind"] == "post" and method in ("GET", "DELETE"):
                need_page_token(token_page, obj["page_id"])
                if method == "DELETE":
                    obj["deleted"] = True
                    return {"success": True}
                return pick(_live(obj), request, "id,message,created_time")
        if obj is None and obj_id.isdigit() and method in ("GET", "POST"):
            pg = page(acct, obj_id)
            if method == "GET":
                return _read_page(request, acct, token_page, pg)
            need_page_token(token_page, obj_id)
            return _update_page(pg, p)
        unsupported(obj_id, method)


@router.api_route("/{obj_id}/{edge}", methods=["GET", "POST"])
async def edge(obj_id: str, edge: str, request: Request, response: Response) -> Any:
    """Edges: Page feed/posts/scheduled_posts/insights, ad account insights, report insights."""
    acct, token_page = caller(request)
    p, key = await params(request), (request.method, edge)
    with state(request).lock:
        usage(response, acct, token_page, obj_id if obj_id.startswith("act_") else None)
        if obj_id.startswith("act_") and edge == "insights":
            if token_page:
                fail(400, "(#200) Ad account owner has NOT grant ads_management or ads_read permission", 200)
            if request.method == "POST":
                return _report(request, acct, obj_id, p)
            rows = ad_rows(obj_id, p)
            if len(rows) > SYNC_MAX_ROWS:
                fail(500, "Please reduce the amount of data you're asking for, then retry your request", 1,
                     subcode=99)
            return cursor_page(request, SIM, rows)
        report = acct["objects"].get(obj_id)
        if report and report["kind"] == "report" and key == ("GET", "insights"):
            if report["async_status"] != "Job Completed":
                invalid("The report is not ready yet; wait for async_status Job Completed")
            return cursor_page(request, SIM, report["rows"])
        if not obj_id.isdigit() or report is not None:
            unsupported(obj_id, request.method)
        pg = page(acct, obj_id)
        if key in (("GET", "posts"), ("GET", "feed")):
            return cursor_page(request, SIM, [pick(x, request, "id,message,created_time") for x in
                                         _posts(acct, pg, scheduled=False)])
        need_page_token(token_page, obj_id)
        if key == ("POST", "feed"):
            return _new_post(request, acct, pg, p)
        if key == ("GET", "scheduled_posts"):
            return cursor_page(request, SIM, [pick(x, request, "id,message,scheduled_publish_time") for x in
                                         _posts(acct, pg, scheduled=True)])
        if key == ("GET", "insights"):
            return page_insights(obj_id, request.query_params)
        unsupported(obj_id, request.method)


@router.api_route("/{rest:path}", methods=["GET", "POST", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any deeper path: Graph's unknown-path error."""
    caller(request)
    fail(400, "Unknown path components: /" + rest, 2500)
