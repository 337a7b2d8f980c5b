"""Mailchimp Marketing API v3 client: campaigns, sequences, automations, audiences, A/B tests, reports.

Mailchimp has no idempotency keys and no rate-limit headers. Every object we create is recorded in the
job's :class:`StepLog` right away, and a campaign's status is read before it is scheduled again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar


from workers.errors import AuthError, InvalidPayload, ProviderRejected
from workers.providers.base import ProviderClient, StepLog, expect_shape, intent_since, require

_DC = re.compile(r"^[a-z]{2,5}\d{1,3}$")


def datacenter(api_key: str) -> str:
    """The datacenter (``us21``) a Mailchimp API key belongs to."""
    _, sep, dc = (api_key or "").rpartition("-")
    if not sep or not _DC.match(dc):
        raise AuthError("mailchimp api_key has no datacenter suffix (expected '<key>-us21'); "
                        "copy the whole key from Mailchimp")
    return dc


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 of the lower-cased email."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def iso(value: datetime) -> str:
    """A UTC time as Mailchimp expects it."""
    return value.astimezone(UTC).isoformat(timespec="seconds")


def campaign_summary(c: Mapping[str, Any]) -> dict[str, Any]:
    """The non-bulky facts of a campaign."""
    settings, recipients = c.get("settings") or {}, c.get("recipients") or {}
    return {"id": c["id"], "web_id": c.get("web_id"), "type": c.get("type"), "status": c.get("status"),
            "title": settings.get("title"), "subject_line": settings.get("subject_line"),
            "list_id": recipients.get("list_id"), "send_time": c.get("send_time") or None,
            "emails_sent": c.get("emails_sent", 0), "create_time": c.get("create_time")}


def report_summary(r: Mapping[str, Any]) -> dict[str, Any]:
    """The headline numbers of a campaign report."""
    opens, clicks, bounces = r.get("opens") or {}, r.get("clicks") or {}, r.get("bounces") or {}
    return {"campaign_id": r["id"], "campaign_title": r.get("campaign_title"), "type": r.get("type"),
            "subject_line": r.get("subject_line"), "send_time": r.get("send_time") or None,
            "emails_sent": r.get("emails_sent", 0), "unsubscribed": r.get("unsubscribed", 0),
            "abuse_reports": r.get("abuse_reports", 0),
            "bounces": bounces.get("hard_bounces", 0) + bounces.get("soft_bounces", 0),
            "opens": {k: opens.get(k) for k in ("opens_total", "unique_opens", "open_rate")},
            "clicks": {k: clicks.get(k) for k in ("clicks_total", "unique_clicks", "click_rate")}}


class MailchimpClient(ProviderClient):
    """Mailchimp Marketing API v3 over Basic auth (any user name, the API key as password)."""

    provider: ClassVar[str] = "mailchimp"
    #: Largest ``count`` Mailchimp accepts per page.
    PAGE_SIZE: ClassVar[int] = 1000

    @classmethod
    def fill_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """``template`` with ``{dc}`` filled from the API key's suffix."""
        return template.replace("{dc}", datacenter(credentials.get("api_key", ""))) if "{dc}" in template \
            else template

    # -- provider shapes -------------------------------------------------------------------------------

    def test_connection(self) -> dict[str, Any]:
        """Kept: the health check, then the account's id and name (a second, cheap read)."""
        ping = self.send_test_call()
        account = self.json("GET", "/", params={"fields": "account_id,account_name"})
        return {"health_status": require(ping, "health_status", self.provider, "GET /ping"),
                "account_id": account.get("account_id"), "account_name": account.get("account_name")}

    # -- helpers --------------------------------------------------------------------------------------
    def _list_id(self, given: str | None) -> str:
        list_id = given or self.credentials.get("list_id")
        if not list_id:
            raise InvalidPayload("mailchimp needs a list_id: pass one or connect a default audience")
        return list_id

    def _pages(self, path: str, key: str, limit: int, params: Mapping[str, Any] | None = None
               ) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` items of a count/offset collection, and its ``total_items``."""
        items: list[dict[str, Any]] = []
        total = 0
        while len(items) < limit:
            query = {**(params or {}), "count": min(self.PAGE_SIZE, limit - len(items)), "offset": len(items)}
            page = self.json("GET", path, params=query)
            with expect_shape(self.provider, f"GET {path}"):
                batch, total = list(page[key]), int(page["total_items"])
            items.extend(batch)
            if not batch or len(items) >= total:
                break
        return items[:limit], total

    def _campaign(self, campaign_id: str) -> dict[str, Any]:
        data = self.json("GET", f"/campaigns/{campaign_id}")
        require(data, "status", self.provider, "GET /campaigns/{id}")
        return data

    def _ensure_campaign(self, steps: StepLog, key: str, body: dict[str, Any]) -> tuple[str, bool]:
        """The campaign stored under ``key``, or a new one; True when created by this call."""
        if campaign_id := steps.get(key):
            return campaign_id, False
        tag = f"[{hashlib.sha256(f'{steps.marker}:{key}'.encode()).hexdigest()[:12]}]"
        settings = body["settings"]
        settings["title"] = f"{settings['title'][:86]} {tag}"  # internal title: never shown to recipients
        if steps.intent(key) and (found := self._find_tagged(tag, intent_since(steps, key))):
            steps.put(key, found)  # an earlier attempt created it but died before recording the id
            return found, False
        created = self.json("POST", "/campaigns", json=body)
        campaign_id = require(created, "id", self.provider, "POST /campaigns")
        steps.put(key, campaign_id)
        return campaign_id, True

    def _find_tagged(self, tag: str, since: datetime) -> str | None:
        """The campaign whose internal title ends with ``tag``, among every campaign created since the
        job recorded its intent (all pages: none is missed however long the retry waited)."""
        items, _ = self._pages("/campaigns", "campaigns", 1_000_000,
                               {"since_create_time": iso(since), "sort_field": "create_time", "sort_dir": "ASC"})
        return next((c["id"] for c in items if str((c.get("settings") or {}).get("title", "")).endswith(tag)),
                    None)

    def _ensure_content(self, steps: StepLog, key: str, campaign_id: str, html: str) -> None:
        if not steps.get(key):
            self.json("PUT", f"/campaigns/{campaign_id}/content", json={"html": html})
            steps.put(key, True)

    def _ensure_scheduled(self, steps: StepLog, key: str, campaign_id: str, when: datetime, *,
                          fresh: bool) -> str:
        """Schedule once: a campaign not created by this very call has its status checked first."""
        if done := steps.get(key):
            return done
        status = "save" if fresh else self._campaign(campaign_id)["status"]
        if status not in ("save", "paused", "schedule"):
            raise ProviderRejected(f"mailchimp campaign {campaign_id} is {status!r}; it cannot be scheduled")
        if status != "schedule":  # "schedule": an earlier attempt did it but its answer was lost
            self.json("POST", f"/campaigns/{campaign_id}/actions/schedule", json={"schedule_time": iso(when)})
        steps.put(key, iso(when))
        return iso(when)

    def _build(self, steps: StepLog, prefix: str, body: dict[str, Any], html: str,
               when: datetime | None) -> tuple[str, str | None]:
        """Create (or resume) one campaign, set its content and schedule it when asked."""
        campaign_id, fresh = self._ensure_campaign(steps, f"{prefix}campaign_id", body)
        self._ensure_content(steps, f"{prefix}content", campaign_id, html)
        scheduled = None
        if when is not None:
            scheduled = self._ensure_scheduled(steps, f"{prefix}scheduled", campaign_id, when, fresh=fresh)
        return campaign_id, scheduled

    @staticmethod
    def _body(list_id: str, *, subject: str, preview: str, title: str | None, from_name: str,
              reply_to: str, segment_id: int | None = None) -> dict[str, Any]:
        recipients: dict[str, Any] = {"list_id": list_id}
        if segment_id is not None:
            recipients["segment_opts"] = {"saved_segment_id": segment_id}
        settings = {"subject_line": subject, "preview_text": preview, "title": title or subject,
                    "from_name": from_name, "reply_to": reply_to}
        return {"type": "regular", "recipients": recipients, "settings": settings}

    # -- campaigns ------------------------------------------------------------------------------------
    def action_create_campaign(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = self._body(self._list_id(params.list_id), subject=params.subject_line,
                          preview=params.preview_text, title=params.title, from_name=params.from_name,
                          reply_to=params.reply_to, segment_id=params.segment_id)
        steps.progress("creating campaign", 30.0)
        campaign_id, _ = self._build(steps, "", body, params.html, params.schedule_time)
        return campaign_summary(self._campaign(campaign_id))

    def action_get_campaign(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return campaign_summary(self._campaign(params.campaign_id))

    def action_list_campaigns(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {k: v for k, v in (("status", params.status), ("type", params.type)) if v}
        query |= {"sort_field": "create_time", "sort_dir": "DESC"}
        items, total = self._pages("/campaigns", "campaigns", params.limit, query)
        with expect_shape(self.provider, "GET /campaigns"):
            return {"campaigns": [campaign_summary(c) for c in items], "total_items": total}

    def action_set_campaign_content(self, params: Any, steps: StepLog) -> dict[str, Any]:
        self.json("PUT", f"/campaigns/{params.campaign_id}/content", json={"html": params.html})
        return {"campaign_id": params.campaign_id, "html_length": len(params.html)}

    def action_schedule_campaign(self, params: Any, steps: StepLog) -> dict[str, Any]:
        campaign, when = self._campaign(params.campaign_id), iso(params.schedule_time)
        if campaign["status"] == "schedule":
            if _same_time(campaign.get("send_time"), when):
                return {"campaign_id": params.campaign_id, "status": "schedule", "schedule_time": when,
                        "changed": False}
            self.json("POST", f"/campaigns/{params.campaign_id}/actions/unschedule")
        self.json("POST", f"/campaigns/{params.campaign_id}/actions/schedule", json={"schedule_time": when})
        return {"campaign_id": params.campaign_id, "status": "schedule", "schedule_time": when,
                "changed": True}

    def action_unschedule_campaign(self, params: Any, steps: StepLog) -> dict[str, Any]:
        status = self._campaign(params.campaign_id)["status"]
        if status == "schedule":
            self.json("POST", f"/campaigns/{params.campaign_id}/actions/unschedule")
        return {"campaign_id": params.campaign_id, "status": "save" if status == "schedule" else status,
                "changed": status == "schedule"}

    def action_send_campaign(self, params: Any, steps: StepLog) -> dict[str, Any]:
        status = self._campaign(params.campaign_id)["status"]
        if status in ("sending", "sent") or steps.get("sent"):
            return {"campaign_id": params.campaign_id, "status": status, "changed": False}
        self.json("POST", f"/campaigns/{params.campaign_id}/actions/send")
        steps.put("sent", True)
        return {"campaign_id": params.campaign_id, "status": self._campaign(params.campaign_id)["status"],
                "changed": True}

    def action_create_email_sequence(self, params: Any, steps: StepLog) -> dict[str, Any]:
        list_id, times, total = self._list_id(params.list_id), params.schedule_times(), len(params.emails)
        if not steps.get("email_1.campaign_id") and times[0] <= datetime.now(UTC):
            raise InvalidPayload(f"start_at {iso(times[0])} is in the past")
        campaigns = []
        for n, (email, when) in enumerate(zip(params.emails, times, strict=True), start=1):
            steps.progress(f"creating campaign {n}/{total}", round(100.0 * n / total, 1))
            body = self._body(list_id, subject=email.subject_line, preview=email.preview_text,
                              title=f"{params.title} {n}/{total}: {email.subject_line}"[:100],
                              from_name=params.from_name, reply_to=params.reply_to)
            campaign_id, scheduled = self._build(steps, f"email_{n}.", body, email.html, when)
            campaigns.append({"position": n, "campaign_id": campaign_id, "schedule_time": scheduled,
                              "subject_line": email.subject_line})
        steps.progress("sequence scheduled", 100.0)
        return {"list_id": list_id, "campaign_ids": [c["campaign_id"] for c in campaigns],
                "schedule_times": [c["schedule_time"] for c in campaigns], "campaigns": campaigns}

    # -- automations ----------------------------------------------------------------------------------
    def action_list_automations(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"status": params.status} if params.status else {}
        items, total = self._pages("/automations", "automations", params.limit, query)
        with expect_shape(self.provider, "GET /automations"):
            return {"automations": [_automation(a) for a in items], "total_items": total}

    def action_get_automation(self, params: Any, steps: StepLog) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /automations/{id}"):
            return _automation(self.json("GET", f"/automations/{params.workflow_id}"))

    def action_start_automation(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._automation_to(params.workflow_id, "sending", "start-all-emails")

    def action_pause_automation(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._automation_to(params.workflow_id, "paused", "pause-all-emails")

    def _automation_to(self, workflow_id: str, status: str, verb: str) -> dict[str, Any]:
        current = require(self.json("GET", f"/automations/{workflow_id}"), "status", self.provider,
                          "GET /automations/{id}")
        if current != status:
            self.json("POST", f"/automations/{workflow_id}/actions/{verb}")
        return {"workflow_id": workflow_id, "status": status, "changed": current != status}

    # -- audiences ------------------------------------------------------------------------------------
    def action_list_segments(self, params: Any, steps: StepLog) -> dict[str, Any]:
        list_id = self._list_id(params.list_id)
        query = {"type": params.type} if params.type else {}
        items, total = self._pages(f"/lists/{list_id}/segments", "segments", params.limit, query)
        with expect_shape(self.provider, "GET /lists/{id}/segments"):
            return {"list_id": list_id, "segments": [_segment(s) for s in items], "total_items": total}

    def action_create_segment(self, params: Any, steps: StepLog) -> dict[str, Any]:
        list_id = self._list_id(params.list_id)
        if segment_id := steps.get("segment_id"):
            with expect_shape(self.provider, "GET /lists/{id}/segments/{id}"):
                return _segment(self.json("GET", f"/lists/{list_id}/segments/{segment_id}"))
        body: dict[str, Any] = {"name": params.name}
        if params.static_emails is not None:
            body["static_segment"] = params.static_emails
        else:
            conditions = [c.model_dump(exclude_none=True) for c in params.conditions]
            body["options"] = {"match": params.match, "conditions": conditions}
        created = self.json("POST", f"/lists/{list_id}/segments", json=body)
        steps.put("segment_id", require(created, "id", self.provider, "POST /lists/{id}/segments"))
        with expect_shape(self.provider, "POST /lists/{id}/segments"):
            return _segment(created)

    def action_upsert_member(self, params: Any, steps: StepLog) -> dict[str, Any]:
        list_id = self._list_id(params.list_id)
        body: dict[str, Any] = {"email_address": params.email, "status_if_new": params.status_if_new}
        if params.status:
            body["status"] = params.status
        if params.merge_fields:
            body["merge_fields"] = params.merge_fields
        member = self.json("PUT", f"/lists/{list_id}/members/{subscriber_hash(params.email)}", json=body)
        with expect_shape(self.provider, "PUT /lists/{id}/members/{hash}"):
            return {"id": member["id"], "email_address": member["email_address"], "status": member["status"],
                    "list_id": member.get("list_id", list_id), "merge_fields": member.get("merge_fields", {})}

    # -- A/B tests and reports ------------------------------------------------------------------------
    def action_create_ab_test(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = self._body(self._list_id(params.list_id), subject=params.subject_lines[0],
                          preview=params.preview_text, title=params.title, from_name=params.from_name,
                          reply_to=params.reply_to)
        variate: dict[str, Any] = {"winner_criteria": params.winner_criteria, "wait_time": params.wait_time,
                                   "test_size": params.test_size, "subject_lines": params.subject_lines}
        if params.from_names:
            variate |= {"from_names": params.from_names,
                        "reply_to_addresses": [params.reply_to] * len(params.from_names)}
        body |= {"type": "variate", "variate_settings": variate}
        steps.progress("creating A/B test", 30.0)
        campaign_id, _ = self._build(steps, "", body, params.html, params.schedule_time)
        campaign = self._campaign(campaign_id)
        return {**campaign_summary(campaign), "variate_settings": campaign.get("variate_settings")}

    def action_get_campaign_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /reports/{id}"):
            return report_summary(self.json("GET", f"/reports/{params.campaign_id}"))

    def action_list_reports(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"type": params.type} if params.type else {}
        items, total = self._pages("/reports", "reports", params.limit, query)
        with expect_shape(self.provider, "GET /reports"):
            return {"reports": [report_summary(r) for r in items], "total_items": total}


def _automation(a: Mapping[str, Any]) -> dict[str, Any]:
    settings, recipients = a.get("settings") or {}, a.get("recipients") or {}
    return {"id": a["id"], "status": a["status"], "title": settings.get("title"),
            "list_id": recipients.get("list_id"), "emails_sent": a.get("emails_sent", 0),
            "start_time": a.get("start_time") or None, "create_time": a.get("create_time")}


def _segment(s: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": s["id"], "name": s["name"], "type": s.get("type"), "member_count": s.get("member_count", 0),
            "list_id": s.get("list_id"), "options": s.get("options")}


def _same_time(send_time: str | None, when: str) -> bool:
    if not send_time:
        return False
    try:
        return datetime.fromisoformat(send_time) == datetime.fromisoformat(when)
    except ValueError:
        return False

#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = MailchimpClient
