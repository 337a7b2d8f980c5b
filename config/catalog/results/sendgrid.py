"""SendGrid results: mail-send receipts, Single Sends, templates and e-mail statistics."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register


class MailSent(Result):
    """A message accepted by the Mail Send API."""

    message_id: str | None = desc("SendGrid's X-Message-Id.")
    accepted: bool = desc("Always True once the job succeeds.")
    recipients: int = desc("Number of recipients.")
    job_marker: str = desc("The job marker sent in custom_args (to find the message in activity).")
    send_at: int | None = desc("When it goes out (epoch seconds), when scheduled.", None)
    deduplicated: bool = desc("True when an earlier attempt of this job had already sent it.", False)


class SingleSend(Result):
    """The non-bulky facts of a Single Send."""

    id: str = desc("The Single Send's id.")
    name: str | None = desc("Its internal name (ends with the job's tag).")
    status: str = desc("draft, scheduled or triggered.")
    send_at: str | None = desc("When it goes out.")
    subject: str | None = desc("Its subject.")
    sender_id: int | None = desc("The verified sender.")
    list_ids: list[str] = desc("The lists it goes to.")
    segment_ids: list[str] = desc("The segments it goes to.")
    all_contacts: bool = desc("True when it goes to every contact.")
    created_at: str | None = desc("When it was created.")
    updated_at: str | None = desc("When it last changed.")


class Scheduled(Result):
    """A Single Send scheduled (or sent now)."""

    single_send_id: str = desc("The Single Send.")
    status: str | None = desc("Its status afterwards (scheduled or triggered).")
    send_at: str | None = desc("When it goes out.")
    changed: bool = desc("False when it was already scheduled for that time, or already sent.")


class Template(Result):
    """A transactional template and its versions, without their content."""

    id: str = desc("The template's id.")
    name: str = desc("Its name.")
    generation: str | None = desc("legacy or dynamic.")
    updated_at: str | None = desc("When it last changed.")
    versions: list[dict[str, Any]] = desc("Its versions ({id, name, subject, active, updated_at}).")


class Templates(Result):
    """The account's transactional templates."""

    templates: list[Template] = desc("The templates, up to the limit.")
    count: int = desc("Number returned.")


class Stats(Result):
    """E-mail statistics over a date range (global, or per category)."""

    start_date: str = desc("First day.")
    end_date: str = desc("Last day.")
    aggregated_by: str = desc("day, week or month.")
    periods: list[dict[str, Any]] = desc("Per period: {date, stats: [{name, metrics}]} as SendGrid sends them.")
    totals: dict[str, dict[str, float | None]] = desc(
        "Per category (or all): metrics summed, with delivery and open rates.")


RESULTS: Registry = register("sendgrid", {
    "send_mail": MailSent, "create_single_send": SingleSend, "schedule_single_send": Scheduled,
    "list_templates": Templates, "create_template": Template, "get_stats": Stats,
})
