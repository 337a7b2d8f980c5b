"""What can be known at submission is refused at submission: 422 naming the field, and no job row.

Each case is a schema-valid request a worker used to accept (202) and then fail as ``invalid``: a
cross-field rule, a clock rule ("publish_at at least 10 minutes ahead") or an optional credential field
the action needs but the integration has not configured.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import Stack
from tests.integration.helpers import configure, new_key
from tests.providers.cases import all_cases

GOOD = {c.spec.id: c.good for c in all_cases()}
#: Optional credential fields left out on purpose, so that the actions needing them are refused.
LEFT_OUT = {"facebook": "ad_account_id", "mailchimp": "list_id", "x": "bearer_token"}


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


SEQUENCE = {"list_id": "leads", "from_name": "Acme", "reply_to": "hello@acme.example",
            "emails": [{"subject_line": "Welcome", "html": "<p>Hi</p>"}]}

#: (agent, integration, action, params, the field the 422 must name)
CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("emmie", "mailchimp", "list_segments", {}, "list_id"),
    ("soshie", "facebook", "get_ads_insights", {}, "ad_account_id"),
    ("soshie", "x", "get_trends", {"woeid": 1}, "bearer_token"),
    ("emmie", "brevo", "update_contact", {"identifier": "ada@acme.example"}, "attributes"),
    ("emmie", "brevo", "create_sms_campaign", {"name": "Flash", "sender": "Acme", "content": "Sale", "list_ids": [2],
                                               "scheduled_at": _at(hours=-1)}, "scheduled_at"),
    ("emmie", "sendgrid", "get_stats", {"start_date": "2030-01-02", "end_date": "2030-01-01"}, "end_date"),
    ("emmie", "sendgrid", "send_mail", {"to": [{"email": "ada@acme.example"}], "sender": {"email": "hi@acme.example"},
                                        "subject": "Hi", "text": "Hello", "send_at": _at(days=5)}, "send_at"),
    ("emmie", "sendgrid", "schedule_single_send", {"single_send_id": "ss-1", "send_at": _at(hours=-1)}, "send_at"),
    ("emmie", "mailchimp", "create_email_sequence", {**SEQUENCE, "start_at": _at(days=-1)}, "start_at"),
    ("dexter", "mixpanel", "retention", {"from_date": "2026-09-01", "to_date": "2026-09-07"}, "born_event"),
    ("dexter", "mixpanel", "export_events", {"from_date": "2026-09-07", "to_date": "2026-09-01"}, "to_date"),
    ("dexter", "amplitude", "event_segmentation", {"event_type": "Purchase", "start": "2026-09-01",
                                                   "end": "2026-09-07", "metric": "sums"}, "group_by"),
    ("soshie", "facebook", "schedule_post", {"message": "Soon", "publish_at": _at(minutes=2)}, "publish_at"),
    ("buddy", "salesforce", "upsert_record", {"sobject": "Account", "external_id_field": "Sintra_Id__c",
                                              "external_id": "A-1", "fields": {"Sintra_Id__c": "A-2"}},
     "fields.Sintra_Id__c"),
]


@pytest.fixture(scope="module")
def own_workspace(stack: Stack) -> str:
    """A workspace of this module only (its integrations lack fields on purpose); yields its API key."""
    key = new_key(stack)
    for agent, integration in sorted({(c[0], c[1]) for c in CASES}):
        creds = {k: v for k, v in GOOD[integration].items() if k != LEFT_OUT.get(integration)}
        configure(stack, agent, integration, creds, connect=False, key=key)
    return key


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the check runs before any database write
@pytest.mark.parametrize(("agent", "integration", "action", "params", "field"), CASES,
                         ids=[f"{c[1]}.{c[2]}-{c[4]}" for c in CASES])
def test_refused_at_submission_naming_the_field(stack: Stack, own_workspace: str, agent: str, integration: str,
                                                action: str, params: dict[str, Any], field: str) -> None:
    headers = stack.headers(own_workspace)
    before = stack.api.get("/api/jobs", params={"integration": integration, "limit": 200}, headers=headers).json()
    r = stack.api.post("/api/jobs", json={"agent": agent, "integration": integration, "action": action,
                                          "params": params}, headers=headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert field in [f["field"] for f in error["fields"]] and field in error["message"], error
    after = stack.api.get("/api/jobs", params={"integration": integration, "limit": 200}, headers=headers).json()
    assert after["count"] == before["count"], "a refused job must not be recorded"
