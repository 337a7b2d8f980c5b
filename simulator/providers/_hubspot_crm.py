"""CRM routes of the HubSpot simulator (Buddy): account info, records, search, batch upsert, legacy e-mail
events and sales sequences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from simulator.control import state
from simulator.providers._hubspot_common import (
    DEFAULT_PROPERTIES,
    fail,
    invalid,
    new_id,
    not_found,
    portal,
    view,
    wanted_properties,
)
from simulator.providers._hubspot_search import search
from simulator.providers._hubspot_seed import PIPELINE_STAGES, associate, now_iso, put_object, text

router = APIRouter()
KINDS = tuple(DEFAULT_PROPERTIES)
#: Association type ids the simulator knows: (from, typeId) -> to.
ASSOCIATION_TYPES = {("deals", 3): "contacts", ("deals", 5): "companies", ("contacts", 4): "deals",
                     ("contacts", 279): "companies"}


async def json_body(request: Request) -> Any:
    """The JSON body, or HubSpot's 400 for invalid JSON."""
    try:
        return await request.json()
    except ValueError:
        invalid("Invalid input JSON on line 1: the body is not JSON")


def _kind(kind: str) -> str:
    if kind not in KINDS:
        fail(400, f"Unable to infer object type from: {kind}", "VALIDATION_ERROR")
    return kind


def _validate(p: dict[str, Any], kind: str, props: Any,
              existing: dict[str, Any] | None = None) -> dict[str, Any]:
    if not isinstance(props, dict):
        invalid("properties must be an object")
    merged = {**(existing or {}), **{k: text(v) for k, v in props.items()}}
    if kind == "deals":
        pipeline, stage = merged.get("pipeline") or "default", merged.get("dealstage")
        if pipeline not in PIPELINE_STAGES:
            invalid(f"Property values were not valid: pipeline {pipeline!r} does not exist")
        if stage not in PIPELINE_STAGES[pipeline]:
            detail = {"message": f"{stage} was not one of the allowed options", "code": "INVALID_OPTION",
                      "context": {"propertyName": ["dealstage"]}}
            invalid(f"Property values were not valid: {stage!r} is not a dealstage of pipeline {pipeline}",
                    errors=[detail])
    if kind == "contacts" and (email := merged.get("email")):
        clash = next((o for o in p["objects"]["contacts"].values()
                      if (o["properties"].get("email") or "").lower() == email.lower()
                      and o["properties"] is not existing), None)
        if clash is not None:
            fail(409, f"Contact already exists. Existing ID: {clash['id']}", "CONFLICT")
    return props


@router.get("/account-info/v3/details")
def account_details(p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """The account behind the token."""
    return {"portalId": p["portal_id"], "accountType": "STANDARD", "timeZone": "US/Eastern",
            "companyCurrency": "USD", "additionalCurrencies": [], "utcOffset": "-04:00",
            "utcOffsetMilliseconds": -14_400_000, "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"}


@router.post("/crm/v3/objects/{kind}", status_code=201)
async def create(kind: str, request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Create a record, with associations."""
    body = await json_body(request)
    kind = _kind(kind)
    with state(request).lock:
        props = _validate(p, kind, (body or {}).get("properties") if isinstance(body, dict) else None)
        links = []
        for item in body.get("associations") or []:
            type_id = next((t.get("associationTypeId") for t in item.get("types") or []), None)
            other = ASSOCIATION_TYPES.get((kind, type_id)) if type_id is not None else None
            target = str((item.get("to") or {}).get("id"))
            if other is None or target not in p["objects"][other]:
                invalid(f"Invalid association: {item}")
            links.append((other, target))
        obj = put_object(p, kind, new_id(request), props)
        for other, target in links:
            associate(p, kind, obj["id"], other, target)
        return view(obj, kind, list(props) or None)


@router.get("/crm/v3/objects/{kind}")
def list_objects(kind: str, request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """A page of records (``limit`` at most 100, ``after`` cursor)."""
    kind, q = _kind(kind), request.query_params
    limit, after = int(q.get("limit") or 10), int(q.get("after") or 0)
    if not 0 < limit <= 100:
        invalid("limit must be between 1 and 100")
    with state(request).lock:
        items = sorted(p["objects"][kind].values(), key=lambda o: int(o["id"]))
        wanted = wanted_properties(q.get("properties"))
        out: dict[str, Any] = {"results": [view(o, kind, wanted) for o in items[after: after + limit]]}
    if after + limit < len(items):
        nxt = str(after + limit)
        out["paging"] = {"next": {"after": nxt, "link": str(request.url.include_query_params(after=nxt))}}
    return out


@router.post("/crm/v3/objects/{kind}/search")
async def search_objects(kind: str, request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """CRM search."""
    body = await json_body(request)
    with state(request).lock:
        return search(p, _kind(kind), body)


@router.post("/crm/v3/objects/{kind}/batch/upsert")
async def batch_upsert(kind: str, request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Create or update up to 100 records by a unique property (``idProperty``)."""
    body, started = await json_body(request), now_iso()
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not 1 <= len(inputs) <= 100:
        invalid("inputs must hold 1 to 100 objects")
    results = []
    with state(request).lock:
        for item in inputs:
            prop, value = item.get("idProperty"), str(item.get("id") or "")
            if not prop or not value:
                invalid("Each input needs idProperty and id")
            found = next((o for o in p["objects"][_kind(kind)].values()
                          if str(o["properties"].get(prop) or "").lower() == value.lower()), None)
            props = {**(item.get("properties") or {}), prop: value}
            if found is None:
                obj, new = put_object(p, kind, new_id(request), _validate(p, kind, props)), True
            else:
                _validate(p, kind, props, found["properties"])
                found["properties"].update({k: text(v) for k, v in props.items()}, lastmodifieddate=now_iso())
                obj, new = found, False
            results.append({**view(obj, kind, list(props)), "new": new})
    return {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now_iso()}


@router.api_route("/crm/v3/objects/{kind}/{object_id}", methods=["GET", "PATCH"])
async def one(kind: str, object_id: str, request: Request,
              p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Read or update one record."""
    body = await json_body(request) if request.method == "PATCH" else None
    kind = _kind(kind)
    with state(request).lock:
        obj = p["objects"][kind].get(object_id) or not_found()
        if request.method == "GET":
            return view(obj, kind, wanted_properties(request.query_params.get("properties")))
        given = body.get("properties") if isinstance(body, dict) else None
        props = _validate(p, kind, given, obj["properties"])
        obj["properties"].update({k: text(v) for k, v in props.items()}, lastmodifieddate=now_iso())
        obj["updatedAt"] = obj["properties"]["lastmodifieddate"]
        return view(obj, kind, list(DEFAULT_PROPERTIES[kind]) + list(props))


@router.get("/email/public/v1/events")
def email_events(request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Legacy Email Events API: newest first, ``offset`` token paging, ``limit`` at most 1000."""
    q = request.query_params
    events = list(p["events"])
    for key, field in (("recipient", "recipient"), ("campaignId", "emailCampaignId"), ("eventType", "type")):
        if q.get(key):  # eventType is case-sensitive
            events = [e for e in events if str(e[field]) == q[key]]
    if q.get("startTimestamp"):
        events = [e for e in events if e["created"] >= int(q["startTimestamp"])]
    if q.get("endTimestamp"):
        events = [e for e in events if e["created"] <= int(q["endTimestamp"])]
    limit = min(int(q.get("limit") or 100), 1000)
    start = int(bytes.fromhex(q["offset"]).decode()) if q.get("offset") else 0
    more = start + limit < len(events)
    return {"events": events[start: start + limit], "hasMore": more,
            "offset": str(start + limit).encode().hex()}


def _enrollment(p: dict[str, Any], contact_id: str) -> dict[str, Any]:
    found = p["sequence_enrollments"].get(contact_id)
    if found is None:
        fail(404, f"No active sequence enrollment for contact {contact_id}", "OBJECT_NOT_FOUND")
    return found


@router.get("/automation/v4/sequences/enrollments/contact/{contact_id}")
def sequence_enrollment(contact_id: str, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """The contact's current sequence enrollment."""
    return _enrollment(p, contact_id)


@router.post("/automation/v4/sequences/enrollments")
async def enroll_sequence(request: Request, p: dict[str, Any] = Depends(portal)) -> Response:
    """Enroll a contact in a sequence on behalf of ``userId`` (one active sequence per contact)."""
    body, user = await json_body(request), request.query_params.get("userId")
    if not isinstance(body, dict) or not all(body.get(k) for k in ("sequenceId", "contactId", "senderEmail")):
        invalid("sequenceId, contactId and senderEmail are required")
    if user not in p["users"]:
        invalid(f"userId {user!r} is not a user of this account")
    with state(request).lock:
        contact = p["objects"]["contacts"].get(str(body["contactId"]))
        if str(body["sequenceId"]) not in p["sequences"] or contact is None:
            not_found()
        if str(body["contactId"]) in p["sequence_enrollments"]:
            invalid("The contact is already enrolled in a sequence", subCategory="CONTACT_ALREADY_ENROLLED")
        enrollment = {"id": new_id(request), "toEmail": contact["properties"].get("email"),
                      "enrolledAt": now_iso(), "updatedAt": now_iso(), "sequenceId": str(body["sequenceId"]),
                      "sequenceName": p["sequences"][str(body["sequenceId"])], "enrolledBy": user,
                      "enrolledByEmail": body["senderEmail"]}
        p["sequence_enrollments"][str(body["contactId"])] = enrollment
    public = {k: enrollment[k] for k in ("id", "toEmail", "enrolledAt", "updatedAt")}
    return JSONResponse(public)
