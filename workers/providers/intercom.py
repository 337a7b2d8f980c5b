"""Intercom REST API client (pinned ``Intercom-Version: 2.15``): conversations, contacts, tags, segments,
reporting exports and workflow exports.

Intercom has no idempotency keys. Replies and notes record an intent first; a retry after a crash reads
the conversation and skips the part if the admin already posted the same text. Assign and close read the
conversation's state first, so repeating them changes nothing. Conversation analytics is a resumable
three-step job: the export job id is stored as soon as it exists, and a restarted worker polls it
instead of enqueuing another.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar


from config.catalog.integrations.intercom import SPEC
from config.providers import definition
from workers.errors import (
    IntegrationUnavailable,
    MalformedResponse,
    ProviderUnavailable,
)
from workers.providers._intercom_shapes import (
    authored,
    contact_summary,
    conversation_summary,
    export_rows,
    export_summary,
    parts,
    plain,
    search_query,
)
from workers.providers.base import (
    ProviderClient,
    StepLog,
    expect_shape,
    require,
)

#: API host per data region.
REGIONS = {"us": definition("intercom").base_url, "eu": "https://api.eu.intercom.io",
           "au": "https://api.au.intercom.io"}
Item = dict[str, Any]


class IntercomClient(ProviderClient):
    """Intercom over a bearer access token (workspace token or OAuth token; neither expires)."""

    provider: ClassVar[str] = "intercom"
    #: Largest ``per_page`` of the search endpoints.
    PAGE_SIZE: ClassVar[int] = 150
    #: Seconds between reporting-export status polls, and the longest wait in one attempt.
    POLL_INTERVAL: ClassVar[float] = 5.0
    POLL_TIMEOUT: ClassVar[float] = 240.0

    @classmethod
    def fill_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """The regional API host (``region`` us, eu or au; us when empty)."""
        region = (credentials.get("region") or "us").strip().lower()
        if region not in REGIONS:
            raise IntegrationUnavailable(f"intercom region must be one of {sorted(REGIONS)}, not {region!r}")
        return REGIONS[region] if template.rstrip("/") == REGIONS["us"] else template

    # -- provider shapes -------------------------------------------------------------------------------
    def run(self, action: str, params: Any, steps: StepLog) -> Any:
        """Refuse the catalog's restricted actions (Workflows cannot be listed or run) with the reason."""
        spec = SPEC.action(action)
        if spec is not None and spec.restricted:
            raise IntegrationUnavailable(f"intercom.{action} is restricted: {spec.restricted}")
        return super().run(action, params, steps)

    def _me(self) -> Item:
        me = self.json("GET", "/me")
        require(me, "id", self.provider, "GET /me")
        return me

    def test_connection(self) -> dict[str, Any]:
        """Kept: the admin and workspace behind the token (the definition's GET /me, read once per client)."""
        me = self._me()
        app = me.get("app") or {}
        return {"admin_id": str(me["id"]), "name": me.get("name"), "email": me.get("email"),
                "workspace_id": app.get("id_code"), "workspace_name": app.get("name"),
                "region": app.get("region")}

    def _admin_id(self) -> str:
        """The admin who acts: the configured one, else the token's own admin."""
        return str(self.credentials.get("admin_id") or self._me()["id"])

    # -- conversations -----------------------------------------------------------------------------------
    def _conversation(self, conversation_id: str) -> Item:
        found = self.json("GET", f"/conversations/{conversation_id}")
        require(found, "id", self.provider, "GET /conversations/{id}")
        return found

    def _part_once(self, steps: StepLog, conversation_id: str, part_type: str, body: dict[str, Any]) -> Item:
        """Post a comment or note once per job (looked up in the conversation after a crash)."""
        key = f"{part_type}:{conversation_id}"
        if done := steps.get(key):
            return {**done, "changed": False}
        admin = self._admin_id()
        if steps.intent(key):
            earlier = [p for p in parts(self._conversation(conversation_id))
                       if authored(p, admin, part_type) and plain(p.get("body")) == plain(body["body"])]
            if earlier:  # an earlier attempt posted it but died before recording the part id
                done = {"conversation_id": conversation_id, "part_id": earlier[-1].get("id")}
                steps.put(key, done)
                return {**done, "changed": False}
        answer = self.json("POST", f"/conversations/{conversation_id}/reply",
                           json={"message_type": part_type, "type": "admin", "admin_id": admin, **body})
        with expect_shape(self.provider, "POST /conversations/{id}/reply"):
            mine = [p for p in parts(answer) if authored(p, admin, part_type)]
            done = {"conversation_id": str(answer["id"]), "part_id": mine[-1].get("id") if mine else None,
                    "state": answer.get("state")}
        steps.put(key, done)
        return {**done, "changed": True}

    def action_reply_to_conversation(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body: dict[str, Any] = {"body": params.body}
        if params.attachment_urls:
            body["attachment_urls"] = params.attachment_urls
        return self._part_once(steps, params.conversation_id, "comment", body)

    def action_add_note(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._part_once(steps, params.conversation_id, "note", {"body": params.body})

    def _manage(self, conversation_id: str, body: dict[str, Any]) -> Item:
        """POST a conversation part; for an assignment ``body["type"]`` (admin or team) replaces "admin"."""
        answer = self.json("POST", f"/conversations/{conversation_id}/parts",
                           json={"type": "admin", "admin_id": self._admin_id(), **body})
        require(answer, "id", self.provider, "POST /conversations/{id}/parts")
        return answer

    def action_assign_conversation(self, params: Any, steps: StepLog) -> dict[str, Any]:
        current = self._conversation(params.conversation_id)
        field = "admin_assignee_id" if params.assignee_type == "admin" else "team_assignee_id"
        have, wanted = current.get(field), None if params.assignee_id == "0" else params.assignee_id
        changed = (None if have is None else str(have)) != wanted
        if changed:
            body = {"message_type": "assignment", "type": params.assignee_type,
                    "assignee_id": params.assignee_id}
            if params.body:
                body["body"] = params.body
            current = self._manage(params.conversation_id, body)
        return {"conversation_id": str(current["id"]), "state": current.get("state"), "changed": changed,
                "admin_assignee_id": current.get("admin_assignee_id"),
                "team_assignee_id": current.get("team_assignee_id")}

    def action_close_conversation(self, params: Any, steps: StepLog) -> dict[str, Any]:
        current = self._conversation(params.conversation_id)
        changed = current.get("state") != "closed"
        if changed:
            body = {"message_type": "close", **({"body": params.body} if params.body else {})}
            current = self._manage(params.conversation_id, body)
        return {"conversation_id": str(current["id"]), "state": current.get("state"), "changed": changed}

    # -- segmentation ----------------------------------------------------------------------------------
    def action_list_segments(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"include_count": "true"} if params.include_count else {}
        with expect_shape(self.provider, "GET /segments"):
            segments = list(self.json("GET", "/segments", params=query)["segments"])[: params.limit]
            return {"segments": [{"id": s["id"], "name": s.get("name"), "person_type": s.get("person_type"),
                                  "count": s.get("count"), "updated_at": s.get("updated_at")}
                                 for s in segments]}

    def action_list_tags(self, params: Any, steps: StepLog) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /tags"):
            tags = list(self.json("GET", "/tags")["data"])[: params.limit]
            return {"tags": [{"id": t["id"], "name": t.get("name")} for t in tags]}

    def action_tag_contact(self, params: Any, steps: StepLog) -> dict[str, Any]:
        tag_id = params.tag_id
        if tag_id is None:  # POST /tags creates the tag or returns the existing one of that name
            tag_id = require(self.json("POST", "/tags", json={"name": params.tag_name}), "id", self.provider,
                             "POST /tags")
        tag = self.json("POST", f"/contacts/{params.contact_id}/tags", json={"id": str(tag_id)})
        return {"contact_id": params.contact_id, "tag": {"id": require(tag, "id", self.provider, "POST tag"),
                                                          "name": tag.get("name")}}

    def _search(self, path: str, key: str, params: Any) -> tuple[list[Item], int]:
        """Up to ``params.limit`` results of a search, following ``pages.next.starting_after``."""
        items: list[Item] = []
        total, after = 0, None
        while len(items) < params.limit:
            paging: dict[str, Any] = {"per_page": min(self.PAGE_SIZE, params.limit - len(items))}
            if after:
                paging["starting_after"] = after
            page = self.json("POST", path, json={"query": search_query(params.filters, params.combine),
                                                 "pagination": paging})
            with expect_shape(self.provider, f"POST {path}"):
                batch, total = list(page[key]), int(page.get("total_count") or 0)
                after = ((page.get("pages") or {}).get("next") or {}).get("starting_after")
            items.extend(batch)
            if not batch or not after:
                break
        return items[: params.limit], total

    def action_search_contacts(self, params: Any, steps: StepLog) -> dict[str, Any]:
        found, total = self._search("/contacts/search", "data", params)
        with expect_shape(self.provider, "POST /contacts/search"):
            return {"contacts": [contact_summary(c) for c in found], "total_count": total}

    def action_search_conversations(self, params: Any, steps: StepLog) -> dict[str, Any]:
        found, total = self._search("/conversations/search", "conversations", params)
        with expect_shape(self.provider, "POST /conversations/search"):
            return {"conversations": [conversation_summary(c) for c in found], "total_count": total}

    # -- reporting and workflows --------------------------------------------------------------------------
    def action_conversation_analytics(self, params: Any, steps: StepLog) -> dict[str, Any]:
        job = steps.get("export_job")
        if not job:
            body = {"dataset_id": params.dataset_id, "attribute_ids": params.attribute_ids,
                    "start_time": int(params.start_time.timestamp()),
                    "end_time": int(params.end_time.timestamp())}
            enqueued = self.json("POST", "/export/reporting_data/enqueue", json=body)
            job = str(require(enqueued, "job_identifier", self.provider, "POST /export/reporting_data"))
            steps.put("export_job", job)
        steps.progress("reporting export queued", 10.0)
        app_id = steps.get("app_id")
        if not app_id:  # the workspace id the status and download endpoints ask for
            app_id = require(self._me().get("app") or {}, "id_code", self.provider, "GET /me (app)")
            steps.put("app_id", app_id)
        self._wait_for_export(job, str(app_id), steps)
        rows = self._download(job, str(app_id))
        steps.progress("reporting export downloaded", 100.0)
        return {"dataset_id": params.dataset_id, "job_identifier": job,
                "start_time": params.start_time.isoformat(),
                "end_time": params.end_time.isoformat(), **export_summary(rows)}

    def _download(self, job: str, app_id: str) -> list[dict[str, str]]:
        """The rows of a completed export (the file is a gzipped CSV)."""
        query = {"app_id": app_id, "job_identifier": job}
        raw = self.request("GET", f"/download/reporting_data/{job}", params=query,
                           headers={"Accept": "application/octet-stream"}).content
        try:
            return export_rows(raw)
        except ValueError as exc:
            raise MalformedResponse(f"intercom reporting export is not a readable CSV ({exc})") from None

    def _wait_for_export(self, job: str, app_id: str, steps: StepLog) -> None:
        """Poll the export job until it is complete; a job still running after the timeout is retried."""
        deadline = time.monotonic() + self.POLL_TIMEOUT
        while True:
            status = self.json("GET", f"/export/reporting_data/{job}", params={"app_id": app_id,
                                                                               "job_identifier": job})
            state = str(require(status, "status", self.provider, "GET /export/reporting_data/{id}")).lower()
            if state in ("complete", "completed"):
                steps.progress("reporting export complete", 70.0)
                return
            if state in ("failed", "canceled", "cancelled", "expired"):
                steps.put("export_job", None)  # a retry enqueues a fresh export
                raise ProviderUnavailable(f"intercom reporting export {job} ended {state!r}")
            if time.monotonic() > deadline:
                raise ProviderUnavailable(f"intercom reporting export {job} is still {state!r}; "
                                          "retrying resumes it")
            steps.progress(f"reporting export {state}", 40.0)
            time.sleep(self.POLL_INTERVAL)

    def action_export_workflow(self, params: Any, steps: StepLog) -> dict[str, Any]:
        exported = self.json("GET", f"/export/workflows/{params.workflow_id}")
        workflow = require(exported, "workflow", self.provider, "GET /export/workflows/{id}")
        return {"export_version": exported.get("export_version"), "exported_at": exported.get("exported_at"),
                "workflow": workflow}


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = IntercomClient
