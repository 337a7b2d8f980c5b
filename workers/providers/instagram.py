"""Instagram Graph API client (Instagram Login, v25.0): publishing, insights and comments.

Publishing is resumable: the container id is stored in the job's :class:`StepLog` as soon as it exists,
and the media id right after ``media_publish``, so a retry never publishes twice.
"""

from __future__ import annotations

from typing import Any, ClassVar


from config.logging import redact_text
from workers.errors import MalformedResponse, ProviderRejected
from workers.providers._graph import GraphClient
from workers.providers._polling import poll
from workers.providers.base import StepLog, expect_shape, require

MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count"
COMMENT_FIELDS = "id,text,username,timestamp,like_count,hidden"


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


class InstagramClient(GraphClient):
    """Instagram Graph API with a Bearer user token (never sent in the URL)."""

    provider: ClassVar[str] = "instagram"
    #: Instagram treats the whole 80000-series as Business Use Case throttles.
    LAST_BUC_CODE: ClassVar[int] = 80999
    #: Instagram sends only ``X-App-Usage`` (and the Business Use Case header).
    USAGE: ClassVar[tuple[str, ...]] = ("x-app-usage",)
    #: Seconds between two container status polls.
    POLL_INTERVAL: ClassVar[float] = 1.0
    #: Longest wait for a container to finish processing before the job is retried.
    POLL_TIMEOUT: ClassVar[float] = 120.0

    # -- provider shapes -------------------------------------------------------------------------------

    @property
    def ig_user_id(self) -> str:
        """The professional account the actions act on."""
        return self.credential("ig_user_id")

    def test_connection(self) -> dict[str, Any]:
        """Kept: the account's id and username, and the configured ig_user_id."""
        me = self.send_test_call()
        return {"id": require(me, "id", self.provider, "GET /me"), "username": me.get("username"),
                "ig_user_id": self.credentials.get("ig_user_id")}

    # -- helpers --------------------------------------------------------------------------------------
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

        def done(data: Any) -> bool:
            code = data.get("status_code") if isinstance(data, dict) else None
            if code == "ERROR":
                detail = redact_text(str(data.get("status") or "no detail"))[:200]
                raise ProviderRejected(f"instagram could not process container {container_id}: {detail}")
            if code not in ("FINISHED", "PUBLISHED", "EXPIRED", "IN_PROGRESS"):
                raise MalformedResponse(f"instagram container {container_id} has unknown status {code!r}")
            return code != "IN_PROGRESS"

        data = poll(lambda: self.json("GET", f"/{container_id}", params={"fields": "status_code,status"}),
                    done, interval=self.POLL_INTERVAL, timeout=self.POLL_TIMEOUT,
                    what=lambda _: f"instagram container {container_id} still IN_PROGRESS")
        return data["status_code"]

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
            for media in self.pages(f"/{self.ig_user_id}/media", 25, {"fields": "id,caption"}):
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
        media = self.pages(f"/{self.ig_user_id}/media", params.limit, {"fields": MEDIA_FIELDS})
        return {"media": media, "count": len(media)}

    # -- comments -------------------------------------------------------------------------------------
    def action_list_comments(self, params: Any, steps: StepLog) -> dict[str, Any]:
        comments = self.pages(f"/{params.media_id}/comments", params.limit, {"fields": COMMENT_FIELDS})
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
