"""Freshdesk results: the ticket, article, contact and SLA summaries the client builds (no bodies)."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Ticket(Result):
    """The facts of a ticket an agent needs (no description body)."""

    id: int = desc("The ticket's id.")
    subject: str | None = desc("Its subject.")
    status: int | None = desc("Freshdesk's status code (2 open, 3 pending, 4 resolved, 5 closed).")
    status_name: str | None = desc("The status in words.")
    priority: int | None = desc("Freshdesk's priority code (1 low .. 4 urgent).")
    priority_name: str | None = desc("The priority in words.")
    channel: str | None = desc("Where it came from (email, portal, phone, ...).")
    requester_id: int | None = desc("The contact who asked.")
    responder_id: int | None = desc("The agent it is assigned to.")
    group_id: int | None = desc("The group it is assigned to.")
    tags: list[str] = desc("Its tags.")
    due_by: str | None = desc("When it must be resolved.")
    fr_due_by: str | None = desc("When it must first be answered.")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class UpdatedTicket(Ticket):
    """A ticket after an update."""

    changed: list[str] = desc("The fields sent, sorted.")


class Reply(Result):
    """A public reply on a ticket."""

    ticket_id: int = desc("The ticket.")
    reply_id: int = desc("The reply's (conversation's) id.")
    changed: bool = desc("False when an earlier attempt of this job had already replied.")
    created_at: str | None = desc("When the reply was created (only when this attempt created it).", None)


class Tickets(Result):
    """Tickets matching a filter."""

    tickets: list[Ticket] = desc("The tickets.")
    count: int = desc("Number of tickets returned.")


class OverdueTicket(Ticket):
    """An open or pending ticket past its due time."""

    overdue_seconds: int = desc("How long past due at as_of.")


class OverdueTickets(Result):
    """Open and pending tickets past their due time, most overdue first."""

    as_of: str = desc("The time compared against (UTC).")
    due: str = desc("The due field compared: due_by (resolution) or fr_due_by (first response).")
    tickets: list[OverdueTicket] = desc("The overdue tickets.")
    count: int = desc("Number of tickets returned.")
    searched: int = desc("Number of search results looked at.")
    search_total: int | None = desc("Number of tickets the search matched.")


class SlaPolicy(Result):
    """An SLA policy with its targets per priority."""

    id: int = desc("The policy's id.")
    name: str | None = desc("Its name.")
    active: bool | None = desc("Whether it applies.")
    is_default: bool | None = desc("Whether it is the default policy.")
    targets: dict[str, dict[str, Any]] = desc("Priority name -> {respond_within, resolve_within, ...} (seconds).")


class SlaPolicies(Result):
    """The helpdesk's SLA policies."""

    sla_policies: list[SlaPolicy] = desc("The policies.")


class Article(Result):
    """A knowledge-base article with its plain text."""

    id: int = desc("The article's id.")
    title: str | None = desc("Its title.")
    status: str | int | None = desc("draft or published.")
    folder_id: int | None = desc("Its folder.")
    category_id: int | None = desc("Its category.")
    tags: list[str] = desc("Its tags.")
    description_text: str | None = desc("Its body as plain text.")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class Articles(Result):
    """Articles of a folder."""

    articles: list[Article] = desc("The articles.")
    count: int = desc("Number of articles returned.")


class Contact(Result):
    """A portal contact."""

    id: int = desc("The contact's id.")
    name: str | None = desc("Its name.")
    email: str | None = desc("Its e-mail address.")
    phone: str | None = desc("Its phone number.")
    company_id: int | None = desc("Its company.")
    active: bool | None = desc("Whether it has verified its address.")
    tags: list[str] = desc("Its tags.")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class Contacts(Result):
    """Contacts matching a filter."""

    contacts: list[Contact] = desc("The contacts.")
    count: int = desc("Number of contacts returned.")


RESULTS: Registry = register("freshdesk", {
    "create_ticket": Ticket, "update_ticket": UpdatedTicket, "reply_to_ticket": Reply, "list_tickets": Tickets,
    "list_sla_policies": SlaPolicies, "search_overdue_tickets": OverdueTickets,
    "list_solution_articles": Articles, "create_solution_article": Article, "list_contacts": Contacts,
    "create_contact": Contact,
})
