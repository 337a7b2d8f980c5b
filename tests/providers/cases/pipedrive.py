"""Conformance case: Buddy / Pipedrive."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.pipedrive import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.pipedrive import PipedriveClient


def _deal(client: Any) -> int:
    params = SPEC.action("create_deal").params(title="Fixture deal", value=1000, currency="USD")
    return int(client.run("create_deal", params, MemorySteps())["id"])


def _moved_deal(client: Any) -> int:
    deal_id = _deal(client)
    client.run("update_deal", SPEC.action("update_deal").params(deal_id=deal_id, stage_id=3), MemorySteps())
    return deal_id


def _count_deals(client: Any, params: dict[str, Any]) -> int:
    listed = client.run("list_deals", SPEC.action("list_deals").params(limit=1000), MemorySteps())
    return sum(1 for d in listed["deals"] if d["title"] == params["title"])


def _stage_change_logged(result: dict[str, Any]) -> None:
    assert result["changes"][0]["field_key"] == "stage_id"
    assert (result["changes"][0]["old_value"], result["changes"][0]["new_value"]) == ("1", "3")


def _five_stages(result: dict[str, Any]) -> None:
    assert len(result["stages"]) == 5 and result["total_count"] >= 3


def _pipelines_with_stages(result: dict[str, Any]) -> None:
    assert [len(p["stages"]) for p in result["pipelines"]] == [5, 2]


CASE = ProviderCase(
    spec=SPEC, client=PipedriveClient,
    good={"api_token": "goodPipedriveToken01"},
    bad={"api_token": "badPipedriveToken01"},
    actions={
        "list_pipelines": {},
        "list_deals": {"pipeline_id": 1, "limit": 5},
        "create_deal": {"title": "Acme upsell", "value": 2500, "currency": "EUR", "stage_id": 2},
        "update_deal": lambda c: {"deal_id": _deal(c), "status": "won"},
        "get_deal_history": lambda c: {"deal_id": _moved_deal(c)},
        "create_activity": lambda c: {"subject": "Demo", "type": "meeting", "deal_id": _deal(c),
                                      "due_date": "2031-01-05", "due_time": "10:00", "person_id": 7},
        "list_activities": {"done": False},
        "deal_summary": {"pipeline_id": 1},
    },
    probe=("list_deals", {"limit": 5}),
    create=("create_deal", {"title": "Crash test", "value": 10, "currency": "USD"}),
    count_created=_count_deals,
    checks={"get_deal_history": _stage_change_logged, "deal_summary": _five_stages,
            "list_pipelines": _pipelines_with_stages},
    retry_after=2.0,
)
