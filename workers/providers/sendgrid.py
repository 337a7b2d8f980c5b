"""Twilio SendGrid v3 client: transactional mail, Single Sends, templates and deliverability statistics.

Mail send has no idempotency key. Every send carries the job marker in ``custom_args`` (``sintra_job``)
and its ``X-Message-Id`` is recorded right after the 202. When a retry finds that an earlier attempt
declared the send but never recorded it (a crash or a lost answer), it asks the Email Activity API for a
message with that marker first. That API is a paid add-on: without it the retry refuses to send rather
than risk mailing people twice. Single Sends and templates carry a short job tag in their internal name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import httpx

from workers.errors import (
    AgentError,
    AuthError,
    IntegrationUnavailable,
    InvalidPayload,
    PermanentError,
    ProviderRejected,
)
from workers.providers._sendgrid_shapes import (
    MARKER_ARG,
    job_tag,
    mail_body,
    single_send_body,
    single_send_summary,
    stats_summary,
    template_summary,
    utc,
)
from workers.providers.base import (
    ProviderClient,
    StepLog,
    expect_shape,
    require,
)

#: Base URL of EU regional subusers.
EU_BASE_URL = "https://api.eu.sendgrid.com"
#: How far ahead mail send accepts ``send_at``.
MAX_SEND_AHEAD = timedelta(hours=72)


class SendGridClient(ProviderClient):
    """SendGrid v3 over a bearer API key (optionally acting for a subuser with ``on-behalf-of``)."""

    provider: ClassVar[str] = "sendgrid"
    #: Page sizes: Single Sends accept at most 100 per page, transactional templates 200.
    SINGLE_SEND_PAGE: ClassVar[int] = 100
    TEMPLATE_PAGE: ClassVar[int] = 200

    @classmethod
    def fill_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """The global API, or the EU one for ``region=eu``."""
        region = (credentials.get("region") or "global").strip().lower()
        if region == "eu":
            return template.replace(cls.definition().base_url, EU_BASE_URL)
        if region not in ("global", "us"):
            raise IntegrationUnavailable(f"sendgrid region {region!r} is unknown (use global or eu)")
        return template

    # -- provider shapes -------------------------------------------------------------------------------

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """A 403 naming a field (an unverified ``from``) rejects the request; it is not bad credentials."""
        error = super().error_for(response)
        if isinstance(error, AuthError) and response.status_code == 403 and error.provider_code:
            return ProviderRejected(error.message, status=403, provider_code=error.provider_code)
        return error

    def test_connection(self) -> dict[str, Any]:
        """Kept: what the key may do (send, marketing, templates, stats) read from its scopes."""
        scopes = require(self.send_test_call(), "scopes", self.provider, "GET /v3/scopes")
        with expect_shape(self.provider, "GET /v3/scopes"):
            held = {str(s) for s in scopes}
        return {"scopes_count": len(held), "can_send_mail": "mail.send" in held,
                "can_use_marketing": any(s.startswith("marketing.") for s in held),
                "can_manage_templates": "templates.create" in held, "can_read_stats": "stats.read" in held,
                "region": self.credentials.get("region") or "global",
                "on_behalf_of": self.credentials.get("on_behalf_of")}

    # -- helpers --------------------------------------------------------------------------------------
    def _pages(self, path: str, limit: int, page_size: int, params: Mapping[str, Any] | None = None
               ) -> list[dict[str, Any]]:
        """Up to ``limit`` items of a ``result`` + ``_metadata.next`` (page_token) collection."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while len(items) < limit:
            query = {**(params or {}), "page_size": min(page_size, limit)}
            if token:
                query["page_token"] = token
            page = self.json("GET", path, params=query)
            with expect_shape(self.provider, f"GET {path}"):
                batch = list(page["result"])
                token = _page_token((page.get("_metadata") or {}).get("next"))
            items.extend(batch)
            if not batch or not token:
                break
        return items[:limit]

    def _find_tagged(self, path: str, page_size: int, tag: str, params: Mapping[str, Any] | None = None
                     ) -> str | None:
        """The id of the object under ``path`` whose name ends with ``tag``."""
        items = self._pages(path, 1000, page_size, params)
        return next((str(i["id"]) for i in items if str(i.get("name", "")).endswith(tag)), None)

    def _ensure(self, steps: StepLog, key: str, path: str, body: dict[str, Any], find: Any) -> str:
        """The object recorded under ``key``, the one an earlier attempt created, or a new one."""
        if object_id := steps.get(key):
            return str(object_id)
        if steps.intent(key) and (found := find()):
            steps.put(key, found)  # an earlier attempt created it but died before recording the id
            return str(found)
        created = require(self.json("POST", path, json=body), "id", self.provider, f"POST {path}")
        steps.put(key, created)
        return str(created)

    def _find_sent(self, marker: str) -> str | None:
        """The X-Message-Id of a message stamped with ``marker``, from the Email Activity API."""
        query = f"unique_args['{MARKER_ARG}']=\"{marker}\""
        try:
            found = self.json("GET", "/v3/messages", params={"query": query, "limit": 10})
        except (AuthError, ProviderRejected) as exc:
            if isinstance(exc, AuthError) and exc.status == 401:
                raise
            raise PermanentError(
                "sendgrid: an earlier attempt of this job may already have sent this mail (it stopped before "
                "recording the X-Message-Id), and the Email Activity API that could tell is not available to "
                f"this key ({exc.status}); not sending it a second time") from None
        with expect_shape(self.provider, "GET /v3/messages"):
            messages = list(found["messages"])
            return str(messages[0]["msg_id"]).split(".", 1)[0] if messages else None

    # -- mail -----------------------------------------------------------------------------------------
    def action_send_mail(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if done := steps.get("mail"):
            return {**done, "deduplicated": True}
        if params.send_at is not None and utc(params.send_at) > datetime.now(UTC) + MAX_SEND_AHEAD:
            raise InvalidPayload("send_at is more than 72 hours ahead; SendGrid mail send cannot hold it")
        body = mail_body(params, steps.marker)
        if steps.intent("mail") and (message_id := self._find_sent(steps.marker)):
            result = {"message_id": message_id, "accepted": True, "recipients": len(params.to),
                      "job_marker": steps.marker}
            steps.put("mail", result)
            return {**result, "deduplicated": True}
        response = self.request("POST", "/v3/mail/send", json=body)
        result = {"message_id": response.headers.get("x-message-id"), "accepted": True,
                  "recipients": len(params.to), "send_at": body.get("send_at"), "job_marker": steps.marker}
        steps.put("mail", result)
        return result

    # -- Single Sends ---------------------------------------------------------------------------------
    def _single_send(self, single_send_id: str) -> dict[str, Any]:
        data = self.json("GET", f"/v3/marketing/singlesends/{single_send_id}")
        require(data, "status", self.provider, "GET /v3/marketing/singlesends/{id}")
        return data

    def action_create_single_send(self, params: Any, steps: StepLog) -> dict[str, Any]:
        tag = job_tag(steps.marker, "single_send")
        path = "/v3/marketing/singlesends"
        steps.progress("creating single send", 50.0)
        single_send_id = self._ensure(steps, "single_send_id", path, single_send_body(params, tag),
                                      lambda: self._find_tagged(path, self.SINGLE_SEND_PAGE, tag))
        with expect_shape(self.provider, "GET /v3/marketing/singlesends/{id}"):
            return single_send_summary(self._single_send(single_send_id))

    def action_schedule_single_send(self, params: Any, steps: StepLog) -> dict[str, Any]:
        sid, when = params.single_send_id, params.send_at
        if isinstance(when, datetime) and utc(when) <= datetime.now(UTC):
            raise InvalidPayload("send_at is in the past; use 'now' to send immediately")
        want = "now" if when == "now" else utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")
        current = self._single_send(sid)
        status, send_at = current["status"], current.get("send_at")
        unchanged = {"single_send_id": sid, "status": status, "send_at": send_at, "changed": False}
        if status == "triggered":  # already sent (possibly by an earlier attempt whose answer was lost)
            return unchanged
        if status == "scheduled":
            if want != "now" and _same_time(send_at, want):
                return unchanged
            self.request("DELETE", f"/v3/marketing/singlesends/{sid}/schedule")
        answer = self.json("PUT", f"/v3/marketing/singlesends/{sid}/schedule", json={"send_at": want})
        return {"single_send_id": sid, "status": answer.get("status"), "send_at": answer.get("send_at"),
                "changed": True}

    # -- templates ------------------------------------------------------------------------------------
    def action_list_templates(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"generations": params.generation}
        items = self._pages("/v3/templates", params.limit, self.TEMPLATE_PAGE, query)
        with expect_shape(self.provider, "GET /v3/templates"):
            return {"templates": [template_summary(t) for t in items], "count": len(items)}

    def action_create_template(self, params: Any, steps: StepLog) -> dict[str, Any]:
        tag = job_tag(steps.marker, "template")
        body = {"name": f"{params.name[:84]} {tag}", "generation": params.generation}
        steps.progress("creating template", 30.0)
        template_id = self._ensure(
            steps, "template_id", "/v3/templates", body,
            lambda: self._find_tagged("/v3/templates", self.TEMPLATE_PAGE, tag,
                                      {"generations": params.generation}))
        if params.html_content or params.plain_content:
            steps.progress("creating first version", 70.0)
            self._ensure_version(steps, template_id, params)
        with expect_shape(self.provider, "GET /v3/templates/{id}"):
            return template_summary(self.json("GET", f"/v3/templates/{template_id}"))

    def _ensure_version(self, steps: StepLog, template_id: str, params: Any) -> None:
        """Create the first (active) version once; any version on our own template is that one."""
        if steps.get("version_id"):
            return
        if steps.intent("version_id"):
            versions = self.json("GET", f"/v3/templates/{template_id}").get("versions") or []
            if versions:
                steps.put("version_id", versions[0].get("id"))
                return
        default_subject = "{{subject}}" if params.generation == "dynamic" else "<%subject%>"
        body: dict[str, Any] = {"name": params.name[:100], "subject": params.subject or default_subject,
                                "active": 1}
        if params.html_content:
            body["html_content"] = params.html_content
        if params.plain_content:
            body |= {"plain_content": params.plain_content, "generate_plain_content": False}
        created = self.json("POST", f"/v3/templates/{template_id}/versions", json=body)
        steps.put("version_id", require(created, "id", self.provider, "POST /v3/templates/{id}/versions"))

    # -- statistics -----------------------------------------------------------------------------------
    def action_get_stats(self, params: Any, steps: StepLog) -> dict[str, Any]:
        end = params.end_date or datetime.now(UTC).date()
        if end < params.start_date:
            raise InvalidPayload("end_date is before start_date")
        query: list[tuple[str, str]] = [("start_date", params.start_date.isoformat()),
                                        ("end_date", end.isoformat()),
                                        ("aggregated_by", params.aggregated_by)]
        path = "/v3/stats"
        if params.categories:
            path = "/v3/categories/stats"
            query += [("categories", c) for c in params.categories]
        rows = self.json("GET", path, params=query)
        with expect_shape(self.provider, f"GET {path}"):
            return {"start_date": params.start_date.isoformat(), "end_date": end.isoformat(),
                    "aggregated_by": params.aggregated_by, **stats_summary(rows)}


def _page_token(next_url: str | None) -> str | None:
    if not next_url:
        return None
    values = parse_qs(urlparse(next_url).query).get("page_token")
    return values[0] if values else None


def _same_time(current: str | None, want: str) -> bool:
    try:
        return bool(current) and datetime.fromisoformat(str(current).replace("Z", "+00:00")) == \
            datetime.fromisoformat(want.replace("Z", "+00:00"))
    except ValueError:
        return False


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = SendGridClient
