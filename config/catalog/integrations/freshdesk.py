"""Freshdesk API v2 for Cassie: tickets, SLA policies, solution articles and contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from config.catalog.base import LABEL, LIMIT, IntegrationSpec, Params, act, exactly_one, examples, field, some_change

#: Freshdesk's numeric codes: priority 1 low .. 4 urgent; status 2 open, 3 pending, 4 resolved, 5 closed.
Priority = Literal[1, 2, 3, 4]
Status = Literal[2, 3, 4, 5]
#: Ticket channels and their Freshdesk ``source`` codes (1, 2, 3, 7, 9, 10).
Channel = Literal["email", "portal", "phone", "chat", "feedback_widget", "outbound_email"]


class CreateTicket(Params):
    """Parameters of ``create_ticket``: the requester by e-mail or id."""

    model_config = examples(
        {"subject": "Printer on fire", "description": "<p>Help</p>", "email": "ada@example.com", "channel": "email",
         "priority": 3, "tags": ["vip"]},
    )

    subject: str = Field(min_length=1, description="Subject.")
    description: str = Field(min_length=1, description="Body (HTML).")
    email: str | None = Field(default=None, description="Requester e-mail (contact created if unknown).")
    requester_id: int | None = Field(default=None, description="Existing contact id.")
    priority: Priority = Field(default=1, description="1 low, 2 medium, 3 high, 4 urgent.")
    status: Status = Field(default=2, description="2 open, 3 pending, 4 resolved, 5 closed.")
    channel: Channel = Field(default="portal", description="Source channel of the ticket.")
    type: str | None = Field(default=None, description="Ticket type, as configured in the helpdesk.")
    group_id: int | None = Field(default=None, description="Group.")
    responder_id: int | None = Field(default=None, description="Agent.")
    tags: list[str] = Field(default_factory=list, description="Tags.")
    custom_fields: dict[str, Any] = Field(default_factory=dict, description="Custom fields by name (cf_...).")

    _requester = exactly_one("email", "requester_id")


class UpdateTicket(Params):
    """Parameters of ``update_ticket``: at least one change."""

    model_config = examples({"ticket_id": 1, "status": 3, "priority": 4})

    ticket_id: int = Field(ge=1, description="Ticket id.")
    status: Status | None = Field(default=None, description="2 open, 3 pending, 4 resolved, 5 closed.")
    priority: Priority | None = Field(default=None, description="1 low .. 4 urgent.")
    type: str | None = Field(default=None, description="Ticket type.")
    group_id: int | None = Field(default=None, description="Group.")
    responder_id: int | None = Field(default=None, description="Agent.")
    tags: list[str] | None = Field(default=None, description="Replaces all tags.")
    custom_fields: dict[str, Any] | None = Field(default=None, description="Custom fields to set.")

    _something = some_change("ticket_id")


class ReplyToTicket(Params):
    """Parameters of ``reply_to_ticket``."""

    model_config = examples({"ticket_id": 3, "body": "<p>On it.</p>"})

    ticket_id: int = Field(ge=1, description="Ticket id.")
    body: str = Field(min_length=1, description="Reply (HTML), e-mailed to the requester.")
    cc_emails: list[str] = Field(default_factory=list, description="Extra recipients.")


class ListTickets(Params):
    """Parameters of ``list_tickets``."""

    model_config = examples({"limit": 5})

    channel: Channel | None = Field(default=None, description="Only tickets from this channel.")
    filter: Literal["new_and_my_open", "watching", "spam", "deleted"] | None = Field(
        default=None, description="Predefined Freshdesk filter.")
    updated_since: datetime | None = Field(
        default=None, description="Tickets updated since; without it Freshdesk lists the last 30 days only.")
    limit: int = LIMIT


class ListSlaPolicies(Params):
    """Parameters of ``list_sla_policies``."""

    model_config = examples({"limit": 10})

    limit: int = LIMIT


class SearchOverdue(Params):
    """Parameters of ``search_overdue_tickets``."""

    model_config = examples({"due": "resolution", "limit": 30})

    due: Literal["resolution", "first_response"] = Field(
        default="resolution", description="Which SLA target: due_by (resolution) or fr_due_by (first "
                                          "response).")
    as_of: datetime | None = Field(default=None, description="Overdue as of this time; now when omitted.")
    limit: int = Field(default=30, ge=1, le=300,
                       description="Maximum tickets (Freshdesk search stops at 10 pages of 30).")


class ListSolutionArticles(Params):
    """Parameters of ``list_solution_articles``: a folder, or a search term."""

    model_config = examples({"folder_id": 43000010001})

    folder_id: int | None = Field(default=None, description="Solution folder.")
    term: str | None = Field(default=None, description="Search term (GET /search/solutions?term=).")
    limit: int = LIMIT

    _scope = exactly_one("folder_id", "term")


class CreateSolutionArticle(Params):
    """Parameters of ``create_solution_article``."""

    model_config = examples(
        {"folder_id": 43000010001, "title": "How to restart", "description": "<p>Hold the power button.</p>"},
    )

    folder_id: int = Field(ge=1, description="Solution folder.")
    title: str = Field(min_length=3, description="Title.")
    description: str = Field(min_length=1, description="Body (HTML).")
    status: Literal["draft", "published"] = Field(default="draft", description="Draft (1) or published (2).")
    tags: list[str] = Field(default_factory=list, description="Tags.")


class ListContacts(Params):
    """Parameters of ``list_contacts``."""

    model_config = examples({"email": "ada@example.com"})

    email: str | None = Field(default=None, description="Only the contact with this e-mail.")
    company_id: int | None = Field(default=None, description="Only contacts of this company.")
    state: Literal["blocked", "deleted", "unverified", "verified"] | None = Field(default=None,
                                                                                  description="State.")
    updated_since: datetime | None = Field(default=None, description="Updated since.")
    limit: int = LIMIT


class CreateContact(Params):
    """Parameters of ``create_contact``: a name and at least one of e-mail, phone or mobile."""

    model_config = examples({"name": "Grace", "email": "grace@example.com"})

    name: str = Field(min_length=1, description="Full name.")
    email: str | None = Field(default=None, description="Primary e-mail (unique).")
    phone: str | None = Field(default=None, description="Phone.")
    mobile: str | None = Field(default=None, description="Mobile.")
    company_id: int | None = Field(default=None, description="Company.")
    tags: list[str] = Field(default_factory=list, description="Tags.")
    custom_fields: dict[str, Any] = Field(default_factory=dict, description="Custom contact fields.")

    @model_validator(mode="after")
    def _reachable(self) -> CreateContact:
        if not (self.email or self.phone or self.mobile):
            raise ValueError("give at least one of email, phone or mobile")
        return self


SPEC = IntegrationSpec(
    id="freshdesk",
    provider="freshdesk",
    name="Freshdesk",
    credential_fields=(
        field("domain", pattern=rf"(?i)(?:https?://)?{LABEL}(?:\.freshdesk\.com(?:/[a-z0-9._~/-]*)?)?/?",
              pattern_hint="the helpdesk subdomain (acme, or acme.freshdesk.com)",
              description="Helpdesk subdomain, as in <domain>.freshdesk.com.",
              example="acme"),
        field("api_key", secret=True, description="Agent API key (Basic auth user; the password is 'X').",
              example="AbCdEfGhIjKlMnOpQrSt"),
    ),
    actions=(
        act("create_ticket", "Create a ticket (POST /tickets). No idempotency key: the ticket carries a tag "
            "derived from the job, and on retry the requester's recent tickets are searched for it before "
            "creating again.", CreateTicket, side_effect=True),
        act("update_ticket", "Change status, priority, type, group, agent, tags or fields (PUT "
                             "/tickets/{id}).",
            UpdateTicket, side_effect=True),
        act("reply_to_ticket", "Reply to the requester (POST /tickets/{id}/reply).", ReplyToTicket,
            side_effect=True),
        act("list_tickets", "Tickets, newest first (GET /tickets). Freshdesk has no channel filter, so the "
                            "client keeps the tickets whose source matches channel.", ListTickets),
        act("list_sla_policies", "SLA policies with their targets per priority (GET /sla_policies).",
            ListSlaPolicies),
        act("search_overdue_tickets", "Open or pending tickets past their SLA due time "
            "(GET /search/tickets?query=\"(status:2 OR status:3) AND due_by:<'...'\").", SearchOverdue),
        act("list_solution_articles", "Knowledge-base articles of a folder "
            "(GET /solutions/folders/{id}/articles) or matching a term.", ListSolutionArticles),
        act("create_solution_article", "Create a knowledge-base article (POST "
                                       "/solutions/folders/{id}/articles).",
            CreateSolutionArticle, side_effect=True),
        act("list_contacts", "Contacts (GET /contacts).", ListContacts),
        act("create_contact", "Create a contact (POST /contacts).", CreateContact, side_effect=True),
    ),
    reason="The Free plan has no API access; per-minute limits depend on the plan (Growth 200, Pro 400, "
           "Enterprise 700).",
    implemented=True,
)
