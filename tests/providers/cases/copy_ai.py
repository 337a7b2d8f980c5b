"""Conformance case: Penn / Copy.ai (Workflows API)."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.copy_ai import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.copy_ai import CopyAiClient

CopyAiClient.POLL_INTERVAL = 0.01
WF = "WCFG-7a1c2d3e-penn-copy"


def _run_id(client: Any) -> str:
    params = SPEC.action("run_workflow").params(workflow_id=WF, inputs={"brief": "fixture"})
    return str(client.run("run_workflow", params, MemorySteps())["run_id"])


def _count_runs(client: Any, params: dict[str, Any]) -> int:
    query = SPEC.action("list_workflow_runs").params(workflow_id=WF, limit=1000)
    listed = client.run("list_workflow_runs", query, MemorySteps())
    return sum(1 for r in listed["runs"] if (r["input"] or {}).get("brief") == params["brief"])


def _has_ideas(result: dict[str, Any]) -> None:
    assert result["status"] == "COMPLETE" and len(result["ideas"]) == 5


CASE = ProviderCase(
    spec=SPEC, client=CopyAiClient,
    good={"api_key": "cai_good_key_0001"},
    bad={"api_key": "bad_key_0001"},
    actions={
        "run_workflow": {"workflow_id": WF, "inputs": {"brief": "Launch email"},
                         "metadata": {"team": "penn"}},
        "get_workflow_run": lambda c: {"workflow_id": WF, "run_id": _run_id(c)},
        "list_workflow_runs": {"workflow_id": WF, "limit": 5},
        "generate_content": {"workflow_id": WF, "brief": "Landing page hero", "tone": "confident"},
        "brainstorm": {"workflow_id": WF, "topic": "Webinar titles", "count": 5},
        "variations": {"workflow_id": WF, "text": "Ship faster with Acme", "count": 3},
    },
    probe=("list_workflow_runs", {"workflow_id": WF, "limit": 5}),
    create=("generate_content", {"workflow_id": WF, "brief": "Crash test brief"}),
    count_created=_count_runs,
    checks={"brainstorm": _has_ideas},
    retry_after=2.0,
)
