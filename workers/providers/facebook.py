"""Facebook Graph API client (v25.0): Page profile, posts, scheduled posts, Page and Ads insights.

Page calls use a Page access token derived from the connected user or system-user token
(``GET /{page_id}?fields=access_token``) and kept in memory only; Ads insights use the connected token.
Tokens travel in the ``Authorization`` header, never in the URL; with the app secret known, every call
carries ``appsecret_proof`` (an HMAC of the token, not the token). Graph has no idempotency keys: created
post ids are stored in the job's :class:`StepLog` at once, and a retry after an unrecorded create looks
the post up (``/scheduled_posts`` or ``/posts``) before posting again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from config.logging import register_secret
from workers.errors import AuthError, InvalidPayload, ProviderRejected
from workers.providers._facebook_ads import ads_insights
from workers.providers._graph import GraphClient, GraphObjectMissing
from workers.providers.base import StepLog, expect_shape, require

POST_FIELDS = "id,message,created_time,scheduled_publish_time,is_published,permalink_url"
#: Meta's lower bound for ``scheduled_publish_time``.
MIN_SCHEDULE_AHEAD_S = 600
#: How far back a retry looks for a post an earlier attempt published but did not record.
RECENT_POST_S = 24 * 3600


def _epoch(value: Any) -> float | None:
    """Seconds since the epoch of a Graph time (unix number or ``2026-09-01T12:00:00+0000``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


class FacebookClient(GraphClient):
    """Facebook Pages and Ads insights over the Graph API with Bearer tokens."""

    provider: ClassVar[str] = "facebook"
    #: (code, subcode) pairs meaning "this object does not exist or this token cannot see it".
    MISSING: ClassVar[frozenset[tuple[int, int | None]]] = frozenset({(100, 33), (803, None)})
    #: Ads insights spanning more days than this use the async report_run_id flow.
    ASYNC_AFTER_DAYS: ClassVar[int] = 31
    #: Seconds between two async report polls, and the longest wait before the job is retried.
    POLL_INTERVAL: ClassVar[float] = 2.0
    POLL_TIMEOUT: ClassVar[float] = 300.0

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._page_token: str | None = None

    # -- credentials -------------------------------------------------------------------------------
    @property
    def page_id(self) -> str:
        """The Page the actions act on."""
        return self.credential("page_id")

    @property
    def ad_account(self) -> str:
        """The ad account as Graph names it (``act_<id>``)."""
        if not (value := self.credentials.get("ad_account_id")):
            raise InvalidPayload("get_ads_insights needs the integration's ad_account_id (act_<id>)")
        return value if value.startswith("act_") else f"act_{value}"

    def page_token(self) -> str:
        """The Page access token, read once per client with the connected token."""
        if self._page_token is None:
            data = self.json("GET", f"/{self.page_id}", params={"fields": "access_token"})
            token = data.get("access_token") if isinstance(data, dict) else None
            if not token:
                raise AuthError("facebook gave no Page access token for this Page: the connected user must "
                                "manage the Page and grant pages_manage_posts and pages_read_engagement")
            register_secret(str(token))
            self._page_token = str(token)
        return self._page_token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Add ``appsecret_proof`` for the token in use when the app secret is known."""
        secret = self.credentials.get("client_secret")
        if secret:
            headers = {**self.auth_headers(), **(kwargs.get("headers") or {})}
            token = headers["Authorization"].partition(" ")[2]
            proof = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            kwargs["params"] = {**(kwargs.get("params") or {}), "appsecret_proof": proof}
        return super().request(method, path, **kwargs)

    def page_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`json` with the Page access token."""
        return self.json(method, path, headers={"Authorization": f"Bearer {self.page_token()}"}, **kwargs)

    # -- provider shapes ---------------------------------------------------------------------------
    def test_connection(self) -> dict[str, Any]:
        """Kept: the Page's id and name, and the configured ad account."""
        page = self.send_test_call()
        return {"page_id": require(page, "id", self.provider, "GET /{page_id}"), "name": page.get("name"),
                "ad_account_id": self.credentials.get("ad_account_id")}

    # -- helpers ---------------------------------------------------------------------------------------
    def _post(self, post_id: str) -> dict[str, Any] | None:
        """A post of the Page, or None when Graph says it does not exist."""
        try:
            return self.page_json("GET", f"/{post_id}", params={"fields": POST_FIELDS})
        except GraphObjectMissing:
            return None

    def _post_result(self, post_id: str, *, resumed: bool) -> dict[str, Any]:
        post = self._post(post_id) or {}
        when = _epoch(post.get("scheduled_publish_time"))
        return {"post_id": post_id, "message": post.get("message"),
                "permalink_url": post.get("permalink_url"), "is_published": post.get("is_published"),
                "resumed": resumed,
                "scheduled_publish_time": datetime.fromtimestamp(when, UTC).isoformat() if when else None}

    def _create_post(self, steps: StepLog, body: dict[str, Any], find: Any) -> dict[str, Any]:
        """POST /{page}/feed once per job: the stored id, else one an unrecorded attempt made, else anew."""
        if post_id := steps.get("post_id"):
            return self._post_result(post_id, resumed=True)
        if steps.intent("post") and (found := find()):
            steps.put("post_id", found)
            return self._post_result(found, resumed=True)
        steps.progress("posting to the Page", 50.0)
        data = self.page_json("POST", f"/{self.page_id}/feed", data=body)
        post_id = str(require(data, "id", self.provider, "POST /{page}/feed"))
        steps.put("post_id", post_id)
        return self._post_result(post_id, resumed=False)

    def _find_published(self, message: str) -> str | None:
        since = time.time() - RECENT_POST_S
        for post in self.pages(f"/{self.page_id}/posts", 25, {"fields": "id,message,created_time"},
                               call=self.page_json):
            created = _epoch(post.get("created_time"))
            if post.get("message") == message and (created is None or created >= since):
                return str(post["id"])
        return None

    def _find_scheduled(self, message: str, when: int) -> str | None:
        fields = {"fields": "id,message,scheduled_publish_time"}
        for post in self.pages(f"/{self.page_id}/scheduled_posts", 100, fields, call=self.page_json):
            if post.get("message") == message and _epoch(post.get("scheduled_publish_time")) == when:
                return str(post["id"])
        return None

    # -- Page -----------------------------------------------------------------------------------------
    def action_get_page(self, params: Any, steps: StepLog) -> dict[str, Any]:
        page = self.page_json("GET", f"/{self.page_id}", params={"fields": ",".join(params.fields)})
        return {"page": page}

    def action_update_page_info(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = {k: v for k, v in params.model_dump().items() if v is not None}
        if "emails" in body:
            body["emails"] = json.dumps(body["emails"])
        data = self.page_json("POST", f"/{self.page_id}", data=body)
        return {"page_id": self.page_id, "updated": sorted(body), "success": bool(data.get("success"))}

    def action_publish_page_post(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = {"message": params.message} | ({"link": params.link} if params.link else {})
        return self._create_post(steps, body, lambda: self._find_published(params.message))

    # -- scheduled posts ------------------------------------------------------------------------------
    def action_list_scheduled_posts(self, params: Any, steps: StepLog) -> dict[str, Any]:
        posts = self.pages(f"/{self.page_id}/scheduled_posts", params.limit,
                           {"fields": "id,message,scheduled_publish_time,created_time,permalink_url"},
                           call=self.page_json)
        return {"page_id": self.page_id, "scheduled_posts": posts, "count": len(posts)}

    def action_schedule_post(self, params: Any, steps: StepLog) -> dict[str, Any]:
        when = int(params.publish_at.timestamp())
        if not steps.get("post_id") and when - time.time() < MIN_SCHEDULE_AHEAD_S:
            raise InvalidPayload("publish_at must be at least 10 minutes ahead (Meta's rule for scheduled "
                                 "posts)")
        body = {"message": params.message, "published": "false", "scheduled_publish_time": str(when)}
        body |= {"link": params.link} if params.link else {}
        return self._create_post(steps, body, lambda: self._find_scheduled(params.message, when))

    def action_cancel_scheduled_post(self, params: Any, steps: StepLog) -> dict[str, Any]:
        post_id = params.post_id
        done = {"post_id": post_id, "deleted": True}
        if steps.get("deleted"):
            return done
        owner, sep, _ = post_id.partition("_")
        if sep and owner != self.page_id:
            raise ProviderRejected(f"facebook post {post_id} does not belong to Page {self.page_id}")
        retried = steps.intent("delete")
        post = self._post(post_id)
        if post is None and retried:  # an earlier attempt deleted it but died before recording that
            steps.put("deleted", True)
            return done
        if post is None:
            raise ProviderRejected(f"facebook has no post {post_id} that this Page token can see")
        if post.get("is_published"):
            raise ProviderRejected(f"facebook post {post_id} is already published; only scheduled posts "
                                   "are cancelled")
        self.page_json("DELETE", f"/{post_id}")
        steps.put("deleted", True)
        return done

    # -- insights -------------------------------------------------------------------------------------
    def action_get_page_insights(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query: dict[str, Any] = {"metric": ",".join(params.metrics), "period": params.period}
        query |= {k: getattr(params, k).isoformat() for k in ("since", "until") if getattr(params, k)}
        data = self.page_json("GET", f"/{self.page_id}/insights", params=query)
        metrics: dict[str, Any] = {}
        with expect_shape(self.provider, "GET /{page}/insights"):
            for item in data["data"]:
                metrics[item["name"]] = [{"end_time": v.get("end_time"), "value": v.get("value")}
                                         for v in item.get("values") or []]
        return {"page_id": self.page_id, "period": params.period, "metrics": metrics}

    def action_get_ads_insights(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return ads_insights(self, params, steps)


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = FacebookClient
