"""Conformance case: Cassie / Freshdesk."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.freshdesk import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.freshdesk import FreshdeskClient

#: The FAQ folder every simulated helpdesk starts with.
FOLDER = 43000010001
TICKET = {"subject": "Printer on fire", "description": "<p>Help</p>", "email": "ada@example.com"}


def _ticket(client: Any) -> int:
    params = SPEC.action("create_ticket").params(**TICKET)
    return int(client.run("create_ticket", params, MemorySteps())["id"])


def _count_tickets(client: Any, params: dict[str, Any]) -> int:
    listed = client.run("list_tickets", SPEC.action("list_tickets").params(limit=1000), MemorySteps())
    return sum(1 for t in listed["tickets"] if t["subject"] == params["subject"])


def _overdue_found(result: dict[str, Any]) -> None:
    assert result["count"] >= 2 and all(t["overdue_seconds"] > 0 for t in result["tickets"])


def _policies_have_targets(result: dict[str, Any]) -> None:
    assert result["sla_policies"][0]["targets"]["urgent"]["respond_within"] == 3600


CASE = ProviderCase(
    spec=SPEC, client=FreshdeskClient,
    good={"domain": "acme", "api_key": "goodFreshdeskKey01"},
    bad={"domain": "acme", "api_key": "badFreshdeskKey01"},
    actions={
        "create_ticket": {**TICKET, "channel": "email", "priority": 3, "tags": ["vip"]},
        "update_ticket": lambda c: {"ticket_id": _ticket(c), "status": 3, "priority": 4},
        "reply_to_ticket": lambda c: {"ticket_id": _ticket(c), "body": "<p>On it.</p>"},
        "list_tickets": {"limit": 5},
        "list_sla_policies": {},
        "search_overdue_tickets": {},
        "list_solution_articles": {"folder_id": FOLDER},
        "create_solution_article": {"folder_id": FOLDER, "title": "How to restart",
                                    "description": "<p>x</p>"},
        "list_contacts": {"email": "ada@example.com"},
        "create_contact": {"name": "Grace", "email": "grace@example.com"},
    },
    probe=("list_tickets", {"limit": 5}),
    create=("create_ticket", {**TICKET, "subject": "Crash test"}),
    count_created=_count_tickets,
    checks={"search_overdue_tickets": _overdue_found, "list_sla_policies": _policies_have_targets},
    retry_after=3.0,
)
