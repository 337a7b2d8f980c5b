"""Copy.ai Workflows API client: start a workflow run, poll it until COMPLETE, read past runs.

Copy.ai has no idempotency keys. Before a run starts, the job records its intent and stamps its marker in
the run's ``metadata``; the run id is stored right after the start. A retry polls the stored run, and a
retry after a crash between "started" and "recorded" finds the run by its marker instead of paying for a
second one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from workers.errors import (
    AgentError,
    AuthError,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers._polling import poll
from workers.providers.base import (
    DEFAULT_RETRY_AFTER,
    ProviderClient,
    StepLog,
    expect_shape,
    intent_since,
    require,
)

#: Metadata key that carries the job's marker on every run Sintra starts.
MARKER_KEY = "sintra_marker"
#: Run statuses that mean "not finished yet".
RUNNING = frozenset({"NEW", "WAITING", "PROCESSING", "RETRYING"})
#: Error codes that mean "throttled" (Copy.ai documents none; these are the conventional ones).
THROTTLE_CODES = frozenset({"TOO_MANY_REQUESTS", "RATE_LIMITED", "RATE_LIMIT_EXCEEDED"})
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s*")


def _status(run: Any) -> Any:
    """The status of a run answer, or None when the answer is not an object."""
    return run.get("status") if isinstance(run, dict) else None


def run_summary(run: Mapping[str, Any], workflow_id: str) -> dict[str, Any]:
    """The facts of a run, in one shape for every action."""
    return {"run_id": run["id"], "workflow_id": run.get("workflowId") or workflow_id,
            "status": run.get("status"), "input": run.get("input"), "output": run.get("output"),
            "metadata": run.get("metadata"), "created_at": run.get("createdAt"),
            "credits": run.get("credits")}


def first_text(output: Any) -> str | None:
    """The first text value of a run's output (outputs are keyed by the workflow's step names)."""
    if isinstance(output, str):
        return output
    for value in (output.values() if isinstance(output, dict) else ()):
        if isinstance(value, str) and value.strip():
            return value
    return None


def items(output: Any, count: int) -> list[str]:
    """Up to ``count`` ideas or variations: a list output as is, else the lines of the first text."""
    for value in (output.values() if isinstance(output, dict) else ()):
        if isinstance(value, list):
            return [str(v) for v in value][:count]
    lines = [_BULLET.sub("", line).strip() for line in (first_text(output) or "").splitlines()]
    return [line for line in lines if line][:count]


class CopyAiClient(ProviderClient):
    """Copy.ai's ``/api`` with the workspace key in ``x-copy-ai-api-key``."""

    provider: ClassVar[str] = "copy_ai"
    #: Seconds between two status polls, and the longest wait before the job is retried (and resumes).
    POLL_INTERVAL: ClassVar[float] = 2.0
    POLL_TIMEOUT: ClassVar[float] = 240.0
    #: Largest page Copy.ai serves.
    PAGE_SIZE: ClassVar[int] = 100

    # -- provider shapes -------------------------------------------------------------------------------

    @staticmethod
    def _error_body(response: httpx.Response) -> dict[str, Any] | None:
        try:
            body = response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) and body.get("status") == "error" else None

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Errors by ``errorCode`` first, including ``{"status": "error"}`` bodies sent with a 200."""
        body, status = self._error_body(response), response.status_code
        if body is None:
            return super().error_for(response)
        text, code = self.error_text(response)
        message = f"copy_ai answered {status}: {text[:300]}"
        kw: dict[str, Any] = {"status": status, "provider_code": code}
        if code in THROTTLE_CODES or status == 429:
            rl = self.rate_limit(response)
            return RateLimited(message, retry_after=rl.reset_after if rl and rl.reset_after is not None
                               else DEFAULT_RETRY_AFTER, **kw)
        if status in (401, 403):
            return AuthError(message, **kw)
        if code == "WORKFLOW_CREDIT_LIMIT_REACHED":
            return ProviderRejected(f"{message} (the workspace is out of workflow credits)", **kw)
        if status >= 500:
            return ProviderUnavailable(message, **kw)
        return ProviderRejected(message, **kw)

    def _data(self, method: str, path: str, **kwargs: Any) -> Any:
        """The ``data`` of a ``{"status": "success", "data": ...}`` answer."""
        return require(self.json(method, path, **kwargs), "data", self.provider, f"{method} {path}")

    def test_connection(self) -> dict[str, Any]:
        """Kept: the workspace's webhook count (the answer's ``total``)."""
        hooks = self.send_test_call()
        with expect_shape(self.provider, "GET /webhook"):
            return {"webhooks": int(hooks["total"])}

    # -- runs --------------------------------------------------------------------------------------------
    def _runs(self, workflow_id: str, limit: int) -> Iterator[dict[str, Any]]:
        """Up to ``limit`` runs of a workflow, page by page (1-based pages of one fixed ``size``)."""
        path, seen, page, size = f"/workflow/{workflow_id}/run", 0, 1, min(self.PAGE_SIZE, limit)
        while seen < limit:
            data = self._data("GET", path, params={"page": page, "size": size})
            with expect_shape(self.provider, f"GET {path}"):
                batch, total = list(data["data"]), int(data["total"])
            yield from batch[: limit - seen]
            seen, page = seen + len(batch), page + 1
            if not batch or seen >= total:
                return

    def _find(self, workflow_id: str, marker: str, since: datetime) -> str | None:
        """The run an earlier attempt of this job started (found by its metadata marker).

        Runs come newest first; every run created since the job recorded its intent is read (none is
        missed however many came after), and the search stops at the first older one.
        """
        for run in self._runs(workflow_id, sys.maxsize):
            if isinstance(run.get("metadata"), dict) and run["metadata"].get(MARKER_KEY) == marker:
                return str(run["id"])
            created = _created_at(run)
            if created is not None and created < since:
                return None
        return None

    def _start(self, workflow_id: str, inputs: dict[str, Any], metadata: dict[str, Any],
               steps: StepLog) -> str:
        """The stored run id, the run an earlier attempt started, or a new run (recorded right away)."""
        if run_id := steps.get("run_id"):
            return str(run_id)
        if steps.intent("run") and (found := self._find(workflow_id, steps.marker, intent_since(steps, "run"))):
            steps.put("run_id", found)
            return found
        body = {"startVariables": inputs, "metadata": {**metadata, MARKER_KEY: steps.marker}}
        data = self._data("POST", f"/workflow/{workflow_id}/run", json=body)
        run_id = str(require(data, "id", self.provider, "POST /workflow/{id}/run"))
        steps.put("run_id", run_id)
        return run_id

    def _wait(self, workflow_id: str, run_id: str, steps: StepLog) -> dict[str, Any]:
        """Poll a run until COMPLETE; FAILED is permanent, a long run is transient (the retry resumes)."""

        def done(run: Any) -> bool:
            status = _status(run)
            if status == "COMPLETE":
                return True
            if status == "FAILED":
                raise ProviderRejected(f"copy_ai workflow run {run_id} FAILED; see the run in Copy.ai")
            if status not in RUNNING:
                raise MalformedResponse(f"copy_ai run {run_id} has unknown status {status!r}")
            steps.progress(f"workflow run {status}", 50.0)
            return False

        return poll(lambda: self._data("GET", f"/workflow/{workflow_id}/run/{run_id}"), done,
                    interval=self.POLL_INTERVAL, timeout=self.POLL_TIMEOUT,
                    what=lambda run: f"copy_ai run {run_id} still {_status(run)}")

    def _run(self, workflow_id: str, inputs: dict[str, Any], metadata: dict[str, Any],
             steps: StepLog) -> dict[str, Any]:
        """Start (or resume) a run and wait for its output."""
        steps.progress("starting workflow run", 10.0)
        run_id = self._start(workflow_id, inputs, metadata, steps)
        run = self._wait(workflow_id, run_id, steps)
        steps.progress("workflow run complete", 100.0)
        with expect_shape(self.provider, "GET /workflow/{id}/run/{run_id}"):
            return run_summary({**run, "id": run.get("id") or run_id}, workflow_id)

    # -- actions -----------------------------------------------------------------------------------------
    def action_run_workflow(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._run(params.workflow_id, params.inputs, params.metadata, steps)

    def action_get_workflow_run(self, params: Any, steps: StepLog) -> dict[str, Any]:
        run = self._data("GET", f"/workflow/{params.workflow_id}/run/{params.run_id}")
        with expect_shape(self.provider, "GET /workflow/{id}/run/{run_id}"):
            return run_summary(run, params.workflow_id)

    def action_list_workflow_runs(self, params: Any, steps: StepLog) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /workflow/{id}/run"):
            runs = [run_summary(r, params.workflow_id) for r in self._runs(params.workflow_id, params.limit)]
        return {"workflow_id": params.workflow_id, "runs": runs, "count": len(runs)}

    def action_generate_content(self, params: Any, steps: StepLog) -> dict[str, Any]:
        inputs = {**params.extra_inputs, "brief": params.brief}
        inputs |= {k: v for k, v in (("tone", params.tone), ("audience", params.audience)) if v}
        run = self._run(params.workflow_id, inputs, {}, steps)
        return {**run, "text": first_text(run["output"])}

    def action_brainstorm(self, params: Any, steps: StepLog) -> dict[str, Any]:
        inputs = {**params.extra_inputs, "topic": params.topic, "count": str(params.count)}
        run = self._run(params.workflow_id, inputs, {}, steps)
        return {**run, "ideas": items(run["output"], params.count)}

    def action_variations(self, params: Any, steps: StepLog) -> dict[str, Any]:
        inputs = {**params.extra_inputs, "text": params.text, "count": str(params.count)}
        run = self._run(params.workflow_id, inputs, {}, steps)
        return {**run, "variations": items(run["output"], params.count)}


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = CopyAiClient


def _created_at(run: dict[str, Any]) -> datetime | None:
    """A run's ``createdAt`` (``2026-01-19T02:00:00.000Z``), or None when absent or unreadable."""
    try:
        return datetime.fromisoformat(str(run["createdAt"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
