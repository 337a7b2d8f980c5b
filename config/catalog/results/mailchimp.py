"""Mailchimp results: campaign, automation, segment and report summaries the client builds (Marketing API 3.0)."""

from __future__ import annotations

from typing import Any

from config.catalog.results.base import Registry, Result, desc, register

_CHANGED = "False when it was already in that state (nothing was done)."


class Campaign(Result):
    """The non-bulky facts of a campaign."""

    id: str = desc("The campaign's id.")
    web_id: int | None = desc("Its id in the Mailchimp web app.")
    type: str | None = desc("regular, variate, ...")
    status: str | None = desc("save, schedule, sending, sent, paused, ...")
    title: str | None = desc("Its internal title.")
    subject_line: str | None = desc("Its subject line.")
    list_id: str | None = desc("The audience it goes to.")
    send_time: str | None = desc("When it is scheduled or was sent.")
    emails_sent: int = desc("Number of e-mails sent.")
    create_time: str | None = desc("When it was created.")


class Campaigns(Result):
    """Campaigns, newest first."""

    campaigns: list[Campaign] = desc("The campaigns, up to the limit.")
    total_items: int = desc("Number of matching campaigns.")


class Content(Result):
    """A campaign's HTML content set."""

    campaign_id: str = desc("The campaign.")
    html_length: int = desc("Length of the HTML sent.")


class CampaignState(Result):
    """A campaign scheduled, unscheduled or sent."""

    campaign_id: str = desc("The campaign.")
    status: str = desc("Its status afterwards (schedule, save, sending, sent, ...).")
    changed: bool = desc(_CHANGED)


class Scheduled(CampaignState):
    """A campaign scheduled."""

    schedule_time: str = desc("When it goes out (UTC, ISO 8601).")


class SequenceEmail(Result):
    """One scheduled e-mail of a sequence."""

    position: int = desc("Its place in the sequence, from 1.")
    campaign_id: str = desc("Its campaign.")
    schedule_time: str = desc("When it goes out.")
    subject_line: str = desc("Its subject line.")


class Sequence(Result):
    """A nurturing sequence: one scheduled campaign per e-mail."""

    list_id: str = desc("The audience.")
    campaign_ids: list[str] = desc("The campaigns, in order.")
    schedule_times: list[str] = desc("When each goes out, in order.")
    campaigns: list[SequenceEmail] = desc("The e-mails, in order.")


class Automation(Result):
    """A classic automation."""

    id: str = desc("The automation's id.")
    status: str = desc("save, paused or sending.")
    title: str | None = desc("Its title.")
    list_id: str | None = desc("Its audience.")
    emails_sent: int = desc("Number of e-mails sent.")
    start_time: str | None = desc("When it started.")
    create_time: str | None = desc("When it was created.")


class Automations(Result):
    """The account's classic automations."""

    automations: list[Automation] = desc("The automations, up to the limit.")
    total_items: int = desc("Number of automations.")


class AutomationState(Result):
    """An automation started or paused."""

    workflow_id: str = desc("The automation.")
    status: str = desc("Its status afterwards (sending or paused).")
    changed: bool = desc(_CHANGED)


class Segment(Result):
    """A segment or tag of an audience."""

    id: int = desc("The segment's id.")
    name: str = desc("Its name.")
    type: str | None = desc("static, saved or fuzzy.")
    member_count: int = desc("Number of members.")
    list_id: str | None = desc("Its audience.")
    options: dict[str, Any] | None = desc("Its conditions ({match, conditions}) for a saved segment.")


class Segments(Result):
    """An audience's segments."""

    list_id: str = desc("The audience.")
    segments: list[Segment] = desc("The segments, up to the limit.")
    total_items: int = desc("Number of segments.")


class Member(Result):
    """An audience member added or updated."""

    id: str = desc("The member's id (MD5 of the lowercased address).")
    email_address: str = desc("Its address.")
    status: str = desc("subscribed, pending, unsubscribed, ...")
    list_id: str = desc("The audience.")
    merge_fields: dict[str, Any] = desc("Its merge fields (FNAME, LNAME, ...).")


class AbTest(Campaign):
    """A variate (A/B test) campaign."""

    variate_settings: dict[str, Any] | None = desc("The test's settings (subject_lines, combinations, ...).")


class Report(Result):
    """The headline numbers of a campaign report."""

    campaign_id: str = desc("The campaign.")
    campaign_title: str | None = desc("Its title.")
    type: str | None = desc("Its type.")
    subject_line: str | None = desc("Its subject line.")
    send_time: str | None = desc("When it was sent.")
    emails_sent: int = desc("E-mails sent.")
    unsubscribed: int = desc("Unsubscribes.")
    abuse_reports: int = desc("Abuse reports.")
    bounces: int = desc("Hard and soft bounces.")
    opens: dict[str, float | None] = desc("opens_total, unique_opens, open_rate.")
    clicks: dict[str, float | None] = desc("clicks_total, unique_clicks, click_rate.")


class Reports(Result):
    """Reports of sent campaigns."""

    reports: list[Report] = desc("The reports, up to the limit.")
    total_items: int = desc("Number of reports.")


RESULTS: Registry = register("mailchimp", {
    "create_campaign": Campaign, "get_campaign": Campaign, "list_campaigns": Campaigns,
    "set_campaign_content": Content, "schedule_campaign": Scheduled, "unschedule_campaign": CampaignState,
    "send_campaign": CampaignState, "create_email_sequence": Sequence, "list_automations": Automations,
    "get_automation": Automation, "start_automation": AutomationState, "pause_automation": AutomationState,
    "list_segments": Segments, "create_segment": Segment, "upsert_member": Member, "create_ab_test": AbTest,
    "get_campaign_report": Report, "list_reports": Reports,
})
