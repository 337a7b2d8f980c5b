"""LinkedIn client for both catalog entries: Soshie's company page and Buddy's public company insights.

One client serves ``linkedin`` (Community Management API: posts, link-card "articles", page and post
statistics) and ``linkedin_sales`` (public organization data; Sales Navigator and messaging are
partner-only and refused with the catalog's reason). Every ``/rest`` call pins ``LinkedIn-Version`` and
Rest.li 2.0. LinkedIn sends no rate-limit headers and resets its daily limits at 00:00 UTC, so a 429
without ``Retry-After`` waits until then. Posts have no idempotency key: the job records an intent, stores
the ``x-restli-id`` right after, and a retry after an intent reads the page's recent posts (or LinkedIn's
"duplicate of urn" answer) before it could post twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from config.catalog.integrations.linkedin import SALES_SPEC, SOCIAL_SPEC
from config.providers import definition
from workers.errors import (
    AuthError,
    IntegrationUnavailable,
    MalformedResponse,
    ProviderRejected,
)
from workers.providers._linkedin_shapes import (
    DUPLICATE,
    company,
    iso_day,
    little_text,
    post_totals,
    restli_list,
    time_intervals,
    until_utc_midnight,
    urn_param,
)
from workers.providers.base import RateLimit, StepLog, expect_shape, parse_retry_after, require
from workers.providers.oauth import OAuth2Client

#: The Marketing API version every ``/rest`` call pins (set in the provider definition; bump yearly).
VERSION = definition("linkedin").headers["LinkedIn-Version"]
#: Names tests and callers import from here (they live in the shapes helper).
__all__ = ["CLIENT", "VERSION", "LinkedInClient", "little_text", "until_utc_midnight"]


class LinkedInClient(OAuth2Client):
    """LinkedIn with a 3-legged member token (programmatic refresh for approved apps)."""

    provider: ClassVar[str] = "linkedin"
    #: Recent page posts read back when a retry must find a post an earlier attempt may have made.
    LOOKBACK: ClassVar[int] = 20
    #: Most posts asked for per page of the author finder (LinkedIn's maximum).
    PAGE_SIZE: ClassVar[int] = 100


    def rate_limit(self, response: httpx.Response) -> RateLimit | None:
        """Kept: no headers at LinkedIn: a 429 waits for Retry-After if given, else for midnight UTC."""
        retry = parse_retry_after(response.headers.get("retry-after"))
        if retry is None and response.status_code == 429:
            retry = until_utc_midnight()
        return RateLimit(reset_after=retry) if retry is not None else None

    def run(self, action: str, params: Any, steps: StepLog) -> Any:
        """Refuse the partner-only actions with LinkedIn's reason before anything is sent."""
        spec = SALES_SPEC.action(action) or SOCIAL_SPEC.action(action)
        if spec is not None and spec.restricted:
            raise IntegrationUnavailable(f"linkedin.{action} is restricted: {spec.restricted}")
        return super().run(action, params, steps)

    # -- helpers ----------------------------------------------------------------------------------
    @property
    def org_id(self) -> str:
        """The company page the Soshie actions act on."""
        return self.credential("organization_id")

    @property
    def org_urn(self) -> str:
        """``urn:li:organization:{organization_id}``."""
        return f"urn:li:organization:{self.org_id}"

    def _get(self, path: str, query: str) -> Any:
        """GET with a ready Rest.li query string (its parentheses must reach LinkedIn unencoded)."""
        data = self.json("GET", f"{path}?{query}")
        if not isinstance(data, dict):
            raise MalformedResponse(f"linkedin answered GET {path} with a body that is not an object")
        return data

    def test_connection(self) -> dict[str, Any]:
        """Soshie: the member's role on the page; Buddy (no organization_id): the signed-in member."""
        answer = self.send_test_call()  # the definition picks the call by whether organization_id is set
        if not self.credentials.get("organization_id"):
            return {"member_id": answer["sub"], "name": answer.get("name")}
        with expect_shape(self.provider, "GET /rest/organizationAcls"):
            role = next((a["role"] for a in answer["elements"] if a.get("organization") == self.org_urn), None)
        if role is None:
            raise AuthError(f"linkedin: this member has no approved role on organization {self.org_id}; "
                            "reconnect with an administrator of the page")
        return {"organization_urn": self.org_urn, "role": role}

    def recent_posts(self, limit: int = 20) -> list[dict[str, Any]]:
        """The page's newest posts (the author finder, paged as the definition says: start/count)."""
        return self.paginate("/rest/posts", {"q": "author", "author": self.org_urn, "sortBy": "CREATED"},
                             limit=limit, page_size=self.PAGE_SIZE)

    def _find_post(self, body: dict[str, Any]) -> str | None:
        """A recent page post with this commentary and content (made by an earlier attempt)."""
        for post in self.recent_posts(self.LOOKBACK):
            if post.get("commentary") == body["commentary"] and post.get("content") == body.get("content"):
                return str(post["id"])
        return None

    def _publish(self, steps: StepLog, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /rest/posts`` once: resumed from the step log, found again after a crash, or created."""
        urn, resumed = steps.get("post_urn"), True
        seen = urn is None and steps.intent("post")
        if urn is None and seen:
            urn = self._find_post(body)
        if urn is None:
            resumed = False
            try:
                response = self.request("POST", "/rest/posts", json=body)
            except ProviderRejected as exc:
                duplicate = DUPLICATE.search(exc.message)
                if not (seen and duplicate):  # a twin nobody in this job made is the user's to resolve
                    raise
                urn, resumed = duplicate.group(1), True
            else:
                urn = response.headers.get("x-restli-id")
                if not urn:
                    raise MalformedResponse("linkedin created a post but sent no x-restli-id header")
        steps.put("post_urn", urn)
        return {"post_urn": urn, "url": f"https://www.linkedin.com/feed/update/{urn}", "resumed": resumed}

    def _post_body(self, commentary: str, visibility: str, content: dict[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "author": self.org_urn, "commentary": little_text(commentary), "visibility": visibility,
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        if content:
            body["content"] = content
        return body

    def _followers(self, org_urn: str) -> int | None:
        data = self.json("GET", f"/rest/networkSizes/{urn_param(org_urn)}",
                         params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"})
        return require(data, "firstDegreeSize", self.provider, "GET /rest/networkSizes")

    # -- Soshie: posting --------------------------------------------------------------------------
    def action_publish_post(self, params: Any, steps: StepLog) -> dict[str, Any]:
        content = {"media": {"id": params.image_urn}} if params.image_urn else None
        return self._publish(steps, self._post_body(params.text, params.visibility, content))

    def action_publish_article(self, params: Any, steps: StepLog) -> dict[str, Any]:
        article = {"source": params.url, "title": params.title}
        if params.description:
            article["description"] = params.description
        if params.thumbnail_urn:
            article["thumbnail"] = params.thumbnail_urn
        return self._publish(steps, self._post_body(params.text or "", "PUBLIC", {"article": article}))

    # -- Soshie: analytics and the page ------------------------------------------------------------
    def action_get_post_analytics(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = f"q=organizationalEntity&organizationalEntity={urn_param(self.org_urn)}"
        for name, kind in (("shares", ":share:"), ("ugcPosts", ":ugcPost:")):
            if urns := [u for u in params.post_urns if kind in u]:
                query += f"&{name}={restli_list(urns)}"
        start, end = params.start_date, params.end_date
        if start or end:  # time-bound: daily buckets, summed per post; else lifetime totals
            end = end or datetime.now(UTC).date()
            start = start or end - timedelta(days=364)
            query += f"&timeIntervals={time_intervals(start, end, 'DAY')}"
        data = self._get("/rest/organizationalEntityShareStatistics", query)
        with expect_shape(self.provider, "GET /rest/organizationalEntityShareStatistics"):
            posts = post_totals(data["elements"], params.post_urns)
        return {"organization_urn": self.org_urn, "start_date": start and start.isoformat(),
                "end_date": end and end.isoformat(), "posts": posts}

    def action_get_organization_statistics(self, params: Any, steps: StepLog) -> dict[str, Any]:
        window = time_intervals(params.start_date, params.end_date, params.granularity)
        org = urn_param(self.org_urn)
        pages = self._get("/rest/organizationPageStatistics", f"q=organization&organization={org}"
                                                               f"&timeIntervals={window}")
        gains = self._get("/rest/organizationalEntityFollowerStatistics",
                          f"q=organizationalEntity&organizationalEntity={org}&timeIntervals={window}")
        buckets: dict[int, dict[str, Any]] = {}
        with expect_shape(self.provider, "GET organization statistics"):
            for element in pages["elements"]:
                views = element["totalPageStatistics"]["views"]
                bucket = buckets.setdefault(element["timeRange"]["start"], {"end": element["timeRange"]["end"]})
                bucket["page_views"] = (views.get("allPageViews") or {}).get("pageViews", 0)
            for element in gains["elements"]:
                bucket = buckets.setdefault(element["timeRange"]["start"], {"end": element["timeRange"]["end"]})
                bucket |= {"organic_follower_gain": element["followerGains"].get("organicFollowerGain", 0),
                           "paid_follower_gain": element["followerGains"].get("paidFollowerGain", 0)}
        rows = [{"start": iso_day(start), "end": iso_day(b.pop("end")), "page_views": 0, "organic_follower_gain": 0,
                 "paid_follower_gain": 0, **b} for start, b in sorted(buckets.items())]
        totals = {k: sum(r[k] for r in rows) for k in ("page_views", "organic_follower_gain", "paid_follower_gain")}
        return {"organization_urn": self.org_urn, "granularity": params.granularity, "buckets": rows,
                "totals": totals, "followers": self._followers(self.org_urn)}

    def action_get_organization(self, params: Any, steps: StepLog) -> dict[str, Any]:
        org = self.json("GET", f"/rest/organizations/{self.org_id}")
        with expect_shape(self.provider, "GET /rest/organizations/{id}"):
            return {**company(org), "followers": self._followers(self.org_urn)}

    # -- Buddy: public company insights ------------------------------------------------------------
    def action_get_company_insights(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if params.vanity_name:
            data = self.json("GET", "/rest/organizations", params={"q": "vanityName",
                                                                   "vanityName": params.vanity_name})
            found = require(data, "elements", self.provider, "GET /rest/organizations?q=vanityName")
            if not found:
                raise ProviderRejected(f"linkedin has no organization with vanity name {params.vanity_name!r}",
                                       status=200)
            org = found[0]
        else:
            org = self._lookup(params.organization_id)
        with expect_shape(self.provider, "GET organization"):
            result = company(org)
        return {**result, "followers": self._followers(result["urn"])}

    def _lookup(self, org_id: str) -> dict[str, Any]:
        """One organization by id through the batch lookup: per-id errors come inside the 200."""
        data = self._get("/rest/organizationsLookup", f"ids=List({org_id})")
        if org := (data.get("results") or {}).get(org_id):
            return dict(org)
        error = (data.get("errors") or {}).get(org_id)
        if error is None:
            raise MalformedResponse(f"linkedin answered the lookup of organization {org_id} without it")
        raise ProviderRejected(f"linkedin answered organization {org_id}: {error.get('message', error)}",
                               status=int(error.get("status") or 200), provider_code=error.get("code"))


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = LinkedInClient
