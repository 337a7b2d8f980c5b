"""Jasper API client: commands, templates, brand voices (tones) and style guides.

Generation answers synchronously and spends credits each time, and Jasper has no idempotency keys. So
a generation's outputs are stored in the job's :class:`StepLog` as soon as they arrive, and a retry of
the same job returns them instead of generating (and paying) again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


from workers.providers.base import ProviderClient, StepLog, expect_shape, require



def _drop_empty(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v not in (None, [], {}, "")}


def options_body(options: Any) -> dict[str, Any]:
    """Jasper's camelCase ``options`` object from the catalog's options model."""
    body = {"outputCount": options.output_count, "outputLanguage": options.output_language,
            "inputLanguage": options.input_language, "languageFormality": options.language_formality}
    if completion := getattr(options, "completion_type", None):
        body["completionType"] = completion
    return body


def brand_inputs(params: Any) -> dict[str, Any]:
    """The brand-context inputs every generation accepts: voice, style guide, audience, knowledge."""
    return _drop_empty({"toneId": params.tone_id, "styleId": params.style_id,
                        "audienceId": params.audience_id, "knowledgeIds": list(params.knowledge_ids)})


def command_body(params: Any) -> dict[str, Any]:
    """The body of ``POST /v1/command``."""
    inputs = {"command": params.command, **brand_inputs(params),
              **_drop_empty({"context": params.context, "retrievalAddOn": params.retrieval_add_on})}
    options = options_body(params.options)
    if params.retrieval_add_on == "webScraper" and params.scrape_urls:
        options["webScraper"] = {"urls": list(params.scrape_urls)}
    if params.retrieval_add_on == "webSearch":
        search = _drop_empty({"searchQuery": params.search_query, "maxResults": params.search_max_results,
                              "siteBlockList": list(params.site_block_list)})
        if search:
            options["webSearch"] = search
    return {"inputs": inputs, "options": options}


def outputs(answer: Any, what: str) -> dict[str, Any]:
    """The generated texts of a command or template run."""
    data = require(answer, "data", "jasper", what)
    with expect_shape("jasper", what):
        texts = [{"id": item.get("id"), "text": item["text"]} for item in data]
    return {"request_id": answer.get("requestId"), "outputs": texts,
            "text": texts[0]["text"] if texts else None}


class JasperClient(ProviderClient):
    """Jasper's ``/v1`` with the workspace token in ``X-API-Key``."""

    provider: ClassVar[str] = "jasper"
    #: Voices asked for per page.
    PAGE_SIZE: ClassVar[int] = 50

    # -- provider shapes -------------------------------------------------------------------------------

    def test_connection(self) -> dict[str, Any]:
        """Kept: the workspace's brand-voice count and the request id."""
        answer = self.send_test_call()
        data = require(answer, "data", self.provider, "GET /v1/tones")
        total = (answer.get("pagination") or {}).get("totalRecords")
        return {"tones": total if total is not None else len(data), "request_id": answer.get("requestId")}

    # -- generation --------------------------------------------------------------------------------------
    def _generate(self, steps: StepLog, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One generation per job: a retry returns the stored outputs instead of paying again."""
        if done := steps.get("generated"):
            return {**done, "resumed": True}
        steps.progress("generating", 30.0)
        result = outputs(self.json("POST", path, json=body), f"POST {path}")
        steps.put("generated", result)
        steps.progress("generated", 100.0)
        return {**result, "resumed": False}

    def action_run_command(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._generate(steps, "/v1/command", command_body(params))

    def action_run_template(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = {"inputs": {**params.inputs, **brand_inputs(params)}, "options": options_body(params.options)}
        result = self._generate(steps, f"/v1/templates/{params.template_id}/run", body)
        return {"template_id": params.template_id, **result}

    # -- resources ---------------------------------------------------------------------------------------
    def _list(self, path: str) -> list[dict[str, Any]]:
        """The ``data`` list of an unpaged list endpoint (a bare list is accepted too)."""
        answer = self.json("GET", path)
        data = answer if isinstance(answer, list) else require(answer, "data", self.provider, f"GET {path}")
        if not isinstance(data, list):
            return [data]
        return data

    def action_list_templates(self, params: Any, steps: StepLog) -> dict[str, Any]:
        items = self._list("/v1/templates")[: params.limit]
        with expect_shape(self.provider, "GET /v1/templates"):
            templates = [{"id": t["id"], "name": t.get("name"), "description": t.get("description"),
                          "inputs": [_input(i) for i in t.get("inputSchema") or []]} for t in items]
        return {"templates": templates, "count": len(templates)}

    def _voices(self, limit: int, query: Mapping[str, str]) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` voices, page by page with one fixed ``size`` (pages are 1-based)."""
        size, page, total = min(self.PAGE_SIZE, limit), 1, None
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            answer = self.json("GET", "/v1/tones", params={**query, "page": page, "size": size})
            with expect_shape(self.provider, "GET /v1/tones"):
                batch = list(answer["data"])
                pagination = answer.get("pagination") or {}
                total = int(pagination["totalRecords"]) if "totalRecords" in pagination else total
            found.extend(batch)
            last = "next" in pagination and not pagination["next"]
            if last or len(batch) < size or (total is not None and page * size >= total):
                break
            page += 1
        return found[:limit], total

    def action_list_tones(self, params: Any, steps: StepLog) -> dict[str, Any]:
        voices, total = self._voices(params.limit, {"q": params.query} if params.query else {})
        with expect_shape(self.provider, "GET /v1/tones"):
            tones = [{"id": t["id"], "name": t.get("name"), "description": t.get("value"),
                      "created_at": t.get("createdAt")} for t in voices]
        return {"tones": tones, "count": len(tones), "total": total}

    def action_list_styles(self, params: Any, steps: StepLog) -> dict[str, Any]:
        items = self._list("/v1/styles")[: params.limit]
        with expect_shape(self.provider, "GET /v1/styles"):
            styles = [{"id": s["id"], "name": s.get("name"), "description": s.get("description"),
                       "custom_instructions": s.get("customInstructions"), "terms": s.get("terms") or [],
                       "rules": s.get("rules") or []} for s in items]
        return {"styles": styles, "count": len(styles)}


def _input(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": item["inputKey"], "type": item.get("type"), "required": bool(item.get("required")),
            "label": item.get("label"), "max_length": item.get("maxLength")}


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = JasperClient
