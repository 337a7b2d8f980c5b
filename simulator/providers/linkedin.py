"""Simulated LinkedIn (Community Management + OpenID userinfo) under ``/linkedin``: real paths, Rest.li query
syntax, ``LinkedIn-Version`` checks, ``x-restli-id`` on created posts and LinkedIn's error bodies.

Who is calling: a bearer token ``<account>.<anything>`` belongs to member ``<account>``; a token without a
dot is its own member; ``bad...`` tokens are rejected. Every member administers organization 2414183
(members whose name starts with ``viewer`` administer nothing). No rate-limit headers (as LinkedIn): a
member's 151st post of a UTC day answers 429. Refresh tokens are not rotated: LinkedIn answers the same
refresh token with its remaining lifetime (``refresh_token_expires_in``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator import oauth as sim_oauth
from simulator.control import Reply, hex_id, json_error, params, state
from simulator.generic import Sim
from simulator.providers import _linkedin_data as ld

PROVIDER = "linkedin"
ACCESS_TTL, REFRESH_TTL = 60 * 86400, 365 * 86400
DAILY_POSTS = 150
VISIBILITY = ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER")
MEDIA = ("urn:li:image:", "urn:li:video:", "urn:li:document:")
#: LinkedIn's ``serviceErrorCode`` of an error code (the body carries both).
SERVICE_CODES = {"INVALID_ACCESS_TOKEN": 65600, "EXPIRED_ACCESS_TOKEN": 65601, "ACCESS_DENIED": 100,
                 "TOO_MANY_REQUESTS": 101}


def error_body(status: int, message: str, code: Any, **extra: Any) -> dict[str, Any]:
    """LinkedIn's error body ``{status, serviceErrorCode, code, message}``: ``status`` and the service code
    are beyond what the definition's paths (``message``, ``code``) build."""
    body: dict[str, Any] = {"status": status}
    if code in SERVICE_CODES:
        body["serviceErrorCode"] = SERVICE_CODES[code]
    return {**body, "code": code, "message": message, **extra}


SIM = Sim(PROVIDER, body=error_body, faults={
    401: ("Invalid access token", "INVALID_ACCESS_TOKEN"),
    403: ("Not enough permissions to access this resource", "ACCESS_DENIED"), 404: ("Not Found", "NOT_FOUND"),
    429: ("Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
          "TOO_MANY_REQUESTS"),
    400: ("Bad Request", "BAD_REQUEST"), 500: ("Internal Server Error", "INTERNAL_SERVER_ERROR"),
    503: ("Service Unavailable", "SERVICE_UNAVAILABLE")})
router = SIM.router()
fault_response = SIM.fault_response


def fail(status: int, code: str, message: str, **extra: Any) -> NoReturn:
    """Answer the current request with a LinkedIn error."""
    raise Reply(json_error(status, error_body(status, message, code, **extra)))


def unprocessable(field: str, message: str) -> NoReturn:
    """LinkedIn's 422 for a request body that fails validation, naming the field."""
    fail(422, "UNPROCESSABLE_ENTITY", message, errorDetailType="com.linkedin.common.error.BadRequest",
         errorDetails={"inputErrors": [{"description": message, "input": {"inputPath": {"fieldPath": field}},
                                        "code": "INVALID_VALUE"}]})


# -- members and tokens ---------------------------------------------------------------------------------
def world(request: Request) -> dict[str, Any]:
    """Tokens, posts and daily counters of the simulated LinkedIn."""
    return state(request).account("linkedin", "__world__", lambda: {
        "access": {}, "refresh": {}, "posts": {}, "daily": {}})


def member(request: Request) -> dict[str, Any]:
    """The member of the request's bearer token, or LinkedIn's 401."""
    token, w = SIM.credential(request), world(request)
    issued = w["access"].get(token)
    if issued is not None and issued["expires"] < time.time():
        fail(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired")
    account = issued["account"] if issued else token.split(".", 1)[0]
    person = f"urn:li:person:{hex_id(10)}"
    return state(request).account("linkedin", account, lambda: {
        "account": account, "person": person, "name": f"Sim {account.title()}",
        "orgs": [] if account.startswith("viewer") else [ld.HOME_ORG]})


def versioned(request: Request) -> dict[str, Any]:
    """:func:`member` plus the checks every ``/rest`` call gets: version header and encoded URNs."""
    who = member(request)
    version = request.headers.get("linkedin-version", "")
    if not version:
        fail(400, "VERSION_MISSING", "A version must be present. Please specify a version by adding the "
             "LinkedIn-Version header.")
    now = datetime.now(UTC)
    oldest = f"{now.year - 1}{now.month:02d}"
    if not (len(version) == 6 and version.isdigit() and oldest <= version <= f"{now.year}{now.month:02d}"):
        fail(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
    if "urn:li:" in request.url.query:
        fail(400, "ILLEGAL_ARGUMENT", "Syntax exception in query parameters: URNs must be URL-encoded")
    return who


def admin_of(who: dict[str, Any], urn: str | None) -> int:
    """The id of an organization the member administers, or LinkedIn's 403."""
    org = (urn or "").removeprefix("urn:li:organization:")
    if not org.isdigit() or int(org) not in who["orgs"]:
        fail(403, "ACCESS_DENIED", f"Not enough permissions to access organization {urn}")
    return int(org)


@router.post("/oauth/v2/accessToken")
async def access_token(request: Request) -> Response:
    """Refresh grant with client id/secret in the form; the same refresh token comes back."""
    if (answer := await sim_oauth.grant(request, PROVIDER)) is not None:  # "Connect with": the code exchange
        return answer
    form, w = await params(request), world(request)
    if not form.get("client_id") or not form.get("client_secret") or str(form["client_secret"]).startswith("bad"):
        return json_error(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
    refresh = str(form.get("refresh_token") or "")
    if form.get("grant_type") != "refresh_token" or not refresh or refresh.startswith("bad"):
        return json_error(400, {"error": "invalid_request", "error_description": "The provided authorization "
                                "grant or refresh token is invalid, expired or revoked"})
    with state(request).lock:
        grant = w["refresh"].setdefault(refresh, {"account": refresh.split(".", 1)[0], "since": time.time()})
        left = int(grant["since"] + REFRESH_TTL - time.time())
        access = f"{grant['account']}.at{hex_id(24)}"
        w["access"][access] = {"account": grant["account"], "expires": time.time() + ACCESS_TTL}
    return JSONResponse({"access_token": access, "expires_in": ACCESS_TTL, "refresh_token": refresh,
                            "refresh_token_expires_in": left, "scope": "r_organization_social,"
                            "rw_organization_admin,w_organization_social"})


@router.get("/v2/userinfo")
def userinfo(request: Request) -> dict[str, Any]:
    """The signed-in member (OpenID Connect)."""
    who = member(request)
    given, _, family = who["name"].partition(" ")
    return {"sub": who["person"].rsplit(":", 1)[1], "email_verified": True, "name": who["name"],
            "given_name": given, "family_name": family, "locale": {"country": "US", "language": "en"},
            "email": f"{who['account']}@members.example", "picture": "https://media.licdn.example/p.jpg"}


@router.get("/rest/organizationAcls")
def organization_acls(request: Request) -> dict[str, Any]:
    """The member's page roles (``q=roleAssignee``)."""
    who = versioned(request)
    q = request.query_params
    if q.get("q") != "roleAssignee":
        fail(400, "ILLEGAL_ARGUMENT", f"Invalid finder: q={q.get('q')}")
    elements = [{"roleAssignee": who["person"], "state": "APPROVED", "role": "ADMINISTRATOR",
                 "organization": f"urn:li:organization:{org}"} for org in who["orgs"]]
    elements = [e for e in elements if q.get("role", e["role"]) == e["role"] and q.get("state", "APPROVED") ==
                e["state"]]
    return {"paging": {"start": 0, "count": 10, "total": len(elements), "links": []}, "elements": elements}


# -- posts -----------------------------------------------------------------------------------------------
def _check_post(who: dict[str, Any], body: dict[str, Any]) -> None:
    author = str(body.get("author") or "")
    if author != who["person"]:
        admin_of(who, author)
    if not isinstance(body.get("commentary", ""), str):
        unprocessable("/commentary", "commentary must be a string")
    if body.get("visibility") not in VISIBILITY:
        unprocessable("/visibility", f"visibility must be one of {', '.join(VISIBILITY)}")
    if (body.get("distribution") or {}).get("feedDistribution") not in ("MAIN_FEED", "NONE"):
        unprocessable("/distribution/feedDistribution", "feedDistribution must be MAIN_FEED or NONE")
    if body.get("lifecycleState") not in ("PUBLISHED", "DRAFT"):
        unprocessable("/lifecycleState", "lifecycleState must be PUBLISHED or DRAFT")
    content = body.get("content") or {}
    article = content.get("article")
    if article is not None and (not str(article.get("source", "")).startswith(("http://", "https://"))
                                or not article.get("title")):
        unprocessable("/content/article", "article needs a source URL and a title")
    media = content.get("media")
    if media is not None and not str(media.get("id", "")).startswith(MEDIA):
        unprocessable("/content/media/id", "media id must be an image, video or document URN")


@router.post("/rest/posts")
async def create_post(request: Request) -> Response:
    """Create a post; its URN comes back in ``x-restli-id``; duplicates and the daily limit are enforced."""
    who, body, w = versioned(request), await params(request), world(request)
    _check_post(who, body)
    day = (who["account"], ld.today().isoformat())
    with state(request).lock:
        if w["daily"].get(day, 0) >= DAILY_POSTS:
            fail(429, "TOO_MANY_REQUESTS", "Resource level throttle MEMBER DAY limit for calls to this resource "
                 "is reached.")
        commentary = ld.truncate_little(str(body.get("commentary") or ""))
        since = time.time() - 86400
        for urn, post in w["posts"].items():
            if (post["author"], post["commentary"], post.get("content")) == (body["author"], commentary,
                                                                            body.get("content")) \
                    and post["createdAt"] / 1000 > since:
                unprocessable("/commentary", f"Content is a duplicate of {urn}")
        urn = f"urn:li:share:{7_380_000_000_000_000_000 + state(request).next_id()}"
        now = int(time.time() * 1000)
        w["posts"][urn] = {**{k: v for k, v in body.items() if k != "commentary"}, "id": urn,
                           "commentary": commentary, "createdAt": now, "lastModifiedAt": now,
                           "publishedAt": now, "lifecycleStateInfo": {"isEditedByAuthor": False}}
        w["daily"][day] = w["daily"].get(day, 0) + 1
    return Response(status_code=201, headers={"x-restli-id": urn})


@router.get("/rest/posts")
def find_posts(request: Request) -> dict[str, Any]:
    """``q=author``: an author's posts, newest first, paged by ``start``/``count`` (no total)."""
    who, q = versioned(request), request.query_params
    if q.get("q") != "author":
        fail(400, "ILLEGAL_ARGUMENT", f"Invalid finder: q={q.get('q')}")
    author = q.get("author") or ""
    if author != who["person"]:
        admin_of(who, author)
    start, count = q.get("start", "0"), q.get("count", "10")
    if not (start.isdigit() and count.isdigit() and int(count) <= 100):
        fail(400, "ILLEGAL_ARGUMENT", "start and count must be integers, count at most 100")
    key = "lastModifiedAt" if q.get("sortBy", "LAST_MODIFIED") == "LAST_MODIFIED" else "createdAt"
    with state(request).lock:
        posts = sorted((p for p in world(request)["posts"].values() if p["author"] == author),
                       key=lambda p: (p[key], p["id"]), reverse=True)
    page = posts[int(start): int(start) + int(count)]
    return {"paging": {"start": int(start), "count": int(count), "links": []}, "elements": page}


# -- statistics -----------------------------------------------------------------------------------------
def _window(request: Request) -> tuple[list[tuple[datetime, datetime]], bool]:
    """The requested buckets (lifetime: one empty bucket), checked against the 12-month window."""
    raw = request.query_params.get("timeIntervals")
    if raw is None:
        return [], False
    parsed = ld.time_intervals(raw)
    if parsed is None:
        fail(400, "ILLEGAL_ARGUMENT", f"Invalid timeIntervals: {raw}")
    start, end, granularity = parsed
    if start >= end:
        fail(400, "ILLEGAL_ARGUMENT", "timeRange.start must be before timeRange.end")
    if start < datetime.now(UTC) - timedelta(days=366):
        fail(400, "ILLEGAL_ARGUMENT", "timeRange.start must be within the last 12 months")
    return ld.buckets(start, end, granularity), True


def _org_param(request: Request, who: dict[str, Any], finder: str, name: str) -> int:
    if request.query_params.get("q") != finder:
        fail(400, "ILLEGAL_ARGUMENT", f"Invalid finder: q={request.query_params.get('q')}")
    return admin_of(who, request.query_params.get(name))


def _bucketed(key: str, spans: list[tuple[datetime, datetime]], timed: bool, make: Any,
              field: str) -> list[dict[str, Any]]:
    if not timed:
        return [{field: make(key)}]
    return [{"timeRange": {"start": ld.ms(s), "end": ld.ms(e)}, field: make(f"{key}{s.date()}")} for s, e in spans]


@router.get("/rest/organizationalEntityShareStatistics")
def share_statistics(request: Request) -> dict[str, Any]:
    """Organic share statistics of the page or of given ``shares``/``ugcPosts`` (lifetime or time-bound)."""
    who = versioned(request)
    org = _org_param(request, who, "organizationalEntity", "organizationalEntity")
    spans, timed = _window(request)
    posts: list[tuple[str, str]] = []
    for name in ("shares", "ugcPosts"):
        if (raw := request.query_params.get(name)) is not None:
            items = ld.restli_list(raw)
            if items is None:
                fail(400, "ILLEGAL_ARGUMENT", f"{name} must be a List(...) of URNs")
            posts += [(name[:-1], urn) for urn in items]
    elements = []
    for kind, urn in posts or [("", f"urn:li:organization:{org}")]:
        for item in _bucketed(urn, spans, timed, ld.share_statistics, "totalShareStatistics"):
            elements.append({"organizationalEntity": f"urn:li:organization:{org}", **item,
                             **({kind: urn} if kind else {})})
    return {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}


@router.get("/rest/organizationPageStatistics")
def page_statistics(request: Request) -> dict[str, Any]:
    """Page views (``q=organization``; the other statistics finders use ``organizationalEntity``)."""
    who = versioned(request)
    org = _org_param(request, who, "organization", "organization")
    spans, timed = _window(request)
    items = _bucketed(f"page{org}", spans, timed, ld.page_statistics, "totalPageStatistics")
    return {"paging": {"start": 0, "count": 10, "links": []},
            "elements": [{"organization": f"urn:li:organization:{org}", **item} for item in items]}


@router.get("/rest/organizationalEntityFollowerStatistics")
def follower_statistics(request: Request) -> dict[str, Any]:
    """Follower gains per bucket (time-bound) or follower counts by facet (lifetime)."""
    who = versioned(request)
    org = _org_param(request, who, "organizationalEntity", "organizationalEntity")
    spans, timed = _window(request)
    if not timed:
        total = ld.followers(org)
        item: dict[str, Any] = {"followerCountsByGeoCountry": [{"geo": "urn:li:geo:103644278", "followerCounts": {
            "organicFollowerCount": total, "paidFollowerCount": 0}}]}
        return {"paging": {"start": 0, "count": 10, "links": []},
                "elements": [{"organizationalEntity": f"urn:li:organization:{org}", **item}]}
    items = _bucketed(f"fol{org}", spans, timed, ld.follower_gains, "followerGains")
    return {"paging": {"start": 0, "count": 10, "links": []},
            "elements": [{"organizationalEntity": f"urn:li:organization:{org}", **item} for item in items]}


# -- organizations --------------------------------------------------------------------------------------
def _org_view(who: dict[str, Any], org_id: int, vanity: str | None = None) -> dict[str, Any]:
    org = ld.organization(org_id, vanity)
    return org if org_id in who["orgs"] else ld.public_view(org)


@router.get("/rest/organizations")
def find_organizations(request: Request) -> dict[str, Any]:
    """``q=vanityName``: the organization with that vanity name, if any (vanity names ``missing*`` are free)."""
    who, q = versioned(request), request.query_params
    if q.get("q") != "vanityName" or not q.get("vanityName"):
        fail(400, "ILLEGAL_ARGUMENT", "q=vanityName and vanityName are required")
    vanity = str(q["vanityName"]).lower()
    found = [] if vanity.startswith("missing") else [_org_view(who, ld.org_id_for(vanity), vanity)]
    return {"paging": {"start": 0, "count": 10, "links": []}, "elements": found}


@router.get("/rest/organizations/{org_id}")
def get_organization(org_id: str, request: Request) -> dict[str, Any]:
    """One organization: all fields for its administrators, the public ones for anyone else."""
    who = versioned(request)
    if not org_id.isdigit() or org_id.startswith("9999"):
        fail(404, "NOT_FOUND", f"Organization {org_id} not found")
    return _org_view(who, int(org_id))


@router.get("/rest/organizationsLookup")
def organizations_lookup(request: Request) -> dict[str, Any]:
    """BATCH_GET by ``ids=List(...)``: results, statuses and per-id errors in one 200."""
    who = versioned(request)
    ids = ld.restli_list(request.query_params.get("ids"))
    if not ids or not all(i.isdigit() for i in ids):
        fail(400, "ILLEGAL_ARGUMENT", "ids must be a List(...) of numeric organization ids")
    results, statuses, errors = {}, {}, {}
    for i in ids:
        if i.startswith("9999"):
            statuses[i] = 404
            errors[i] = {"status": 404, "code": "NOT_FOUND", "message": f"Organization {i} not found"}
        else:
            statuses[i], results[i] = 200, _org_view(who, int(i))
    return {"results": results, "statuses": statuses, "errors": errors}


@router.get("/rest/networkSizes/{urn}")
def network_size(urn: str, request: Request) -> dict[str, Any]:
    """An organization's follower count (``edgeType=COMPANY_FOLLOWED_BY_MEMBER``)."""
    versioned(request)
    org = urn.removeprefix("urn:li:organization:")
    if request.query_params.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER" or not org.isdigit():
        fail(400, "ILLEGAL_ARGUMENT", "Syntax exception in path variables")
    return {"firstDegreeSize": ld.followers(int(org))}


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
def unknown(rest: str, request: Request) -> Response:
    """Any other path: LinkedIn's 404."""
    member(request)
    fail(404, "NOT_FOUND", f"No virtual resource found for /{rest}")
