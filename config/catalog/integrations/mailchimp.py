"""Mailchimp Marketing API v3: campaigns, email sequences, automations, audiences, A/B tests, reports.

Times are UTC. Mailchimp only schedules on a quarter hour (:00, :15, :30, :45): explicit
``schedule_time`` values must already be on one, while a sequence's ``start_at`` is rounded up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, model_validator

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, ahead, exactly_one, field

#: Mailchimp accepts schedule times on these minute marks only.
QUARTER_HOUR = 15


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def round_up_quarter_hour(value: datetime) -> datetime:
    """The first quarter-hour mark at or after ``value``, in UTC."""
    value = as_utc(value)
    floor = value.replace(minute=value.minute - value.minute % QUARTER_HOUR, second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(minutes=QUARTER_HOUR)


def require_quarter_hour(value: datetime) -> datetime:
    """``value`` in UTC, or a validation error when it is not on a quarter hour."""
    value = as_utc(value)
    if value.minute % QUARTER_HOUR or value.second or value.microsecond:
        raise ValueError("Mailchimp schedules on a quarter hour only (:00, :15, :30, :45 UTC)")
    return value


#: Sandbox objects the simulator seeds in every account (their ids are fixed there), named by the examples.
SENT_CAMPAIGN, DRAFT_CAMPAIGN, SCHEDULED_CAMPAIGN = "8a9b0c1d43", "42694e9e57", "6b3f2a9c21"
WELCOME_AUTOMATION = "1a2b3c4d5e"
SENDER = {"from_name": "Acme", "reply_to": "hello@acme.example"}
SPRING = {"subject_line": "Our spring sale starts now", "preview_text": "20% off everything until Sunday",
          "html": "<h1>Spring sale</h1><p>20% off everything until Sunday.</p>"}

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
ScheduleTime = Annotated[datetime, AfterValidator(require_quarter_hour)]
ListIdParam = Annotated[Id | None, Field(description="Audience (list) id; default: the connected audience.")]
SubjectLine = Annotated[str, Field(min_length=1, max_length=150, description="Subject line of the email.")]
PreviewText = Annotated[str, Field(default="", max_length=150, description="Preview text after the subject.")]
Html = Annotated[str, Field(min_length=1, max_length=1_000_000, description="Full HTML body of the email.")]
FromName = Annotated[str, Field(min_length=1, max_length=100, description="Sender name shown to recipients.")]
ReplyTo = Annotated[Email, Field(description="Reply-to address (must be verified in Mailchimp).")]
Title = Annotated[str | None, Field(default=None, max_length=100, description="Internal campaign title.")]


class CampaignRef(Params):
    """One campaign."""

    campaign_id: Id = Field(description="Mailchimp campaign id.")


class CreateCampaign(Params):
    """A regular campaign with its content, optionally scheduled."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**SPRING, **SENDER, "schedule_time": "2031-03-02T09:00:00Z"}]})

    list_id: ListIdParam = None
    title: Title = None
    subject_line: SubjectLine
    preview_text: PreviewText = ""
    from_name: FromName
    reply_to: ReplyTo
    html: Html
    segment_id: int | None = Field(default=None, ge=1, description="Saved segment to send to.")
    schedule_time: ScheduleTime | None = Field(default=None, description="UTC send time on a quarter hour.")


class GetCampaign(CampaignRef):
    """Parameters of ``get_campaign``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"campaign_id": SENT_CAMPAIGN}]})


class SendCampaign(CampaignRef):
    """Parameters of ``send_campaign``: a campaign that is ready and not sent yet."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"campaign_id": "7e8d1c5b32"}]})


class UnscheduleCampaign(CampaignRef):
    """Parameters of ``unschedule_campaign``: a scheduled campaign."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"campaign_id": SCHEDULED_CAMPAIGN}]})


class CampaignReport(CampaignRef):
    """Parameters of ``get_campaign_report``: a sent (or scheduled) campaign."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"campaign_id": SENT_CAMPAIGN}]})


class ListCampaigns(Params):
    """Campaigns, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "sent", "limit": 10}]})

    limit: int = LIMIT
    status: Literal["save", "paused", "schedule", "sending", "sent"] | None = Field(
        default=None, description="Only campaigns in this status.")
    type: Literal["regular", "plaintext", "absplit", "rss", "variate"] | None = Field(
        default=None, description="Only campaigns of this type.")


class SetCampaignContent(CampaignRef):
    """Replace a campaign's HTML content."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "campaign_id": DRAFT_CAMPAIGN, "html": "<h1>Spring sale</h1><p>Now 25% off everything.</p>"}]})

    html: Html


class ScheduleCampaign(CampaignRef):
    """Schedule (or reschedule) a campaign."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"campaign_id": "5d0c4e7a10", "schedule_time": "2031-06-02T09:00:00Z"}]})

    schedule_time: ScheduleTime = Field(description="UTC send time on a quarter hour.")


class SequenceEmail(Params):
    """One email of a sequence."""

    subject_line: SubjectLine
    preview_text: PreviewText = ""
    html: Html


class CreateEmailSequence(Params):
    """A drip sequence: one scheduled regular campaign per email, ``interval_days`` apart."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        **SENDER, "title": "Onboarding", "start_at": "2031-01-05T09:00:00Z", "interval_days": 2,
        "emails": [{"subject_line": f"Getting started, part {n} of 3", "html": f"<p>Lesson {n}</p>"}
                   for n in (1, 2, 3)]}]})

    list_id: ListIdParam = None
    title: str = Field(default="Nurturing sequence", min_length=1, max_length=80,
                       description="Prefix of each campaign's internal title.")
    from_name: FromName
    reply_to: ReplyTo
    start_at: Annotated[datetime, AfterValidator(round_up_quarter_hour)] = Field(
        description="UTC time of the first email; rounded up to the next quarter hour.")
    interval_days: int = Field(default=1, ge=1, le=90, description="Days between consecutive emails.")
    emails: list[SequenceEmail] = Field(min_length=1, max_length=20, description="The emails, in order.")

    def schedule_times(self) -> list[datetime]:
        """The UTC send time of each email, in order."""
        step = timedelta(days=self.interval_days)
        return [self.start_at + i * step for i in range(len(self.emails))]

    @model_validator(mode="after")
    def _starts_ahead(self, info: ValidationInfo) -> CreateEmailSequence:
        ahead(info, "start_at", self.start_at)
        return self


class ListAutomations(Params):
    """Classic automation workflows."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "save"}]})

    limit: int = LIMIT
    status: Literal["save", "paused", "sending"] | None = Field(default=None, description="Only this status.")


class AutomationRef(Params):
    """One classic automation workflow."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"workflow_id": WELCOME_AUTOMATION}]})

    workflow_id: Id = Field(description="Automation workflow id.")


class ListSegments(Params):
    """Segments and tags of an audience."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"type": "saved", "limit": 20}]})

    list_id: ListIdParam = None
    limit: int = LIMIT
    type: Literal["saved", "static", "fuzzy"] | None = Field(default=None, description="Only this type.")


class SegmentCondition(Params):
    """One segment condition, as Mailchimp's ``options.conditions[]`` item."""

    condition_type: str = Field(min_length=1, max_length=64, description="E.g. TextMerge, EmailAddress.")
    field: str = Field(min_length=1, max_length=64, description="Field the condition tests, e.g. FNAME.")
    op: str = Field(min_length=1, max_length=32, description="Operator, e.g. is, contains, greater.")
    value: str | int | float | bool | None = Field(default=None, description="Value to compare with.")
    extra: str | None = Field(default=None, max_length=64, description="Extra operand some conditions need.")


class CreateSegment(Params):
    """A static segment (fixed emails) or a saved segment (conditions); exactly one of the two."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Customers named Ada", "match": "any",
        "conditions": [{"condition_type": "TextMerge", "field": "FNAME", "op": "is", "value": "Ada"}]}]})

    list_id: ListIdParam = None
    name: str = Field(min_length=1, max_length=100, description="Segment name.")
    static_emails: list[Email] | None = Field(default=None, min_length=1, max_length=10_000,
                                              description="Emails of a static segment.")
    match: Literal["any", "all"] = Field(default="all", description="How conditions combine.")
    conditions: list[SegmentCondition] | None = Field(default=None, min_length=1, max_length=5,
                                                      description="Conditions of a saved segment.")

    _one_kind = exactly_one("static_emails", "conditions")


class UpsertMember(Params):
    """Add or update one audience member (idempotent PUT keyed by the email's hash)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "email": "ada@acme.example", "status_if_new": "subscribed",
        "merge_fields": {"FNAME": "Ada", "LNAME": "Lovelace"}}]})

    list_id: ListIdParam = None
    email: Email = Field(description="Member email address.")
    status_if_new: Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional"] = Field(
        default="subscribed", description="Status when the member is new.")
    status: Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional"] | None = Field(
        default=None, description="Status to set on an existing member.")
    merge_fields: dict[str, str | int | float] = Field(default_factory=dict, max_length=50,
                                                       description="Merge fields, e.g. {FNAME: 'Ada'}.")


class CreateAbTest(Params):
    """A/B test (``variate`` campaign) over subject lines and/or sender names."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        **SENDER, "html": SPRING["html"], "preview_text": SPRING["preview_text"],
        "subject_lines": ["Our spring sale starts now", "20% off everything, this week only"],
        "winner_criteria": "opens", "wait_time": 240, "test_size": 20}]})

    list_id: ListIdParam = None
    title: Title = None
    subject_lines: list[SubjectLine] = Field(min_length=1, max_length=3, description="Subject lines to test.")
    from_names: list[FromName] = Field(default_factory=list, max_length=3, description="Senders to test.")
    from_name: FromName
    reply_to: ReplyTo
    preview_text: PreviewText = ""
    html: Html
    winner_criteria: Literal["opens", "clicks", "manual", "total_revenue"] = Field(
        default="opens", description="How the winner is picked.")
    wait_time: int = Field(default=240, ge=15, le=43_200, description="Minutes before picking a winner.")
    test_size: int = Field(default=20, ge=10, le=100, description="Percent of recipients in the test.")
    schedule_time: ScheduleTime | None = Field(default=None, description="UTC send time on a quarter hour.")

    @model_validator(mode="after")
    def _combinations(self) -> CreateAbTest:
        subjects, senders = len(self.subject_lines), max(1, len(self.from_names))
        if subjects < 2 and senders < 2:
            raise ValueError("an A/B test needs at least two subject_lines or two from_names")
        if subjects * senders > 8:
            raise ValueError("Mailchimp allows at most 8 combinations")
        return self


class ListReports(Params):
    """Reports of sent campaigns."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"type": "regular", "limit": 10}]})

    limit: int = LIMIT
    type: Literal["regular", "plaintext", "absplit", "rss", "variate"] | None = Field(
        default=None, description="Only reports of this campaign type.")


SPEC = IntegrationSpec(
    id="mailchimp",
    provider="mailchimp",
    name="Mailchimp",
    implemented=True,
    credential_fields=(
        field("api_key", secret=True, pattern=r"[^\s]+-[a-z]{2,5}[0-9]{1,3}",
              pattern_hint="the whole key, ending with its datacenter (e.g. -us21)",
              example="0123456789abcdef0123456789abcdef-us21",
              description="Marketing API key; ends with its datacenter, e.g. -us21."),
        field("list_id", required=False, pattern=r"[A-Za-z0-9_-]{1,64}",
              pattern_hint="an audience id: letters, digits, - and _ (e.g. a1b2c3d4e5)", example="a1b2c3d4e5",
              description="Default audience (list) id."),
    ),
    actions=(
        act("create_campaign", "Create a regular campaign with content; optionally schedule it.",
            CreateCampaign, side_effect=True, requires=("list_id",)),
        act("get_campaign", "Read one campaign.", GetCampaign),
        act("list_campaigns", "List campaigns (paginated).", ListCampaigns),
        act("set_campaign_content", "Replace a campaign's HTML.", SetCampaignContent, side_effect=True),
        act("schedule_campaign", "Schedule or reschedule a campaign.", ScheduleCampaign, side_effect=True),
        act("unschedule_campaign", "Unschedule a scheduled campaign.", UnscheduleCampaign, side_effect=True),
        act("send_campaign", "Send a campaign now.", SendCampaign, side_effect=True),
        act("create_email_sequence", "Create and schedule a sequence of emails (e.g. a 5-email nurture).",
            CreateEmailSequence,
            side_effect=True, requires=("list_id",)),
        act("list_automations", "List classic automation workflows.", ListAutomations),
        act("get_automation", "Read one classic automation workflow.", AutomationRef),
        act("start_automation", "Start all emails of a classic automation.", AutomationRef, side_effect=True),
        act("pause_automation", "Pause all emails of a classic automation.", AutomationRef, side_effect=True),
        act("list_segments", "List an audience's segments (paginated).", ListSegments, requires=("list_id",)),
        act("create_segment", "Create a static or condition-based segment.", CreateSegment,
            side_effect=True, requires=("list_id",)),
        act("upsert_member", "Add or update an audience member.", UpsertMember,
            side_effect=True, requires=("list_id",)),
        act("create_ab_test", "Create an A/B test (variate) campaign.", CreateAbTest,
            side_effect=True, requires=("list_id",)),
        act("get_campaign_report", "Read a campaign's report (opens, clicks, bounces).", CampaignReport),
        act("list_reports", "List campaign reports (paginated).", ListReports),
    ),
)
