"""Brevo API v3 for Emmie: e-mail and SMS campaigns, transactional e-mail, contacts and automation events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, ValidationInfo, model_validator

from config.catalog.base import LIMIT, IntegrationSpec, ParamError, Params, act, ahead, exactly_one, examples, field


class Contact(Params):
    """An e-mail recipient or sender."""

    email: str = Field(min_length=3, description="Address.")
    name: str | None = Field(default=None, description="Display name.")


class _HtmlOrTemplate(Params):
    """An e-mail of HTML or of a template, sent now or at a ``scheduled_at`` that lies ahead.

    The subclasses declare the fields (in their own order, which their JSON Schema shows); this holds the rules.
    """

    _content = exactly_one("html_content", "template_id")

    @model_validator(mode="after")
    def _later(self, info: ValidationInfo) -> _HtmlOrTemplate:
        ahead(info, "scheduled_at", getattr(self, "scheduled_at", None))
        return self


class CreateEmailCampaign(_HtmlOrTemplate):
    """Parameters of ``create_email_campaign``: HTML content or a template."""

    model_config = examples(
        {"name": "Spring sale", "subject": "Spring is here",
         "sender": {"email": "news@acme.example", "name": "Acme"}, "html_content": "<p>Spring</p>", "list_ids": [2]},
    )

    name: str = Field(min_length=1, description="Campaign name.")
    subject: str = Field(min_length=1, description="Subject.")
    sender: Contact = Field(description="Verified sender.")
    html_content: str | None = Field(default=None, description="HTML body.")
    template_id: int | None = Field(default=None, description="Template id instead of html_content.")
    list_ids: list[int] = Field(min_length=1, description="Recipient lists.")
    reply_to: str | None = Field(default=None, description="Reply-to address.")
    scheduled_at: datetime | None = Field(default=None, description="Send time; a draft when omitted.")


class SendEmailCampaign(Params):
    """Parameters of ``send_email_campaign``."""

    model_config = examples({"campaign_id": 1})

    campaign_id: int = Field(ge=1, description="Campaign id.")


class SendTransactionalEmail(_HtmlOrTemplate):
    """Parameters of ``send_transactional_email``: HTML content or a template."""

    model_config = examples(
        {"to": [{"email": "ada@example.com", "name": "Ada"}],
         "sender": {"email": "news@acme.example", "name": "Acme"}, "subject": "Your receipt",
         "html_content": "<p>Thanks</p>", "tags": ["receipts"]},
    )

    to: list[Contact] = Field(min_length=1, max_length=99, description="Recipients.")
    sender: Contact | None = Field(default=None, description="Sender; the template's when omitted.")
    subject: str | None = Field(default=None, description="Subject.")
    html_content: str | None = Field(default=None, description="HTML body.")
    template_id: int | None = Field(default=None, description="Template id.")
    params: dict[str, Any] = Field(default_factory=dict, description="Template variables.")
    tags: list[str] = Field(default_factory=list, description="Tags.")
    scheduled_at: datetime | None = Field(default=None, description="Send later.")
    idempotency_key: str | None = Field(default=None, max_length=200,
                                        description="Dedupe key sent as headers.idempotencyKey; the job key "
                                                    "when omitted.")


class CreateSmsCampaign(Params):
    """Parameters of ``create_sms_campaign``."""

    model_config = examples({"name": "Flash sale", "sender": "Acme", "content": "Sale today only", "list_ids": [2]})

    name: str = Field(min_length=1, description="Campaign name.")
    sender: str = Field(min_length=1, max_length=15, description="Sender: up to 11 letters/digits or 15 "
                                                                 "digits.")
    content: str = Field(min_length=1, description="Message text.")
    list_ids: list[int] = Field(min_length=1, description="Recipient lists.")
    scheduled_at: datetime | None = Field(default=None, description="Send time; a draft when omitted.")

    @model_validator(mode="after")
    def _not_past(self, info: ValidationInfo) -> CreateSmsCampaign:
        ahead(info, "scheduled_at", self.scheduled_at)
        return self


class ListWorkflows(Params):
    """Parameters of ``list_automation_workflows``."""

    limit: int = LIMIT


class TrackEvent(Params):
    """Parameters of ``track_event``."""

    model_config = examples(
        {"event_name": "order_created", "email": "ada@example.com", "event_properties": {"total": 42}},
    )

    event_name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$",
                            description="Event that triggers automations (letters, digits, - and _).")
    email: str | None = Field(default=None, description="Contact e-mail.")
    contact_id: int | None = Field(default=None, description="Contact id.")
    event_properties: dict[str, Any] = Field(default_factory=dict, description="Event data.")
    contact_properties: dict[str, Any] = Field(default_factory=dict, description="Contact attributes to set.")

    @model_validator(mode="after")
    def _who(self) -> TrackEvent:
        if self.email is None and self.contact_id is None:
            raise ValueError("give email or contact_id")
        return self


class CreateContact(Params):
    """Parameters of ``create_contact``."""

    model_config = examples({"email": "new@example.com", "attributes": {"FIRSTNAME": "New"}, "list_ids": [7]})

    email: str = Field(min_length=3, description="E-mail.")
    attributes: dict[str, Any] = Field(default_factory=dict, description="Attributes, e.g. FIRSTNAME.")
    list_ids: list[int] = Field(default_factory=list, description="Lists to add the contact to.")
    update_enabled: bool = Field(default=True, description="Update the contact if it exists (safe to retry).")


class UpdateContact(Params):
    """Parameters of ``update_contact``."""

    model_config = examples(
        {"identifier": "member001@example.com", "attributes": {"LASTNAME": "Hopper"}, "list_ids": [7]},
    )

    identifier: str = Field(min_length=1, description="E-mail or contact id.")
    attributes: dict[str, Any] = Field(default_factory=dict, description="Attributes to set.")
    list_ids: list[int] = Field(default_factory=list, description="Lists to add to.")
    unlink_list_ids: list[int] = Field(default_factory=list, description="Lists to remove from.")

    @model_validator(mode="after")
    def _something(self) -> UpdateContact:
        if not (self.attributes or self.list_ids or self.unlink_list_ids):
            raise ParamError("attributes", "(or list_ids, unlink_list_ids) must be given: nothing to update")
        return self


class ListContacts(Params):
    """Parameters of ``list_contacts``."""

    model_config = examples({"limit": 5})

    list_id: int | None = Field(default=None, description="Only this list's contacts.")
    modified_since: datetime | None = Field(default=None, description="Modified since.")
    limit: int = LIMIT


SPEC = IntegrationSpec(
    id="brevo",
    provider="brevo",
    name="Brevo",
    credential_fields=(field("api_key", secret=True, description="API key, sent as the api-key header.",
                             example="xkeysib-0000000000000000000000000000000000000000000000000000000000000000-AbCdEfGh"),),
    actions=(
        act("create_email_campaign", "Create an e-mail campaign (POST /emailCampaigns).", CreateEmailCampaign,
            side_effect=True),
        act("send_email_campaign", "Send a campaign now (POST /emailCampaigns/{id}/sendNow); its status is "
            "checked before a retry.", SendEmailCampaign, side_effect=True),
        act("send_transactional_email",
            "Send a transactional e-mail (POST /smtp/email) with an idempotency key in "
            "headers.idempotencyKey, so a retry is not sent twice.", SendTransactionalEmail,
            side_effect=True),
        act("create_sms_campaign", "Create an SMS campaign (POST /smsCampaigns).", CreateSmsCampaign,
            side_effect=True),
        act("list_automation_workflows", "Automation workflows of the account.", ListWorkflows,
            restricted="Brevo's API has no endpoint to list, start or stop automation workflows; they are "
                       "triggered by contact events (see track_event) or list membership."),
        act("track_event", "Record a custom event for a contact (POST /events), which starts any automation "
            "workflow triggered by it.", TrackEvent, side_effect=True),
        act("create_contact", "Create a contact, or update it with updateEnabled (POST /contacts).",
            CreateContact, side_effect=True),
        act("update_contact", "Update a contact's attributes and lists (PUT /contacts/{identifier}).",
            UpdateContact, side_effect=True),
        act("list_contacts", "Contacts (GET /contacts, or GET /contacts/lists/{id}/contacts).", ListContacts),
    ),
    implemented=True,
)
