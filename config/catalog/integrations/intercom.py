"""Intercom for Cassie: conversations, contacts, tags, segments, reporting exports and workflows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from config.catalog.base import LIMIT, IntegrationSpec, Params, act, exactly_one, examples, field, one_of

#: Why workflows cannot be listed or run.
NO_WORKFLOW_API = (
    "Intercom's public REST API has no endpoint to list, trigger or run Workflows; only GET "
    "/export/workflows/{id} (export one workflow's definition, API 2.15+) exists."
)

Scalar = str | int | float | bool
Operator = Literal["=", "!=", "IN", "NIN", ">", "<", "~", "!~", "^", "$"]


class SearchFilter(Params):
    """One condition of an Intercom search query."""

    field: str = Field(min_length=1, description="Attribute, e.g. email, state, created_at, "
                                                 "custom_attributes.x.")
    operator: Operator = Field(description="Comparison.")
    value: Scalar | list[Scalar] | None = Field(description="Value (a list for IN/NIN; unix seconds for "
                                                            "dates).")


class Search(Params):
    """Parameters of ``search_contacts`` and ``search_conversations``."""

    filters: list[SearchFilter] = Field(min_length=1, max_length=15, description="Conditions.")
    combine: Literal["AND", "OR"] = Field(default="AND", description="How the conditions combine.")
    limit: int = LIMIT


class SearchContacts(Search):
    """Parameters of ``search_contacts``."""

    model_config = examples({"filters": [{"field": "role", "operator": "=", "value": "user"}], "limit": 5})


class SearchConversations(Search):
    """Parameters of ``search_conversations``."""

    model_config = examples({"filters": [{"field": "state", "operator": "=", "value": "open"}], "limit": 20})


class Reply(Params):
    """Parameters of ``reply_to_conversation``."""

    model_config = examples({"conversation_id": "100000", "body": "Hi there, looking into it."})

    conversation_id: str = Field(min_length=1, description="Conversation id.")
    body: str = Field(min_length=1, description="Reply (HTML allowed), sent as the configured admin.")
    attachment_urls: list[str] = Field(default_factory=list, max_length=10, description="Files to attach.")


class Note(Params):
    """Parameters of ``add_note``."""

    model_config = examples({"conversation_id": "100001", "body": "Customer is on the pro plan."})

    conversation_id: str = Field(min_length=1, description="Conversation id.")
    body: str = Field(min_length=1, description="Internal note (HTML allowed), visible to teammates only.")


class Assign(Params):
    """Parameters of ``assign_conversation``."""

    model_config = examples({"conversation_id": "100000", "assignee_id": "991268"})

    conversation_id: str = Field(min_length=1, description="Conversation id.")
    assignee_id: str = Field(min_length=1, description="Admin or team id; '0' unassigns.")
    assignee_type: Literal["admin", "team"] = Field(default="admin", description="Kind of assignee.")
    body: str | None = Field(default=None, description="Optional note added with the assignment.")


class Close(Params):
    """Parameters of ``close_conversation``."""

    model_config = examples({"conversation_id": "100001", "body": "Closing, thanks!"})

    conversation_id: str = Field(min_length=1, description="Conversation id.")
    body: str | None = Field(default=None, description="Optional closing message to the customer.")


class ListSegments(Params):
    """Parameters of ``list_segments``."""

    model_config = examples({"include_count": True})

    include_count: bool = Field(default=False, description="Also count the contacts in each segment.")
    limit: int = LIMIT


class ListTags(Params):
    """Parameters of ``list_tags``."""

    model_config = examples({"limit": 20})

    limit: int = LIMIT


class TagContact(Params):
    """Parameters of ``tag_contact``: a tag id, or a name (the tag is created if it does not exist)."""

    model_config = examples({"contact_id": "600000000000000000000001", "tag_name": "vip"})

    contact_id: str = Field(min_length=1, description="Contact id.")
    tag_id: str | None = Field(default=None, description="Existing tag id.")
    tag_name: str | None = Field(default=None, description="Tag name, created if needed (POST /tags).")

    _one_tag = exactly_one("tag_id", "tag_name")


class ConversationAnalytics(Params):
    """Parameters of ``conversation_analytics``."""

    model_config = examples({"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-02-01T00:00:00Z"})

    start_time: datetime = Field(description="Start of the period.")
    end_time: datetime = Field(description="End of the period.")
    dataset_id: str = Field(default="conversation", description="Reporting dataset (see get_datasets).")
    attribute_ids: list[str] = Field(
        default_factory=lambda: ["conversation_id", "conversation_started_at", "first_response_time",
                                 "time_to_close", "conversation_rating"],
        min_length=1, description="Dataset attributes to export.")

    @model_validator(mode="after")
    def _period(self) -> ConversationAnalytics:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class ExportWorkflow(Params):
    """Parameters of ``export_workflow``."""

    model_config = examples({"workflow_id": "67890"})

    workflow_id: str = Field(min_length=1, description="Workflow id.")


class ListWorkflows(Params):
    """Parameters of ``list_workflows``."""

    limit: int = LIMIT


class RunWorkflow(Params):
    """Parameters of ``run_workflow``."""

    workflow_id: str = Field(min_length=1, description="Workflow id.")
    conversation_id: str | None = Field(default=None, description="Conversation to run it on.")


SPEC = IntegrationSpec(
    id="intercom",
    provider="intercom",
    name="Intercom",
    implemented=True,
    credential_fields=(
        field("access_token", secret=True, description="Workspace access token or OAuth token (no expiry).",
              example="dG9rOjAwMDAwMDAwXzAwMDA6MTow"),
        field("region", **one_of("us", "eu", "au"),
              description="Data region: us (api.intercom.io), eu (api.eu.intercom.io) or au (api.au.intercom.io).",
              example="us"),
        field("admin_id", description="Admin that replies, notes, assigns and closes.",
              pattern=r"\d{1,20}", pattern_hint="the numeric admin id", example="991267"),
    ),
    actions=(
        act("reply_to_conversation", "Reply to the customer as the admin (POST /conversations/{id}/reply, "
            "message_type comment).", Reply, side_effect=True),
        act("add_note", "Add an internal note (POST /conversations/{id}/reply, message_type note).", Note,
            side_effect=True),
        act("assign_conversation", "Assign to an admin or team (POST /conversations/{id}/parts, message_type "
            "assignment).", Assign, side_effect=True),
        act("close_conversation",
            "Close a conversation (POST /conversations/{id}/parts, message_type close).",
            Close, side_effect=True),
        act("list_segments", "Contact segments (GET /segments).", ListSegments),
        act("list_tags", "Workspace tags (GET /tags).", ListTags),
        act("tag_contact", "Tag a contact (POST /contacts/{id}/tags).", TagContact, side_effect=True),
        act("search_contacts", "Search contacts (POST /contacts/search, cursor paging).", SearchContacts),
        act("search_conversations", "Search conversations by state, assignee, dates, tags... "
            "(POST /conversations/search, cursor paging).", SearchConversations),
        act("conversation_analytics", "Conversation metrics for a period from the reporting data export "
            "(POST /export/reporting_data/enqueue, poll the job, then download; API 2.15+).",
            ConversationAnalytics),
        act("export_workflow", "One workflow's definition: trigger, targeting and steps "
            "(GET /export/workflows/{id}, API 2.15+).", ExportWorkflow),
        act("list_workflows", "List the workspace's Workflows.", ListWorkflows, restricted=NO_WORKFLOW_API),
        act("run_workflow", "Run a Workflow on a conversation.", RunWorkflow, side_effect=True,
            restricted=NO_WORKFLOW_API),
    ),
)
