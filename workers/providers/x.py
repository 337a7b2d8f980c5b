"""X API v2 client (OAuth 2.0 user context): posts, resumable threads, metrics, recent search and trends.

X has no idempotency key, so every post is crash-safe the long way: the job records an intent before it
posts, stores the returned id right after, and a retry that finds an intent without an id looks the post
up on the user's own timeline (same text, same reply target) before posting again. A thread stores each
post's id as it goes, so a retry continues the chain from the last recorded post.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from config.logging import redact_text
from workers.credentials.base import Credentials
from workers.errors import (
    AgentError,
    AuthError,
    CredentialsUnavailable,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
)
from workers.providers._x_shapes import (
    json_dict,
    post_view,
    problem_summary,
    replied_to,
    shown_text,
    x_time,
)
from workers.providers.base import ProviderClient, StepLog, expect_shape, require
from workers.providers.oauth import OAuth2Client

#: Problem types that mean the app or token is not allowed here (reconnect or fix the app), not a bad request.
AUTH_PROBLEMS = ("client-forbidden", "unsupported-authentication", "oauth1-permissions")
TWEET_FIELDS = "created_at,author_id,public_metrics,lang,conversation_id"
USER_FIELDS = "created_at,description,public_metrics,verified"
#: Fields the timeline read-back needs to recognise a post this job made.
MATCH_FIELDS = "created_at,referenced_tweets,entities,note_tweet"
#: Names tests and callers import from here (they live in the shapes helper).
__all__ = ["CLIENT", "XClient", "replied_to", "shown_text"]


class XClient(OAuth2Client):
    """X API v2 with an OAuth 2.0 user token (refresh tokens rotate) and an optional app-only token."""

    provider: ClassVar[str] = "x"
    #: Own recent posts read back when a retry must find a post an earlier attempt may have made.
    LOOKBACK: ClassVar[int] = 20
    #: Most items asked for per page (X's maximum).
    PAGE_SIZE: ClassVar[int] = 100

    _me: dict[str, Any] | None = None

    # -- OAuth 2.0 token refresh ------------------------------------------------------------------
    @property
    def token_auth(self) -> str:
        """Confidential apps authenticate with HTTP Basic; public (PKCE) apps send only client_id."""
        return "basic" if self.credentials.get("client_secret") else "body"

    def refresh_form(self, creds: Credentials) -> dict[str, str]:
        form = {"grant_type": "refresh_token", "refresh_token": creds.get("refresh_token", "")}
        if self.token_auth == "body":
            form["client_id"] = creds.get("client_id", "")
        return form

    # -- provider shapes --------------------------------------------------------------------------

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """Kept: the code is the last segment of an RFC 7807 problem type (or the v1.1 code), not a plain path."""
        body = json_dict(response)
        if body is None:
            return response.text, None
        if body.get("error"):  # the OAuth token endpoint
            return f"{body['error']}: {body.get('error_description', '')}", str(body["error"])
        errors = body.get("errors") if isinstance(body.get("errors"), list) else []
        raw = errors[0] if errors and isinstance(errors[0], dict) else {}
        first = problem_summary(raw)
        title = body.get("title") or first["title"] or "Error"
        detail = body.get("detail") or first["detail"] or ""
        kind = str(body.get("type") or "").rsplit("/", 1)[-1] or first["type"]
        if not kind or kind == "about:blank":  # a generic problem: the v1.1-style code or the title
            kind = str(raw.get("code") or title)
        return f"{title}: {detail}", kind

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Problem types decide 403s; a 2xx that carries only ``errors[]`` is a failed request."""
        status = response.status_code
        if status < 300:
            body = json_dict(response)
            if body is None or "data" in body or "meta" in body or not body.get("errors"):
                return None
        elif status != 403:
            return super().error_for(response)
        text, code = self.error_text(response)
        message = f"x answered {status}: {redact_text(' '.join(text.split()))[:300]}"
        if code in AUTH_PROBLEMS:
            return AuthError(message, status=status, provider_code=code)
        return ProviderRejected(message, status=status, provider_code=code)

    def test_connection(self) -> dict[str, Any]:
        """Kept: the user behind the token (read once per client with user fields the actions reuse)."""
        me = self.me()
        return {"id": me["id"], "username": me.get("username"), "name": me.get("name")}

    # -- helpers ----------------------------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        """The authenticated user (GET /2/users/me), read once per client."""
        if self._me is None:
            data = self.json("GET", "/2/users/me", params={"user.fields": USER_FIELDS})
            self._me = dict(require(data, "data", self.provider, "GET /2/users/me"))
            require(self._me, "id", self.provider, "GET /2/users/me")
        return self._me

    def _pages(self, path: str, limit: int, params: Mapping[str, Any], *, cursor: str,
               floor: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Up to ``limit`` items of a token-paged list, and the usernames of ``includes.users``."""
        items: list[dict[str, Any]] = []
        users: dict[str, str] = {}
        token: str | None = None
        while len(items) < limit:
            query = {**params, "max_results": max(floor, min(self.PAGE_SIZE, limit - len(items)))}
            if token:
                query[cursor] = token
            page = self.json("GET", path, params=query)
            meta = require(page, "meta", self.provider, f"GET {path}")
            with expect_shape(self.provider, f"GET {path}"):
                items.extend(page.get("data") or [])
                users |= {str(u["id"]): u.get("username") for u in (page.get("includes") or {}).get("users", [])}
                token = meta.get("next_token")
            if not token:
                break
        return items[:limit], users

    def recent_posts(self, limit: int = 20) -> list[dict[str, Any]]:
        """The authenticated user's newest posts, replies included."""
        posts, _ = self._pages(f"/2/users/{self.me()['id']}/tweets", limit, {"tweet.fields": MATCH_FIELDS},
                               cursor="pagination_token", floor=5)
        return posts

    def _find_posted(self, body: Mapping[str, Any]) -> str | None:
        """The id of a recent own post with this text and reply target (made by an earlier attempt)."""
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        for post in self.recent_posts(self.LOOKBACK):
            if shown_text(post) == str(body["text"]).strip() and replied_to(post) == reply_to:
                return str(post["id"])
        return None

    def _post(self, steps: StepLog, key: str, body: dict[str, Any]) -> tuple[str, bool]:
        """Create one post once: resumed from the step log, found again after a crash, or created."""
        if done := steps.get(f"{key}.id"):
            return str(done), True
        seen = steps.intent(key)
        if seen and (found := self._find_posted(body)):
            steps.put(f"{key}.id", found)
            return found, True
        try:
            created = self.json("POST", "/2/tweets", json=body)
        except ProviderRejected as exc:
            if seen and "duplicate content" in exc.message:  # ours, not on the timeline yet: look again later
                raise ProviderUnavailable("x already has this post from an earlier attempt but does not list "
                                          "it yet; the retry picks it up") from None
            raise
        with expect_shape(self.provider, "POST /2/tweets"):
            post_id = str(created["data"]["id"])
        steps.put(f"{key}.id", post_id)
        return post_id, False

    def _app_json(self, path: str, params: Mapping[str, Any]) -> Any:
        """A GET with the app-only Bearer token (no user-token refresh: it is a different credential)."""
        token = self.credentials.get("bearer_token")
        if not token:
            raise CredentialsUnavailable("x: this action needs the app-only bearer_token credential")
        response = ProviderClient.request(self, "GET", path, params=params,
                                          headers={"Authorization": f"Bearer {token}"})
        try:
            return response.json()
        except ValueError:
            raise MalformedResponse(f"x sent a body that is not JSON on GET {path}",
                                    status=response.status_code) from None

    # -- posting ----------------------------------------------------------------------------------
    def action_publish_post(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body: dict[str, Any] = {"text": params.text}
        if params.media_ids:
            body["media"] = {"media_ids": params.media_ids}
        if params.reply_to_post_id:
            body["reply"] = {"in_reply_to_tweet_id": params.reply_to_post_id}
        if params.quote_post_id:
            body["quote_tweet_id"] = params.quote_post_id
        if params.reply_settings:
            body["reply_settings"] = params.reply_settings
        post_id, resumed = self._post(steps, "post", body)
        return {"post_id": post_id, "url": f"https://x.com/i/web/status/{post_id}", "resumed": resumed}

    def action_publish_thread(self, params: Any, steps: StepLog) -> dict[str, Any]:
        ids: list[str] = []
        resumed = 0
        total = len(params.texts)
        for n, text in enumerate(params.texts, start=1):
            body: dict[str, Any] = {"text": text}
            if n == 1 and params.media_ids:
                body["media"] = {"media_ids": params.media_ids}
            if ids:
                body["reply"] = {"in_reply_to_tweet_id": ids[-1]}
            steps.progress(f"posting {n}/{total}", round(100.0 * (n - 1) / total, 1))
            post_id, again = self._post(steps, f"post_{n}", body)
            ids.append(post_id)
            resumed += again
        steps.progress("thread posted", 100.0)
        return {"thread_id": ids[0], "post_ids": ids, "url": f"https://x.com/i/web/status/{ids[0]}",
                "resumed_posts": resumed}

    # -- analytics and search ---------------------------------------------------------------------
    def action_get_user_metrics(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if params.user_id:
            data = self.json("GET", f"/2/users/{params.user_id}", params={"user.fields": USER_FIELDS})
            user = require(data, "data", self.provider, "GET /2/users/{id}")
        else:
            user = self.me()
        with expect_shape(self.provider, "GET /2/users"):
            return {"id": user["id"], "username": user.get("username"), "name": user.get("name"),
                    "verified": user.get("verified"), "created_at": user.get("created_at"),
                    "public_metrics": dict(user["public_metrics"])}

    def action_get_post_metrics(self, params: Any, steps: StepLog) -> dict[str, Any]:
        fields = "public_metrics,created_at,author_id"
        if params.include_private:
            fields += ",non_public_metrics,organic_metrics"
        data = self.json("GET", "/2/tweets", params={"ids": ",".join(params.post_ids), "tweet.fields": fields})
        with expect_shape(self.provider, "GET /2/tweets"):
            posts = [post_view(p) for p in data.get("data") or []]
            errors = [problem_summary(e) for e in data.get("errors") or []]
        found = {p["id"] for p in posts}
        return {"posts": posts, "missing": [i for i in params.post_ids if i not in found], "errors": errors}

    def action_search_recent(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query: dict[str, Any] = {"query": params.query, "tweet.fields": TWEET_FIELDS,
                                 "expansions": "author_id", "user.fields": "username"}
        for name in ("start_time", "end_time"):
            if (value := getattr(params, name)) is not None:
                query[name] = x_time(value)
        posts, users = self._pages("/2/tweets/search/recent", params.limit, query, cursor="next_token", floor=10)
        with expect_shape(self.provider, "GET /2/tweets/search/recent"):
            return {"query": params.query, "posts": [post_view(p, users) for p in posts],
                    "result_count": len(posts)}

    def action_get_trends(self, params: Any, steps: StepLog) -> dict[str, Any]:
        data = self._app_json(f"/2/trends/by/woeid/{params.woeid}", {"max_trends": params.max_trends})
        with expect_shape(self.provider, "GET /2/trends/by/woeid/{woeid}"):
            trends = [{"name": t["trend_name"], "post_count": t.get("tweet_count")}
                      for t in require(data, "data", self.provider, "GET /2/trends/by/woeid/{woeid}")]
        return {"woeid": params.woeid, "trends": trends[: params.max_trends]}

#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = XClient
