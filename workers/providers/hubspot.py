"""HubSpot client for Buddy (CRM: deals, contacts, e-mail activity, sequences) and Emmie (marketing e-mail,
lists, workflows): one OAuth 2.0 client serves both catalog entries.

Errors are ``{"status": "error", "message", "category", "correlationId"}``; throttles are 429 with
``Retry-After`` and a ``policyName``; every answer carries ``X-HubSpot-RateLimit-*``. Duplicates are
avoided with HubSpot's own keys where it has them (unique e-mail, ``batch/upsert`` by ``idProperty``,
unique list names); deals, marketing e-mails and enrollments record their intent and look up what an
earlier attempt made before making it again.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any, ClassVar

from workers.errors import ProviderRejected
from workers.providers._hubspot_marketing import MarketingActions
from workers.providers._hubspot_shape import crm_object, email_event, ms, search_filter, sequence_enrollment
from workers.providers.base import StepLog, expect_shape, require

#: Association type ids (HUBSPOT_DEFINED) from a deal to a contact and to a company.
DEAL_TO_CONTACT, DEAL_TO_COMPANY = 3, 5
_EXISTING = re.compile(r"Existing ID: (\d+)")
EMAIL_PROPERTIES = ["hs_email_subject", "hs_email_direction", "hs_email_status", "hs_timestamp",
                    "hs_email_from_email", "hs_email_to_email"]
DEAL_PROPERTIES = ["dealname", "dealstage", "pipeline", "amount", "closedate"]
CONTACT_PROPERTIES = ["email", "firstname", "lastname"]


class HubSpotClient(MarketingActions):
    """HubSpot for Buddy (the CRM actions below) and Emmie (:class:`MarketingActions`)."""

    provider: ClassVar[str] = "hubspot"
    #: Events asked for per page of the legacy Email Events API (max 1000).
    EVENTS_PAGE: ClassVar[int] = 1000

    # -- deals -----------------------------------------------------------------------------------------
    def action_create_deal(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if deal_id := steps.get("deal_id"):
            return {**self._get("deals", deal_id, DEAL_PROPERTIES), "resumed": True}
        props = {**params.properties, "dealname": params.dealname, "pipeline": params.pipeline,
                 "dealstage": params.dealstage}
        if params.amount is not None:
            props["amount"] = str(params.amount)
        if params.closedate is not None:
            props["closedate"] = params.closedate.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if params.owner_id:
            props["hubspot_owner_id"] = params.owner_id
        if steps.intent("create_deal") and (found := self._find_deal(props)):
            steps.put("deal_id", found["id"])
            return {**found, "resumed": True}
        associations = [_association(c, DEAL_TO_CONTACT) for c in params.contact_ids] + \
            [_association(c, DEAL_TO_COMPANY) for c in params.company_ids]
        body = {"properties": props, "associations": associations}
        created = self.json("POST", "/crm/v3/objects/deals", json=body)
        deal_id = str(require(created, "id", self.provider, "POST /crm/v3/objects/deals"))
        steps.put("deal_id", deal_id)
        with expect_shape(self.provider, "POST /crm/v3/objects/deals"):
            return {**crm_object(created), "resumed": False}

    def _find_deal(self, props: dict[str, Any]) -> dict[str, Any] | None:
        """The newest deal with this name in this pipeline and stage (an earlier attempt's, on a retry)."""
        filters = [{"propertyName": k, "operator": "EQ", "value": str(props[k])}
                   for k in ("dealname", "pipeline", "dealstage")]
        body = {"filterGroups": [{"filters": filters}], "properties": DEAL_PROPERTIES,
                "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}]}
        found, _ = self._search("deals", body, 1)
        with expect_shape(self.provider, "POST /crm/v3/objects/deals/search"):
            return crm_object(found[0]) if found else None

    def action_update_deal(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._patch("deals", params.id, params.properties)

    def action_list_deals(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if params.pipeline or params.dealstage:
            filters = [{"propertyName": k, "operator": "EQ", "value": v}
                       for k, v in (("pipeline", params.pipeline), ("dealstage", params.dealstage)) if v]
            body = {"filterGroups": [{"filters": filters}], "properties": params.properties}
            items, total = self._search("deals", body, params.limit)
        else:
            query = {"properties": ",".join(params.properties)}
            items, total = self._list("/crm/v3/objects/deals", params.limit, query), None
        with expect_shape(self.provider, "deals"):
            return {"deals": [crm_object(d) for d in items], "total": total}

    # -- contacts --------------------------------------------------------------------------------------
    def action_create_contact(self, params: Any, steps: StepLog) -> dict[str, Any]:
        props = {**params.properties, "email": params.email}
        props |= {k: v for k, v in (("firstname", params.firstname), ("lastname", params.lastname)) if v}
        try:
            created = self.json("POST", "/crm/v3/objects/contacts", json={"properties": props})
        except ProviderRejected as exc:  # 409: the e-mail is taken; an earlier attempt may have created it
            existing = _EXISTING.search(exc.message) if exc.status == 409 else None
            if existing is None:
                raise
            steps.put("contact_id", existing[1])
            return {**self._get("contacts", existing[1], CONTACT_PROPERTIES), "created": False}
        steps.put("contact_id", str(require(created, "id", self.provider, "POST /crm/v3/objects/contacts")))
        with expect_shape(self.provider, "POST /crm/v3/objects/contacts"):
            return {**crm_object(created), "created": True}

    def action_search_contacts(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body: dict[str, Any] = {"properties": params.properties,
                                "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}]}
        if params.query:
            body["query"] = params.query
        if params.filters:
            body["filterGroups"] = [{"filters": [search_filter(f) for f in params.filters]}]
        items, total = self._search("contacts", body, params.limit)
        with expect_shape(self.provider, "POST /crm/v3/objects/contacts/search"):
            return {"total": total, "contacts": [crm_object(c) for c in items]}

    def action_update_contact(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._patch("contacts", params.id, params.properties)

    def action_batch_upsert_contacts(self, params: Any, steps: StepLog) -> dict[str, Any]:
        inputs = [{"idProperty": params.id_property, "id": c.id, "properties": c.properties}
                  for c in params.contacts]
        result = self.json("POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs})
        with expect_shape(self.provider, "POST /crm/v3/objects/contacts/batch/upsert"):
            results = [{**crm_object(r), "new": bool(r.get("new"))} for r in result["results"]]
            errors = [{k: e.get(k) for k in ("message", "category", "context")}
                      for e in result.get("errors") or []]
            return {"status": result.get("status"), "results": results, "errors": errors,
                    "created": sum(r["new"] for r in results), "updated": sum(not r["new"] for r in results)}

    # -- e-mail activity and sequences -----------------------------------------------------------------
    def action_list_email_events(self, params: Any, steps: StepLog) -> dict[str, Any]:
        pairs = (("recipient", params.recipient), ("campaignId", params.campaign_id),
                 ("eventType", params.event_type), ("startTimestamp", ms(params.start_time)),
                 ("endTimestamp", ms(params.end_time)))
        query = {k: v for k, v in pairs if v is not None}
        events: list[dict[str, Any]] = []
        offset: str | None = None
        while len(events) < params.limit:
            page = self.json("GET", "/email/public/v1/events",
                             params={**query, "limit": min(self.EVENTS_PAGE, params.limit - len(events)),
                                     **({"offset": offset} if offset else {})})
            with expect_shape(self.provider, "GET /email/public/v1/events"):
                events.extend(email_event(e) for e in page["events"])
                offset = page.get("offset")
            if not page.get("hasMore") or not offset:
                break
        return {"events": events[:params.limit], "count": len(events[:params.limit])}

    def action_list_email_engagements(self, params: Any, steps: StepLog) -> dict[str, Any]:
        filters = [{"propertyName": f"associations.{kind}", "operator": "EQ", "value": value}
                   for kind, value in (("contact", params.contact_id), ("deal", params.deal_id)) if value]
        if params.since is not None:
            filters.append({"propertyName": "hs_timestamp", "operator": "GTE",
                            "value": str(ms(params.since))})
        body: dict[str, Any] = {"properties": EMAIL_PROPERTIES,
                                "sorts": [{"propertyName": "hs_timestamp", "direction": "DESCENDING"}]}
        if filters:
            body["filterGroups"] = [{"filters": filters}]
        items, total = self._search("emails", body, params.limit)
        with expect_shape(self.provider, "POST /crm/v3/objects/emails/search"):
            return {"total": total, "emails": [crm_object(e) for e in items]}

    def action_enroll_in_sequence(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if enrollment := steps.get("enrollment"):
            return {**enrollment, "resumed": True}
        if steps.intent("enroll_in_sequence") and (found := self._sequence_enrollment(params)):
            steps.put("enrollment", found)
            return {**found, "resumed": True}
        body = {"sequenceId": params.sequence_id, "contactId": params.contact_id,
                "senderEmail": params.sender_email}
        created = self.json("POST", "/automation/v4/sequences/enrollments", params={"userId": params.user_id},
                            json=body)
        with expect_shape(self.provider, "POST /automation/v4/sequences/enrollments"):
            enrollment = sequence_enrollment(created, params.sequence_id, params.contact_id)
        steps.put("enrollment", enrollment)
        return {**enrollment, "resumed": False}

    def _sequence_enrollment(self, params: Any) -> dict[str, Any] | None:
        """The contact's current enrollment in this sequence, if an earlier attempt made it."""
        try:
            found = self.json("GET", f"/automation/v4/sequences/enrollments/contact/{params.contact_id}")
        except ProviderRejected as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(found, dict) or str(found.get("sequenceId")) != params.sequence_id:
            return None
        with expect_shape(self.provider, "GET /automation/v4/sequences/enrollments/contact/{id}"):
            return sequence_enrollment(found, params.sequence_id, params.contact_id)


def _association(object_id: str, type_id: int) -> dict[str, Any]:
    kind = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
    return {"to": {"id": object_id}, "types": [kind]}


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = HubSpotClient
