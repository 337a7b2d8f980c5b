"""HubSpot Marketing actions for Emmie: marketing e-mails and their statistics, lists, workflows.

``send_single_email`` is declared restricted in the catalog (Marketing Hub Enterprise), so it has no
method here and the runner refuses it with the catalog's reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from workers.errors import ProviderRejected
from workers.providers._hubspot_base import HubSpotBase
from workers.providers._hubspot_shape import crm_list, flow, marketing_email
from workers.providers.base import StepLog, expect_shape, require

#: Lists asked for per page of POST /crm/v3/lists/search (max 500).
LIST_PAGE = 500
#: How many of the newest marketing e-mails a retry searches for one an earlier attempt created.
RECENT_EMAILS = 200


class MarketingActions(HubSpotBase):
    """The Emmie / HubSpot Marketing actions."""

    # -- marketing e-mails -----------------------------------------------------------------------------
    def action_list_marketing_emails(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"includeStats": str(params.include_stats).lower(), "archived": str(params.archived).lower()}
        items = self._list("/marketing/v3/emails", params.limit, query)
        with expect_shape(self.provider, "GET /marketing/v3/emails"):
            return {"emails": [marketing_email(e) for e in items]}

    def action_create_marketing_email(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if email_id := steps.get("email_id"):
            return {**self._email(email_id), "resumed": True}
        if steps.intent("create_marketing_email") and (
                found := self._find_email(params.name, params.subject)):
            steps.put("email_id", found["id"])
            return {**found, "resumed": True}
        body: dict[str, Any] = {**params.properties, "name": params.name}
        if params.subject:
            body["subject"] = params.subject
        sender = {k: v for k, v in (("fromName", params.from_name), ("replyTo", params.reply_to)) if v}
        if sender:
            body["from"] = sender
        if params.list_ids:  # v3 list ids are ILS ids: contactIlsLists, not the legacy contactLists
            body["to"] = {"contactIlsLists": {"include": params.list_ids, "exclude": []}}
        if params.template_path:
            body["content"] = {"templatePath": params.template_path}
        created = self.json("POST", "/marketing/v3/emails", json=body)
        steps.put("email_id", str(require(created, "id", self.provider, "POST /marketing/v3/emails")))
        with expect_shape(self.provider, "POST /marketing/v3/emails"):
            return {**marketing_email(created), "resumed": False}

    def _email(self, email_id: str) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /marketing/v3/emails/{id}"):
            return marketing_email(self.json("GET", f"/marketing/v3/emails/{quote(str(email_id), safe='')}"))

    def _find_email(self, name: str, subject: str | None) -> dict[str, Any] | None:
        """The newest e-mail with this name (and subject) among the most recent ones."""
        items = self._list("/marketing/v3/emails", RECENT_EMAILS, {"sort": "-createdAt"})
        with expect_shape(self.provider, "GET /marketing/v3/emails"):
            found = [marketing_email(e) for e in items if e.get("name") == name
                     and (subject is None or e.get("subject") == subject)]
        return max(found, key=lambda e: str(e.get("created_at") or ""), default=None)

    def action_get_email_statistics(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query: dict[str, Any] = {"startTimestamp": params.start_time.isoformat(),
                                 "endTimestamp": params.end_time.isoformat()}
        if params.email_ids:
            query["emailIds"] = [str(i) for i in params.email_ids]
        data = self.json("GET", "/marketing/v3/emails/statistics/list", params=query)
        with expect_shape(self.provider, "GET /marketing/v3/emails/statistics/list"):
            aggregate = data["aggregate"]
            return {"email_ids": [str(i) for i in data.get("emails") or []],
                    "counters": aggregate.get("counters", {}), "ratios": aggregate.get("ratios", {}),
                    "device_breakdown": aggregate.get("deviceBreakdown", {})}

    # -- lists -----------------------------------------------------------------------------------------
    def action_list_lists(self, params: Any, steps: StepLog) -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        offset = 0
        while len(found) < params.limit:
            body: dict[str, Any] = {"offset": offset, "count": LIST_PAGE,
                                    "additionalProperties": ["hs_list_size"]}
            if params.query:
                body["query"] = params.query
            page = self.json("POST", "/crm/v3/lists/search", json=body)
            with expect_shape(self.provider, "POST /crm/v3/lists/search"):
                found.extend(crm_list(i) for i in page["lists"]
                             if i.get("objectTypeId") == params.object_type_id)
                more, offset = bool(page.get("hasMore")), int(page.get("offset") or 0)
            if not more or not page["lists"]:
                break
        return {"lists": found[:params.limit]}

    def action_create_list(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if list_id := steps.get("list_id"):
            return {**self._crm_list(f"/crm/v3/lists/{list_id}"), "resumed": True}
        if steps.intent("create_list") and (found := self._list_named(params.object_type_id, params.name)):
            steps.put("list_id", found["id"])
            return {**found, "resumed": True}
        body: dict[str, Any] = {"name": params.name, "objectTypeId": params.object_type_id,
                                "processingType": params.processing_type}
        if params.filter_branch is not None:
            body["filterBranch"] = params.filter_branch
        created = self.json("POST", "/crm/v3/lists", json=body)
        with expect_shape(self.provider, "POST /crm/v3/lists"):
            result = crm_list(created["list"])
        steps.put("list_id", result["id"])
        return {**result, "resumed": False}

    def _crm_list(self, path: str) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /crm/v3/lists/..."):
            return crm_list(self.json("GET", path)["list"])

    def _list_named(self, object_type_id: str, name: str) -> dict[str, Any] | None:
        """The list called ``name`` (list names are unique in an account), or None."""
        try:
            return self._crm_list(f"/crm/v3/lists/object-type-id/{quote(object_type_id, safe='')}/name/"
                                  f"{quote(name, safe='')}")
        except ProviderRejected as exc:
            if exc.status == 404:
                return None
            raise

    def action_add_to_list(self, params: Any, steps: StepLog) -> dict[str, Any]:
        result = self.json("PUT", f"/crm/v3/lists/{quote(params.list_id, safe='')}/memberships/add",
                           json=params.record_ids)
        with expect_shape(self.provider, "PUT /crm/v3/lists/{id}/memberships/add"):
            # the spec names it recordsIdsAdded, its examples recordIdsAdded
            added = result.get("recordIdsAdded", result.get("recordsIdsAdded")) or []
            missing = result.get("recordIdsMissing") or []
        return {"list_id": params.list_id, "added": [str(i) for i in added],
                "missing": [str(i) for i in missing],
                "already_members": len(params.record_ids) - len(added) - len(missing)}

    # -- workflows -------------------------------------------------------------------------------------
    def action_list_workflows(self, params: Any, steps: StepLog) -> dict[str, Any]:
        items = self._list("/automation/v4/flows", params.limit)
        with expect_shape(self.provider, "GET /automation/v4/flows"):
            return {"workflows": [flow(f) for f in items]}

    def action_enroll_in_workflow(self, params: Any, steps: StepLog) -> dict[str, Any]:
        result = {"workflow_id": params.workflow_id, "email": params.email}
        if steps.get("enrolled"):
            return {**result, "enrolled": True, "resumed": True}
        if steps.intent("enroll_in_workflow") and self._in_workflow(params.workflow_id, params.email):
            steps.put("enrolled", True)
            return {**result, "enrolled": True, "resumed": True}
        workflow, email = quote(params.workflow_id, safe=""), quote(params.email, safe="@")
        self.request("POST", f"/automation/v2/workflows/{workflow}/enrollments/contacts/{email}")
        steps.put("enrolled", True)
        return {**result, "enrolled": True, "resumed": False}

    def _in_workflow(self, workflow_id: str, email: str) -> bool:
        """Whether the contact is currently enrolled in the workflow (an earlier attempt enrolled it)."""
        contact_id = self._contact_id(email)
        if contact_id is None:
            return False
        current = self.json("GET", f"/automation/v2/workflows/enrollments/contacts/{contact_id}")
        workflows = [current] if isinstance(current, dict) else current  # the docs show one, the API a list
        return isinstance(workflows, list) and any(str(w.get("id")) == workflow_id for w in workflows
                                                   if isinstance(w, dict))
