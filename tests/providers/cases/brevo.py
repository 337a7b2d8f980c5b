"""Conformance case: Emmie / Brevo."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.brevo import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.brevo import BrevoClient

SENDER = {"email": "news@acme.example", "name": "Acme"}
CAMPAIGN = {"name": "Spring sale", "subject": "Spring is here", "sender": SENDER,
            "html_content": "<p>Spring</p>", "list_ids": [2]}


def _campaign(client: Any) -> int:
    params = SPEC.action("create_email_campaign").params(**CAMPAIGN)
    return int(client.run("create_email_campaign", params, MemorySteps())["id"])


def _contact(client: Any) -> str:
    params = SPEC.action("create_contact").params(email="grace@example.com")
    return str(client.run("create_contact", params, MemorySteps())["email"])


def _count_campaigns(client: Any, params: dict[str, Any]) -> int:
    listed = client.json("GET", "/emailCampaigns", params={"limit": 100})
    return sum(1 for c in listed["campaigns"] if c["name"].startswith(params["name"] + " [sintra-"))


def _check_sent(result: dict[str, Any]) -> None:
    assert result["changed"] is True and result["status"] == "sent"


CASE = ProviderCase(
    spec=SPEC, client=BrevoClient,
    good={"api_key": "xkeysib-good0123456789"},
    bad={"api_key": "bad-xkeysib-0123456789"},
    actions={
        "create_email_campaign": CAMPAIGN,
        "send_email_campaign": lambda c: {"campaign_id": _campaign(c)},
        "send_transactional_email": {"to": [{"email": "ada@example.com", "name": "Ada"}], "sender": SENDER,
                                     "subject": "Your receipt", "html_content": "<p>Thanks</p>",
                                     "tags": ["receipts"]},
        "create_sms_campaign": {"name": "Flash sale", "sender": "Acme", "content": "Sale today only",
                                "list_ids": [2]},
        "track_event": {"event_name": "order_created", "email": "ada@example.com",
                        "event_properties": {"total": 42}},
        "create_contact": {"email": "new@example.com", "attributes": {"FIRSTNAME": "New"}, "list_ids": [7]},
        "update_contact": lambda c: {"identifier": _contact(c), "attributes": {"LASTNAME": "Hopper"},
                                     "list_ids": [7]},
        "list_contacts": {"limit": 5},
    },
    probe=("list_contacts", {"limit": 5}),
    create=("create_email_campaign", {**CAMPAIGN, "name": "Crash test"}),
    count_created=_count_campaigns,
    checks={"send_email_campaign": _check_sent},
    retry_after=2.0,
)
