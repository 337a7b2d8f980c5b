"""Conformance case: Penn / Jasper."""

from __future__ import annotations

from typing import Any

from config.catalog.integrations.jasper import SPEC
from tests.providers.cases import ProviderCase
from workers.providers.base import MemorySteps
from workers.providers.jasper import JasperClient


def _first(client: Any, action: str, key: str) -> dict[str, Any]:
    listed = client.run(action, SPEC.action(action).params(limit=5), MemorySteps())
    return dict(listed[key][0])


def _template(client: Any) -> dict[str, Any]:
    template = _first(client, "list_templates", "templates")
    tone = _first(client, "list_tones", "tones")
    return {"template_id": template["id"], "inputs": {"productName": "Acme Sleep Mask"},
            "tone_id": tone["id"]}


def _command(client: Any) -> dict[str, Any]:
    tone, style = _first(client, "list_tones", "tones"), _first(client, "list_styles", "styles")
    return {"command": "Write a product description for a sleep mask", "tone_id": tone["id"],
            "style_id": style["id"], "options": {"output_count": 2}}


def _two_outputs(result: dict[str, Any]) -> None:
    assert len(result["outputs"]) == 2 and result["text"]


CASE = ProviderCase(
    spec=SPEC, client=JasperClient,
    good={"api_key": "jsp_good_key_0001"},
    bad={"api_key": "bad_key_0001"},
    actions={
        "run_command": _command,
        "run_template": _template,
        "list_templates": {"limit": 10},
        "list_tones": {"limit": 5},
        "list_styles": {},
    },
    probe=("list_tones", {"limit": 5}),
    checks={"run_command": _two_outputs},
    retry_after=2.0,
)
