"""Report of a chained workflow: the copy Penn wrote and what the next agent did with it.

A writer step that failed, or wrote nothing usable, fails the workflow with the reason (nothing was
published). A later step that failed makes the report ``partial``: it is listed under ``missing`` with
the reason, and the written copy is kept so it can be used by hand or published again.
"""

from __future__ import annotations

from typing import Any

from config.catalog.workflows import WorkflowSpec, WorkflowStep
from config.catalog.written_copy import UnusableCopy
from workers.errors import ProviderRejected
from workers.store.models import Job
from workers.workflow_steps import by_section, stored_params


def reason(job: Job | None) -> tuple[str | None, str | None]:
    """Why a step did not succeed, and its error type."""
    if job is None:
        return "step was not created", None
    error = job.error or {}
    return error.get("message") or f"step ended {job.status}", error.get("type")


def _who(spec: WorkflowSpec, step: WorkflowStep) -> str:
    return f"{step.agent or spec.agent}/{step.integration} {step.action}"


def combine_chained(spec: WorkflowSpec, parent: Job, steps: list[Job]) -> dict[str, Any]:
    """The report of a chained workflow from its finished steps (raises when Penn wrote nothing usable)."""
    assert spec.written is not None
    params, done = stored_params(spec, parent), by_section(steps)
    writers = spec.stage_steps(0, params)
    failed = [(s, job) for s in writers if (job := done.get(s.section)) is None or job.status != "succeeded"]
    if failed:
        why = "; ".join(f"{s.section} ({_who(spec, s)}): {reason(job)[0]}" for s, job in failed)
        raise ProviderRejected(f"{spec.id}: Penn could not write the copy, so nothing was published ({why})")
    try:
        written = spec.written(params, {section: job.result for section, job in done.items()})
    except UnusableCopy as exc:
        raise ProviderRejected(f"{spec.id}: Penn's {params.writer} result is not usable copy ({exc}); nothing "
                               "was published") from None
    delivered: dict[str, Any] = {}
    missing: list[dict[str, Any]] = []
    for stage in range(1, spec.stages):
        for step in spec.stage_steps(stage, params):
            job = done.get(step.section)
            if job is not None and job.status == "succeeded":
                delivered[step.section] = {"by": _who(spec, step), "job_id": job.id, "result": job.result}
                continue
            because, error_type = reason(job)
            missing.append({"step": step.section, "agent": step.agent or spec.agent, "integration": step.integration,
                            "action": step.action, "reason": because, "error_type": error_type})
    summary = f"written by penn/{params.writer}; " + ("; ".join(
        [f"{d['by']} done" for d in delivered.values()]
        + [f"{m['agent']}/{m['integration']} {m['action']} failed (see 'missing')" for m in missing]))
    return {"workflow": spec.id, "params": parent.params, "partial": bool(missing),
            "written": {"writer": params.writer, "job_ids": {s.section: done[s.section].id for s in writers},
                        **written},
            "delivered": delivered, "missing": missing, "summary": summary}
