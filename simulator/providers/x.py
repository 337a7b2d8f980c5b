"""Simulated X API v2 under ``/x/2``: real paths, problem bodies, ``x-rate-limit-*`` headers, rotating tokens.

Who is calling: a bearer token ``<account>.<anything>`` belongs to ``<account>`` (so a configured access
and refresh token pair share one account); a token without a dot is its own account. Tokens starting
with ``AAAA`` are app-only Bearer tokens (as X's are); tokens starting with ``bad`` are rejected.
``POST /x<token path>`` rotates refresh tokens: a used one answers X's ``invalid_request``.
Posts are global (anyone may reply to anyone); 48 public posts of other users are there to be searched.
"""

from __future__ import annotations

import base64
import math
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, NoReturn

from fastapi import Request, Response

from simulator import oauth as sim_oauth
from simulator.control import Reply, hex_id, json_error, params, state
from simulator.generic import Sim
from simulator.providers import _x_posts as xp

PROVIDER = "x"
PROBLEMS = "https://api.twitter.com/2/problems/"
WINDOW_S = 15 * 60
LIMITS = {"POST /2/tweets": 100, "GET /2/users/me": 75, "GET /2/trends": 75, "GET /2/tweets/search/recent": 300}
SCOPE = "tweet.read tweet.write users.read offline.access media.write"
APP_ONLY = ("Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
            "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].")
USER_ONLY = ("Authenticating with OAuth 2.0 User Context is forbidden for this endpoint.  Supported "
             "authentication types are [OAuth 2.0 Application-Only].")


def problem_body(status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any) -> dict[str, Any]:
    """An X problem body ``{title, detail, type, status}`` (the title is beyond the definition's paths)."""
    return {"title": title, "detail": detail, "type": kind if kind == "about:blank" else PROBLEMS + kind,
            "status": status, **extra}


def problem(status: int, title: str, detail: str, kind: str = "about:blank", *,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """An X problem answer."""
    return json_error(status, problem_body(status, title, detail, kind, **extra), headers=headers)


def _fault_body(status: int, detail: str, kind: Any) -> dict[str, Any]:
    title = {403: "Client Forbidden", 400: "Invalid Request"}.get(status, HTTPStatus(status).phrase)
    extra = {"reason": "client-not-enrolled"} if status == 403 else {}
    return problem_body(status, title, detail, kind or "about:blank", **extra)


#: X's 429 carries ``x-rate-limit-*`` (an epoch reset at the end of the window) and no Retry-After.
SIM = Sim(PROVIDER, body=_fault_body, rate_limit=300, delay=WINDOW_S, retry_after_header=False, faults={
    401: ("Unauthorized", None), 429: ("Too Many Requests", None),
    403: ("This request must be made using an approved developer account that is enrolled in the requested "
          "endpoint.", "client-forbidden"),
    400: ("One or more parameters to your request was invalid.", "invalid-request"),
    500: ("Internal Server Error", None), 503: ("Service Unavailable", None)})
router = SIM.router("/2")
fault_response = SIM.fault_response


def fail(status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any) -> NoReturn:
    """Answer the current request with a problem."""
    raise Reply(problem(status, title, detail, kind, **extra))


def invalid(parameter: str, value: Any, message: str) -> NoReturn:
    """X's 400 invalid-request naming one parameter."""
    fail(400, "Invalid Request", "One or more parameters to your request was invalid.", "invalid-request",
         errors=[{"parameters": {parameter: [str(value)]}, "message": message}])


# -- world state -------------------------------------------------------------------------------------
def world(request: Request) -> dict[str, Any]:
    """Tokens, users, posts and rate windows of the simulated X (one world per simulator)."""
    return state(request).account("x", "__world__", lambda: _seed(request))


#: Id of the first seeded public post; the others follow it.
SEEDED_POSTS = 1_950_000_000_000_000_000


def _seed(request: Request) -> dict[str, Any]:
    posts: dict[str, Any] = {}
    users: dict[str, Any] = {}
    for n, (key, text, hours) in enumerate(xp.corpus()):
        author = users.setdefault(key, xp.make_user(key))
        pid = str(SEEDED_POSTS + n)  # fixed, below new_id()'s range: the catalog's examples name them
        posts[pid] = xp.make_post(pid, text, author, age=timedelta(hours=hours))
    return {"access": {}, "refresh": {}, "used": set(), "users": users, "posts": posts, "windows": {}}


def new_id(request: Request) -> str:
    """A post id shaped like X's snowflakes."""
    return str(1_960_000_000_000_000_000 + state(request).next_id())


def account_of(token: str) -> str:
    """The simulated account a configured token belongs to."""
    return token.split(".", 1)[0]


def bearer(request: Request) -> str:
    """The request's bearer token, or X's 401."""
    return SIM.credential(request)


def caller(request: Request, endpoint: str, response: Response, *, app: bool = False,
           user: bool = True) -> dict[str, Any] | None:
    """The calling user (None for an app-only token); checks the token kind and meters the rate window."""
    w, token = world(request), bearer(request)
    is_app = token.startswith("AAAA")
    if is_app and not app:
        fail(403, "Unsupported Authentication", APP_ONLY, "unsupported-authentication")
    if not is_app and not user:
        fail(403, "Unsupported Authentication", USER_ONLY, "unsupported-authentication")
    issued = w["access"].get(token)
    if issued is not None and issued["expires"] < time.time():
        fail(401, "Unauthorized", "Unauthorized")
    who = "app" if is_app else (issued["account"] if issued else account_of(token))
    with state(request).lock:
        meter(w, who, endpoint, response)
    return None if is_app else w["users"].setdefault("acct:" + who, xp.make_user(who))


def meter(w: dict[str, Any], who: str, endpoint: str, response: Response) -> None:
    """Count the call in its 15-minute window; 429 with the reset epoch when the window is spent."""
    limit = LIMITS.get(endpoint, 300)
    now = time.time()
    window = w["windows"].get((who, endpoint))
    if window is None or window[0] <= now:
        window = w["windows"][(who, endpoint)] = [math.ceil(now + WINDOW_S), limit]
    headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(max(0, window[1] - 1)),
               "x-rate-limit-reset": str(window[0])}
    if window[1] <= 0:
        raise Reply(problem(429, "Too Many Requests", "Too Many Requests", headers=headers | {
            "x-rate-limit-remaining": "0"}))
    window[1] -= 1
    response.headers.update(headers)


def fields(request: Request, name: str) -> set[str]:
    """The comma-separated ``tweet.fields`` / ``user.fields`` of the request."""
    return {f for f in (request.query_params.get(name) or "").split(",") if f}


def page_size(request: Request, low: int, high: int, default: int) -> int:
    """``max_results`` within X's bounds for the endpoint, or X's 400."""
    raw = request.query_params.get("max_results") or str(default)
    if not raw.isdigit() or not low <= int(raw) <= high:
        invalid("max_results", raw, f"The `max_results` query parameter value [{raw}] is not between {low} "
                f"and {high}")
    return int(raw)


def listing(request: Request, posts: list[dict[str, Any]], size: int, cursor: str,
            me: dict[str, Any] | None) -> dict[str, Any]:
    """One token page of posts (newest first) with X's ``meta`` and ``includes.users`` when expanded."""
    raw = request.query_params.get(cursor)
    start = int(base64.urlsafe_b64decode(raw.encode()).decode()) if raw else 0
    page = posts[start: start + size]
    wanted = fields(request, "tweet.fields")
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
    if start + size < len(posts):
        meta["next_token"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    out: dict[str, Any] = {"meta": meta}
    if page:
        out["data"] = [xp.view(p, wanted, owner=bool(me and p["author_id"] == me["id"])) for p in page]
    if page and "author_id" in (request.query_params.get("expansions") or ""):
        users = {u["id"]: u for u in world(request)["users"].values()}
        ids = dict.fromkeys(p["author_id"] for p in page)
        out["includes"] = {"users": [xp.user_view(users[i], fields(request, "user.fields")) for i in ids]}
    return out


def newest(w: dict[str, Any]) -> list[dict[str, Any]]:
    """Every post, newest first."""
    return sorted(w["posts"].values(), key=lambda p: (p["created"], int(p["id"])), reverse=True)


# -- OAuth 2.0 ----------------------------------------------------------------------------------------
@router.post("/oauth2/token")
async def token(request: Request) -> Any:
    """Refresh grant: Basic auth (confidential) or client_id (public); the refresh token rotates."""
    if (answer := await sim_oauth.grant(request, PROVIDER)) is not None:  # "Connect with": the code exchange
        return answer
    form, w = await params(request), world(request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    client_secret = ""
    if scheme.lower() == "basic":
        client_secret = base64.b64decode(value).decode(errors="replace").partition(":")[2]
    elif not form.get("client_id"):
        raise Reply(json_error(401, {"error": "unauthorized_client",
                                     "error_description": "Missing valid authorization header"}))
    if client_secret.startswith("bad"):
        raise Reply(json_error(401, {"error": "unauthorized_client",
                                     "error_description": "Missing valid authorization header"}))
    old = str(form.get("refresh_token") or "")
    if form.get("grant_type") != "refresh_token" or not old or old.startswith("bad") or old in w["used"]:
        raise Reply(json_error(400, {"error": "invalid_request",
                                     "error_description": "Value passed for the token was invalid."}))
    with state(request).lock:
        w["used"].add(old)
        account = w["refresh"].pop(old, None) or account_of(old)
        access, refresh = f"{account}.at{hex_id(20)}", f"{account}.rt{hex_id(20)}"
        w["access"][access] = {"account": account, "expires": time.time() + 7200}
        w["refresh"][refresh] = account
    return {"token_type": "bearer", "expires_in": 7200, "access_token": access, "scope": SCOPE,
            "refresh_token": refresh}


# -- users ----------------------------------------------------------------------------------------------
@router.get("/users/me")
def users_me(request: Request, response: Response) -> dict[str, Any]:
    """The authenticated user."""
    me = caller(request, "GET /2/users/me", response)
    assert me is not None
    return {"data": xp.user_view(me, fields(request, "user.fields"))}


@router.get("/users/{user_id}")
def user_by_id(user_id: str, request: Request, response: Response) -> dict[str, Any]:
    """Any user: ids starting with 9999 do not exist (X answers 200 with errors[] only)."""
    caller(request, "GET /2/users/:id", response, app=True)
    if not user_id.isdigit():
        invalid("id", user_id, f"The `id` query parameter value [{user_id}] is not valid")
    if user_id.startswith("9999"):
        return {"errors": [{"value": user_id, "detail": f"Could not find user with id: [{user_id}].",
                            "title": "Not Found Error", "resource_type": "user", "parameter": "id",
                            "resource_id": user_id, "type": PROBLEMS + "resource-not-found"}]}
    known = {u["id"]: u for u in world(request)["users"].values()}
    user = known.get(user_id) or {**xp.make_user("id" + user_id), "id": user_id}
    return {"data": xp.user_view(user, fields(request, "user.fields"))}


@router.get("/users/{user_id}/tweets")
def user_tweets(user_id: str, request: Request, response: Response) -> dict[str, Any]:
    """A user's posts and replies, newest first, paged by ``pagination_token`` (5 to 100 per page)."""
    me = caller(request, "GET /2/users/:id/tweets", response, app=True)
    size = page_size(request, 5, 100, 10)
    w = world(request)
    with state(request).lock:
        own = [p for p in newest(w) if p["author_id"] == user_id]
        return listing(request, own, size, "pagination_token", me)


# -- posts ----------------------------------------------------------------------------------------------
@router.post("/tweets", status_code=201)
async def create_post(request: Request, response: Response) -> dict[str, Any]:
    """Create a post: text limits, reply and quote targets, duplicate content and media are checked."""
    me = caller(request, "POST /2/tweets", response)
    assert me is not None
    body, w = await params(request), world(request)
    text = str(body.get("text") or "")
    media = [str(m) for m in (body.get("media") or {}).get("media_ids") or []]
    if not text and not media:
        invalid("text", "", "Either text or media must be provided")
    if xp.weighted_length(text) > xp.MAX_WEIGHTED:
        fail(403, "Forbidden", "Your Tweet text is too long. For more information on how X determines text "
             "length see https://github.com/twitter/twitter-text.")
    with state(request).lock:
        reply_id = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        if reply_id and reply_id not in w["posts"]:
            invalid("reply.in_reply_to_tweet_id", reply_id, "The `reply.in_reply_to_tweet_id` query parameter "
                    f"value [{reply_id}] does not exist")
        quote = str(body.get("quote_tweet_id") or "")
        if quote and quote not in w["posts"]:
            invalid("quote_tweet_id", quote, f"The `quote_tweet_id` query parameter value [{quote}] does not exist")
        recent = (p for p in w["posts"].values() if p["author_id"] == me["id"]
                  and p["created"] > datetime.now(UTC) - timedelta(days=1))
        if text and any(p["raw"] == text for p in recent):
            fail(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        pid = new_id(request)
        post = xp.make_post(pid, text, me, reply_to=w["posts"].get(reply_id), quote_id=quote or None,
                            media_ids=media, reply_settings=str(body.get("reply_settings") or "everyone"))
        w["posts"][pid] = post
    return {"data": {"id": pid, "text": post["text"], "edit_history_tweet_ids": [pid]}}


@router.get("/tweets")
def lookup(request: Request, response: Response) -> dict[str, Any]:
    """Posts by ids: unknown ids and private metrics of others' posts come back in ``errors[]``."""
    me = caller(request, "GET /2/tweets", response, app=True)
    ids = [i for i in (request.query_params.get("ids") or "").split(",") if i]
    if not 1 <= len(ids) <= 100:
        invalid("ids", ",".join(ids), "The `ids` query parameter value must list between 1 and 100 ids")
    wanted, w = fields(request, "tweet.fields"), world(request)
    private = wanted & {"non_public_metrics", "organic_metrics"}
    data, errors = [], []
    for pid in ids:
        post = w["posts"].get(pid)
        if post is None:
            errors.append({"value": pid, "detail": f"Could not find tweet with ids: [{pid}].",
                           "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                           "resource_id": pid, "type": PROBLEMS + "resource-not-found"})
            continue
        owner = bool(me and post["author_id"] == me["id"]
                     and post["created"] > datetime.now(UTC) - timedelta(days=30))
        data.append(xp.view(post, wanted, owner=owner))
        errors.extend({"value": pid, "detail": f"Sorry, you are not authorized to access '{f}' on the Tweet "
                       f"with ids [{pid}].", "title": "Field Authorization Error", "resource_type": "tweet",
                       "field": f, "parameter": f, "resource_id": pid, "section": "data",
                       "type": PROBLEMS + "not-authorized-for-field"} for f in sorted(private) if not owner)
    return ({"data": data} if data else {}) | ({"errors": errors} if errors else {})


@router.get("/tweets/search/recent")
def search_recent(request: Request, response: Response) -> dict[str, Any]:
    """Posts of the last 7 days matching ``query``, newest first, paged by ``next_token`` (10 to 100)."""
    me = caller(request, "GET /2/tweets/search/recent", response, app=True)
    query = request.query_params.get("query")
    if not query:
        invalid("query", "", "The `query` query parameter can not be empty")
    size = page_size(request, 10, 100, 10)
    now = datetime.now(UTC)
    bounds = {}
    for name in ("start_time", "end_time"):
        if raw := request.query_params.get(name):
            try:
                bounds[name] = xp.parse_time(raw)
            except ValueError:
                invalid(name, raw, f"Invalid '{name}':'{raw}'")
    start = bounds.get("start_time", now - timedelta(days=7))
    if start < now - timedelta(days=7):
        invalid("start_time", request.query_params["start_time"], "Invalid 'start_time'. 'start_time' must be "
                f"on or after {xp.stamp(now - timedelta(days=7))}")
    end = bounds.get("end_time", now)
    with state(request).lock:
        found = [p for p in newest(world(request)) if start <= p["created"] <= end and xp.matches(p, query)]
        return listing(request, found, size, "next_token", me)


@router.get("/trends/by/woeid/{woeid}")
def trends(woeid: str, request: Request, response: Response) -> dict[str, Any]:
    """Trending topics for a place: app-only Bearer tokens only."""
    caller(request, "GET /2/trends", response, app=True, user=False)
    if not woeid.isdigit():
        invalid("woeid", woeid, f"The `woeid` query parameter value [{woeid}] is not valid")
    raw = request.query_params.get("max_trends") or "20"
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        invalid("max_trends", raw, f"The `max_trends` query parameter value [{raw}] is not between 1 and 50")
    return {"data": xp.trends(int(woeid), int(raw))}


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any other path: X's 404 problem."""
    bearer(request)
    fail(404, "Not Found Error", f"The requested resource /2/{rest} was not found.", "resource-not-found")
