"""Conformance case: Cassie / Zendesk."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.zendesk import SPEC
from simulator.providers._zendesk_data import PERMISSION_GROUP, SECTION_FAQ
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.zendesk import ZendeskClient

CREDS = {"subdomain": "acme", "email": "agent@acme.example"}
TICKET = {"subject": "Printer on fire", "body": "Smoke everywhere", "requester_email": "ada@customer.example",
          "priority": "high", "tags": ["printer"]}


def run(client: Any, action: str, **params: Any) -> Any:
    """Run one Zendesk action with fresh steps."""
    return client.run(action, SPEC.action(action).params(**params), MemorySteps())


def _ticket(client: Any) -> int:
    return int(run(client, "create_ticket", **TICKET)["id"])


def _macro(client: Any) -> int:
    macros = run(client, "list_macros", category="Triage")["macros"]
    return int(next(m["id"] for m in macros if m["title"] == "Triage::Escalate to tier 2"))


def _count_tickets(client: Any, params: dict[str, Any]) -> int:
    found = run(client, "search_tickets", query=params["subject"], limit=1000)["tickets"]
    return sum(1 for t in found if t["subject"] == params["subject"])


def _check_articles(result: dict[str, Any]) -> None:
    assert result["articles"]
    assert all("password" in (a["title"] + a["body"]).lower() for a in result["articles"])


def _check_ratings(result: dict[str, Any]) -> None:
    assert result["count"] > 0 and {r["score"] for r in result["ratings"]} <= {"good", "bad"}
    assert result["csat_pct"] is not None


CASE = ProviderCase(
    spec=SPEC, client=ZendeskClient,
    good={**CREDS, "api_token": "0123456789abcdefGoodToken"},
    bad={**CREDS, "api_token": "bad3456789abcdefBadToken"},
    actions={
        "create_ticket": TICKET,
        "update_ticket": lambda c: {"ticket_id": _ticket(c), "status": "open", "priority": "urgent"},
        "reply_to_ticket": lambda c: {"ticket_id": _ticket(c), "body": "We are on it.", "status": "pending"},
        "add_internal_note": lambda c: {"ticket_id": _ticket(c), "body": "Customer is a VIP."},
        "search_tickets": {"query": "status:open", "limit": 5},
        "search_articles": {"query": "password"},
        "create_article": {"section_id": SECTION_FAQ, "title": "Printer safety", "body": "<p>Unplug it.</p>",
                           "permission_group_id": PERMISSION_GROUP},
        "list_macros": {},
        "apply_macro": lambda c: {"ticket_id": _ticket(c), "macro_id": _macro(c)},
        "get_satisfaction_ratings": {"score": "received"},
    },
    probe=("search_tickets", {"query": "status:open", "limit": 5}),
    create=("create_ticket", {**TICKET, "subject": "Crash test ticket"}),
    count_created=_count_tickets,
    checks={"search_articles": _check_articles, "get_satisfaction_ratings": _check_ratings},
    retry_after=2.0,
)
