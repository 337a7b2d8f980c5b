"""Copy.ai results: a workflow run in one shape for every action, plus the text the writing actions pick out."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Run(Result):
    """A workflow run."""

    run_id: str = desc("The run's id.")
    workflow_id: str = desc("The workflow it ran.")
    status: str | None = desc("PROCESSING, COMPLETE or FAILED.")
    input: dict[str, Any] | None = desc("The inputs it was given.")
    output: Any = desc("Its outputs, keyed by the workflow's step names (empty until complete).")
    metadata: dict[str, Any] | None = desc("Metadata it was started with (includes the job marker).")
    created_at: str | None = desc("When it started.")
    credits: float | None = desc("Credits it used.")


class RunList(Result):
    """A workflow's latest runs."""

    workflow_id: str = desc("The workflow.")
    runs: list[Run] = desc("Its runs, newest first.")
    count: int = desc("Number of runs returned.")


class Generated(Run):
    """A finished run of the content workflow."""

    text: str | None = desc("The first text output of the run.")


class Ideas(Run):
    """A finished run of the brainstorm workflow."""

    ideas: list[str] = desc("The ideas, at most the count asked for.")


class Variations(Run):
    """A finished run of the variations workflow."""

    variations: list[str] = desc("The variations, at most the count asked for.")


RESULTS: Registry = register("copy_ai", {
    "run_workflow": Run, "get_workflow_run": Run, "list_workflow_runs": RunList, "generate_content": Generated,
    "brainstorm": Ideas, "variations": Variations,
})
