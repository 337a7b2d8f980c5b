"""Brevo API v3 client: e-mail and SMS campaigns, transactional e-mail, contacts and automation events.

Transactional e-mail carries Brevo's own idempotency key (``headers.idempotencyKey``: a UUID derived from the
job marker, so every retry sends the same one; Brevo answers ``duplicate_parameter`` to a repeat within its
30-minute window) and a job tag, which finds the message in the transactional log after that window.
Campaigns carry the job tag in their internal name, events in ``event_properties``; contact writes are
upserts. Brevo has no API for automation workflows themselves: events and list membership trigger them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote


from workers.errors import InvalidPayload, ProviderRejected
from workers.providers._brevo_shapes import (
    EVENT_REF,
    campaign_summary,
    contact_summary,
    email_campaign_body,
    idempotency_key,
    iso,
    job_ref,
    sms_campaign_body,
    smtp_body,
)
from workers.providers.base import (
    ProviderClient,
    StepLog,
    expect_shape,
    require,
)

#: Campaign statuses meaning the campaign is sent or on its way.
SENDING = frozenset({"sent", "in_process", "inProcess", "archive"})


def _future(value: datetime | None) -> None:
    if value is not None and (value if value.tzinfo else value.replace(tzinfo=UTC)) <= datetime.now(UTC):
        raise InvalidPayload("scheduled_at is in the past")


class BrevoClient(ProviderClient):
    """Brevo API v3 over the ``api-key`` header."""

    provider: ClassVar[str] = "brevo"
    #: Largest ``limit`` per page: campaigns 100, all contacts 1000, a list's contacts 500.
    CAMPAIGN_PAGE: ClassVar[int] = 100
    CONTACT_PAGE: ClassVar[int] = 1000
    LIST_CONTACT_PAGE: ClassVar[int] = 500

    # -- provider shapes -------------------------------------------------------------------------------

    def test_connection(self) -> dict[str, Any]:
        """Kept: the account's e-mail, company and each plan's credits."""
        account = self.send_test_call()
        require(account, "email", self.provider, "GET /account")
        with expect_shape(self.provider, "GET /account"):
            plans = [{"type": p.get("type"), "credits": p.get("credits"),
                      "credits_type": p.get("creditsType")}
                     for p in account.get("plan") or []]
        return {"email": account["email"], "company_name": account.get("companyName"), "plan": plans,
                "organization_id": account.get("organization_id")}

    # -- helpers --------------------------------------------------------------------------------------
    def _pages(self, path: str, key: str, limit: int, page_size: int,
               params: Mapping[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` items of a limit/offset collection, and its ``count``."""
        items: list[dict[str, Any]] = []
        total = 0
        while len(items) < limit:
            query = {**(params or {}), "limit": min(page_size, limit - len(items)), "offset": len(items)}
            page = self.json("GET", path, params=query)
            with expect_shape(self.provider, f"GET {path}"):
                batch, total = list(page.get(key) or []), int(page.get("count") or 0)
            items.extend(batch)
            if not batch or len(items) >= total:
                break
        return items[:limit], total

    def _ensure(self, steps: StepLog, key: str, path: str, body: dict[str, Any],
                find: Callable[[], Any]) -> int:
        """The object recorded under ``key``, the one an earlier attempt created, or a new one."""
        if (object_id := steps.get(key)) is not None:
            return int(object_id)
        if steps.intent(key) and (found := find()) is not None:
            steps.put(key, found)  # an earlier attempt created it but died before recording the id
            return int(found)
        created = require(self.json("POST", path, json=body), "id", self.provider, f"POST {path}")
        steps.put(key, created)
        return int(created)

    def _find_named(self, path: str, ref: str) -> int | None:
        """The id of the newest campaign under ``path`` whose name ends with ``[ref]``."""
        items, _ = self._pages(path, "campaigns", 5000, self.CAMPAIGN_PAGE, {"sort": "desc"})
        return next((int(c["id"]) for c in items if str(c.get("name", "")).endswith(f"[{ref}]")), None)

    def _contact(self, identifier: str | int) -> dict[str, Any]:
        data = self.json("GET", f"/contacts/{quote(str(identifier), safe='@')}")
        require(data, "id", self.provider, "GET /contacts/{identifier}")
        return data

    # -- campaigns ------------------------------------------------------------------------------------
    def action_create_email_campaign(self, params: Any, steps: StepLog) -> dict[str, Any]:
        _future(params.scheduled_at)
        ref = job_ref(steps.marker, "email_campaign")
        steps.progress("creating e-mail campaign", 50.0)
        body = email_campaign_body(params, ref)
        campaign_id = self._ensure(steps, "email_campaign_id", "/emailCampaigns", body,
                                   lambda: self._find_named("/emailCampaigns", ref))
        with expect_shape(self.provider, "GET /emailCampaigns/{id}"):
            return campaign_summary(self.json("GET", f"/emailCampaigns/{campaign_id}"))

    def action_send_email_campaign(self, params: Any, steps: StepLog) -> dict[str, Any]:
        cid = params.campaign_id
        campaign = self.json("GET", f"/emailCampaigns/{cid}")
        status = require(campaign, "status", self.provider, "GET /emailCampaigns/{id}")
        queued_now = status == "queued" and not _later(campaign.get("scheduledAt"))
        if steps.get("sent") or status in SENDING or queued_now:
            return {"campaign_id": cid, "status": status, "changed": False}
        self.request("POST", f"/emailCampaigns/{cid}/sendNow")
        steps.put("sent", True)
        status = require(self.json("GET", f"/emailCampaigns/{cid}"), "status", self.provider,
                         "GET /emailCampaigns/{id}")
        return {"campaign_id": cid, "status": status, "changed": True}

    def action_create_sms_campaign(self, params: Any, steps: StepLog) -> dict[str, Any]:
        _future(params.scheduled_at)
        ref = job_ref(steps.marker, "sms_campaign")
        steps.progress("creating SMS campaign", 50.0)
        campaign_id = self._ensure(steps, "sms_campaign_id", "/smsCampaigns", sms_campaign_body(params, ref),
                                   lambda: self._find_named("/smsCampaigns", ref))
        with expect_shape(self.provider, "GET /smsCampaigns/{id}"):
            return campaign_summary(self.json("GET", f"/smsCampaigns/{campaign_id}"))

    # -- transactional e-mail -------------------------------------------------------------------------
    def action_send_transactional_email(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if done := steps.get("transactional"):
            return {**done, "deduplicated": True}
        _future(params.scheduled_at)
        ref, key = job_ref(steps.marker, "smtp"), idempotency_key(params.idempotency_key or steps.marker)
        body = smtp_body(params, ref, key)
        result = {"message_id": None, "idempotency_key": key, "recipients": len(params.to), "tag": ref}
        if steps.intent("transactional") and (found := self._find_logged(params.to[0].email, ref)):
            steps.put("transactional", result | {"message_id": found})
            return result | {"message_id": found, "deduplicated": True}
        try:
            sent = self.json("POST", "/smtp/email", json=body)
        except ProviderRejected as exc:
            if exc.provider_code != "duplicate_parameter":
                raise
            steps.put("transactional", result)  # Brevo already took a send with this key
            return result | {"deduplicated": True}
        with expect_shape(self.provider, "POST /smtp/email"):
            message_id = sent.get("messageId") or sent["messageIds"][0]
        steps.put("transactional", result | {"message_id": message_id})
        return result | {"message_id": message_id}

    def _find_logged(self, email: str, ref: str) -> str | None:
        """The message id of a logged transactional e-mail to ``email`` tagged ``ref`` (last 30 days)."""
        found = self.json("GET", "/smtp/emails", params={"email": email, "sort": "desc", "limit": 500})
        with expect_shape(self.provider, "GET /smtp/emails"):
            return next((str(m["messageId"]) for m in found.get("transactionalEmails") or []
                         if ref in (m.get("tags") or [])), None)

    # -- automation -----------------------------------------------------------------------------------
    def action_track_event(self, params: Any, steps: StepLog) -> dict[str, Any]:
        identifiers: dict[str, Any] = {}
        if params.email:
            identifiers["email_id"] = params.email
        if params.contact_id is not None:
            identifiers["contact_id"] = params.contact_id
        ref = job_ref(steps.marker, "event")
        result = {"event_name": params.event_name, "identifiers": identifiers, "recorded": True, "ref": ref}
        if steps.get("event"):
            return result | {"deduplicated": True}
        body: dict[str, Any] = {"event_name": params.event_name, "identifiers": identifiers,
                                "event_properties": {**params.event_properties, EVENT_REF: ref}}
        if params.contact_properties:
            body["contact_properties"] = params.contact_properties
        if steps.intent("event") and self._event_recorded(params, ref):
            steps.put("event", ref)
            return result | {"deduplicated": True}
        self.request("POST", "/events", json=body)
        steps.put("event", ref)
        return result

    def _event_recorded(self, params: Any, ref: str) -> bool:
        """Whether the contact already has this event stamped with ``ref``."""
        contact_id = params.contact_id
        if contact_id is None:
            try:
                contact_id = self._contact(params.email)["id"]
            except ProviderRejected as exc:
                if exc.status == 404:
                    return False
                raise
        found = self.json("GET", "/events", params={"event_name": params.event_name, "contact_id": contact_id,
                                                    "limit": 1000})
        with expect_shape(self.provider, "GET /events"):
            return any((e.get("event_properties") or {}).get(EVENT_REF) == ref
                       for e in found.get("events") or [])

    # -- contacts -------------------------------------------------------------------------------------
    def action_create_contact(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = {"email": params.email, "attributes": params.attributes, "listIds": params.list_ids,
                "updateEnabled": params.update_enabled}
        retry = steps.intent("contact")
        try:
            created = self.request("POST", "/contacts", json=body).status_code == 201
        except ProviderRejected as exc:
            if not (retry and exc.provider_code == "duplicate_parameter"):
                raise
            created = False  # our earlier attempt created it
        with expect_shape(self.provider, "GET /contacts/{identifier}"):
            contact = contact_summary(self._contact(params.email))
        steps.put("contact", contact["id"])
        return {**contact, "created": created}

    def action_update_contact(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for ours, theirs in (("attributes", "attributes"), ("list_ids", "listIds"),
                             ("unlink_list_ids", "unlinkListIds")):
            if value := getattr(params, ours):
                body[theirs] = value
        if not body:
            raise InvalidPayload("nothing to update: give attributes, list_ids or unlink_list_ids")
        identifier = quote(params.identifier, safe="@")
        self.request("PUT", f"/contacts/{identifier}", json=body)  # a PUT: repeating it changes nothing
        with expect_shape(self.provider, "GET /contacts/{identifier}"):
            return contact_summary(self._contact(params.identifier))

    def action_list_contacts(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query: dict[str, Any] = {"sort": "desc"}
        if params.modified_since is not None:
            query["modifiedSince"] = iso(params.modified_since)
        path, size = "/contacts", self.CONTACT_PAGE
        if params.list_id is not None:
            path, size = f"/contacts/lists/{params.list_id}/contacts", self.LIST_CONTACT_PAGE
        items, total = self._pages(path, "contacts", params.limit, size, query)
        with expect_shape(self.provider, f"GET {path}"):
            return {"contacts": [contact_summary(c) for c in items], "count": total}


def _later(value: Any) -> bool:
    """Whether an ISO time lies more than a minute ahead (a campaign scheduled for later)."""
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.timestamp() > datetime.now(UTC).timestamp() + 60


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = BrevoClient
