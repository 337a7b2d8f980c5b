"""Conformance case: Cassie / Intercom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from config.catalog.integrations.intercom import SPEC
from simulator.providers._intercom_data import TEAMMATE, WORKFLOW_ID
from tests.providers.cases import ProviderCase
from workers.providers._intercom_shapes import parts, plain
from workers.providers.base import MemorySteps
from workers.providers.intercom import IntercomClient

IntercomClient.POLL_INTERVAL = 0.02
CREDS = {"region": "us", "admin_id": "991267"}
OPEN = {"filters": [{"field": "state", "operator": "=", "value": "open"}]}
USERS = {"filters": [{"field": "role", "operator": "=", "value": "user"}], "limit": 5}


def _contact(client: Any) -> str:
    found = client.run("search_contacts", SPEC.action("search_contacts").params(**USERS), MemorySteps())
    return str(found["contacts"][0]["id"])


def _count_parts(client: Any, params: dict[str, Any]) -> int:
    conversation = client.json("GET", f"/conversations/{params['conversation_id']}")
    return sum(1 for p in parts(conversation) if plain(p.get("body")) == params["body"])


def _check_analytics(result: dict[str, Any]) -> None:
    assert result["row_count"] > 0 and result["metrics"]["first_response_time"]["count"] > 0


CASE = ProviderCase(
    spec=SPEC, client=IntercomClient,
    good={**CREDS, "access_token": "dG9rOmdvb2QtdG9rZW4tMDAwMQ=="},
    bad={**CREDS, "access_token": "bad-token-0001"},
    actions={
        "reply_to_conversation": {"conversation_id": "100000", "body": "Hi there, looking into it."},
        "add_note": {"conversation_id": "100001", "body": "Customer is on the pro plan."},
        "assign_conversation": {"conversation_id": "100000", "assignee_id": TEAMMATE},
        "close_conversation": {"conversation_id": "100001", "body": "Closing, thanks!"},
        "list_segments": {"include_count": True},
        "list_tags": {},
        "tag_contact": lambda c: {"contact_id": _contact(c), "tag_name": "vip"},
        "search_contacts": USERS,
        "search_conversations": OPEN,
        "conversation_analytics": {"start_time": datetime.now(UTC) - timedelta(days=30),
                                   "end_time": datetime.now(UTC)},
        "export_workflow": {"workflow_id": WORKFLOW_ID},
    },
    probe=("search_contacts", USERS),
    create=("reply_to_conversation", {"conversation_id": "100004", "body": "Crash test reply"}),
    count_created=_count_parts,
    checks={"conversation_analytics": _check_analytics},
    retry_after=2.0,
)
