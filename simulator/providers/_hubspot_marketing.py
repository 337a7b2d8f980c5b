"""Marketing routes of the HubSpot simulator (Emmie): marketing e-mails and statistics, lists (v3) and
workflows (v4 flows, v2 contact enrollment)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from simulator.control import state
from simulator.providers._hubspot_common import fail, invalid, new_id, not_found, portal
from simulator.providers._hubspot_crm import json_body
from simulator.providers._hubspot_seed import OBJECT_TYPES, now_iso

router = APIRouter()
KIND_OF = {v: k for k, v in OBJECT_TYPES.items()}


def _page(request: Request, items: list[dict[str, Any]], *, most: int = 100) -> dict[str, Any]:
    q = request.query_params
    limit, after = int(q.get("limit") or 10), int(q.get("after") or 0)
    if not 0 < limit <= most:
        invalid(f"limit must be between 1 and {most}")
    out: dict[str, Any] = {"total": len(items), "results": items[after: after + limit]}
    if after + limit < len(items):
        nxt = str(after + limit)
        out["paging"] = {"next": {"after": nxt, "link": str(request.url.include_query_params(after=nxt))}}
    return out


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- marketing e-mails ---------------------------------------------------------------------------------
@router.get("/marketing/v3/emails")
def list_emails(request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Marketing e-mails (``archived``, ``includeStats``, ``sort``)."""
    q = request.query_params
    archived, stats = q.get("archived", "false") == "true", q.get("includeStats", "false") == "true"
    with state(request).lock:
        items = [e for e in p["marketing_emails"].values() if e["archived"] == archived]
    sort = q.get("sort") or "id"
    items.sort(key=lambda e: str(e.get(sort.lstrip("-")) or ""), reverse=sort.startswith("-"))
    shown = [e if stats else {k: v for k, v in e.items() if k != "stats"} for e in items]
    return _page(request, shown)


@router.get("/marketing/v3/emails/statistics/list")
def statistics(request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Aggregated counters of the e-mails published in ``[startTimestamp, endTimestamp]``."""
    q = request.query_params
    try:
        start, end = (_when(q[k]) for k in ("startTimestamp", "endTimestamp"))
    except (KeyError, ValueError):
        invalid("startTimestamp and endTimestamp are required ISO 8601 times")
    ids = set(q.getlist("emailIds"))
    with state(request).lock:
        chosen = [e for e in p["marketing_emails"].values() if e["isPublished"]
                  and (not ids or e["id"] in ids) and start <= _when(e["publishDate"]) <= end]
    counters: dict[str, int] = {}
    for e in chosen:
        for name, value in e["stats"]["counters"].items():
            counters[name] = counters.get(name, 0) + value
    sent, delivered = counters.get("sent", 0), counters.get("delivered", 0)
    ratios = {"deliveredratio": round(100 * delivered / sent, 2) if sent else 0,
              "openratio": round(100 * counters.get("open", 0) / delivered, 2) if delivered else 0,
              "clickratio": round(100 * counters.get("click", 0) / delivered, 2) if delivered else 0}
    return {"emails": [e["id"] for e in chosen], "campaignAggregations": {},
            "aggregate": {"counters": counters, "ratios": ratios, "deviceBreakdown": {},
                          "qualifierStats": {}}}


@router.get("/marketing/v3/emails/{email_id}")
def get_email(email_id: str, request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """One marketing e-mail."""
    with state(request).lock:
        return p["marketing_emails"].get(email_id) or not_found()


@router.post("/marketing/v3/emails", status_code=201)
async def create_email(request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Create a draft marketing e-mail (``name`` required)."""
    body = await json_body(request)
    if not isinstance(body, dict) or not body.get("name"):
        invalid("name is required", errors=[{"message": "name is required", "code": "REQUIRED_FIELD"}])
    include = ((body.get("to") or {}).get("contactIlsLists") or {}).get("include") or []
    with state(request).lock:
        if missing := [i for i in include if str(i) not in p["lists"]]:
            invalid(f"Lists do not exist: {missing}")
        email = {"subject": "", "from": {}, "to": {}, **body, "id": new_id(request), "state": "DRAFT",
                 "type": "BATCH_EMAIL", "isPublished": False, "archived": False, "createdAt": now_iso(),
                 "updatedAt": now_iso(), "stats": {"counters": {}}}
        p["marketing_emails"][email["id"]] = email
    return {k: v for k, v in email.items() if k != "stats"}


# -- lists ---------------------------------------------------------------------------------------------
def _list_view(p: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    size = len(p["memberships"].get(item["listId"], []))
    return {**item, "additionalProperties": {"hs_list_size": str(size)}}


@router.post("/crm/v3/lists/search")
async def search_lists(request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Lists whose name contains ``query``, ``count`` (max 500) from ``offset``."""
    body = await json_body(request)
    body = body if isinstance(body, dict) else {}
    count, offset = int(body.get("count") or 20), int(body.get("offset") or 0)
    if not 0 < count <= 500:
        invalid("count must be between 1 and 500")
    query = str(body.get("query") or "").lower()
    with state(request).lock:
        found = [_list_view(p, i) for i in p["lists"].values() if query in i["name"].lower()]
    page = found[offset: offset + count]
    return {"lists": page, "hasMore": offset + count < len(found), "offset": offset + len(page),
            "total": len(found)}


@router.post("/crm/v3/lists", status_code=200)
async def create_list(request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Create a list; names are unique in the account."""
    body = await json_body(request)
    if not isinstance(body, dict) or not all(body.get(k) for k in ("name", "objectTypeId", "processingType")):
        invalid("name, objectTypeId and processingType are required")
    if body["processingType"] not in ("MANUAL", "DYNAMIC", "SNAPSHOT") or body["objectTypeId"] not in KIND_OF:
        invalid("Invalid processingType or objectTypeId")
    if body["processingType"] == "DYNAMIC" and not body.get("filterBranch"):
        invalid("DYNAMIC lists need a filterBranch")
    with state(request).lock:
        if any(i["name"].lower() == str(body["name"]).lower() for i in p["lists"].values()):
            invalid(f"A list named '{body['name']}' already exists.", subCategory="LIST_NAME_ALREADY_EXISTS")
        item = {"listId": new_id(request), "name": body["name"], "objectTypeId": body["objectTypeId"],
                "processingType": body["processingType"], "processingStatus": "COMPLETE", "listVersion": 1,
                "createdAt": now_iso(), "updatedAt": now_iso(), "filtersUpdatedAt": now_iso()}
        if body.get("filterBranch"):
            item["filterBranch"] = body["filterBranch"]
        p["lists"][item["listId"]], p["memberships"][item["listId"]] = item, []
        return {"list": _list_view(p, item)}


@router.get("/crm/v3/lists/object-type-id/{object_type_id}/name/{name}")
def list_by_name(object_type_id: str, name: str, request: Request,
                 p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """The list with this name."""
    with state(request).lock:
        item = next((i for i in p["lists"].values() if i["objectTypeId"] == object_type_id
                     and i["name"].lower() == name.lower()), None)
        return {"list": _list_view(p, item)} if item else not_found()


@router.get("/crm/v3/lists/{list_id}")
def get_list(list_id: str, request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """One list."""
    with state(request).lock:
        item = p["lists"].get(list_id) or not_found()
        return {"list": _list_view(p, item)}


@router.put("/crm/v3/lists/{list_id}/memberships/add")
async def add_members(list_id: str, request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Add records to a MANUAL or SNAPSHOT list; existing members are left alone, unknown ids are missing."""
    ids = await json_body(request)
    if not isinstance(ids, list):
        invalid("The body must be a JSON array of record ids")
    with state(request).lock:
        item = p["lists"].get(list_id) or not_found()
        if item["processingType"] == "DYNAMIC":
            invalid("Records can only be added to MANUAL or SNAPSHOT lists", subCategory="LIST_IS_DYNAMIC")
        members, records = p["memberships"][list_id], p["objects"][KIND_OF[item["objectTypeId"]]]
        missing = [str(i) for i in ids if str(i) not in records]
        added = [str(i) for i in dict.fromkeys(map(str, ids)) if str(i) in records and str(i) not in members]
        members.extend(added)
    return {"recordsIdsAdded": added, "recordIdsMissing": missing, "recordIdsRemoved": []}


# -- workflows -----------------------------------------------------------------------------------------
@router.get("/automation/v4/flows")
def flows(request: Request, p: dict[str, Any] = Depends(portal)) -> dict[str, Any]:
    """Workflows (``limit`` at most 100, ``after`` cursor)."""
    with state(request).lock:
        items = sorted(p["flows"].values(), key=lambda f: int(f["id"]))
    page = _page(request, items)
    page.pop("total")
    return page


@router.post("/automation/v2/workflows/{workflow_id}/enrollments/contacts/{email}")
def enroll_workflow(workflow_id: str, email: str, request: Request,
                    p: dict[str, Any] = Depends(portal)) -> Response:
    """Enroll an existing contact in a contact-based workflow: 204."""
    with state(request).lock:
        workflow = p["flows"].get(workflow_id) or not_found()
        if workflow["objectTypeId"] != "0-1":
            invalid("Only contact-based workflows accept contact enrollments")
        contact = next((o for o in p["objects"]["contacts"].values()
                        if (o["properties"].get("email") or "").lower() == email.lower()), None)
        if contact is None:
            fail(404, f"Contact with email {email} does not exist", "OBJECT_NOT_FOUND")
        p["workflow_enrollments"].setdefault(contact["id"], []).append(workflow_id)
    return Response(status_code=204)


@router.get("/automation/v2/workflows/enrollments/contacts/{contact_id}")
def current_enrollments(contact_id: str, request: Request, p: dict[str, Any] = Depends(portal)) -> list:
    """The workflows a contact is currently enrolled in."""
    with state(request).lock:
        if contact_id not in p["objects"]["contacts"]:
            not_found()
        ids = dict.fromkeys(p["workflow_enrollments"].get(contact_id, []))
        return [{"id": int(w), "name": p["flows"][w]["name"], "type": "DRIP_DELAY",
                 "enabled": p["flows"][w]["isEnabled"]} for w in ids]
