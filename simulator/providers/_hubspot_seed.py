"""CRM record storage and the seed data of a simulated HubSpot portal."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

#: Object types of the CRM API and their v3 object type ids.
OBJECT_TYPES = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "emails": "0-49"}
PIPELINE_STAGES = {"default": ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                               "decisionmakerboughtin", "contractsent", "closedwon", "closedlost")}
EVENT_TYPES = ("SENT", "DELIVERED", "OPEN", "CLICK", "BOUNCE")


def now_iso(delta: timedelta = timedelta()) -> str:
    """A HubSpot timestamp like ``2026-09-01T12:00:00.000Z``."""
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"


def text(value: Any) -> str | None:
    """A property value as HubSpot stores it (a string)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def put_object(p: dict[str, Any], kind: str, object_id: str, props: dict[str, Any],
               created: str | None = None) -> dict[str, Any]:
    """Store a new CRM record."""
    stamp = created or now_iso()
    values = {k: text(v) for k, v in props.items()}
    values |= {"hs_object_id": object_id, "createdate": stamp, "lastmodifieddate": stamp}
    obj = {"id": object_id, "properties": values, "createdAt": stamp, "updatedAt": stamp, "archived": False}
    p["objects"][kind][object_id] = obj
    return obj


def associate(p: dict[str, Any], kind: str, object_id: str, other: str, other_id: str) -> None:
    """Associate two records (both directions)."""
    p["assoc"].setdefault((kind, object_id), {}).setdefault(other, set()).add(other_id)
    p["assoc"].setdefault((other, other_id), {}).setdefault(kind, set()).add(object_id)


def seed(key: str) -> dict[str, Any]:
    """A fresh portal: contacts, companies, deals, e-mails, marketing e-mails, events, lists, workflows."""
    n = int(hashlib.sha256(key.encode()).hexdigest()[:6], 16)
    p: dict[str, Any] = {"portal_id": 20_000_000 + n % 9_000_000, "calls": 0, "assoc": {},
                         "objects": {kind: {} for kind in OBJECT_TYPES},
                         "users": {"7001": "owner1@sim.example", "7002": "owner2@sim.example"},
                         "sequences": {"6001": "Inbound follow-up", "6002": "Demo no-show"},
                         "sequence_enrollments": {}, "workflow_enrollments": {}, "memberships": {}}
    _crm(p)
    _marketing(p)
    return p


def _crm(p: dict[str, Any]) -> None:
    stages = PIPELINE_STAGES["default"]
    for i in range(30):
        put_object(p, "contacts", str(101 + i), {
            "email": f"contact{i}@example.com", "firstname": f"Pat{i}", "lastname": f"Lee {i:02d}",
            "lifecyclestage": ("lead", "subscriber", "customer")[i % 3], "company": f"Company {i % 3}",
            "phone": f"+1555010{i:02d}"}, now_iso(timedelta(days=i - 60)))
    for i, (name, domain) in enumerate((("Acme", "acme.example"), ("Globex", "globex.example"),
                                        ("Initech", "initech.example"))):
        put_object(p, "companies", str(201 + i), {"name": name, "domain": domain})
    for i in range(12):
        deal = str(301 + i)
        put_object(p, "deals", deal, {
            "dealname": f"Deal {i + 1:02d}", "pipeline": "default", "dealstage": stages[i % len(stages)],
            "amount": str(1000 * (i + 1)), "closedate": now_iso(timedelta(days=10 * i)),
            "hubspot_owner_id": ("7001", "7002")[i % 2]}, now_iso(timedelta(days=i - 40)))
        associate(p, "deals", deal, "contacts", str(101 + i))
        associate(p, "deals", deal, "companies", str(201 + i % 3))
    for i in range(10):
        email = str(401 + i)
        put_object(p, "emails", email, {
            "hs_timestamp": now_iso(timedelta(days=-i)), "hs_email_subject": f"Following up #{i}",
            "hs_email_direction": "EMAIL" if i % 2 else "INCOMING_EMAIL", "hs_email_status": "SENT",
            "hs_email_from_email": "owner1@sim.example", "hs_email_to_email": f"contact{i % 5}@example.com"})
        associate(p, "emails", email, "contacts", str(101 + i % 5))
        associate(p, "emails", email, "deals", str(301 + i % 3))


def _marketing(p: dict[str, Any]) -> None:
    p["marketing_emails"] = {}
    for i, (name, state) in enumerate((("September newsletter", "PUBLISHED"), ("Webinar invite", "PUBLISHED"),
                                       ("Product launch", "DRAFT"))):
        sent = 500 * (3 - i) if state == "PUBLISHED" else 0
        counters = {"sent": sent, "delivered": int(sent * 0.98), "open": int(sent * 0.4),
                    "click": int(sent * 0.1), "bounce": sent - int(sent * 0.98), "unsubscribed": i}
        p["marketing_emails"][str(5001 + i)] = {
            "id": str(5001 + i), "name": name, "subject": name, "state": state, "type": "BATCH_EMAIL",
            "isPublished": state == "PUBLISHED", "publishDate": now_iso(timedelta(days=-7 * (i + 1))),
            "from": {"fromName": "Sim Marketing", "replyTo": "marketing@sim.example"},
            "to": {"contactIlsLists": {"include": ["1"], "exclude": []}}, "archived": False,
            "createdAt": now_iso(timedelta(days=-30 + i)), "updatedAt": now_iso(timedelta(days=-20 + i)),
            "stats": {"counters": counters}}
    p["events"] = [_event(p, n) for n in range(60)]
    p["lists"] = {}
    lists = (("Newsletter subscribers", "MANUAL", "0-1"), ("Customers", "DYNAMIC", "0-1"),
             ("Target accounts", "MANUAL", "0-2"))
    for i, (name, kind, otid) in enumerate(lists):
        p["lists"][str(1 + i)] = {"listId": str(1 + i), "name": name, "objectTypeId": otid,
                                  "processingType": kind, "processingStatus": "COMPLETE", "listVersion": 1,
                                  "createdAt": now_iso(), "updatedAt": now_iso(),
                                  "filtersUpdatedAt": now_iso()}
        p["memberships"][str(1 + i)] = ["101", "102", "103"] if otid == "0-1" else ["201"]
    flows = (("Welcome series", "0-1"), ("Lead nurturing", "0-1"), ("Deal follow-up", "0-3"))
    p["flows"] = {str(1001 + i): {"id": str(1001 + i), "name": name, "isEnabled": i != 2, "type": "WORKFLOW",
                                  "flowType": "WORKFLOW", "objectTypeId": otid, "revisionId": "3",
                                  "createdAt": now_iso(timedelta(days=-90)),
                                  "updatedAt": now_iso(timedelta(days=-9))}
                  for i, (name, otid) in enumerate(flows)}


def _event(p: dict[str, Any], n: int) -> dict[str, Any]:
    """The ``n``-th legacy e-mail event (newest first), for one of three campaigns."""
    event = {"id": f"ev-{n}", "type": EVENT_TYPES[n % len(EVENT_TYPES)], "emailCampaignId": 9001 + n % 3,
             "recipient": f"contact{n % 10}@example.com", "appId": 113, "appName": "BatchTest",
             "portalId": p["portal_id"],
             "created": int((datetime.now(UTC) - timedelta(hours=n)).timestamp() * 1000)}
    return event | ({"url": "https://sim.example/offer"} if event["type"] == "CLICK" else {})
