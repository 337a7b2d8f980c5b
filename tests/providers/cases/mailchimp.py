"""Conformance case: Emmie / Mailchimp."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.mailchimp import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.mailchimp import MailchimpClient

SENDER = {"from_name": "Acme", "reply_to": "hello@acme.example"}
CAMPAIGN = {**SENDER, "subject_line": "Hello", "html": "<p>Hi</p>"}


def _campaign(client: Any) -> str:
    params = SPEC.action("create_campaign").params(**CAMPAIGN)
    return str(client.run("create_campaign", params, MemorySteps())["id"])


def _sent_campaign(client: Any) -> str:
    campaign_id = _campaign(client)
    client.run("send_campaign", SPEC.action("send_campaign").params(campaign_id=campaign_id), MemorySteps())
    return campaign_id


def _automation(client: Any) -> str:
    listed = client.run("list_automations", SPEC.action("list_automations").params(), MemorySteps())
    return str(listed["automations"][0]["id"])


def _count_campaigns(client: Any, params: dict[str, Any]) -> int:
    listed = client.run("list_campaigns", SPEC.action("list_campaigns").params(limit=1000), MemorySteps())
    return sum(1 for c in listed["campaigns"] if c.get("subject_line") == params["subject_line"])


CASE = ProviderCase(
    spec=SPEC, client=MailchimpClient,
    good={"api_key": "goodkey0123456789-us21", "list_id": "leads"},
    bad={"api_key": "badkey0123456789-us21", "list_id": "leads"},
    actions={
        "create_campaign": {**CAMPAIGN, "schedule_time": "2031-01-01T09:00:00Z"},
        "get_campaign": lambda c: {"campaign_id": _campaign(c)},
        "list_campaigns": {"limit": 5},
        "set_campaign_content": lambda c: {"campaign_id": _campaign(c), "html": "<p>New</p>"},
        "schedule_campaign": lambda c: {"campaign_id": _campaign(c), "schedule_time": "2031-01-02T09:15:00Z"},
        "unschedule_campaign": lambda c: {"campaign_id": _campaign(c)},
        "send_campaign": lambda c: {"campaign_id": _campaign(c)},
        "create_email_sequence": {**SENDER, "start_at": "2031-01-06T09:00:00Z",
                                  "emails": [{"subject_line": f"S{i}", "html": "<p>x</p>"} for i in range(3)]},
        "list_automations": {},
        "get_automation": lambda c: {"workflow_id": _automation(c)},
        "start_automation": lambda c: {"workflow_id": _automation(c)},
        "pause_automation": lambda c: {"workflow_id": _automation(c)},
        "list_segments": {},
        "create_segment": {"name": "VIPs", "static_emails": ["a@acme.example"]},
        "upsert_member": {"email": "new@acme.example"},
        "create_ab_test": {**SENDER, "subject_lines": ["A", "B"], "html": "<p>x</p>"},
        "get_campaign_report": lambda c: {"campaign_id": _sent_campaign(c)},
        "list_reports": {},
    },
    probe=("list_campaigns", {"limit": 5}),
    create=("create_campaign", {**CAMPAIGN, "subject_line": "Crash test"}),
    count_created=_count_campaigns,
)
