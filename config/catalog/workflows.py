"""Workflows: one request that runs several agents' actions and combines the results into one report.

A workflow job is the parent of one child job per step. Steps run in stages: the steps of a stage run
in parallel, each on its own agent's queue, like any job; when the last one finishes (succeeded or
failed) the workflow job runs again and either starts the next stage, whose params are derived from the
earlier steps' results, or combines everything into one report. A later stage starts only when every
earlier step succeeded. A failed step makes the report partial (it says what is missing and why) or,
when nothing usable is left, fails the workflow with the reason; it never loses the workflow job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from config.catalog.base import Params
from config.catalog.integrations.instagram import MAX_CAPTION, MAX_HASHTAGS, MediaUrl
from config.catalog.integrations.mailchimp import FromName, ListIdParam, ReplyTo, round_up_quarter_hour
from config.catalog.written_copy import caption_and_hashtags, email

#: A step's params from the workflow's params and the results of earlier stages' steps, by section.
StepParams = Callable[[Any, Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class WorkflowStep:
    """One child job: an agent's action with params derived from the workflow's params (and earlier results)."""

    integration: str
    action: str
    params: StepParams
    #: What the report calls this part (unique within the workflow).
    section: str
    #: The agent whose queue runs the step (None: the workflow's own agent).
    agent: str | None = None
    #: Steps of stage n start when every step of stage n-1 has succeeded.
    stage: int = 0
    #: Whether the step runs for the workflow's params (e.g. the writer the caller chose); None: always.
    when: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class WorkflowSpec:
    """A named request of one or more agents: stages of parallel steps, then one report."""

    id: str
    agent: str
    description: str
    params: type[Params]
    steps: tuple[WorkflowStep, ...]
    #: The copy the first stage wrote, as the report keeps it (chained workflows; raises UnusableCopy).
    written: StepParams | None = None

    def stage_steps(self, stage: int, params: Any) -> list[WorkflowStep]:
        """The steps of ``stage`` that run for ``params``."""
        return [s for s in self.steps if s.stage == stage and (s.when is None or s.when(params))]

    @property
    def stages(self) -> int:
        """How many stages the workflow has."""
        return 1 + max(s.stage for s in self.steps)


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


def _gsc(p: SeoAnalysisParams, _: Mapping[str, Any]) -> dict[str, Any]:
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
                     lambda p, _: {"domain": p.domain, "database": p.country, "limit": p.limit}, "semrush"),
        WorkflowStep("ahrefs", "organic_keywords",
                     lambda p, _: {"target": p.domain, "country": p.country, "limit": p.limit}, "ahrefs"),
    ),
)



# -- chained workflows: Penn writes from a brief, another agent publishes what Penn wrote ------------------
CopyAiWorkflowId = Field(default=None, pattern=r"^(WCFG|PKGW)-[A-Za-z0-9-]+$",
                         description="The Copy.ai workflow that writes from a 'brief' start variable (its "
                                     "API tab); required when writer is copy_ai.")


class FromBrief(Params):
    """What Penn writes from and with which writer."""

    brief: str = Field(min_length=3, max_length=1500, description="What to write about, in your words.")
    writer: Literal["copy_ai", "jasper"] = Field(default="copy_ai", description="Penn's writer: Copy.ai "
                                                 "(runs copy_ai_workflow_id) or Jasper (a command).")
    copy_ai_workflow_id: str | None = CopyAiWorkflowId
    tone: str | None = Field(default=None, max_length=100, description="Tone of voice, e.g. 'playful'.")

    @model_validator(mode="after")
    def _copy_ai_needs_a_workflow(self) -> FromBrief:
        if self.writer == "copy_ai" and not self.copy_ai_workflow_id:
            raise ValueError("copy_ai_workflow_id is required when writer is copy_ai (or use writer jasper)")
        return self


def _writers(section: str, brief: Callable[[Any], str], audience: Callable[[Any], str | None]
             ) -> tuple[WorkflowStep, WorkflowStep]:
    """Penn's step that writes ``section``: with Copy.ai or with Jasper, as the caller chose."""
    def copy_ai(p: Any, _: Mapping[str, Any]) -> dict[str, Any]:
        return {"workflow_id": p.copy_ai_workflow_id, "brief": brief(p), "tone": p.tone, "audience": audience(p)}

    def jasper(p: Any, _: Mapping[str, Any]) -> dict[str, Any]:
        extra = "".join(f" {label}: {v}." for label, v in (("Tone", p.tone), ("Audience", audience(p))) if v)
        return {"command": (brief(p) + extra)[:3000]}

    return (WorkflowStep("copy_ai", "generate_content", copy_ai, section, agent="penn",
                         when=lambda p: p.writer == "copy_ai"),
            WorkflowStep("jasper", "run_command", jasper, section, agent="penn", when=lambda p: p.writer == "jasper"))


class InstagramPostFromBrief(FromBrief):
    """An Instagram photo post whose caption and hashtags Penn writes from a brief."""

    image_url: MediaUrl
    alt_text: str | None = Field(default=None, max_length=1000, description="Alternative text of the image.")
    hashtags: int = Field(default=10, ge=0, le=MAX_HASHTAGS, description="How many hashtags the post carries.")


def _caption_brief(p: InstagramPostFromBrief) -> str:
    tags = f"then a last line of {p.hashtags} relevant hashtags" if p.hashtags else "and no hashtags"
    return f"Write an Instagram caption about: {p.brief}. Hook in the first line, a call to action, {tags}."


def _caption(p: InstagramPostFromBrief, earlier: Mapping[str, Any]) -> dict[str, Any]:
    return caption_and_hashtags(earlier["caption"], count=p.hashtags, brief=p.brief, limit=MAX_CAPTION)


def _photo(p: InstagramPostFromBrief, earlier: Mapping[str, Any]) -> dict[str, Any]:
    written = _caption(p, earlier)
    return {"image_url": p.image_url, "caption": written["caption"], "hashtags": written["hashtags"],
            **({"alt_text": p.alt_text} if p.alt_text else {})}


INSTAGRAM_POST_FROM_BRIEF = WorkflowSpec(
    id="instagram_post_from_brief", agent="soshie",
    description="Penn writes an Instagram caption and hashtags from a brief (Copy.ai or Jasper), then Soshie "
                "publishes the photo with them; the report keeps the copy even if publishing fails.",
    params=InstagramPostFromBrief,
    steps=(*_writers("caption", _caption_brief, lambda p: None),
           WorkflowStep("instagram", "publish_photo", _photo, "publish", agent="soshie", stage=1)),
    written=_caption,
)

#: The five emails of a sequence: (fallback subject, what the email does).
EMAIL_PLAN = (
    ("Welcome", "welcome the reader and say what the next emails bring"),
    ("Why it matters", "show the one benefit that matters most to the reader"),
    ("How others did it", "tell a short customer story with a concrete result"),
    ("Your questions, answered", "answer the objections a reader has before buying"),
    ("Ready when you are", "ask for the one next step, clearly and without pressure"),
)
EMAIL_SECTIONS = tuple(f"email_{n}" for n in range(1, len(EMAIL_PLAN) + 1))


def _future(value: datetime, info: ValidationInfo) -> datetime:
    # a stored request is not refused later: a start that has passed meanwhile fails the scheduling step
    if not (info.context or {}).get("stored") and value <= datetime.now(UTC):
        raise ValueError("start_at must be in the future (Mailchimp schedules the first email then)")
    return value


class EmailSequenceFromBrief(FromBrief):
    """A five-email Mailchimp sequence that Penn writes from a brief and Emmie schedules."""

    audience: str | None = Field(default=None, max_length=300, description="Who the emails are for.")
    list_id: ListIdParam = None
    title: str = Field(default="Sequence from brief", min_length=1, max_length=60,
                       description="Prefix of each campaign's internal title.")
    from_name: FromName
    reply_to: ReplyTo
    start_at: Annotated[datetime, AfterValidator(round_up_quarter_hour), AfterValidator(_future)] = Field(
        description="UTC time of the first email; rounded up to the next quarter hour.")
    interval_days: int = Field(default=2, ge=1, le=90, description="Days between consecutive emails.")


def _email_brief(n: int) -> Callable[[Any], str]:
    title, purpose = EMAIL_PLAN[n - 1]
    return lambda p: (f"Email {n} of {len(EMAIL_PLAN)} of a nurturing sequence about: {p.brief}. This email "
                      f"should {purpose}. Start with a 'Subject:' line and a 'Preview:' line, then the body.")


def _topic(brief: str, room: int = 60) -> str:
    """The brief's first clause, cut at a word end within ``room`` characters (for a fallback subject)."""
    clause = re.split(r"[.;:!?](?:\s|$)", brief.strip(), maxsplit=1)[0]
    return clause if len(clause) <= room else clause[:room].rsplit(" ", 1)[0].rstrip(",")


def _emails(p: EmailSequenceFromBrief, earlier: Mapping[str, Any]) -> dict[str, Any]:
    topic = _topic(p.brief)
    return {"emails": [email(earlier[section], fallback_subject=f"{title}: {topic}")
                       for section, (title, _) in zip(EMAIL_SECTIONS, EMAIL_PLAN, strict=True)]}


def _sequence(p: EmailSequenceFromBrief, earlier: Mapping[str, Any]) -> dict[str, Any]:
    emails = [{k: e[k] for k in ("subject_line", "preview_text", "html")} for e in _emails(p, earlier)["emails"]]
    return {"list_id": p.list_id, "title": p.title, "from_name": p.from_name, "reply_to": p.reply_to,
            "start_at": p.start_at.isoformat(), "interval_days": p.interval_days, "emails": emails}


EMAIL_SEQUENCE_FROM_BRIEF = WorkflowSpec(
    id="email_sequence_from_brief", agent="emmie",
    description="Penn writes a five-email sequence from a brief (Copy.ai or Jasper, one email per step in "
                "parallel), then Emmie creates and schedules it in Mailchimp; the report keeps the emails "
                "even if scheduling fails.",
    params=EmailSequenceFromBrief,
    steps=(*(step for n, section in enumerate(EMAIL_SECTIONS, 1)
             for step in _writers(section, _email_brief(n), lambda p: p.audience)),
           WorkflowStep("mailchimp", "create_email_sequence", _sequence, "sequence", agent="emmie", stage=1)),
    written=_emails,
)

WORKFLOWS: dict[str, WorkflowSpec] = {w.id: w for w in (SEO_ANALYSIS, INSTAGRAM_POST_FROM_BRIEF,
                                                        EMAIL_SEQUENCE_FROM_BRIEF)}
