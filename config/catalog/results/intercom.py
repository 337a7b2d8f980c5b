"""Intercom results: conversation changes, contacts and conversations in summary, reporting exports."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register

_CHANGED = "False when there was nothing to do (or an earlier attempt of this job had done it)."


class Part(Result):
    """A reply or note added to a conversation."""

    conversation_id: str = desc("The conversation.")
    part_id: str | None = desc("The new conversation part's id.")
    changed: bool = desc(_CHANGED)
    state: str | None = desc("The conversation's state after the reply (only when this attempt posted it).", None)


class Managed(Result):
    """A conversation closed (or its state after the attempt)."""

    conversation_id: str = desc("The conversation.")
    state: str | None = desc("open, closed or snoozed.")
    changed: bool = desc(_CHANGED)


class Assigned(Managed):
    """A conversation assigned to an admin or team."""

    admin_assignee_id: int | str | None = desc("The admin it is assigned to.")
    team_assignee_id: int | str | None = desc("The team it is assigned to.")


class Segment(Result):
    """A segment of contacts."""

    id: str = desc("The segment's id.")
    name: str | None = desc("Its name.")
    person_type: str | None = desc("user or lead.")
    count: int | None = desc("Number of contacts in it (when asked for).")


class Segments(Result):
    """The workspace's segments."""

    segments: list[Segment] = desc("The segments, up to the limit.")


class Tag(Result):
    """A tag."""

    id: str = desc("The tag's id.")
    name: str | None = desc("Its name.")


class Tags(Result):
    """The workspace's tags."""

    tags: list[Tag] = desc("The tags, up to the limit.")


class Tagged(Result):
    """A tag added to a contact."""

    contact_id: str = desc("The contact.")
    tag: Tag = desc("The tag.")


class Contact(Result):
    """A contact's identity, activity and tags."""

    id: str = desc("The contact's id.")
    role: str | None = desc("user or lead.")
    email: str | None = desc("Its e-mail address.")
    name: str | None = desc("Its name.")
    external_id: str | None = desc("Its id in your own systems.")
    last_seen_at: int | None = desc("When it was last seen (epoch seconds).")
    tag_ids: list[str | None] = desc("Its tags.")
    custom_attributes: dict[str, Any] = desc("Its custom attributes.")


class Contacts(Result):
    """Contacts matching a search."""

    contacts: list[Contact] = desc("The contacts, up to the limit.")
    total_count: int = desc("Number of matching contacts.")


class Conversation(Result):
    """A conversation's state, assignment and opening message."""

    id: str = desc("The conversation's id.")
    title: str | None = desc("Its title.")
    state: str | None = desc("open, closed or snoozed.")
    priority: str | None = desc("priority or not_priority.")
    created_at: int | None = desc("When it started (epoch seconds).")
    waiting_since: int | None = desc("Since when the contact waits for an answer (epoch seconds).")
    admin_assignee_id: int | str | None = desc("The admin it is assigned to.")
    team_assignee_id: int | str | None = desc("The team it is assigned to.")
    contact_ids: list[str | None] = desc("Its contacts.")
    tags: list[str | None] = desc("Its tags' names.")
    subject: str | None = desc("The opening message's subject.")
    body: str = desc("The opening message as plain text (clipped).")


class Conversations(Result):
    """Conversations matching a search."""

    conversations: list[Conversation] = desc("The conversations, up to the limit.")
    total_count: int = desc("Number of matching conversations.")


class Analytics(Result):
    """A reporting-data export, summarised."""

    dataset_id: str = desc("The dataset exported.")
    job_identifier: str = desc("Intercom's id of the export job.")
    start_time: str = desc("Start of the range (ISO 8601).")
    end_time: str = desc("End of the range (ISO 8601).")
    row_count: int = desc("Number of rows exported.")
    metrics: dict[str, dict[str, float]] = desc("Numeric column -> {count, mean, median, min, max}.")
    rows: list[dict[str, str]] = desc("A sample of the rows, as CSV strings.")
    rows_truncated: bool = desc("True when rows is only a sample.")


class WorkflowExport(Result):
    """A workflow's definition (Intercom's export format)."""

    export_version: str | None = desc("The export format's version.")
    exported_at: str | None = desc("When it was exported.")
    workflow: dict[str, Any] = desc("The workflow (id, title, trigger_type, state, targeting, steps, ...).")


RESULTS: Registry = register("intercom", {
    "reply_to_conversation": Part, "add_note": Part, "assign_conversation": Assigned,
    "close_conversation": Managed, "list_segments": Segments, "list_tags": Tags, "tag_contact": Tagged,
    "search_contacts": Contacts, "search_conversations": Conversations, "conversation_analytics": Analytics,
    "export_workflow": WorkflowExport,
})
