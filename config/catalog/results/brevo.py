"""Brevo results: campaign and contact summaries the client builds, and send receipts."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class Campaign(Result):
    """The non-bulky facts of an e-mail or SMS campaign (subject, sender, content when Brevo sent them)."""

    id: int = desc("The campaign's id.")
    name: str | None = desc("Its internal name (ends with the job's reference).")
    status: str = desc("draft, scheduled, sent, ...")
    scheduled_at: str | None = desc("When it is scheduled to go out.")
    list_ids: list[int] = desc("The recipient lists.")
    created_at: str | None = desc("When it was created.")
    sent_date: str | None = desc("When it was sent.")


class SendCampaign(Result):
    """Sending an e-mail campaign now."""

    campaign_id: int = desc("The campaign.")
    status: str = desc("Its status as Brevo reports it.")
    changed: bool = desc("False when it was already sent or sending.")


class TransactionalEmail(Result):
    """A transactional e-mail accepted by Brevo."""

    message_id: str | None = desc("Brevo's message id (None when a duplicate send was refused).")
    idempotency_key: str = desc("The idempotency key sent with it.")
    recipients: int = desc("Number of recipients.")
    tag: str = desc("The job reference it is tagged with.")
    deduplicated: bool = desc("True when an earlier attempt had already sent it.", False)


class TrackEvent(Result):
    """A custom event recorded for a contact."""

    event_name: str = desc("The event.")
    identifiers: dict[str, Any] = desc("The contact identifiers it was recorded for.")
    recorded: bool = desc("Always True once the job succeeds.")
    ref: str = desc("The job reference stored in the event's properties.")


class Contact(Result):
    """A contact as the agent sees it."""

    id: int = desc("The contact's id.")
    email: str | None = desc("Its e-mail address.")
    attributes: dict[str, Any] = desc("Its attributes (FIRSTNAME, ...).")
    list_ids: list[int] = desc("The lists it belongs to.")
    email_blacklisted: bool = desc("Blocked from e-mails.")
    sms_blacklisted: bool = desc("Blocked from SMS.")
    created_at: str | None = desc("When it was created.")
    modified_at: str | None = desc("When it was last changed.")


class CreatedContact(Contact):
    """A contact created (or, with update_enabled, updated)."""

    created: bool = desc("False when it existed already.")


class ListContacts(Result):
    """A page of contacts."""

    contacts: list[Contact] = desc("The contacts.")
    count: int = desc("Number of contacts matching (all pages).")


RESULTS: Registry = register("brevo", {
    "create_email_campaign": Campaign, "send_email_campaign": SendCampaign,
    "send_transactional_email": TransactionalEmail, "create_sms_campaign": Campaign, "track_event": TrackEvent,
    "create_contact": CreatedContact, "update_contact": Contact, "list_contacts": ListContacts,
})
