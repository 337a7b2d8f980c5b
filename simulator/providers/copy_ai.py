"""Simulated Copy.ai Workflows API under ``/copy_ai<base path>``: runs, run status, run lists and webhooks.

State is kept per API key (``x-copy-ai-api-key``; a key starting with ``bad`` is refused). Any workflow id
shaped ``WCFG-...`` or ``PKGW-...`` exists unless it contains ``missing``. A run is NEW when started,
PROCESSING on its first poll and COMPLETE on the next (FAILED when an input says ``FAIL_THIS_RUN``). The
output is written from the start variables: numbered ideas for ``topic``, numbered rewrites for ``text``,
a paragraph for ``brief``. Errors are ``{"status": "error", "errorCode": ...}``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from simulator.control import params, state
from simulator.generic import Sim

PROVIDER = "copy_ai"
SIM = Sim(PROVIDER, faults={401: ("Unauthorized", "UNAUTHORIZED"), 403: ("Forbidden", "FORBIDDEN"),
                            404: ("Not found", "NOT_FOUND"), 422: ("Invalid request", "VALIDATION_ERROR"),
                            429: ("Too many requests", "TOO_MANY_REQUESTS"),
                            400: ("Bad request", "BAD_REQUEST"),
                            500: ("Internal server error", "INTERNAL_SERVER_ERROR")})
router = SIM.router()
fault_response = SIM.fault_response
WORKFLOW = re.compile(r"^(WCFG|PKGW)-[A-Za-z0-9-]+$")
EVENTS = ("workflowRun.started", "workflowRun.completed", "workflowRun.failed", "workflowCreditLimit.reached")
CREDITS_PER_RUN = 2


def workspace(request: Request) -> dict[str, Any]:
    """The state of the request's API key, or Copy.ai's 401."""
    return SIM.account(request, _seed)


#: The sandbox's finished run (the catalog's get_workflow_run example reads it).
SEEDED_RUN, SEEDED_WORKFLOW = "WRUN-00000000-0000-4000-8000-000000000001", "WCFG-7a1c2d3e-penn-copy"


def _seed() -> dict[str, Any]:
    inputs = {"brief": "Spring launch email"}
    run = {"id": SEEDED_RUN, "workflowRunId": SEEDED_RUN, "workflowId": SEEDED_WORKFLOW, "status": "COMPLETE",
           "input": inputs, "output": _output(inputs), "metadata": None, "createdAt": "2026-01-05T09:00:00.000Z",
           "credits": CREDITS_PER_RUN}
    return {"runs": {SEEDED_RUN: run}, "order": [SEEDED_RUN], "webhooks": []}


def _workflow(workflow_id: str) -> str:
    if not WORKFLOW.match(workflow_id) or "missing" in workflow_id:
        SIM.fail(404, "Not found", "NOT_FOUND")
    return workflow_id


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _count(inputs: dict[str, Any], default: int) -> int:
    try:
        return max(1, min(int(inputs.get("count") or default), 50))
    except (TypeError, ValueError):
        return default


def _output(inputs: dict[str, Any]) -> dict[str, Any]:
    """What a workflow built for these start variables would write."""
    if "topic" in inputs:
        n = _count(inputs, 10)
        text = "\n".join(f"{i}. {inputs['topic']}: idea {i}" for i in range(1, n + 1))
    elif "text" in inputs:
        n = _count(inputs, 3)
        text = "\n".join(f"{i}. {inputs['text']} (take {i})" for i in range(1, n + 1))
    else:
        brief = str(inputs.get("brief") or next(iter(inputs.values()), "your brief"))
        tone = f" in a {inputs['tone']} tone" if inputs.get("tone") else ""
        text = f"Here is copy for: {brief}{tone}. It speaks to the reader, names the benefit and ends with " \
               "a clear call to action."
    return {"generated_text": text}


def _advance(run: dict[str, Any]) -> None:
    """One poll moves NEW -> PROCESSING -> COMPLETE (or FAILED)."""
    if run["status"] == "NEW":
        run["status"] = "PROCESSING"
    elif run["status"] == "PROCESSING":
        failed = any(v == "FAIL_THIS_RUN" for v in run["input"].values())
        run["status"] = "FAILED" if failed else "COMPLETE"
        run["output"] = {} if failed else _output(run["input"])
        run["credits"] = CREDITS_PER_RUN


def _view(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if not k.startswith("_")}


@router.post("/workflow/{workflow_id}/run")
async def start_run(workflow_id: str, request: Request) -> dict[str, Any]:
    """Start a run: ``startVariables`` (required) and optional ``metadata``."""
    ws, body = workspace(request), await params(request)
    _workflow(workflow_id)
    start, metadata = body.get("startVariables"), body.get("metadata")
    if not isinstance(start, dict) or not start:
        SIM.fail(422, "startVariables must be an object with the workflow's inputs", "VALIDATION_ERROR")
    if metadata is not None and not isinstance(metadata, dict):
        SIM.fail(422, "metadata must be an object", "VALIDATION_ERROR")
    run_id = f"WRUN-{uuid.uuid4()}"
    with state(request).lock:
        ws["runs"][run_id] = {"id": run_id, "workflowRunId": run_id, "workflowId": workflow_id,
                              "status": "NEW", "input": start, "output": {}, "metadata": metadata or None,
                              "createdAt": _stamp(), "credits": 0}
        ws["order"].insert(0, run_id)
    return {"status": "success", "data": {"id": run_id}}


@router.get("/workflow/{workflow_id}/run")
def list_runs(workflow_id: str, request: Request, page: int = 1, size: int = 10) -> dict[str, Any]:
    """Runs of a workflow, newest first; ``page`` starts at 1, ``size`` up to 100."""
    ws = workspace(request)
    _workflow(workflow_id)
    if page < 1 or not 1 <= size <= 100:
        SIM.fail(422, "page must be >= 1 and size between 1 and 100", "VALIDATION_ERROR")
    with state(request).lock:
        runs = [ws["runs"][r] for r in ws["order"] if ws["runs"][r]["workflowId"] == workflow_id]
        chunk = [_view(r) for r in SIM.page(request, runs, default=10).items]
    return {"status": "success", "data": {"total": len(runs), "data": chunk}}


@router.get("/workflow/{workflow_id}/run/{run_id}")
def get_run(workflow_id: str, run_id: str, request: Request) -> dict[str, Any]:
    """One run; every read is a poll that moves it on."""
    ws = workspace(request)
    _workflow(workflow_id)
    with state(request).lock:
        run = ws["runs"].get(run_id)
        if run is None or run["workflowId"] != workflow_id:
            SIM.fail(404, "Not found", "NOT_FOUND")
        _advance(run)
        return {"status": "success", "data": _view(run)}


@router.get("/webhook")
def list_webhooks(request: Request, page: int = 0, size: int = 10) -> dict[str, Any]:
    """Registered webhooks (``page`` starts at 0 here); the answer has no ``status`` wrapper."""
    ws = workspace(request)
    with state(request).lock:
        hooks = list(ws["webhooks"])
    return {"total": len(hooks), "data": hooks[page * size: (page + 1) * size]}


@router.post("/webhook")
async def register_webhook(request: Request) -> dict[str, Any]:
    """Register a webhook for one event type, optionally for one workflow."""
    ws, body = workspace(request), await params(request)
    if not str(body.get("url") or "").startswith("https://") or body.get("eventType") not in EVENTS:
        SIM.fail(422, f"url must be https and eventType one of {', '.join(EVENTS)}", "VALIDATION_ERROR")
    hook = {"id": str(uuid.uuid4()), "url": body["url"], "eventType": body["eventType"],
            "workflowId": body.get("workflowId") or None}
    with state(request).lock:
        ws["webhooks"].append(hook)
    return {"status": "success", "data": hook}
