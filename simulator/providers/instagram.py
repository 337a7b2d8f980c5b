"""Simulated Instagram Graph API (Instagram Login) under ``/instagram<base path>``: real paths, bodies, errors.

State is kept per access token; ``GET /me`` tells the token's account id, and any id starting with
``17841`` (the shape of IG user ids) also names that account. A container is IN_PROGRESS on
its first status poll and FINISHED on the next (ERROR when its media URL contains ``unreachable``).
Published feed posts and reels get three comments. A token starting with ``bad`` is rejected (code 190).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request, Response

from simulator.control import hex_id, params, state
from simulator.providers._graph import cursor_page, fail, graph_sim, invalid, number, stamp, unsupported
from simulator.providers._graph import token as graph_token

PROVIDER = "instagram"
MEDIA_METRICS = ("views", "reach", "likes", "comments", "saved", "shares", "total_interactions", "follows",
                 "profile_visits", "profile_activity", "replies", "navigation", "ig_reels_avg_watch_time",
                 "ig_reels_video_view_total_time")
ACCOUNT_METRICS = ("reach", "views", "follower_count", "online_followers", "accounts_engaged",
                   "total_interactions", "likes", "comments", "shares", "saves", "replies",
                   "follows_and_unfollows", "profile_links_taps")
#: Account metrics Meta only returns with ``metric_type=total_value``.
TOTAL_ONLY = frozenset(ACCOUNT_METRICS) - {"reach", "follower_count", "online_followers"}
PERIODS = ("day", "week", "days_28", "lifetime")
SIM = graph_sim(PROVIDER, usage='{"call_count":100,"total_cputime":14,"total_time":38}')
router = SIM.router()
fault_response = SIM.fault_response


def account(request: Request) -> dict[str, Any]:
    """The state of the request's token (Bearer header or ``access_token``); Graph's errors otherwise."""
    token = graph_token(request, SIM)
    user_id = "1784140" + str(number(token, 10**9, 10**10 - 1))
    seed = _seed if token.startswith(SANDBOX_TOKEN) else (lambda acct: acct)
    return state(request).account("instagram", token, lambda: seed({
        "user": {"id": user_id, "user_id": user_id, "username": f"sim_{user_id[-4:]}",
                 "account_type": "BUSINESS", "followers_count": number(token, 500, 50000), "kind": "user"},
        "objects": {}, "order": []}))


#: The sandbox's published photo and its three comments (the ids in the catalog's examples).
#: Tokens of the sandbox account (the one the catalog's examples run against) start with this.
SANDBOX_TOKEN = "IGAAsandbox"
#: Outside the ranges of the ids the simulator hands out (containers 179..., media 178..., comments 1785...).
SEEDED_MEDIA, SEEDED_COMMENTS = "17890000000000001", ("17859000000000001", "17859000000000002", "17859000000000003")


def _seed(acct: dict[str, Any]) -> dict[str, Any]:
    """An account with one published photo carrying three fan comments."""
    media = {"kind": "media", "id": SEEDED_MEDIA, "media_type": "IMAGE", "media_product_type": "FEED",
             "caption": "Sandbox: our first photo", "media_url": "https://cdn.example.com/sandbox.jpg",
             "permalink": "https://www.instagram.com/p/SANDBOX0001/", "timestamp": "2026-01-05T09:00:00+0000",
             "username": acct["user"]["username"], "like_count": 42, "comments": list(SEEDED_COMMENTS)}
    acct["objects"][SEEDED_MEDIA] = media
    acct["order"].append(SEEDED_MEDIA)
    for n, (cid, text) in enumerate(zip(SEEDED_COMMENTS, ("Love this!", "Where is this?", "Great post"),
                                        strict=True), start=1):
        acct["objects"][cid] = {"kind": "comment", "id": cid, "text": text, "username": f"fan_{n}",
                                "timestamp": "2026-01-05T10:00:00+0000", "like_count": 0, "hidden": False,
                                "media_id": SEEDED_MEDIA, "replies": []}
    return acct


def pick(obj: dict[str, Any], request: Request, default: str = "id") -> dict[str, Any]:
    """The fields asked for with ``fields=`` (Graph always includes ``id``)."""
    wanted = request.query_params.get("fields") or default
    return {"id": obj["id"], **{f: obj[f] for f in wanted.split(",") if f in obj and f != "id"}}


def _flag(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def _container(acct: dict[str, Any], request: Request, p: dict[str, Any]) -> dict[str, Any]:
    kind, item = p.get("media_type"), _flag(p.get("is_carousel_item"))
    url = p.get("video_url") if kind in ("REELS", "VIDEO") or (kind == "STORIES" and p.get("video_url")) \
        else p.get("image_url")
    if kind == "CAROUSEL":
        children = [c for c in str(p.get("children") or "").split(",") if c]
        if not 2 <= len(children) <= 10:
            invalid("The parameter children must list between 2 and 10 carousel item containers")
        for child in children:
            obj = acct["objects"].get(child)
            if not obj or not obj.get("carousel_item") or obj["status_code"] != "FINISHED":
                invalid(f"Carousel item container {child} is not a finished carousel item")
    elif kind not in (None, "REELS", "STORIES", "VIDEO") or (kind == "VIDEO" and not item):
        invalid("The parameter media_type must be REELS, STORIES, CAROUSEL, or VIDEO on a carousel item")
    elif not url or not str(url).startswith(("http://", "https://")):
        invalid("The parameter image_url or video_url is required and must be a public URL")
    if len(str(p.get("caption") or "")) > 2200:
        invalid("The caption is longer than 2200 characters")
    cid = str(17_900_000_000_000_000 + state(request).next_id())
    return {"kind": "container", "id": cid, "media_type": kind or "IMAGE", "carousel_item": item, "url": url,
            "params": {k: v for k, v in p.items() if k != "access_token"}, "polls": 0,
            "status_code": "IN_PROGRESS"}


def _poll(container: dict[str, Any]) -> dict[str, Any]:
    container["polls"] += 1
    if container["status_code"] == "IN_PROGRESS" and container["polls"] >= 2:
        container["status_code"] = "ERROR" if "unreachable" in str(container["url"]) else "FINISHED"
    status = {"IN_PROGRESS": "In Progress", "FINISHED": "Finished", "PUBLISHED": "Published",
              "ERROR": "Error: Media download has failed. The media URI doesn't meet our requirements. "
                       "(2207052)"}
    return {**container, "status": status.get(container["status_code"], container["status_code"])}


def _publish(acct: dict[str, Any], request: Request, creation_id: str) -> dict[str, Any]:
    container = acct["objects"].get(creation_id)
    if not container or container["kind"] != "container":
        invalid("The parameter creation_id is not a valid container id")
    if container["status_code"] == "PUBLISHED":
        invalid("The container has already been published")
    if container["status_code"] != "FINISHED":
        fail(400, "Media ID is not available", 9007, subcode=2207027)
    mid = str(17_800_000_000_000_000 + state(request).next_id())
    kind = container["media_type"]
    product = {"REELS": "REELS", "STORIES": "STORY"}.get(kind, "FEED")
    media_type = {"REELS": "VIDEO", "CAROUSEL": "CAROUSEL_ALBUM"}.get(kind, kind)
    if kind == "STORIES":
        media_type = "VIDEO" if container["params"].get("video_url") else "IMAGE"
    media = {"kind": "media", "id": mid, "media_type": media_type, "media_product_type": product,
             "caption": container["params"].get("caption", ""), "media_url": container["url"],
             "permalink": f"https://www.instagram.com/p/{hex_id(11)}/", "timestamp": stamp(),
             "username": acct["user"]["username"], "like_count": number(mid, 5, 500), "comments": []}
    container |= {"status_code": "PUBLISHED", "media_id": mid}
    acct["objects"][mid] = media
    acct["order"].insert(0, mid)
    for n, text in enumerate(() if product == "STORY" else ("Love this!", "Where is this?", "Great post")):
        _comment(acct, request, media, text, f"fan_{n + 1}")
    return {"id": mid}


def _comment(acct: dict[str, Any], request: Request, media: dict[str, Any], text: str, user: str,
             parent: dict[str, Any] | None = None) -> dict[str, Any]:
    cid = str(17_850_000_000_000_000 + state(request).next_id())
    comment = {"kind": "comment", "id": cid, "text": text, "username": user, "timestamp": stamp(),
               "like_count": 0, "hidden": False, "media_id": media["id"], "replies": []}
    acct["objects"][cid] = comment
    (parent["replies"] if parent else media["comments"]).append(cid)
    return comment


def _media_view(acct: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    return {**media, "comments_count": len(media["comments"])}


def _insights(obj_id: str, request: Request, *, allowed: tuple[str, ...],
              account_level: bool) -> dict[str, Any]:
    q = request.query_params
    metrics = [m for m in (q.get("metric") or "").split(",") if m]
    if not metrics:
        invalid("The parameter metric is required")
    for i, metric in enumerate(metrics):
        if metric not in allowed:
            invalid(f"metric[{i}] must be one of the following values: {', '.join(allowed)}")
    period, total = q.get("period") or "lifetime", q.get("metric_type") == "total_value"
    if account_level and q.get("period") not in PERIODS:
        invalid(f"The parameter period must be one of: {', '.join(PERIODS)}")
    if account_level and not total and (need := [m for m in metrics if m in TOTAL_ONLY]):
        invalid(f"The following metrics ({', '.join(need)}) should be specified with parameter "
                "metric_type=total_value")
    data = []
    for metric in metrics:
        item: dict[str, Any] = {"name": metric, "period": period, "title": metric.replace("_", " ").title(),
                                "description": f"Simulated {metric}",
                                "id": f"{obj_id}/insights/{metric}/{period}"}
        if total:
            item["total_value"] = {"value": number(f"{obj_id}{metric}", 10, 5000)}
        elif account_level:
            item["values"] = [{"value": number(f"{obj_id}{metric}{d}", 10, 5000),
                               "end_time": stamp(timedelta(days=d))} for d in (-1, 0)]
        else:
            item["values"] = [{"value": number(f"{obj_id}{metric}", 10, 5000)}]
        data.append(item)
    return {"data": data}


def _lookup(acct: dict[str, Any], obj_id: str, method: str) -> dict[str, Any]:
    if obj_id == "me" or obj_id.startswith("17841"):
        return acct["user"]
    obj = acct["objects"].get(obj_id)
    if obj is None or obj.get("deleted"):
        unsupported(obj_id, method)
    return obj


@router.api_route("/{obj_id}", methods=["GET", "POST", "DELETE"])
async def node(obj_id: str, request: Request) -> dict[str, Any]:
    """GET, POST (hide a comment) or DELETE (a comment) one Graph object; ``me`` is the account."""
    acct, p, method = account(request), await params(request), request.method
    with state(request).lock:
        obj = _lookup(acct, obj_id, method)
        if method == "GET":
            view = {"container": _poll, "media": lambda o: _media_view(acct, o)}.get(obj["kind"], dict)(obj)
            return pick(view, request)
        if obj["kind"] != "comment":
            unsupported(obj_id, method)
        if method == "POST":
            if "hide" not in p:
                invalid("The parameter hide is required")
            obj["hidden"] = _flag(p["hide"])
        else:
            obj["deleted"] = True
            media = acct["objects"][obj["media_id"]]
            media["comments"] = [c for c in media["comments"] if c != obj_id]
        return {"success": True}


@router.api_route("/{obj_id}/{edge}", methods=["GET", "POST"])
async def edge(obj_id: str, edge: str, request: Request) -> dict[str, Any]:
    """Edges: media, media_publish, stories, insights, comments, replies."""
    acct, p, key = account(request), await params(request), (request.method, edge)
    with state(request).lock:
        obj = _lookup(acct, obj_id, request.method)
        kind = obj["kind"]
        if kind == "user" and key == ("POST", "media"):
            container = _container(acct, request, p)
            acct["objects"][container["id"]] = container
            return {"id": container["id"]}
        if kind == "user" and key == ("POST", "media_publish"):
            return _publish(acct, request, str(p.get("creation_id") or ""))
        if kind == "user" and key in (("GET", "media"), ("GET", "stories")):
            product = {"media": ("FEED", "REELS"), "stories": ("STORY",)}[edge]
            items = [acct["objects"][m] for m in acct["order"]
                     if acct["objects"][m]["media_product_type"] in product]
            return cursor_page(request, SIM, [pick(_media_view(acct, m), request) for m in items])
        if key == ("GET", "insights") and kind in ("user", "media"):
            return _insights(obj["id"], request, allowed=ACCOUNT_METRICS if kind == "user" else MEDIA_METRICS,
                             account_level=kind == "user")
        if (kind, key) in (("media", ("GET", "comments")), ("comment", ("GET", "replies"))):
            ids = obj["comments"] if kind == "media" else obj["replies"]
            comments = [acct["objects"][c] for c in ids if not acct["objects"][c].get("deleted")]
            return cursor_page(request, SIM, [pick(c, request, "id,text,timestamp") for c in comments])
        if kind == "comment" and key == ("POST", "replies"):
            if not p.get("message"):
                invalid("The parameter message is required")
            media = acct["objects"][obj["media_id"]]
            reply = _comment(acct, request, media, str(p["message"]), acct["user"]["username"], obj)
            return {"id": reply["id"]}
        unsupported(obj_id, request.method)


@router.api_route("/{rest:path}", methods=["GET", "POST", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any deeper path: Graph's unknown-path error."""
    account(request)
    fail(400, "Unknown path components: /" + rest, 2500)
