"""Instagram Graph API client (Instagram Login, v25.0): publishing, insights and comments.

Publishing is resumable: the container id is stored in the job's :class:`StepLog` as soon as it exists,
and the media id right after ``media_publish``, so a retry never publishes twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from config.logging import redact_text
from workers.errors import (
    AgentError,
    AuthError,
    CredentialsUnavailable,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers.base import (
    DEFAULT_RETRY_AFTER,
    ProviderClient,
    RateLimit,
    StepLog,
    expect_shape,
    require,
)

#: Graph error codes that mean "throttled" (plus the 80000-series business use case codes).
THROTTLE_CODES = frozenset({4, 17, 32, 613})
#: Graph error codes that mean the token is invalid, expired, missing or lacks permission.
AUTH_CODES = frozenset({102, 190, 2500, 10, *range(200, 300)})
#: Graph error codes for a temporary fault at Meta.
TRANSIENT_CODES = frozenset({1, 2})
MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count"
COMMENT_FIELDS = "id,text,username,timestamp,like_count,hidden"


def _json_header(value: str | None) -> Any:
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def usage_entries(headers: httpx.Headers) -> list[dict[str, Any]]:
    """The usage objects of ``X-App-Usage`` and every ``X-Business-Use-Case-Usage`` entry."""
    entries: list[dict[str, Any]] = []
    app = _json_header(headers.get("x-app-usage"))
    if isinstance(app, dict):
        entries.append(app)
    buc = _json_header(headers.get("x-business-use-case-usage"))
    for group in buc.values() if isinstance(buc, dict) else ():
        entries.extend(e for e in (group if isinstance(group, list) else [group]) if isinstance(e, dict))
    return entries


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def metric_values(data: Any) -> dict[str, Any]:
    """``{metric: value}`` from an insights answer (one number, or a list of dated values)."""
    out: dict[str, Any] = {}
    for item in require(data, "data", "instagram", "GET insights"):
        if "total_value" in item:
            out[item["name"]] = item["total_value"].get("value")
            continue
        values = item.get("values") or []
        out[item["name"]] = values[0]["value"] if len(values) == 1 else [
            {"end_time": v.get("end_time"), "value": v.get("value")} for v in values]
    return out


def _carousel_item(item: Any) -> dict[str, Any]:
    """The container parameters of one carousel item."""
    if item.video_url:
        return {"is_carousel_item": "true", "media_type": "VIDEO", "video_url": item.video_url}
    body = {"is_carousel_item": "true", "image_url": item.image_url}
    return body | ({"alt_text": item.alt_text} if item.alt_text else {})


class InstagramClient(ProviderClient):
    """Instagram Graph API with a Bearer user token (never sent in the URL)."""

    provider: ClassVar[str] = "instagram"
    #: Seconds between two container status polls.
    POLL_INTERVAL: ClassVar[float] = 1.0
    #: Longest wait for a container to finish processing before the job is retried.
    POLL_TIMEOUT: ClassVar[float] = 120.0
    #: Items asked for per page.
    PAGE_SIZE: ClassVar[int] = 100


    # -- provider shapes -------------------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        token = self.credentials.get("access_token")
        if not token:
            raise CredentialsUnavailable("instagram credentials have no access_token")
        return {"Authorization": f"Bearer {token}"}

    @property
    def ig_user_id(self) -> str:
        """The professional account the actions act on."""
        if not (user_id := self.credentials.get("ig_user_id")):
            raise CredentialsUnavailable("instagram credentials have no ig_user_id")
        return user_id

    def rate_limit(self, response: httpx.Response) -> RateLimit | None:
        """Usage percentages from Meta's JSON headers; delay from ``estimated_time_to_regain_access``."""
        base = super().rate_limit(response)
        entries = usage_entries(response.headers)
        if not entries:
            return base
        used = [n for e in entries for k in ("call_count", "total_cputime", "total_time")
                if (n := _number(e.get(k))) is not None]
        regain = [n for e in entries if (n := _number(e.get("estimated_time_to_regain_access")))]
        reset = max(regain) * 60 if regain else (base.reset_after if base else None)
        remaining = max(0, 100 - int(max(used))) if used else None
        return RateLimit(limit=100, remaining=remaining, reset_after=reset)

    def _graph_error(self, response: httpx.Response) -> dict[str, Any] | None:
        try:
            body = response.json()
        except ValueError:
            return None
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else None

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        error = self._graph_error(response)
        if error is None:
            return response.text, None
        code, sub = error.get("code"), error.get("error_subcode")
        text = f"{error.get('type', 'GraphError')} (code {code}{f', subcode {sub}' if sub else ''}): " \
               f"{error.get('message', '')}"
        return text, None if code is None else str(code)

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Map by Graph error code first: throttles and auth errors come back as 400 or 403 too."""
        status, error = response.status_code, self._graph_error(response)
        if status < 400 or error is None:
            return super().error_for(response)
        text, code_text = self.error_text(response)
        message, code = f"instagram answered {status}: {redact_text(text)[:300]}", error.get("code")
        kw: dict[str, Any] = {"status": status, "provider_code": code_text}
        if code in THROTTLE_CODES or (isinstance(code, int) and 80000 <= code < 81000):
            rl = self.rate_limit(response)
            delay = rl.reset_after if rl and rl.reset_after is not None else DEFAULT_RETRY_AFTER
            return RateLimited(message, retry_after=delay, **kw)
        if code in AUTH_CODES or status == 401:
            return AuthError(message, **kw)
        if code in TRANSIENT_CODES or error.get("is_transient") or status >= 500:
            return ProviderUnavailable(message, **kw)
        return ProviderRejected(message, **kw)

    def test_connection(self) -> dict[str, Any]:
        me = self.json("GET", "/me", params={"fields": "id,username"})
        return {"id": require(me, "id", self.provider, "GET /me"), "username": me.get("username"),
                "ig_user_id": self.credentials.get("ig_user_id")}

    # -- helpers --------------------------------------------------------------------------------------
    def _pages(self, path: str, limit: int, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Up to ``limit`` items of a cursor-paginated edge, following ``paging.cursors.after``."""
        items: list[dict[str, Any]] = []
        after: str | None = None
        while len(items) < limit:
            query = {**params, "limit": min(self.PAGE_SIZE, limit - len(items))}
            if after:
                query["after"] = after
            page = self.json("GET", path, params=query)
            with expect_shape(self.provider, f"GET {path}"):
                items.extend(page["data"])
                paging = page.get("paging") or {}
                after = (paging.get("cursors") or {}).get("after")
            if not page["data"] or not after or not paging.get("next"):
                break
        return items[:limit]

    def _create(self, steps: StepLog, key: str, body: dict[str, Any]) -> str:
        """The container stored under ``key``, or a new one (stored before anything else happens)."""
        if container_id := steps.get(key):
            return container_id
        data = self.json("POST", f"/{self.ig_user_id}/media", data=body)
        container_id = str(require(data, "id", self.provider, "POST /{ig}/media"))
        steps.put(key, container_id)
        return container_id

    def _wait(self, container_id: str) -> str:
        """Poll a container until it is FINISHED (or PUBLISHED/EXPIRED); ERROR is permanent."""
        deadline = time.monotonic() + self.POLL_TIMEOUT
        while True:
            data = self.json("GET", f"/{container_id}", params={"fields": "status_code,status"})
            code = data.get("status_code") if isinstance(data, dict) else None
            if code in ("FINISHED", "PUBLISHED", "EXPIRED"):
                return code
            if code == "ERROR":
                detail = redact_text(str(data.get("status") or "no detail"))[:200]
                raise ProviderRejected(f"instagram could not process container {container_id}: {detail}")
            if code != "IN_PROGRESS":
                raise MalformedResponse(f"instagram container {container_id} has unknown status {code!r}")
            if time.monotonic() + self.POLL_INTERVAL > deadline:
                raise ProviderUnavailable(f"instagram container {container_id} still IN_PROGRESS after "
                                          f"{self.POLL_TIMEOUT:.0f} s; the retry resumes it")
            time.sleep(self.POLL_INTERVAL)

    def _ready(self, steps: StepLog, key: str, body: dict[str, Any]) -> tuple[str, str]:
        """A processed container: created or resumed; an expired resumed one is replaced once."""
        resumed = steps.get(key) is not None
        container_id = self._create(steps, key, body)
        status = self._wait(container_id)
        if status == "EXPIRED" and resumed:
            steps.put(key, None)
            container_id = self._create(steps, key, body)
            status = self._wait(container_id)
        if status == "EXPIRED":
            raise ProviderRejected(f"instagram container {container_id} expired before publishing")
        return container_id, status

    def _publish(self, steps: StepLog, body: dict[str, Any], caption: str | None) -> dict[str, Any]:
        """Container -> poll -> ``media_publish``, resumable at every step."""
        if media_id := steps.get("media_id"):
            return self._result(media_id, steps.get("container_id"), resumed=True)
        steps.progress("creating media container", 60.0)
        container_id, status = self._ready(steps, "container_id", body)
        steps.progress("publishing", 90.0)
        if status == "PUBLISHED":
            media_id = self._find_published(container_id, caption)
        else:
            data = self.json("POST", f"/{self.ig_user_id}/media_publish", data={"creation_id": container_id})
            media_id = str(require(data, "id", self.provider, "POST /{ig}/media_publish"))
        steps.put("media_id", media_id)
        return self._result(media_id, container_id, resumed=False)

    def _find_published(self, container_id: str, caption: str | None) -> str:
        """The media an earlier attempt published from this container, found by its caption."""
        if caption:
            for media in self._pages(f"/{self.ig_user_id}/media", 25, {"fields": "id,caption"}):
                if media.get("caption") == caption:
                    return str(media["id"])
        raise ProviderRejected(f"instagram container {container_id} was already published but its media id "
                               "is unknown; check the account before publishing again")

    def _result(self, media_id: str, container_id: str | None, *, resumed: bool) -> dict[str, Any]:
        media = self.json("GET", f"/{media_id}", params={"fields": "id,caption,permalink,media_type,timestamp"})
        return {"media_id": media_id, "container_id": container_id, "permalink": media.get("permalink"),
                "media_type": media.get("media_type"), "timestamp": media.get("timestamp"),
                "caption": media.get("caption"), "resumed": resumed}

    # -- publishing -----------------------------------------------------------------------------------
    def action_publish_photo(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = {"image_url": params.image_url, "caption": params.full_caption()}
        if params.alt_text:
            body["alt_text"] = params.alt_text
        return self._publish(steps, body, body["caption"])

    def action_publish_reel(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = {"media_type": "REELS", "video_url": params.video_url, "caption": params.full_caption(),
                "share_to_feed": "true" if params.share_to_feed else "false"}
        if params.cover_url:
            body["cover_url"] = params.cover_url
        if params.thumb_offset is not None:
            body["thumb_offset"] = str(params.thumb_offset)
        return self._publish(steps, body, body["caption"])

    def action_publish_story(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = {"media_type": "STORIES"}
        body |= {"image_url": params.image_url} if params.image_url else {"video_url": params.video_url}
        return self._publish(steps, body, None)

    def action_publish_carousel(self, params: Any, steps: StepLog) -> dict[str, Any]:
        caption = params.full_caption()
        children: list[str] = []
        if not steps.get("container_id") and not steps.get("media_id"):  # else the children are not needed
            total = len(params.children)
            for n, item in enumerate(params.children, start=1):
                steps.progress(f"creating carousel item {n}/{total}", round(50.0 * n / total, 1))
                children.append(self._ready(steps, f"child_{n}.container_id", _carousel_item(item))[0])
        body = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption}
        return self._publish(steps, body, caption)

    # -- insights -------------------------------------------------------------------------------------
    def action_get_media_insights(self, params: Any, steps: StepLog) -> dict[str, Any]:
        data = self.json("GET", f"/{params.media_id}/insights", params={"metric": ",".join(params.metrics)})
        with expect_shape(self.provider, "GET /{media}/insights"):
            return {"media_id": params.media_id, "metrics": metric_values(data)}

    def action_get_account_insights(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query: dict[str, Any] = {"metric": ",".join(params.metrics), "period": params.period,
                                 "metric_type": params.metric_type}
        for name in ("since", "until"):
            if (value := getattr(params, name)) is not None:
                query[name] = int(value.timestamp())
        data = self.json("GET", f"/{self.ig_user_id}/insights", params=query)
        with expect_shape(self.provider, "GET /{ig}/insights"):
            return {"ig_user_id": self.ig_user_id, "period": params.period, "metrics": metric_values(data)}

    def action_list_media(self, params: Any, steps: StepLog) -> dict[str, Any]:
        media = self._pages(f"/{self.ig_user_id}/media", params.limit, {"fields": MEDIA_FIELDS})
        return {"media": media, "count": len(media)}

    # -- comments -------------------------------------------------------------------------------------
    def action_list_comments(self, params: Any, steps: StepLog) -> dict[str, Any]:
        comments = self._pages(f"/{params.media_id}/comments", params.limit, {"fields": COMMENT_FIELDS})
        return {"media_id": params.media_id, "comments": comments, "count": len(comments)}

    def action_reply_to_comment(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if not (reply_id := steps.get("reply_id")):
            data = self.json("POST", f"/{params.comment_id}/replies", data={"message": params.message})
            reply_id = str(require(data, "id", self.provider, "POST /{comment}/replies"))
            steps.put("reply_id", reply_id)
        return {"comment_id": params.comment_id, "reply_id": reply_id}

    def action_hide_comment(self, params: Any, steps: StepLog) -> dict[str, Any]:
        data = self.json("POST", f"/{params.comment_id}", data={"hide": "true" if params.hide else "false"})
        return {"comment_id": params.comment_id, "hidden": params.hide, "success": bool(data.get("success"))}

    def action_delete_comment(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if not steps.get("deleted"):
            self.json("DELETE", f"/{params.comment_id}")
            steps.put("deleted", True)
        return {"comment_id": params.comment_id, "deleted": True}

#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = InstagramClient
