"""Zendesk results: ticket, article, macro and satisfaction summaries the client builds (Support API v2)."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Ticket(Result):
    """The facts of a ticket an agent needs."""

    id: int = desc("The ticket's id.")
    subject: str | None = desc("Its subject.")
    status: str | None = desc("new, open, pending, hold, solved or closed.")
    priority: str | None = desc("low, normal, high or urgent.")
    type: str | None = desc("question, incident, problem or task.")
    requester_id: int | None = desc("The user who asked.")
    assignee_id: int | None = desc("The agent it is assigned to.")
    group_id: int | None = desc("The group it is assigned to.")
    tags: list[str] = desc("Its tags.")
    external_id: str | None = desc("Its external id (the job reference for tickets Sintra created).")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class CreatedTicket(Ticket):
    """A ticket created."""

    created: bool = desc("False when an earlier attempt of this job had already created it.")


class Audited(Ticket):
    """A ticket after a reply, internal note or macro, applied once per job."""

    audit_id: int | None = desc("The audit of the update.")
    changed: bool = desc("False when an earlier attempt of this job had already made it.")


class MacroApplied(Audited):
    """A ticket after a macro was applied."""

    macro_id: int = desc("The macro.")


class Tickets(Result):
    """Tickets matching a search."""

    tickets: list[Ticket] = desc("The tickets, up to the limit.")
    count: int | None = desc("Number of matching tickets.")


class Article(Result):
    """A Help Center article, its body cropped."""

    id: int = desc("The article's id.")
    title: str | None = desc("Its title.")
    section_id: int | None = desc("Its section.")
    locale: str | None = desc("Its locale.")
    draft: bool | None = desc("Whether it is a draft.")
    html_url: str | None = desc("Its address in the Help Center.")
    label_names: list[str] = desc("Its labels.")
    body: str = desc("Its HTML body, cropped.")
    body_truncated: bool = desc("True when body was cropped.")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class CreatedArticle(Article):
    """An article created."""

    created: bool = desc("False when an earlier attempt of this job had already created it.")


class Articles(Result):
    """Articles matching a search."""

    articles: list[Article] = desc("The articles, up to the limit.")
    count: int | None = desc("Number of matching articles.")


class Macro(Result):
    """A macro and the changes it makes."""

    id: int = desc("The macro's id.")
    title: str | None = desc("Its title.")
    category: str | None = desc("The part of its title before '::'.")
    active: bool | None = desc("Whether it can be used.")
    actions: list[dict[str, Any]] = desc("The changes it makes ({field, value}).")


class Macros(Result):
    """The account's macros."""

    macros: list[Macro] = desc("The macros, up to the limit.")


class Ratings(Result):
    """Satisfaction ratings and the CSAT they give."""

    ratings: list[dict[str, Any]] = desc("Ratings (id, ticket_id, score, comment, reason, created_at, ...).")
    count: int = desc("Number returned.")
    by_score: dict[str, int] = desc("Score (good, bad, offered, ...) -> number of ratings.")
    csat_pct: float | None = desc("good / (good + bad) in percent (None: no good or bad rating).")


RESULTS: Registry = register("zendesk", {
    "create_ticket": CreatedTicket, "update_ticket": Ticket, "reply_to_ticket": Audited,
    "add_internal_note": Audited, "search_tickets": Tickets, "search_articles": Articles,
    "create_article": CreatedArticle, "list_macros": Macros, "apply_macro": MacroApplied,
    "get_satisfaction_ratings": Ratings,
})
