"""Twilio SendGrid v3 for Emmie: transactional mail, Single Sends, templates and statistics."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, model_validator
from pydantic.config import JsonDict

from config.catalog.base import (
    LIMIT,
    IntegrationSpec,
    Params,
    act,
    ahead,
    field,
    in_order,
    one_of,
    submitted_at,
)


#: The sandbox the simulator seeds: verified sender 1 (news@acme.example, on the authenticated domain
#: acme.example), a contact list, and a draft Single Send ready to schedule.
SENDER: JsonDict = {"email": "news@acme.example", "name": "Acme"}
LIST_ID, DRAFT_SINGLE_SEND = "7a1b2c3d-0000-4000-8000-000000000001", "5e3f2c1a-0000-4000-8000-00000000a001"


class Address(Params):
    """An e-mail address with an optional display name."""

    email: str = Field(min_length=3, description="Address.")
    name: str | None = Field(default=None, description="Display name.")


class SendMail(Params):
    """Parameters of ``send_mail``: HTML/text content or a dynamic template."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "to": [{"email": "ada@example.com", "name": "Ada"}], "sender": SENDER, "subject": "Your receipt",
        "html": "<p>Thanks for your order!</p>", "text": "Thanks for your order!", "categories": ["receipts"]}]})

    to: list[Address] = Field(min_length=1, max_length=1000, description="Recipients (one personalization).")
    sender: Address = Field(description="Verified sender (from).")
    subject: str | None = Field(default=None, description="Subject (the template's when omitted).")
    html: str | None = Field(default=None, description="HTML body.")
    text: str | None = Field(default=None, description="Plain-text body.")
    template_id: str | None = Field(default=None, pattern=r"^d-", description="Dynamic template id (d-...).")
    dynamic_template_data: dict[str, Any] = Field(default_factory=dict, description="Template variables.")
    reply_to: Address | None = Field(default=None, description="Reply-to address.")
    categories: list[str] = Field(default_factory=list, max_length=10, description="Categories, for stats.")
    custom_args: dict[str, str] = Field(default_factory=dict,
                                        description="Echoed in events; the job key is added for dedupe.")
    send_at: datetime | None = Field(default=None, description="Send later (up to 72 hours ahead).")

    @model_validator(mode="after")
    def _content(self, info: ValidationInfo) -> SendMail:
        if not (self.html or self.text or self.template_id):
            raise ValueError("give html, text or template_id")
        if not (self.subject or self.template_id):
            raise ValueError("give a subject (only a dynamic template may carry its own)")
        ahead(info, "send_at", self.send_at, at_most=timedelta(hours=72))  # what mail send can hold
        return self


class CreateSingleSend(Params):
    """Parameters of ``create_single_send``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Spring launch", "sender_id": 1, "subject": "Spring is here", "html_content": "<h1>Spring is here</h1>",
        "list_ids": [LIST_ID]}]})

    name: str = Field(min_length=1, description="Internal name.")
    sender_id: int = Field(ge=1, description="Verified sender id.")
    subject: str | None = Field(default=None, description="Subject.")
    html_content: str | None = Field(default=None, description="HTML body.")
    plain_content: str | None = Field(default=None, description="Plain-text body.")
    design_id: str | None = Field(default=None, description="Design to use instead of html_content.")
    list_ids: list[str] = Field(default_factory=list, description="Contact lists.")
    segment_ids: list[str] = Field(default_factory=list, description="Segments.")
    all_contacts: bool = Field(default=False, description="Send to all contacts.")
    suppression_group_id: int | None = Field(default=None, description="Unsubscribe group.")

    @model_validator(mode="after")
    def _audience(self) -> CreateSingleSend:
        if not (self.all_contacts or self.list_ids or self.segment_ids):
            raise ValueError("give list_ids, segment_ids or all_contacts")
        return self


class ScheduleSingleSend(Params):
    """Parameters of ``schedule_single_send``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"single_send_id": DRAFT_SINGLE_SEND, "send_at": "2031-01-01T09:00:00Z"}]})

    single_send_id: str = Field(min_length=1, description="Single Send id.")
    send_at: datetime | Literal["now"] = Field(description="When to send, or 'now'.")

    @model_validator(mode="after")
    def _not_past(self, info: ValidationInfo) -> ScheduleSingleSend:
        ahead(info, "send_at", None if isinstance(self.send_at, str) else self.send_at)
        return self


class ListTemplates(Params):
    """Parameters of ``list_templates``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"generation": "dynamic", "limit": 10}]})

    generation: Literal["legacy", "dynamic"] = Field(default="dynamic", description="Template generation.")
    limit: int = LIMIT


class CreateTemplate(Params):
    """Parameters of ``create_template``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Welcome", "subject": "Welcome, {{first_name}}!",
        "html_content": "<p>Hi {{first_name}}, welcome aboard.</p>"}]})

    name: str = Field(min_length=1, max_length=100, description="Template name.")
    generation: Literal["legacy", "dynamic"] = Field(default="dynamic", description="Template generation.")
    subject: str | None = Field(default=None, description="Subject of the first version.")
    html_content: str | None = Field(default=None, description="HTML of the first version (created active).")
    plain_content: str | None = Field(default=None, description="Plain text of the first version.")


class GetStats(Params):
    """Parameters of ``get_stats``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"start_date": "2026-11-01", "end_date": "2026-11-07", "aggregated_by": "day"}]})

    start_date: date = Field(description="First day.")
    end_date: date | None = Field(default=None, description="Last day; today when omitted.")
    aggregated_by: Literal["day", "week", "month"] = Field(default="day", description="Bucket size.")
    categories: list[str] = Field(default_factory=list, max_length=10,
                                  description="Per-category stats (GET /v3/categories/stats) instead of "
                                              "global.")

    @model_validator(mode="after")
    def _ordered(self, info: ValidationInfo) -> GetStats:
        now = submitted_at(info)
        in_order("start_date", self.start_date, "end_date", self.end_date or (now.date() if now else None))
        return self


SPEC = IntegrationSpec(
    id="sendgrid",
    provider="sendgrid",
    name="SendGrid",
    credential_fields=(
        field("api_key", secret=True, example="SG.0123456789abcdefABCDEF.0123456789abcdefABCDEF0123456789abcdefABCDE",
              description="Scoped API key (mail.send, marketing, templates, stats)."),
        field("region", required=False, **one_of("global", "us", "eu"), example="global",
              description="global (api.sendgrid.com) or eu (api.eu.sendgrid.com)."),
        field("on_behalf_of", required=False, example="acme-marketing",
              description="Subuser to act for (on-behalf-of header)."),
    ),
    actions=(
        act("send_mail", "Send a transactional e-mail (POST /v3/mail/send, 202 with X-Message-Id). No "
            "idempotency key: the job key travels in custom_args and the send is recorded before the call.",
            SendMail, side_effect=True),
        act("create_single_send", "Create a marketing Single Send draft (POST /v3/marketing/singlesends).",
            CreateSingleSend, side_effect=True),
        act("schedule_single_send", "Schedule or send a Single Send (PUT "
                                    "/v3/marketing/singlesends/{id}/schedule).",
            ScheduleSingleSend, side_effect=True),
        act("list_templates", "Transactional templates (GET /v3/templates?generations=...).", ListTemplates),
        act("create_template", "Create a template and, if content is given, its first version "
            "(POST /v3/templates, POST /v3/templates/{id}/versions).", CreateTemplate, side_effect=True),
        act("get_stats",
            "Requests, deliveries, opens, clicks, bounces, spam reports (GET /v3/stats).", GetStats),
    ),
    implemented=True,
)
