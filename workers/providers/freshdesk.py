"""Freshdesk API v2 client: tickets from every channel, SLA policies and overdue tickets, the knowledge base
(solution articles) and customer-portal contacts.

Freshdesk has no idempotency keys. A ticket we create carries a tag derived from the job's marker, so a
retry after a crash finds it among the requester's tickets updated since the job recorded its intent;
contacts are found again by e-mail or phone, articles by title in their folder and replies by their text
among the ticket's conversations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from workers.errors import (
    AgentError,
    IntegrationUnavailable,
    MalformedResponse,
    ProviderRejected,
)
from workers.providers._freshdesk_shapes import (
    ARTICLE_STATUS,
    SEARCH_MAX_PAGES,
    SEARCH_PAGE,
    SOURCES,
    article,
    contact,
    helpdesk_domain,
    iso,
    job_tag,
    next_page,
    sla_policy,
    text_of,
    ticket,
)
from workers.providers._parse import aware_time
from workers.providers.base import ProviderClient, StepLog, expect_shape, intent_since, require



class FreshdeskClient(ProviderClient):
    """Freshdesk API v2 over Basic auth (the API key as user name, ``X`` as password)."""

    provider: ClassVar[str] = "freshdesk"
    #: Largest ``per_page`` Freshdesk accepts.
    PAGE_SIZE: ClassVar[int] = 100

    @classmethod
    def fill_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """``template`` with ``{domain}`` filled from the helpdesk subdomain (a host name is accepted)."""
        return template.replace("{domain}", helpdesk_domain(credentials.get("domain", "")))

    # -- provider shapes -------------------------------------------------------------------------------

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """The base mapping, plus plan-gated features (403 ``require_feature``) and redirects."""
        if 300 <= response.status_code < 400:
            return ProviderRejected(f"freshdesk redirected the request ({response.status_code}); check that "
                                    "the helpdesk domain is the <name>.freshdesk.com one",
                                    status=response.status_code)
        error = super().error_for(response)
        if error is not None and error.status == 403 and error.provider_code == "require_feature":
            return IntegrationUnavailable(error.message, status=403, provider_code="require_feature")
        return error

    def test_connection(self) -> dict[str, Any]:
        """Kept: the agent behind the key, with its helpdesk domain."""
        me = self.send_test_call()
        with expect_shape(self.provider, "GET /agents/me"):
            person = me.get("contact") or {}
            return {"agent_id": me["id"], "name": person.get("name"), "email": person.get("email"),
                    "agent_type": me.get("type"), "domain": self.credentials.get("domain")}

    # -- paging ----------------------------------------------------------------------------------------
    def _page(self, path: str, params: Mapping[str, Any]) -> tuple[Any, httpx.Response]:
        response = self.request("GET", path, params=dict(params))
        try:
            return response.json(), response
        except ValueError:
            raise self._malformed(path) from None

    def _malformed(self, path: str) -> MalformedResponse:
        return MalformedResponse(f"{self.provider} sent a body that is not the expected JSON on GET {path}")

    def _pages(self, path: str, params: Mapping[str, Any], limit: int,
               keep: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` items of a page/per_page list, following the ``Link: rel="next"`` header."""
        items: list[dict[str, Any]] = []
        page, size = 1, self.PAGE_SIZE if keep else min(self.PAGE_SIZE, limit)
        while len(items) < limit:
            batch, response = self._page(path, {**params, "page": page, "per_page": size})
            if not isinstance(batch, list):
                raise self._malformed(path)
            items.extend(b for b in batch if keep is None or keep(b))
            following = next_page(response.headers.get("link"))
            if following is None or following <= page or not batch:
                break
            page = following
        return items[:limit]

    def _search(self, query: str, want: Callable[[list[dict[str, Any]]], bool]
                ) -> tuple[list[dict[str, Any]], int]:
        """Search results page by page (30 each, 10 pages at most) until ``want`` is satisfied."""
        results: list[dict[str, Any]] = []
        total = 0
        for page in range(1, SEARCH_MAX_PAGES + 1):
            body, _ = self._page("/search/tickets", {"query": f'"{query}"', "page": page})
            with expect_shape(self.provider, "GET /search/tickets"):
                batch, total = list(body["results"]), int(body["total"])
            results.extend(batch)
            if len(batch) < SEARCH_PAGE or len(results) >= total or want(results):
                break
        return results, total

    # -- tickets ---------------------------------------------------------------------------------------
    def _ticket(self, ticket_id: int) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /tickets/{id}"):
            return ticket(self.json("GET", f"/tickets/{ticket_id}"))

    def _find_ticket(self, params: Any, tag: str, since: datetime) -> dict[str, Any] | None:
        """The requester's ticket that carries ``tag``, if an earlier attempt created it: every ticket of
        theirs updated since the job recorded its intent (a ticket created after it cannot be older)."""
        query: dict[str, Any] = ({"email": params.email} if params.email
                                 else {"requester_id": params.requester_id})
        query |= {"updated_since": iso(since), "order_by": "created_at",
                  "order_type": "desc"}
        try:
            found = self._pages("/tickets", query, 300, keep=lambda t: tag in (t.get("tags") or []))
        except ProviderRejected:
            return None  # e.g. no contact with that e-mail yet: then there is no ticket either
        return found[0] if found else None

    def action_create_ticket(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if ticket_id := steps.get("ticket_id"):
            return self._ticket(ticket_id)
        tag = job_tag(steps.marker, "ticket")
        if steps.intent("ticket") and (found := self._find_ticket(params, tag, intent_since(steps, "ticket"))):
            steps.put("ticket_id", found["id"])  # created by an attempt that died before recording it
            return ticket(found)
        body: dict[str, Any] = {"subject": params.subject, "description": params.description,
                                "priority": params.priority, "status": params.status,
                                "source": SOURCES[params.channel], "tags": [*params.tags, tag]}
        for name in ("email", "requester_id", "type", "group_id", "responder_id"):
            if getattr(params, name) is not None:
                body[name] = getattr(params, name)
        if params.custom_fields:
            body["custom_fields"] = params.custom_fields
        created = self.json("POST", "/tickets", json=body)
        steps.put("ticket_id", require(created, "id", self.provider, "POST /tickets"))
        with expect_shape(self.provider, "POST /tickets"):
            return ticket(created)

    def action_update_ticket(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = params.model_dump(exclude={"ticket_id"}, exclude_none=True)
        updated = self.json("PUT", f"/tickets/{params.ticket_id}", json=body)
        with expect_shape(self.provider, "PUT /tickets/{id}"):
            return {**ticket(updated), "changed": sorted(body)}

    def _find_reply(self, ticket_id: int, body: str) -> int | None:
        wanted = text_of(body)
        for c in reversed(self._pages(f"/tickets/{ticket_id}/conversations", {}, 1000)):
            if not c.get("private") and not c.get("incoming") and text_of(c.get("body") or "") == wanted:
                return int(c["id"])
        return None

    def action_reply_to_ticket(self, params: Any, steps: StepLog) -> dict[str, Any]:
        out = {"ticket_id": params.ticket_id}
        if reply_id := steps.get("reply_id"):
            return {**out, "reply_id": reply_id, "changed": False}
        if steps.intent("reply") and (found := self._find_reply(params.ticket_id, params.body)):
            steps.put("reply_id", found)
            return {**out, "reply_id": found, "changed": False}
        body: dict[str, Any] = {"body": params.body}
        if params.cc_emails:
            body["cc_emails"] = params.cc_emails
        created = self.json("POST", f"/tickets/{params.ticket_id}/reply", json=body)
        reply_id = require(created, "id", self.provider, "POST /tickets/{id}/reply")
        steps.put("reply_id", reply_id)
        return {**out, "reply_id": reply_id, "changed": True, "created_at": created.get("created_at")}

    def action_list_tickets(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query: dict[str, Any] = {"order_by": "created_at", "order_type": "desc"}
        if params.filter:
            query["filter"] = params.filter
        if params.updated_since:
            query["updated_since"] = iso(params.updated_since)
        source = SOURCES.get(params.channel) if params.channel else None
        keep = (lambda t: t.get("source") == source) if source else None
        items = self._pages("/tickets", query, params.limit, keep)
        with expect_shape(self.provider, "GET /tickets"):
            return {"tickets": [ticket(t) for t in items], "count": len(items)}

    # -- SLA -------------------------------------------------------------------------------------------
    def action_list_sla_policies(self, params: Any, steps: StepLog) -> dict[str, Any]:
        items = self._pages("/sla_policies", {}, params.limit)
        with expect_shape(self.provider, "GET /sla_policies"):
            return {"sla_policies": [sla_policy(p) for p in items]}

    def action_search_overdue_tickets(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """Search by date (Freshdesk compares whole days), then keep what is past due at ``as_of``."""
        as_of = (params.as_of or datetime.now(UTC)).astimezone(UTC)
        field = "due_by" if params.due == "resolution" else "fr_due_by"
        query = f"(status:2 OR status:3) AND {field}:<'{as_of.date().isoformat()}'"

        def overdue(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [t for t in items if (due := aware_time(t.get(field))) is not None and due < as_of]

        results, total = self._search(query, lambda items: len(overdue(items)) >= params.limit)
        with expect_shape(self.provider, "GET /search/tickets"):
            late = sorted(overdue(results), key=lambda t: t[field])[: params.limit]
            tickets = [{**ticket(t), "overdue_seconds": int((as_of - due).total_seconds())}
                       for t in late if (due := aware_time(t[field])) is not None]  # all are, by overdue()
        return {"as_of": iso(as_of), "due": field, "tickets": tickets, "count": len(tickets),
                "searched": len(results), "search_total": total}

    # -- knowledge base --------------------------------------------------------------------------------
    def action_list_solution_articles(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if params.folder_id is not None:
            items = self._pages(f"/solutions/folders/{params.folder_id}/articles", {}, params.limit)
        else:
            found = self.json("GET", "/search/solutions", params={"term": params.term})
            if not isinstance(found, list):
                raise self._malformed("/search/solutions")
            items = found[: params.limit]
        with expect_shape(self.provider, "GET solution articles"):
            return {"articles": [article(a) for a in items], "count": len(items)}

    def action_create_solution_article(self, params: Any, steps: StepLog) -> dict[str, Any]:
        path = f"/solutions/folders/{params.folder_id}/articles"
        if article_id := steps.get("article_id"):
            with expect_shape(self.provider, "GET /solutions/articles/{id}"):
                return article(self.json("GET", f"/solutions/articles/{article_id}"))
        if steps.intent("article"):
            since = intent_since(steps, "article")
            same = [a for a in self._pages(path, {}, 1_000_000)
                    if a.get("title") == params.title and (aware_time(a.get("created_at")) or since) >= since]
            if same:
                steps.put("article_id", same[-1]["id"])
                return article(same[-1])
        body: dict[str, Any] = {"title": params.title, "description": params.description,
                                "status": ARTICLE_STATUS[params.status]}
        if params.tags:
            body["tags"] = params.tags
        created = self.json("POST", path, json=body)
        steps.put("article_id", require(created, "id", self.provider, "POST solution article"))
        with expect_shape(self.provider, "POST solution article"):
            return article(created)

    # -- contacts --------------------------------------------------------------------------------------
    def action_list_contacts(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {k: v for k, v in (("email", params.email), ("company_id", params.company_id),
                                   ("state", params.state)) if v is not None}
        if params.updated_since:
            query["_updated_since"] = iso(params.updated_since)
        items = self._pages("/contacts", query, params.limit)
        with expect_shape(self.provider, "GET /contacts"):
            return {"contacts": [contact(c) for c in items], "count": len(items)}

    def _find_contact(self, params: Any) -> dict[str, Any] | None:
        for name in ("email", "mobile", "phone"):
            if value := getattr(params, name):
                found = self._pages("/contacts", {name: value}, 1)
                return found[0] if found else None
        return None

    def action_create_contact(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if contact_id := steps.get("contact_id"):
            with expect_shape(self.provider, "GET /contacts/{id}"):
                return contact(self.json("GET", f"/contacts/{contact_id}"))
        if steps.intent("contact") and (found := self._find_contact(params)):
            steps.put("contact_id", found["id"])
            return contact(found)
        body = params.model_dump(exclude_none=True)
        for empty in ("tags", "custom_fields"):
            if not body.get(empty):
                body.pop(empty, None)
        created = self.json("POST", "/contacts", json=body)
        steps.put("contact_id", require(created, "id", self.provider, "POST /contacts"))
        with expect_shape(self.provider, "POST /contacts"):
            return contact(created)


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = FreshdeskClient
