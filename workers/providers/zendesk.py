"""Zendesk Support and Help Center client: tickets, replies and notes, articles, macros, CSAT ratings.

Duplicate protection: ticket creation sends an ``Idempotency-Key`` derived from the job marker (Zendesk
replays the first answer for two hours) and stamps the same reference in ``external_id``, so a retry
after a crash finds the ticket even later. Replies, notes and macros carry the reference in the audit's
custom metadata; a retry reads the ticket's audits before commenting again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx

from workers.errors import (
    AgentError,
    AuthError,
    MalformedResponse,
    ProviderUnavailable,
)
from workers.providers._zendesk_shapes import (
    article_summary,
    csat,
    error_parts,
    job_ref,
    macro_category,
    macro_changes,
    macro_summary,
    rating_summary,
    same_origin,
    ticket_body,
    ticket_summary,
    unix,
    update_body,
)
from workers.providers.base import (
    ProviderClient,
    StepLog,
    expect_shape,
    require,
)

Item = dict[str, Any]


class ZendeskClient(ProviderClient):
    """Zendesk API v2 over Basic auth with ``{email}/token`` and the API token."""

    provider: ClassVar[str] = "zendesk"
    #: Largest page Zendesk serves (cursor ``page[size]`` and offset ``per_page``).
    PAGE_SIZE: ClassVar[int] = 100
    #: Audit pages read when looking for an earlier attempt's comment.
    AUDIT_PAGES: ClassVar[int] = 10
    #: Pages of a section's newest articles read when looking for an earlier attempt's article.
    LOOKUP_PAGES: ClassVar[int] = 3

    # -- provider shapes -------------------------------------------------------------------------------

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """Kept: three error shapes, one with field errors keyed by field name (no path or list says it)."""
        try:
            parsed = error_parts(response.json())
        except ValueError:
            parsed = None
        return parsed or (response.text, None)

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """As the base, but a 409 (another request changed the same record meanwhile) is retried."""
        error = super().error_for(response)
        if error is not None and response.status_code == 409:
            return ProviderUnavailable(f"{error.message} (concurrent change; retrying)", status=409,
                                       provider_code=error.provider_code)
        return error

    def test_connection(self) -> dict[str, Any]:
        """Kept: Zendesk answers bad credentials with an anonymous user and 200, not a 401."""
        user = require(self.send_test_call(), "user", self.provider, "GET /users/me")
        if not isinstance(user, Mapping) or user.get("id") is None or user.get("role") == "end-user":
            # Zendesk answers an unauthenticated /users/me with an anonymous end user, not a 401.
            raise AuthError("zendesk did not accept these credentials (anonymous user); check the email, "
                            "the API token and that token access is enabled")
        return {"user_id": user["id"], "name": user.get("name"), "email": user.get("email"),
                "role": user.get("role"), "locale": user.get("locale"), "time_zone": user.get("time_zone")}

    # -- pagination -------------------------------------------------------------------------------------
    def _next(self, url: Any) -> str | None:
        if not url:
            return None
        if not same_origin(str(url), self.http.base_url):
            raise MalformedResponse("zendesk sent a pagination link to another host")
        return str(url)

    def _cursor(self, path: str, key: str, limit: int, params: Mapping[str, Any] | None = None,
                keep: Callable[[Item], bool] | None = None, max_pages: int | None = None) -> list[Item]:
        """Up to ``limit`` items (those ``keep`` accepts) of a cursor-paginated list (``page[size]``,
        ``links.next``), reading at most ``max_pages`` pages."""
        items: list[Item] = []
        url: str | None = path
        size = self.PAGE_SIZE if keep else min(self.PAGE_SIZE, limit)
        query: dict[str, Any] | None = {**(params or {}), "page[size]": size}
        pages = 0
        while url and len(items) < limit and (max_pages is None or pages < max_pages):
            page, pages = self.json("GET", url, params=query), pages + 1
            with expect_shape(self.provider, f"GET {path}"):
                batch = list(page[key])
                more = bool((page.get("meta") or {}).get("has_more"))
                link = (page.get("links") or {}).get("next")
            items.extend(b for b in batch if keep is None or keep(b))
            url, query = (self._next(link), None) if more and batch else (None, None)
        return items[:limit]

    def _offset(self, path: str, key: str, limit: int, params: Mapping[str, Any]) -> tuple[list[Item], int]:
        """Up to ``limit`` items of an offset-paginated list (``per_page``, ``next_page``) and its count."""
        items: list[Item] = []
        count = 0
        url: str | None = path
        query: dict[str, Any] | None = {**params, "per_page": min(self.PAGE_SIZE, limit)}
        while url and len(items) < limit:
            page = self.json("GET", url, params=query)
            with expect_shape(self.provider, f"GET {path}"):
                batch, count = list(page[key]), int(page.get("count") or 0)
            items.extend(batch)
            url, query = (self._next(page.get("next_page")), None) if batch else (None, None)
        return items[:limit], count

    # -- tickets ----------------------------------------------------------------------------------------
    def _ticket(self, ticket_id: int) -> Item:
        found = self.json("GET", f"/tickets/{ticket_id}")
        return require(found, "ticket", self.provider, "GET /tickets/{id}")

    def _by_external_id(self, external_id: str) -> Item | None:
        found = self._cursor("/tickets", "tickets", self.PAGE_SIZE, {"external_id": external_id})
        return found[0] if found else None

    def action_create_ticket(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if ticket_id := steps.get("ticket_id"):
            return {**ticket_summary(self._ticket(ticket_id)), "created": False}
        ref = job_ref(steps.marker, "ticket")
        if steps.intent("ticket") and (found := self._by_external_id(ref)):
            steps.put("ticket_id", found["id"])  # an earlier attempt created it but died before recording
            return {**ticket_summary(found), "created": False}
        response = self.request("POST", "/tickets", json={"ticket": ticket_body(params, ref)},
                                headers={"Idempotency-Key": ref})
        ticket = require(self._decode(response, "POST /tickets"), "ticket", self.provider, "POST /tickets")
        steps.put("ticket_id", require(ticket, "id", self.provider, "POST /tickets"))
        replayed = response.headers.get("x-idempotency-lookup") == "hit"
        return {**ticket_summary(ticket), "created": not replayed}

    def _decode(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise MalformedResponse(f"zendesk sent a body that is not JSON on {what}",
                                    status=response.status_code) from None

    def action_update_ticket(self, params: Any, steps: StepLog) -> dict[str, Any]:
        data = self.json("PUT", f"/tickets/{params.ticket_id}", json={"ticket": update_body(params)})
        with expect_shape(self.provider, "PUT /tickets/{id}"):
            return ticket_summary(data["ticket"])

    def _update_once(self, steps: StepLog, ticket_id: int, key: str,
                     build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Apply the update ``build()`` describes once per job, stamping the job reference in the audit."""
        if done := steps.get(key):
            return {**ticket_summary(self._ticket(ticket_id)), "audit_id": done["audit_id"], "changed": False}
        ref = job_ref(steps.marker, key)
        if steps.intent(key) and (audit_id := self._find_audit(ticket_id, ref)):
            steps.put(key, {"audit_id": audit_id})  # the earlier attempt's update is there: do not repeat it
            return {**ticket_summary(self._ticket(ticket_id)), "audit_id": audit_id, "changed": False}
        changes = build()
        data = self.json("PUT", f"/tickets/{ticket_id}",
                         json={"ticket": {**changes, "metadata": {"sintra_ref": ref}}})
        with expect_shape(self.provider, "PUT /tickets/{id}"):
            ticket, audit_id = data["ticket"], (data.get("audit") or {}).get("id")
        steps.put(key, {"audit_id": audit_id})
        return {**ticket_summary(ticket), "audit_id": audit_id, "changed": True}

    def _find_audit(self, ticket_id: int, ref: str) -> int | None:
        """The id of the ticket audit whose custom metadata carries ``ref``."""
        audits = self._cursor(f"/tickets/{ticket_id}/audits", "audits", 1, max_pages=self.AUDIT_PAGES,
                              keep=lambda a: ((a.get("metadata") or {}).get("custom") or {}).get("sintra_ref")
                              == ref)
        return audits[0]["id"] if audits else None

    def action_reply_to_ticket(self, params: Any, steps: StepLog) -> dict[str, Any]:
        changes: dict[str, Any] = {"comment": {"body": params.body, "public": True}}
        if params.status:
            changes["status"] = params.status
        return self._update_once(steps, params.ticket_id, "reply", lambda: changes)

    def action_add_internal_note(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._update_once(steps, params.ticket_id, "note",
                                 lambda: {"comment": {"body": params.body, "public": False}})

    def action_search_tickets(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = params.query if "type:ticket" in params.query else f"type:ticket {params.query}"
        search = {"query": query, "sort_order": params.sort_order}
        if params.sort_by:
            search["sort_by"] = params.sort_by
        results, count = self._offset("/search", "results", params.limit, search)
        with expect_shape(self.provider, "GET /search"):
            return {"tickets": [ticket_summary(t) for t in results], "count": count}

    # -- help center ------------------------------------------------------------------------------------
    def action_search_articles(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query: dict[str, Any] = {"query": params.query, "locale": params.locale or "*"}
        if params.section_id:
            query["section"] = params.section_id
        results, count = self._offset("/help_center/articles/search", "results", params.limit, query)
        with expect_shape(self.provider, "GET /help_center/articles/search"):
            return {"articles": [article_summary(a) for a in results], "count": count}

    def action_create_article(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if article_id := steps.get("article_id"):
            found = self.json("GET", f"/help_center/articles/{article_id}")
            article = require(found, "article", self.provider, "GET /help_center/articles/{id}")
            return {**article_summary(article), "created": False}
        base = f"/help_center/{params.locale}/sections/{params.section_id}/articles"
        if steps.intent("article") and (found := self._find_article(base, params.title)):
            steps.put("article_id", found["id"])  # created by an earlier attempt that died before recording
            return {**article_summary(found), "created": False}
        article = {"title": params.title, "body": params.body, "locale": params.locale, "draft": params.draft,
                   "permission_group_id": params.permission_group_id,
                   "user_segment_id": params.user_segment_id, "label_names": params.label_names}
        created = require(self.json("POST", base, json={"article": article, "notify_subscribers": False}),
                          "article", self.provider, f"POST {base}")
        steps.put("article_id", require(created, "id", self.provider, f"POST {base}"))
        return {**article_summary(created), "created": True}

    def _find_article(self, base: str, title: str) -> Item | None:
        """The newest article of the section with exactly this title (articles have no external id)."""
        newest = self._cursor(base, "articles", 1, {"sort_by": "created_at", "sort_order": "desc"},
                              keep=lambda a: a.get("title") == title, max_pages=self.LOOKUP_PAGES)
        return newest[0] if newest else None

    # -- macros and satisfaction --------------------------------------------------------------------------
    def action_list_macros(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"active": "true"} if params.active_only else {}
        wanted = params.category.strip().lower() if params.category else None
        keep = None if wanted is None else (
            lambda m: (macro_category(str(m.get("title") or "")) or "").lower() == wanted)
        macros = self._cursor("/macros", "macros", params.limit, query, keep=keep)
        with expect_shape(self.provider, "GET /macros"):
            return {"macros": [macro_summary(m) for m in macros]}

    def action_apply_macro(self, params: Any, steps: StepLog) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            preview = self.json("GET", f"/tickets/{params.ticket_id}/macros/{params.macro_id}/apply")
            return macro_changes(require(preview, "result", self.provider, "GET .../macros/{id}/apply"))

        result = self._update_once(steps, params.ticket_id, f"macro:{params.macro_id}", build)
        return {**result, "macro_id": params.macro_id}

    def action_get_satisfaction_ratings(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {k: v for k, v in (("score", params.score), ("start_time", unix(params.start_time)),
                                   ("end_time", unix(params.end_time))) if v is not None}
        ratings = self._cursor("/satisfaction_ratings", "satisfaction_ratings", params.limit, query)
        with expect_shape(self.provider, "GET /satisfaction_ratings"):
            summaries = [rating_summary(r) for r in ratings]
        return {"ratings": summaries, "count": len(summaries), **csat(summaries)}


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = ZendeskClient
