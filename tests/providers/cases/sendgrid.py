"""Conformance case: Emmie / SendGrid."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.sendgrid import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.sendgrid import SendGridClient

SENDER = {"email": "hello@acme.example", "name": "Acme"}
MAIL = {"to": [{"email": "ada@example.com", "name": "Ada"}], "sender": SENDER, "subject": "Your receipt",
        "text": "Thanks!", "html": "<p>Thanks!</p>", "categories": ["receipts"]}
SINGLE_SEND = {"name": "Spring launch", "sender_id": 1, "subject": "Spring is here",
               "html_content": "<p>Spring</p>", "list_ids": ["7a1b2c3d-0000-4000-8000-000000000001"]}


def _single_send(client: Any) -> str:
    params = SPEC.action("create_single_send").params(**SINGLE_SEND)
    return str(client.run("create_single_send", params, MemorySteps())["id"])


def _count_sent(client: Any, params: dict[str, Any]) -> int:
    found = client.json("GET", "/v3/messages", params={"query": f"subject=\"{params['subject']}\"",
                                                       "limit": 100})
    return len(found["messages"])


def _check_mail(result: dict[str, Any]) -> None:
    assert result["message_id"] and result["accepted"] is True


CASE = ProviderCase(
    spec=SPEC, client=SendGridClient,
    good={"api_key": "SG.good-key.0123456789", "region": "global"},
    bad={"api_key": "bad-key.0123456789", "region": "global"},
    actions={
        "send_mail": MAIL,
        "create_single_send": SINGLE_SEND,
        "schedule_single_send": lambda c: {"single_send_id": _single_send(c),
                                           "send_at": "2031-01-01T09:00:00Z"},
        "list_templates": {"limit": 5},
        "create_template": {"name": "Welcome", "subject": "Hi {{name}}",
                            "html_content": "<p>Hi {{name}}</p>"},
        "get_stats": {"start_date": "2026-01-01", "end_date": "2026-01-07", "categories": ["receipts"]},
    },
    probe=("list_templates", {"limit": 5}),
    create=("send_mail", {**MAIL, "subject": "Crash test"}),
    count_created=_count_sent,
    checks={"send_mail": _check_mail},
    retry_after=3.0,
)
