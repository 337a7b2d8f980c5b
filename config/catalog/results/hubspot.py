"""HubSpot results (CRM and Marketing integrations): records, e-mails, lists and workflows as the client shapes them."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register

_RESUMED = "True when an earlier attempt of this job had already done it."


class Record(Result):
    """A CRM record: id, properties and timestamps."""

    id: str = desc("The record's id.")
    properties: dict[str, Any] = desc("Its properties, as HubSpot sends them (values are strings).")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class CreatedDeal(Record):
    """A deal created."""

    resumed: bool = desc(_RESUMED)


class Deals(Result):
    """Deals, filtered by pipeline or stage when asked."""

    deals: list[Record] = desc("The deals, up to the limit.")
    total: int | None = desc("Number of matching deals (None when listed without a filter).")


class CreatedContact(Record):
    """A contact created (or found by its e-mail address)."""

    created: bool = desc("False when a contact with that address existed already.")


class Contacts(Result):
    """Contacts matching a search."""

    total: int = desc("Number of matching contacts.")
    contacts: list[Record] = desc("The contacts, up to the limit.")


class UpsertedContact(Record):
    """One contact of a batch upsert."""

    new: bool = desc("True when it was created.")


class BatchUpsert(Result):
    """A batch upsert of contacts."""

    status: str | None = desc("HubSpot's status of the batch (COMPLETE, ...).")
    results: list[UpsertedContact] = desc("The contacts written.")
    errors: list[dict[str, Any]] = desc("Per-input errors ({message, category, context}).")
    created: int = desc("Number created.")
    updated: int = desc("Number updated.")


class EmailEvents(Result):
    """Legacy Email Events API events."""

    events: list[dict[str, Any]] = desc("Events (id, type, recipient, created, ...), newest first.")
    count: int = desc("Number returned.")


class EmailEngagements(Result):
    """One-to-one e-mails logged on contacts or deals."""

    total: int = desc("Number of matching e-mails.")
    emails: list[Record] = desc("The e-mails (hs_email_subject, hs_timestamp, ... in properties).")


class Enrollment(Result):
    """A contact enrolled in a sales sequence."""

    id: str = desc("The enrollment's id.")
    to_email: str | None = desc("The address the sequence writes to.")
    enrolled_at: str | None = desc("When it was enrolled.")
    sequence_id: str = desc("The sequence.")
    contact_id: str = desc("The contact.")
    resumed: bool = desc(_RESUMED)


class MarketingEmail(Result):
    """The non-bulky facts of a marketing e-mail."""

    id: str = desc("The e-mail's id.")
    name: str | None = desc("Its internal name.")
    subject: str | None = desc("Its subject line.")
    state: str | None = desc("DRAFT, SCHEDULED, PUBLISHED, ...")
    is_published: bool | None = desc("Whether it is published.")
    list_ids: list[str] = desc("The lists it is sent to.")
    publish_date: str | None = desc("When it is (or was) published.")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class CreatedEmail(MarketingEmail):
    """A marketing e-mail created."""

    resumed: bool = desc(_RESUMED)


class MarketingEmails(Result):
    """Marketing e-mails."""

    emails: list[MarketingEmail] = desc("The e-mails, up to the limit.")


class EmailStatistics(Result):
    """Aggregated statistics of marketing e-mails over a time range."""

    email_ids: list[str] = desc("The e-mails counted.")
    counters: dict[str, float] = desc("sent, delivered, open, click, bounce, unsubscribed, ...")
    ratios: dict[str, float] = desc("deliveredratio, openratio, clickratio, ... (percentages).")
    device_breakdown: dict[str, Any] = desc("Opens and clicks per device type.")


class CrmList(Result):
    """A list (segment)."""

    id: str = desc("The list's id.")
    name: str | None = desc("Its name.")
    object_type_id: str | None = desc("What it holds (0-1: contacts).")
    processing_type: str | None = desc("MANUAL, DYNAMIC or SNAPSHOT.")
    size: int | None = desc("Number of members, when HubSpot said.")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class CreatedList(CrmList):
    """A list created."""

    resumed: bool = desc(_RESUMED)


class Lists(Result):
    """Lists of one object type."""

    lists: list[CrmList] = desc("The lists, up to the limit.")


class AddedToList(Result):
    """Records added to a manual list."""

    list_id: str = desc("The list.")
    added: list[str] = desc("Records added.")
    missing: list[str] = desc("Records HubSpot does not know.")
    already_members: int = desc("Records that were members already.")


class Workflow(Result):
    """A workflow (Automation API v4)."""

    id: str = desc("The workflow's id.")
    name: str | None = desc("Its name.")
    is_enabled: bool | None = desc("Whether it is on.")
    type: str | None = desc("Its type.")


class Workflows(Result):
    """The account's workflows."""

    workflows: list[Workflow] = desc("The workflows, up to the limit.")


class WorkflowEnrollment(Result):
    """A contact enrolled in a workflow."""

    workflow_id: str = desc("The workflow.")
    email: str = desc("The contact's address.")
    enrolled: bool = desc("Always True once the job succeeds.")
    resumed: bool = desc(_RESUMED)


RESULTS: Registry = register("hubspot_crm", {
    "create_deal": CreatedDeal, "update_deal": Record, "list_deals": Deals, "create_contact": CreatedContact,
    "search_contacts": Contacts, "update_contact": Record, "batch_upsert_contacts": BatchUpsert,
    "list_email_events": EmailEvents, "list_email_engagements": EmailEngagements,
    "enroll_in_sequence": Enrollment,
}) | register("hubspot_marketing", {
    "list_marketing_emails": MarketingEmails, "create_marketing_email": CreatedEmail,
    "get_email_statistics": EmailStatistics, "list_lists": Lists, "create_list": CreatedList,
    "add_to_list": AddedToList, "list_workflows": Workflows, "enroll_in_workflow": WorkflowEnrollment,
})
