"""Workflows: one request that fans out to several integrations of an agent and combines the results.

A workflow job is the parent of one child job per step; the children run in parallel on the agent's
queue like any job, and when the last one finishes (succeeded or failed) the parent's ``combine``
step builds one report. A failed child makes the report partial (it says what is missing and why);
it never loses the parent job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlparse

from pydantic import Field, field_validator

from config.catalog.base import Params


@dataclass(frozen=True)
class WorkflowStep:
    """One child job: an integration's action with params derived from the workflow's params."""

    integration: str
    action: str
    params: Callable[[Any], dict[str, Any]]
    #: What the report calls this part.
    section: str


@dataclass(frozen=True)
class WorkflowSpec:
    """A named fan-out/fan-in request of one agent."""

    id: str
    agent: str
    description: str
    params: type[Params]
    steps: tuple[WorkflowStep, ...]


class SeoAnalysisParams(Params):
    """A complete SEO analysis of a site."""

    domain: str = Field(min_length=3, max_length=253, pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$",
                        description="The site's domain, e.g. example.com.")
    country: str = Field(default="us", pattern=r"^[a-z]{2}$", description="Market (Semrush database, "
                         "Ahrefs country).")
    days: int = Field(default=28, ge=1, le=480, description="Search Console period, ending yesterday.")
    limit: int = Field(default=100, ge=1, le=1000, description="Keywords fetched per source.")

    @field_validator("domain", mode="before")
    @classmethod
    def _bare_domain(cls, value: Any) -> Any:
        if isinstance(value, str) and "://" in value:
            value = urlparse(value).hostname or value
        return value.lower().removeprefix("www.") if isinstance(value, str) else value


def _gsc(p: SeoAnalysisParams) -> dict[str, Any]:
    end = date.today() - timedelta(days=1)
    return {"start_date": (end - timedelta(days=p.days - 1)).isoformat(), "end_date": end.isoformat(),
            "dimensions": ["query"], "limit": p.limit}


SEO_ANALYSIS = WorkflowSpec(
    id="seo_analysis", agent="seomi",
    description="Complete SEO analysis of a site with keyword recommendations: Search Console, Semrush "
                "and Ahrefs in parallel, combined into one report (partial if a source fails).",
    params=SeoAnalysisParams,
    steps=(
        WorkflowStep("google_search_console", "query_search_analytics", _gsc, "search_console"),
        WorkflowStep("semrush", "domain_organic_keywords",
                     lambda p: {"domain": p.domain, "database": p.country, "limit": p.limit}, "semrush"),
        WorkflowStep("ahrefs", "organic_keywords",
                     lambda p: {"target": p.domain, "country": p.country, "limit": p.limit}, "ahrefs"),
    ),
)

WORKFLOWS: dict[str, WorkflowSpec] = {w.id: w for w in (SEO_ANALYSIS,)}
