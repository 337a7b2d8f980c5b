"""Copy.ai Workflows API for Penn: run workflows and read their results.

The API runs workflows built in the Copy.ai app; it cannot list or create them. The content actions
(generate, brainstorm, variations) are thin wrappers around a run of a workflow built for that purpose.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, examples, field

WorkflowId = Field(pattern=r"^(WCFG|PKGW)-[A-Za-z0-9-]+$",
                   description="Workflow id (WCFG-... or PKGW-...), from the workflow's API tab.")
#: Start variables of a content action's workflow beyond the ones it names.
ExtraInputs: dict[str, Any] = Field(default_factory=dict, description="Other start variables.")


class RunWorkflow(Params):
    """Parameters of ``run_workflow``."""

    model_config = examples(
        {"workflow_id": "WCFG-7a1c2d3e-penn-copy", "inputs": {"brief": "Launch email"}, "metadata": {"team": "penn"}},
    )

    workflow_id: str = WorkflowId
    inputs: dict[str, Any] = Field(description="Start variables, named as in the workflow.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Stored on the run and echoed in "
                                                                       "webhooks; the job's marker is added.")


class GetWorkflowRun(Params):
    """Parameters of ``get_workflow_run``."""

    model_config = examples(
        {"workflow_id": "WCFG-7a1c2d3e-penn-copy", "run_id": "WRUN-00000000-0000-4000-8000-000000000001"},
    )

    workflow_id: str = WorkflowId
    run_id: str = Field(min_length=1, description="Run id returned by run_workflow.")


class ListWorkflowRuns(Params):
    """Parameters of ``list_workflow_runs``."""

    model_config = examples({"workflow_id": "WCFG-7a1c2d3e-penn-copy", "limit": 5})

    workflow_id: str = WorkflowId
    limit: int = LIMIT


class GenerateContent(Params):
    """Parameters of ``generate_content``."""

    model_config = examples(
        {"workflow_id": "WCFG-7a1c2d3e-penn-copy", "brief": "Landing page hero", "tone": "confident"},
    )

    workflow_id: str = WorkflowId
    brief: str = Field(min_length=1, description="What to write (start variable 'brief').")
    tone: str | None = Field(default=None, description="Tone of voice (start variable 'tone').")
    audience: str | None = Field(default=None, description="Audience (start variable 'audience').")
    extra_inputs: dict[str, Any] = ExtraInputs


class Brainstorm(Params):
    """Parameters of ``brainstorm``."""

    model_config = examples({"workflow_id": "WCFG-7a1c2d3e-penn-copy", "topic": "Webinar titles", "count": 5})

    workflow_id: str = WorkflowId
    topic: str = Field(min_length=1, description="Topic (start variable 'topic').")
    count: int = Field(default=10, ge=1, le=50, description="Number of ideas (start variable 'count').")
    extra_inputs: dict[str, Any] = ExtraInputs


class Variations(Params):
    """Parameters of ``variations``."""

    model_config = examples({"workflow_id": "WCFG-7a1c2d3e-penn-copy", "text": "Ship faster with Acme", "count": 3})

    workflow_id: str = WorkflowId
    text: str = Field(min_length=1, description="Copy to rewrite (start variable 'text').")
    count: int = Field(default=3, ge=1, le=20, description="Number of variations (start variable 'count').")
    extra_inputs: dict[str, Any] = ExtraInputs


_RUN = ("POST /workflow/{workflow_id}/run, then poll GET /workflow/{workflow_id}/run/{run_id} until COMPLETE "
        "or FAILED; the run id is stored so a retry polls instead of starting again")

SPEC = IntegrationSpec(
    id="copy_ai",
    provider="copy_ai",
    name="Copy.ai",
    credential_fields=(
        field("api_key", secret=True, description="Workspace API key (x-copy-ai-api-key); only Admins and "
                                                  "Owners can see it.",
              example="cai_0000000000000000"),
    ),
    actions=(
        act("run_workflow", f"Run a workflow with its start variables ({_RUN}). The API cannot list "
            "workflows: take the id from the workflow's API tab.", RunWorkflow, side_effect=True),
        act("get_workflow_run", "Status and output of a run (GET /workflow/{workflow_id}/run/{run_id}).",
            GetWorkflowRun),
        act("list_workflow_runs",
            "Past runs of a workflow (GET /workflow/{workflow_id}/run).", ListWorkflowRuns),
        act("generate_content", f"Write copy from a brief with a workflow built for it ({_RUN}).",
            GenerateContent, side_effect=True),
        act("brainstorm", f"List ideas on a topic with a workflow built for it ({_RUN}).", Brainstorm,
            side_effect=True),
        act("variations", f"Rewrite copy into variations with a workflow built for it ({_RUN}).", Variations,
            side_effect=True),
    ),
    reason="Runs spend the workspace's workflow credits (400 WORKFLOW_CREDIT_LIMIT_REACHED when out). The "
           "API reference now lives on Fullcast's site, which suggests a change of owner: confirm the plan "
           "still includes API access.",
    implemented=True,
)
