"""Simulated Intercom REST API under ``/intercom``: real paths, bodies, ``error.list`` errors,
``X-RateLimit-*`` headers (reset as epoch seconds) and search cursors (``pages.next.starting_after``).

State is kept per access token; a token starting with ``bad`` is rejected (401 ``unauthorized``). The
workspace has admins 991267 (the token's) and 991268, team 5001, 120 contacts, conversations 100000 to
100039, three tags, four segments and workflow 67890. Reporting and workflow exports need
``Intercom-Version`` 2.15 or later; an export job is ``pending`` on its first status poll and
``complete`` on the next. Downloads are gzipped CSV and need ``Accept: application/octet-stream``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from simulator.control import state
from simulator.providers._intercom_core import (
    PROVIDER,
    IntercomRoute,
    account,
    body_of,
    fail,
    fault_response,
    invalid,
    matches,
    not_found,
    require_version,
    search_page,
)
from simulator.providers._intercom_data import (
    APP_ID,
    DATASETS,
    ME,
    admin_author,
    export_file,
    new_id,
    part,
    seed,
)
from simulator.urls import BASES

__all__ = ["PROVIDER", "fault_response", "router"]

router = APIRouter(prefix=BASES["intercom"], tags=["intercom"], route_class=IntercomRoute)
EXPORTS = (2, 15)


@router.get("/me")
def me(request: Request) -> dict[str, Any]:
    """GET /me: the token's admin and its workspace."""
    acct = account(request, seed)
    app = {"type": "app", "id_code": APP_ID, "name": "Sim Workspace", "created_at": 1700000000,
           "secure": False, "identity_verification": False, "timezone": "Europe/Paris", "region": "US"}
    return {**acct["admins"][ME], "app": app}


def _conversation(acct: dict[str, Any], conv_id: str) -> dict[str, Any]:
    conv = acct["conversations"].get(conv_id)
    if conv is None:
        not_found("Conversation Not Found")
    return conv


def _render(conv: dict[str, Any], with_parts: bool = True) -> dict[str, Any]:
    out = {k: v for k, v in conv.items() if k != "parts"}
    if with_parts:
        out["conversation_parts"] = {"type": "conversation_part.list", "total_count": len(conv["parts"]),
                                     "conversation_parts": conv["parts"][-500:]}
    return out


@router.get("/conversations/{conv_id}")
def get_conversation(conv_id: str, request: Request) -> dict[str, Any]:
    """GET /conversations/{id} with its parts."""
    acct = account(request, seed)
    with state(request).lock:
        return _render(_conversation(acct, conv_id))


def _acting_admin(acct: dict[str, Any], data: dict[str, Any]) -> str:
    if data.get("type") != "admin":
        invalid("type must be admin (this simulator only replies as an admin)")
    admin_id = str(data.get("admin_id") or "")
    if admin_id not in acct["admins"]:
        fail(404, "admin_not_found", "Admin not found")
    return admin_id


@router.post("/conversations/{conv_id}/reply")
async def reply(conv_id: str, request: Request) -> dict[str, Any]:
    """POST /conversations/{id}/reply: an admin comment or note."""
    acct, data = account(request, seed), await body_of(request)
    if data.get("message_type") not in ("comment", "note"):
        invalid("message_type must be comment or note")
    if not str(data.get("body") or "").strip():
        fail(400, "parameter_not_found", "Body is required")
    with state(request).lock:
        conv, admin_id = _conversation(acct, conv_id), _acting_admin(acct, data)
        body = data["body"] if data["body"].lstrip().startswith("<") else f"<p>{data['body']}</p>"
        attachments = [{"type": "upload", "url": u} for u in data.get("attachment_urls") or []]
        part(conv, new_id(acct), data["message_type"], admin_author(admin_id), body, attachments=attachments)
        if data["message_type"] == "comment":
            conv["waiting_since"] = None
        return _render(conv)


def _assign(acct: dict[str, Any], conv: dict[str, Any], data: dict[str, Any], admin_id: str) -> None:
    kind, assignee = data.get("type"), str(data.get("assignee_id") or "")
    if not assignee:
        fail(400, "parameter_not_found", "assignee_id is required")
    pool = acct["admins"] if kind == "admin" else acct["teams"]
    if assignee != "0" and assignee not in pool:
        fail(404, "assignee_not_found", f"{kind} {assignee} not found")
    field = "admin_assignee_id" if kind == "admin" else "team_assignee_id"
    conv[field] = None if assignee == "0" else (int(assignee) if kind == "admin" else assignee)
    part(conv, new_id(acct), "assignment", admin_author(admin_id), data.get("body"),
         assigned_to={"type": kind, "id": assignee} if assignee != "0" else None)


@router.post("/conversations/{conv_id}/parts")
async def manage(conv_id: str, request: Request) -> dict[str, Any]:
    """POST /conversations/{id}/parts: assignment, close, open or snoozed."""
    acct, data = account(request, seed), await body_of(request)
    kind = data.get("message_type")
    with state(request).lock:
        conv = _conversation(acct, conv_id)
        if kind == "assignment":
            if data.get("type") not in ("admin", "team"):
                invalid("type must be admin or team")
            admin_id = str(data.get("admin_id") or "")
            if admin_id not in acct["admins"]:
                fail(404, "admin_not_found", "Admin not found")
            _assign(acct, conv, data, admin_id)
        elif kind in ("close", "open", "snoozed"):
            admin_id = _acting_admin(acct, {"type": "admin", **data})
            conv["state"], conv["open"] = {"close": "closed"}.get(kind, kind), kind != "close"
            part(conv, new_id(acct), kind if kind != "snoozed" else "snoozed", admin_author(admin_id),
                 data.get("body"))
        else:
            invalid("message_type must be assignment, close, open or snoozed")
        return _render(conv)


@router.post("/conversations/search")
async def search_conversations(request: Request) -> dict[str, Any]:
    """POST /conversations/search (no parts in results)."""
    return await _search(request, "conversations", lambda c: _render(c, with_parts=False),
                         ("conversations", "conversation.list"))


@router.post("/contacts/search")
async def search_contacts(request: Request) -> dict[str, Any]:
    """POST /contacts/search."""
    return await _search(request, "contacts", dict, ("data", "list"))


async def _search(request: Request, kind: str, render: Callable[[dict[str, Any]], dict[str, Any]],
                  listing: tuple[str, str]) -> dict[str, Any]:
    """A search: the ``query`` over the account's ``kind``, each match rendered, as one page of a list."""
    acct, data = account(request, seed), await body_of(request)
    if not isinstance(data.get("query"), dict):
        fail(400, "parameter_not_found", "query is required")
    with state(request).lock:
        found = [render(c) for c in acct[kind].values() if matches(c, data["query"])]
    return search_page(found, data.get("pagination"), *listing)


@router.get("/segments")
def list_segments(request: Request) -> dict[str, Any]:
    """GET /segments (``include_count=true`` adds ``count``)."""
    acct, counted = account(request, seed), request.query_params.get("include_count") == "true"
    segments = [{k: v for k, v in s.items() if k != "_count"} | ({"count": s["_count"]} if counted else {})
                for s in acct["segments"]]
    return {"type": "segment.list", "segments": segments, "pages": {}}


@router.get("/tags")
def list_tags(request: Request) -> dict[str, Any]:
    """GET /tags."""
    acct = account(request, seed)
    with state(request).lock:
        return {"type": "list", "data": list(acct["tags"].values())}


@router.post("/tags")
async def create_tag(request: Request) -> dict[str, Any]:
    """POST /tags: creates a tag, or returns the existing tag of that name."""
    acct, data = account(request, seed), await body_of(request)
    name = str(data.get("name") or "").strip()
    if not name:
        fail(400, "parameter_not_found", "name is required")
    with state(request).lock:
        found = next((t for t in acct["tags"].values() if t["name"] == name), None)
        if found is None:
            found = {"type": "tag", "id": str(new_id(acct)), "name": name}
            acct["tags"][found["id"]] = found
        return found


@router.post("/contacts/{contact_id}/tags")
async def tag_contact(contact_id: str, request: Request) -> dict[str, Any]:
    """POST /contacts/{id}/tags ``{"id": tag_id}`` (tagging twice changes nothing)."""
    acct, data = account(request, seed), await body_of(request)
    with state(request).lock:
        contact, tag = acct["contacts"].get(contact_id), acct["tags"].get(str(data.get("id")))
        if contact is None:
            not_found("User Not Found")
        if tag is None:
            not_found("Tag Not Found")
        tags = contact["tags"]
        if all(t["id"] != tag["id"] for t in tags["data"]):
            tags["data"].append({"type": "tag", "id": tag["id"], "url": f"/tags/{tag['id']}"})
            tags["total_count"] = len(tags["data"])
        return tag


@router.get("/export/reporting_data/get_datasets")
def get_datasets(request: Request) -> dict[str, Any]:
    """GET /export/reporting_data/get_datasets."""
    account(request, seed)
    require_version(request, EXPORTS)
    return {"type": "list", "data": DATASETS}


@router.post("/export/reporting_data/enqueue")
async def enqueue_export(request: Request) -> dict[str, Any]:
    """POST /export/reporting_data/enqueue."""
    acct, data = account(request, seed), await body_of(request)
    require_version(request, EXPORTS)
    dataset = next((d for d in DATASETS if d["id"] == data.get("dataset_id")), None)
    if dataset is None:
        invalid(f"dataset_id {data.get('dataset_id')!r} is not a reporting dataset")
    known = {a["id"] for a in dataset["attributes"]}
    wanted = data.get("attribute_ids")
    if not isinstance(wanted, list) or not wanted or not set(wanted) <= known:
        invalid(f"attribute_ids must be a non-empty subset of {sorted(known)}")
    start, end = data.get("start_time"), data.get("end_time")
    if not isinstance(start, int) or not isinstance(end, int) or start >= end:
        invalid("start_time and end_time are Unix seconds, start before end")
    job = {"job_identifier": secrets.token_hex(8), "status": "pending", "polls": 0, "attribute_ids": wanted,
           "start_time": start, "end_time": end}
    with state(request).lock:
        acct["jobs"][job["job_identifier"]] = job
    return {"job_identifier": job["job_identifier"], "status": "pending", "download_url": "",
            "download_expires_at": ""}


def _job(request: Request, acct: dict[str, Any], job_id: str) -> dict[str, Any]:
    if request.query_params.get("app_id") != APP_ID:
        fail(400, "parameter_invalid", "app_id is missing or not this workspace")
    job = acct["jobs"].get(job_id)
    if job is None:
        not_found("Job Not Found")
    return job


@router.get("/export/reporting_data/{job_id}")
def export_status(job_id: str, request: Request) -> dict[str, Any]:
    """GET /export/reporting_data/{job_identifier}?app_id=..."""
    acct = account(request, seed)
    require_version(request, EXPORTS)
    with state(request).lock:
        job = _job(request, acct, job_id)
        job["polls"] += 1
        if job["polls"] >= 2:
            job["status"] = "complete"
        done = job["status"] == "complete"
        url = f"{request.base_url}intercom/download/reporting_data/{job_id}?app_id={APP_ID}" if done else ""
        return {"job_identifier": job_id, "status": job["status"], "download_url": url,
                "download_expires_at": str(job["start_time"] + 2 * 86400) if done else ""}


@router.get("/download/reporting_data/{job_id}")
def download_export(job_id: str, request: Request) -> Response:
    """GET /download/reporting_data/{job_identifier}: gzipped CSV once the job is complete."""
    acct = account(request, seed)
    require_version(request, EXPORTS)
    if "application/octet-stream" not in request.headers.get("accept", ""):
        fail(406, "not_acceptable", "Specify the header Accept: application/octet-stream")
    with state(request).lock:
        job = _job(request, acct, job_id)
        if job["status"] != "complete":
            not_found("Job is not complete")
        return Response(export_file(acct, job), media_type="application/octet-stream")


@router.get("/export/workflows/{workflow_id}")
def export_workflow(workflow_id: str, request: Request) -> dict[str, Any]:
    """GET /export/workflows/{id}."""
    acct = account(request, seed)
    require_version(request, EXPORTS)
    workflow = acct["workflows"].get(workflow_id)
    if workflow is None:
        not_found("Workflow Not Found")
    return {"export_version": "1.0", "exported_at": "2026-01-26T12:00:00Z", "app_id": 12345,
            "workflow": workflow}
