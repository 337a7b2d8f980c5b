"""Zendesk Support and Help Center for Cassie: tickets, articles, macros and satisfaction ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from config.catalog.base import LABEL, LIMIT, IntegrationSpec, Params, act, field, some_change

# The examples name what every simulated account is seeded with: tickets 10005 (new), 10008 and 10023 (open),
# 10011 (pending); macro 10106 ("Triage::Escalate to tier 2"); the FAQ section and the agents' permission group.
SECTION_FAQ, PERMISSION_GROUP = 360000000101, 360000000201

Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "hold", "solved", "closed"]


class CustomField(Params):
    """A ticket custom field value."""

    id: int = Field(description="Custom field id.")
    value: Any = Field(description="Value of the field.")


class CreateTicket(Params):
    """Parameters of ``create_ticket``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "subject": "Cannot download my invoice", "body": "The download button on the billing page does nothing.",
        "requester_email": "ada@customer.example", "requester_name": "Ada Lovelace", "priority": "normal",
        "type": "question", "tags": ["billing"]}]})

    subject: str = Field(min_length=1, max_length=150, description="Ticket subject.")
    body: str = Field(min_length=1, description="First comment (plain text).")
    public: bool = Field(default=True, description="Whether the first comment is visible to the requester.")
    requester_email: str | None = Field(default=None, description="Requester e-mail (created if unknown).")
    requester_name: str | None = Field(default=None, description="Requester name, for a new requester.")
    requester_id: int | None = Field(default=None, description="Existing requester id.")
    priority: Priority | None = Field(default=None, description="Ticket priority.")
    type: Literal["problem", "incident", "question", "task"] | None = Field(default=None, description="Type.")
    tags: list[str] = Field(default_factory=list, description="Tags.")
    custom_fields: list[CustomField] = Field(default_factory=list, description="Custom field values.")

    @model_validator(mode="after")
    def _one_requester(self) -> CreateTicket:
        if self.requester_email and self.requester_id:
            raise ValueError("give requester_email or requester_id, not both")
        return self


class UpdateTicket(Params):
    """Parameters of ``update_ticket``: at least one change."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"ticket_id": 10008, "status": "pending", "priority": "high", "tags": ["refund"]}]})

    ticket_id: int = Field(ge=1, description="Ticket id.")
    status: Status | None = Field(default=None, description="New status.")
    priority: Priority | None = Field(default=None, description="New priority.")
    assignee_id: int | None = Field(default=None, description="Agent to assign.")
    group_id: int | None = Field(default=None, description="Group to assign.")
    tags: list[str] | None = Field(default=None, description="Replaces all tags.")
    custom_fields: list[CustomField] | None = Field(default=None, description="Custom field values to set.")

    _something = some_change("ticket_id")


class ReplyToTicket(Params):
    """Parameters of ``reply_to_ticket``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "ticket_id": 10005, "body": "Thanks for reaching out: we have reset your login, please try again.",
        "status": "pending"}]})

    ticket_id: int = Field(ge=1, description="Ticket id.")
    body: str = Field(min_length=1, description="Reply text, visible to the requester.")
    status: Status | None = Field(default=None, description="Status to set with the reply (e.g. pending).")


class AddInternalNote(Params):
    """Parameters of ``add_internal_note``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"ticket_id": 10011, "body": "Customer is on the enterprise plan: escalate if unsolved today."}]})

    ticket_id: int = Field(ge=1, description="Ticket id.")
    body: str = Field(min_length=1, description="Note text, visible to agents only.")


class SearchTickets(Params):
    """Parameters of ``search_tickets``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"query": "status:open", "sort_by": "updated_at", "sort_order": "desc", "limit": 20}]})

    query: str = Field(min_length=1, description="Zendesk search query; type:ticket is added, e.g. "
                                                 "'status:open'.")
    sort_by: Literal["created_at", "updated_at", "priority", "status", "ticket_type"] | None = Field(
        default=None, description="Sort field.")
    sort_order: Literal["asc", "desc"] = Field(default="desc", description="Sort order.")
    limit: int = LIMIT


class SearchArticles(Params):
    """Parameters of ``search_articles``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "password", "locale": "en-us", "limit": 10}]})

    query: str = Field(min_length=1, description="Words to search for.")
    locale: str | None = Field(default=None, description="Locale, e.g. en-us; all locales when omitted.")
    section_id: int | None = Field(default=None, description="Only this section.")
    limit: int = LIMIT


class CreateArticle(Params):
    """Parameters of ``create_article``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "section_id": SECTION_FAQ, "permission_group_id": PERMISSION_GROUP, "title": "How to download an invoice",
        "body": "<p>Open <b>Billing</b> and choose <i>Invoices</i>.</p>", "label_names": ["billing"]}]})

    section_id: int = Field(ge=1, description="Help Center section.")
    title: str = Field(min_length=1, max_length=255, description="Article title.")
    body: str = Field(min_length=1, description="Article body (HTML).")
    locale: str = Field(default="en-us", description="Article locale.")
    permission_group_id: int = Field(ge=1, description="Permission group allowed to edit the article.")
    user_segment_id: int | None = Field(default=None, description="Who can see it; everyone when omitted.")
    draft: bool = Field(default=True, description="Create as a draft.")
    label_names: list[str] = Field(default_factory=list, description="Labels.")


class ListMacros(Params):
    """Parameters of ``list_macros``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"category": "Triage", "limit": 20}]})

    active_only: bool = Field(default=True, description="Only active macros.")
    category: str | None = Field(default=None, description="Only macros of this category: the part of the "
                                                            "title before '::' (case-insensitive).")
    limit: int = LIMIT


class ApplyMacro(Params):
    """Parameters of ``apply_macro``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ticket_id": 10023, "macro_id": 10106}]})

    ticket_id: int = Field(ge=1, description="Ticket id.")
    macro_id: int = Field(ge=1, description="Macro id.")


class SatisfactionRatings(Params):
    """Parameters of ``get_satisfaction_ratings``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"score": "received", "limit": 50}]})

    score: Literal["offered", "unoffered", "received", "received_with_comment", "received_without_comment",
                   "good", "good_with_comment", "good_without_comment", "bad", "bad_with_comment",
                   "bad_without_comment"] | None = Field(default=None, description="Score filter.")
    start_time: datetime | None = Field(default=None, description="Ratings created at or after.")
    end_time: datetime | None = Field(default=None, description="Ratings created before.")
    limit: int = LIMIT


SPEC = IntegrationSpec(
    id="zendesk",
    provider="zendesk",
    name="Zendesk",
    implemented=True,
    credential_fields=(
        field("subdomain", pattern=f"(?i){LABEL}",
              pattern_hint="the account subdomain alone (acme for acme.zendesk.com)",
              example="acme", description="Account subdomain, as in <subdomain>.zendesk.com."),
        field("email", pattern=r"[^@\s/]+@[^@\s/]+\.[^@\s/]+", pattern_hint="an e-mail address",
              example="agent@acme.example",
              description="E-mail of the agent or admin the token acts as (user '{email}/token')."),
        field("api_token", secret=True, example="0123456789abcdefABCDEF0123456789abcdefAB",
              description="Zendesk API token."),
    ),
    actions=(
        act("create_ticket", "Create a ticket (POST /tickets) with the job key as Idempotency-Key, so a "
                             "retry cannot create a second ticket.", CreateTicket, side_effect=True),
        act("update_ticket", "Change a ticket's status, priority, assignee, group, tags or fields "
            "(PUT /tickets/{id}).", UpdateTicket, side_effect=True),
        act("reply_to_ticket", "Add a public comment to a ticket (PUT /tickets/{id}, comment.public=true).",
            ReplyToTicket, side_effect=True),
        act("add_internal_note", "Add a private note to a ticket (PUT /tickets/{id}, comment.public=false).",
            AddInternalNote, side_effect=True),
        act("search_tickets", "Search tickets (GET /search.json?query=type:ticket ...).", SearchTickets),
        act("search_articles", "Search Help Center articles (GET /help_center/articles/search).",
            SearchArticles),
        act("create_article", "Create a Help Center article in a section "
            "(POST /help_center/{locale}/sections/{id}/articles).", CreateArticle, side_effect=True),
        act("list_macros", "Shared and personal macros (GET /macros, or /macros/active).", ListMacros),
        act("apply_macro", "Apply a macro: read its changes (GET /tickets/{id}/macros/{macro_id}/apply), "
                           "then save them to the ticket (PUT /tickets/{id}).", ApplyMacro, side_effect=True),
        act("get_satisfaction_ratings", "CSAT ratings with score and comment (GET /satisfaction_ratings).",
            SatisfactionRatings),
    ),
)
