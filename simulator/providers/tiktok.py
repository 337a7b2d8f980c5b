"""Simulated TikTok for Business API (v1.3, TikTok Accounts) under ``/tiktok<base path>``.

Every answer is HTTP 200 with ``{"code", "message", "request_id", "data"}``; ``code != 0`` is an error
(40105 bad token, 40104 no token, 40100 too many requests, 40002 bad parameter). The ``Access-Token``
header carries the token: one starting with ``bad`` is rejected, any other is accepted. Data is per
``business_id`` and stable. ``POST /tt_user/oauth2/refresh_token/`` issues 24 h access tokens and rotates
the refresh token: a used one is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator.control import FaultSpec, Reply, fault_headers, params, state
from simulator.generic import Sim

PROVIDER = "tiktok"
PROFILE = ("display_name", "username", "profile_image", "bio_description", "is_verified", "followers_count",
           "following_count", "total_likes", "videos_count", "audience_countries", "audience_genders",
           "audience_ages", "audience_cities")
DAILY = ("date", "video_views", "unique_video_views", "likes", "comments", "shares", "profile_views",
         "followers_count", "daily_total_followers", "daily_new_followers", "daily_lost_followers",
         "engagement_rate", "bio_link_clicks", "email_clicks", "phone_number_clicks", "address_clicks",
         "lead_submissions", "app_download_clicks", "audience_activity")
VIDEO = ("item_id", "create_time", "caption", "thumbnail_url", "share_url", "embed_url", "video_duration",
         "video_views", "reach", "likes", "comments", "shares", "favorites", "average_time_watched",
         "full_video_watched_rate", "total_time_watched", "new_followers", "profile_views")
#: Videos every simulated account has, and the largest page ``/business/video/list/`` serves.
VIDEOS, MAX_COUNT = 45, 20
#: Longest start_date..end_date window of ``/business/get/`` (TikTok keeps about 60 days).
MAX_DAYS = 60
ACCESS_TTL, REFRESH_TTL = 86_400, 31_536_000


def _extra(_status: int) -> dict[str, Any]:
    """What TikTok's envelope carries beside ``code`` and ``message`` (the definition's paths)."""
    return {"request_id": datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper(), "data": {}}


SIM = Sim(PROVIDER, extra=_extra, faults={
    429: ("Too many requests. Please retry in some time.", 40100),
    401: ("The access token is invalid or has been revoked.", 40105),
    403: ("No permission to operate this business account.", 40001), 400: ("Invalid parameter.", 40002),
    500: ("System error. Please retry later.", 50000)})
router = SIM.router()


def envelope(code: int, message: str, data: Any = None) -> JSONResponse:
    """TikTok's answer envelope (HTTP 200 whatever the code)."""
    return JSONResponse(SIM.error_body(200, message, code) | ({} if data is None else {"data": data}))


def fail(code: int, message: str) -> NoReturn:
    """Answer the current request with an error envelope (HTTP 200, as TikTok does)."""
    raise Reply(envelope(code, message))


def fault_response(spec: FaultSpec) -> Response:
    """TikTok's own answer for a fault: throttles and token errors come as HTTP 200 with a code (the
    definition's ``in_200``), server errors keep their status."""
    message, code = SIM.fault_text(spec.status)
    return SIM.error(spec.status if spec.status >= 500 else 200, message, code, headers=fault_headers(spec))


def number(key: str, low: int, high: int) -> int:
    """A stable pseudo-random number in ``[low, high]`` for ``key``."""
    return low + int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % (high - low + 1)


def oauth(request: Request) -> dict[str, Any]:
    """Tokens issued and refresh tokens used, shared by every account."""
    return state(request).account(PROVIDER, "_oauth", lambda: {"issued": set(), "used": set()})


def check_token(request: Request) -> None:
    """Graph-free TikTok auth: the ``Access-Token`` header, rejected with 40104/40105."""
    if not request.headers.get(SIM.definition.auth.header):
        fail(40104, "Access token is null. Please put the access token in the Access-Token header.")
    SIM.credential(request, lambda: fail(40105, "The access token is invalid or has been revoked."))


def _fields(request: Request, allowed: tuple[str, ...]) -> list[str]:
    raw = request.query_params.get("fields") or "[]"
    try:
        fields = json.loads(raw)
    except ValueError:
        fail(40002, "fields: must be a JSON array of strings.")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        fail(40002, "fields: must be a JSON array of strings.")
    if bad := [f for f in fields if f not in allowed]:
        fail(40002, f"fields: invalid field(s) {', '.join(bad)}.")
    return fields


def _business(request: Request) -> str:
    business_id = request.query_params.get("business_id")
    if not business_id:
        fail(40002, "business_id: Missing data for required field.")
    return business_id


def _profile(bid: str, name: str) -> Any:
    countries = [("US", 41), ("GB", 17), ("DE", 12), ("FR", 9), ("BR", 7)]
    values: dict[str, Any] = {
        "display_name": f"Sim Shop {bid[-4:]}", "username": f"simshop{bid[-4:].lower()}",
        "profile_image": f"https://p16.tiktokcdn.example/{bid}.jpeg", "bio_description": "Simulated account",
        "is_verified": False, "followers_count": number(bid + "f", 1000, 90000),
        "following_count": number(bid + "g", 10, 500), "total_likes": number(bid + "l", 5000, 900000),
        "videos_count": VIDEOS,
        "audience_countries": [{"country": c, "percentage": p / 100} for c, p in countries],
        "audience_genders": [{"gender": "Female", "percentage": 0.54}, {"gender": "Male", "percentage": 0.43},
                             {"gender": "Other", "percentage": 0.03}],
        "audience_ages": [{"age": a, "percentage": p} for a, p in (("18-24", 0.38), ("25-34", 0.35),
                                                                   ("35-44", 0.17), ("45+", 0.1))],
        "audience_cities": [{"city_name": "London", "percentage": 0.08},
                            {"city_name": "Berlin", "percentage": 0.05}],
    }
    return values[name]


def _day(bid: str, day: date, name: str) -> Any:
    key = f"{bid}{day}{name}"
    if name == "date":
        return day.isoformat()
    if name == "engagement_rate":
        return number(key, 100, 900) / 100
    if name == "audience_activity":
        return [{"hour": str(h), "count": number(f"{key}{h}", 10, 400)} for h in range(24)]
    if name in ("followers_count", "daily_total_followers"):
        return number(bid + "f", 1000, 90000) - (date.today() - day).days * 3
    return number(key, 0, 5000)


def _dates(request: Request) -> list[date]:
    q = request.query_params
    if not q.get("start_date") and not q.get("end_date"):
        return []
    try:
        start, end = date.fromisoformat(q["start_date"]), date.fromisoformat(q["end_date"])
    except (KeyError, ValueError):
        fail(40002, "start_date/end_date: give both, as YYYY-MM-DD.")
    if end < start or (end - start).days >= MAX_DAYS:
        fail(40002, f"end_date must be on or after start_date and at most {MAX_DAYS} days later.")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@router.get("/business/get/")
def business_get(request: Request) -> Response:
    """Account profile, lifetime audience and, with dates, daily ``metrics``."""
    check_token(request)
    bid, fields = _business(request), _fields(request, tuple(dict.fromkeys(PROFILE + DAILY)))
    data: dict[str, Any] = {f: _profile(bid, f) for f in fields if f in PROFILE}
    if days := _dates(request):
        daily = [f for f in fields if f in DAILY and f != "date"]
        data["metrics"] = [{"date": d.isoformat(), **{f: _day(bid, d, f) for f in daily}} for d in days]
    return envelope(0, "OK", data)


def _video(bid: str, n: int, fields: list[str]) -> dict[str, Any]:
    created = int(datetime(2026, 8, 1, tzinfo=UTC).timestamp()) - n * 86_400
    item = str(7_400_000_000_000_000_000 + number(f"{bid}{n}", 10**9, 10**10))
    views = number(f"{bid}{n}v", 500, 200_000)
    values = {"item_id": item, "create_time": created, "caption": f"Sim video {n + 1} #sim",
              "thumbnail_url": f"https://p16.tiktokcdn.example/{item}.jpeg",
              "share_url": f"https://www.tiktok.com/@sim/video/{item}",
              "embed_url": f"https://www.tiktok.com/embed/v2/{item}", "video_duration": number(item, 5, 90),
              "video_views": views, "reach": views * 8 // 10, "likes": views // 12, "comments": views // 150,
              "shares": views // 300, "favorites": views // 200, "average_time_watched": 7.5,
              "full_video_watched_rate": 0.31, "total_time_watched": views * 7, "new_followers": views // 900,
              "profile_views": views // 60}
    return {f: values[f] for f in fields}


@router.get("/business/video/list/")
def video_list(request: Request) -> Response:
    """The account's videos, newest first, ``max_count`` (<= 20) at a time after ``cursor``."""
    check_token(request)
    bid, fields = _business(request), _fields(request, VIDEO)
    q = request.query_params
    try:
        count, start = int(q.get("max_count") or MAX_COUNT), int(q.get("cursor") or 0)
    except ValueError:
        fail(40002, "max_count and cursor must be integers.")
    if not 1 <= count <= MAX_COUNT:
        fail(40002, f"max_count: must be between 1 and {MAX_COUNT}.")
    end = min(start + count, VIDEOS)
    videos = [_video(bid, n, fields or ["item_id"]) for n in range(start, end)]
    return envelope(0, "OK", {"videos": videos, "cursor": end, "has_more": end < VIDEOS})


@router.post("/tt_user/oauth2/refresh_token/")
async def refresh_token(request: Request) -> Response:
    """Renew an access token; the refresh token rotates and the used one is refused from then on."""
    p = await params(request)
    if p.get("grant_type") != "refresh_token" or not p.get("client_id"):
        fail(40002, "grant_type must be refresh_token and client_id is required.")
    if str(p.get("client_secret") or "").startswith("bad") or not p.get("client_secret"):
        fail(40101, "The combination of app_id and secret is invalid.")
    token, book = str(p.get("refresh_token") or ""), oauth(request)
    with state(request).lock:
        if not token or token.startswith("bad") or token in book["used"]:
            fail(40103, "The refresh token is invalid or has expired. Please authorize again.")
        book["used"].add(token)
        access, new_refresh = "act." + secrets.token_hex(20), "rft." + secrets.token_hex(20)
        book["issued"].add(access)
    return envelope(0, "OK", {"access_token": access, "expires_in": ACCESS_TTL, "refresh_token": new_refresh,
                              "refresh_token_expires_in": REFRESH_TTL, "open_id": "-000" + token[-8:],
                              "scope": "user.info.basic,user.insights,video.list,video.insights",
                              "token_type": "Bearer"})


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any other path: TikTok's unknown-endpoint answer."""
    check_token(request)
    fail(40006, f"The requested endpoint /{rest} does not exist.")
