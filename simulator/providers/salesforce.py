"""Simulated Salesforce REST API (v66.0) under ``/salesforce``: the org's My Domain is
``{simulator}/salesforce``, so the API lives at ``/salesforce<base path>`` and the token
endpoint at ``/salesforce<token path>``.

Each org is seeded with users, accounts, 24 opportunities, 260 leads and two saved reports. Errors are
JSON arrays of ``{message, errorCode, fields}``; every answer carries ``Sforce-Limit-Info``. A bearer
token starting with ``bad`` is rejected (401 INVALID_SESSION_ID). The token endpoint rotates refresh
tokens (a used one answers ``invalid_grant``) and, like Salesforce, sends no ``expires_in``.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any, NoReturn

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from simulator import oauth as sim_oauth
from simulator.control import FaultSpec, Reply, params, state
from simulator.generic import Sim
from simulator.providers import _salesforce_reports as reports
from simulator.providers._salesforce_seed import derive, insert, seed, stamp
from simulator.providers._salesforce_soql import SoqlError, execute, parse

PROVIDER = "salesforce"
DAILY_LIMIT = 15000
REQUIRED = {"Account": ("Name",), "Contact": ("LastName",), "Lead": ("LastName", "Company"),
            "Opportunity": ("Name", "StageName", "CloseDate"), "Case": (), "Task": ()}
PROTECTED = frozenset({"Id", "CreatedDate", "CreatedById", "LastModifiedDate", "IsDeleted", "IsClosed",
                       "IsWon"})


#: Errors are what the definition's paths build: ``[{"message", "errorCode"}]``.
SIM = Sim(PROVIDER, faults={
    401: ("Session expired or invalid", "INVALID_SESSION_ID"),
    403: ("The REST API is not enabled for this Organization.", "INSUFFICIENT_ACCESS"),
    400: ("Bad request", "BAD_REQUEST"),
    500: ("An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 "
          "(-123456789)", "UNKNOWN_EXCEPTION"),
    503: ("Server temporarily unavailable.", "SERVER_UNAVAILABLE")})
router = SIM.root_router()  # the token endpoint is outside the base path
API = SIM.base


def fail(status: int, code: str, message: str, fields: list[str] | None = None) -> NoReturn:
    """Answer the current request with a Salesforce error (``fields`` beside the message when given)."""
    body = SIM.error_body(status, message, code)
    if fields is not None:
        body[0]["fields"] = fields
    raise Reply(JSONResponse(body, status_code=status))


def fault_response(spec: FaultSpec) -> Response:
    """Salesforce's own answer for a fault: a throttle is a 403 ``REQUEST_LIMIT_EXCEEDED`` with the spent
    daily allocation in ``Sforce-Limit-Info`` and no Retry-After (Salesforce has no 429)."""
    if spec.status == 429:
        headers = {"Sforce-Limit-Info": f"api-usage={DAILY_LIMIT}/{DAILY_LIMIT}"} | spec.headers
        return SIM.error(403, "TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED", headers=headers)
    return SIM.fault_response(spec)


# -- OAuth and orgs ------------------------------------------------------------------------------------
def _oauth(request: Request) -> dict[str, Any]:
    return state(request).account(PROVIDER, "__oauth__", lambda: {"issued": {}, "roots": {}, "used": set()})


def _instance(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/salesforce"


def _oauth_error(code: str, description: str) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=400)


@router.post(SIM.definition.token_path or "")
async def token(request: Request) -> JSONResponse:
    """The refresh-token grant: a new access token and a rotated refresh token (no ``expires_in``)."""
    if (answer := await sim_oauth.grant(request, PROVIDER)) is not None:  # "Connect with": the code exchange
        return answer  # type: ignore[return-value]  # the provider's own JSONResponse
    form, oauth = await params(request), _oauth(request)
    if form.get("grant_type") != "refresh_token":
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    if not form.get("client_id") or str(form.get("client_secret", "")).startswith("bad"):
        return _oauth_error("invalid_client", "invalid client credentials")
    old = str(form.get("refresh_token") or "")
    with state(request).lock:
        if not old or old.startswith("bad") or old in oauth["used"]:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        oauth["used"].add(old)
        root = oauth["roots"].get(old, old)
        access, fresh = "00D5g000004SIM!" + secrets.token_urlsafe(40), "5Aep861" + secrets.token_urlsafe(60)
        oauth["issued"][access], oauth["roots"][fresh] = root, root
    org = _org_for(request, root)
    return JSONResponse({"access_token": access, "refresh_token": fresh,
                         "signature": secrets.token_urlsafe(32),
                         "scope": "api refresh_token", "instance_url": _instance(request),
                         "id": f"https://login.salesforce.com/id/{org['org_id']}/{org['user_id']}",
                         "token_type": "Bearer", "issued_at": str(int(time.time() * 1000))})


def _org_for(request: Request, key: str) -> dict[str, Any]:
    return state(request).account(PROVIDER, key, lambda: seed(key))


def org(request: Request, response: Response) -> dict[str, Any]:
    """The org of the request's bearer token (401 INVALID_SESSION_ID otherwise); counts the API call."""
    token_ = SIM.credential(request)
    with state(request).lock:
        key = _oauth(request)["issued"].get(token_, token_)
        found = _org_for(request, key)
        found["api_calls"] += 1
        response.headers["Sforce-Limit-Info"] = f"api-usage={found['api_calls']}/{DAILY_LIMIT}"
    return found


# -- records -------------------------------------------------------------------------------------------
def _check_object(sobject: str) -> None:
    if sobject not in REQUIRED and not sobject.endswith("__c"):
        fail(404, "NOT_FOUND", "The requested resource does not exist")


def _check_fields(sobject: str, fields: Any, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    if not isinstance(fields, dict):
        fail(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from the request body")
    if bad := sorted(set(fields) & PROTECTED):
        fail(400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {', '.join(bad)}. "
             "Please check the security settings of this field and verify that it is read/write for your "
             "profile or permission set.", bad)
    merged = {**(existing or {}), **fields}
    if missing := [f for f in REQUIRED.get(sobject, ()) if merged.get(f) in (None, "")]:
        fail(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
    return fields


def _view(sobject: str, record: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    shown = {k: v for k, v in record.items() if not k.startswith("_") and (fields is None or k in fields)}
    return {"attributes": {"type": sobject, "url": f"{API}/sobjects/{sobject}/{record['Id']}"}, **shown}


@router.get(API + "/limits")
def limits(o: dict[str, Any] = Depends(org)) -> dict[str, Any]:
    """Org limits (a few of the real ones)."""
    return {"DailyApiRequests": {"Max": DAILY_LIMIT, "Remaining": DAILY_LIMIT - o["api_calls"]},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1000}}


@router.post(API + "/sobjects/{sobject}", status_code=201)
async def create(sobject: str, request: Request, o: dict[str, Any] = Depends(org)) -> dict[str, Any]:
    """Create a record: a SaveResult ``{id, success, errors}``."""
    _check_object(sobject)
    fields = _check_fields(sobject, await _body(request))
    with state(request).lock:
        record = insert(o, sobject, fields)
    return {"id": record["Id"], "success": True, "errors": []}


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        fail(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting a JSON body")


def _find(o: dict[str, Any], sobject: str, record_id: str) -> dict[str, Any]:
    found = o["by_id"].get(record_id) or next(
        ((s, r) for s, r in o["by_id"].values() if r["Id"][:15] == record_id), None)
    if found is None or found[0] != sobject:
        fail(404, "NOT_FOUND", "The requested resource does not exist")
    return found[1]


@router.api_route(API + "/sobjects/{sobject}/{record_id}", methods=["GET", "PATCH"])
async def record(sobject: str, record_id: str, request: Request,
                 o: dict[str, Any] = Depends(org)) -> Response:
    """Read (``?fields=``) or update (204) one record."""
    _check_object(sobject)
    with state(request).lock:
        rec = _find(o, sobject, record_id)
        if request.method == "GET":
            wanted = request.query_params.get("fields")
            return JSONResponse(_view(sobject, rec, wanted.split(",") if wanted else None))
    fields = _check_fields(sobject, await _body(request), rec)
    with state(request).lock:
        rec.update(fields, LastModifiedDate=stamp(datetime.now(UTC)))
        if sobject == "Opportunity":
            derive(rec)
    return Response(status_code=204)


def _matches(o: dict[str, Any], sobject: str, field: str, value: str) -> list[dict[str, Any]]:
    if not field.endswith("__c"):
        fail(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field}")
    return [r for r in o["records"].get(sobject, []) if str(r.get(field, "")).lower() == value.lower()]


def _upsert(o: dict[str, Any], sobject: str, field: str, value: str, fields: Any,
            found: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
    checked = _check_fields(sobject, fields, found)
    if found is not None:
        found.update(checked, LastModifiedDate=stamp(datetime.now(UTC)))
        return found, False
    return insert(o, sobject, {**checked, field: value}), True


@router.api_route(API + "/sobjects/{sobject}/{field}/{value}", methods=["GET", "PATCH"])
async def by_external_id(sobject: str, field: str, value: str, request: Request,
                         o: dict[str, Any] = Depends(org)) -> Response:
    """Read or upsert by external id: 201 created, 200 updated (``created: false``), 300 when ambiguous."""
    _check_object(sobject)
    body = None if request.method == "GET" else await _body(request)
    with state(request).lock:
        matches = _matches(o, sobject, field, value)
        if len(matches) > 1:
            return JSONResponse([f"{API}/sobjects/{sobject}/{r['Id']}" for r in matches], status_code=300)
        if request.method == "GET":
            if not matches:
                fail(404, "NOT_FOUND", "The requested resource does not exist")
            return JSONResponse(_view(sobject, matches[0]))
        if isinstance(body, dict) and field in body:
            fail(400, "INVALID_FIELD", f"The {field} field should not be specified in the sobject data.")
        rec, created = _upsert(o, sobject, field, value, body, matches[0] if matches else None)
        return JSONResponse({"id": rec["Id"], "success": True, "errors": [], "created": created},
                            status_code=201 if created else 200)


@router.patch(API + "/composite/sobjects/{sobject}/{field}")
async def upsert_collection(sobject: str, field: str, request: Request,
                            o: dict[str, Any] = Depends(org)) -> list[dict[str, Any]]:
    """sObject Collections upsert (all or none): one UpsertResult per record."""
    _check_object(sobject)
    body = await _body(request)
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not 1 <= len(records) <= 200:
        fail(400, "INVALID_API_INPUT", "records must hold 1 to 200 sObjects")
    out = []
    with state(request).lock:
        for item in records:
            if not isinstance(item, dict):
                fail(400, "INVALID_API_INPUT", "every record must be an sObject")
            fields = {k: v for k, v in item.items() if k not in ("attributes", field)}
            matches = _matches(o, sobject, field, str((item or {}).get(field, "")))
            if len(matches) > 1:
                fail(400, "DUPLICATE_EXTERNAL_ID", f"{field}: more than one record for this external id")
            rec, created = _upsert(o, sobject, field, str(item.get(field, "")), fields,
                                   matches[0] if matches else None)
            out.append({"id": rec["Id"], "success": True, "errors": [], "created": created})
    return out


# -- SOQL ----------------------------------------------------------------------------------------------
def _batch_size(request: Request) -> int:
    options = request.headers.get("sforce-query-options", "")
    for part in options.split(","):
        name, _, value = part.strip().partition("=")
        if name == "batchSize" and value.isdigit():
            return max(200, min(int(value), 2000))
    return 2000


def _page(rows: list[dict[str, Any]], start: int, size: int, locator: str) -> dict[str, Any]:
    end = start + size
    page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[start:end]}
    if end < len(rows):
        page["nextRecordsUrl"] = f"{API}/query/{locator}-{end}"
    return page


@router.get(API + "/{kind}")
def query(kind: str, request: Request, o: dict[str, Any] = Depends(org)) -> dict[str, Any]:
    """``/query`` and ``/queryAll``: the first batch of a SOQL query."""
    if kind not in ("query", "queryAll"):
        fail(404, "NOT_FOUND", "The requested resource does not exist")
    soql = request.query_params.get("q")
    if not soql:
        fail(400, "MALFORMED_QUERY", "A query string has to be specified")
    try:
        parsed = parse(soql)
        if parsed.sobject not in REQUIRED and not parsed.sobject.endswith("__c"):
            fail(400, "INVALID_TYPE", f"sObject type '{parsed.sobject}' is not supported.")
        with state(request).lock:
            source = [r for r in o["records"].get(parsed.sobject, [])
                      if kind == "queryAll" or not r["IsDeleted"]]
            rows = execute(parsed, source)
    except SoqlError as exc:
        fail(400, "MALFORMED_QUERY", str(exc))
    if parsed.count_only:
        return {"totalSize": len(rows), "done": True, "records": []}
    kind_ = "AggregateResult" if parsed.aggregate else parsed.sobject
    records = [{"attributes": {"type": kind_} if parsed.aggregate else
                {"type": kind_, "url": f"{API}/sobjects/{kind_}/{r.get('Id')}"}, **r} for r in rows]
    locator = "01g5g00000" + secrets.token_hex(4).upper()
    size = _batch_size(request)
    with state(request).lock:
        o["cursors"][locator] = (records, size)
    return _page(records, 0, size, locator)


@router.get(API + "/query/{cursor}")
def query_more(cursor: str, request: Request, o: dict[str, Any] = Depends(org)) -> dict[str, Any]:
    """The next batch of a query (``nextRecordsUrl``)."""
    locator, _, start = cursor.rpartition("-")
    with state(request).lock:
        found = o["cursors"].get(locator)
    if found is None or not start.isdigit():
        fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    records, size = found
    return _page(records, int(start), size, locator)


# -- reports -------------------------------------------------------------------------------------------
def _report(o: dict[str, Any], report_id: str) -> dict[str, Any]:
    meta = o["reports"].get(report_id) or next(
        (m for k, m in o["reports"].items() if k[:15] == report_id), None)
    if meta is None:
        fail(404, "NOT_FOUND", "The requested resource does not exist")
    return meta


def _report_rows(o: dict[str, Any], meta: dict[str, Any]) -> list[dict[str, Any]]:
    if meta["reportType"]["type"] != "Opportunity":
        return list(o["records"].get("Lead", []))
    names = {r["Id"]: r["Name"] for r in o["records"].get("Account", [])}
    return [{**r, "_AccountName": names.get(r.get("AccountId"))} for r in o["records"].get("Opportunity", [])]


@router.get(API + "/analytics/reports/{report_id}/describe")
def describe(report_id: str, request: Request, o: dict[str, Any] = Depends(org)) -> dict[str, Any]:
    """A report's metadata."""
    meta = _report(o, report_id)
    info = {c: {"label": v[1], "dataType": v[2]} for c, v in reports.columns_of(meta).items()}
    return {"reportMetadata": meta, "reportExtendedMetadata": {"detailColumnInfo": info},
            "reportTypeMetadata": {"categories": []}}


@router.api_route(API + "/analytics/reports/{report_id}", methods=["GET", "POST"])
async def run_report(report_id: str, request: Request, o: dict[str, Any] = Depends(org)) -> dict[str, Any]:
    """Run a report synchronously; a POST body's ``reportMetadata`` filters this run only."""
    meta = dict(_report(o, report_id))
    if request.method == "POST":
        body = await _body(request)
        given = body.get("reportMetadata") if isinstance(body, dict) else None
        if not isinstance(given, dict):
            fail(400, "BAD_REQUEST", "The request body must contain reportMetadata.")
        if problem := reports.check_filters(meta, given.get("reportFilters", [])):
            fail(400, "BAD_REQUEST", problem)
        meta["reportFilters"] = given.get("reportFilters", [])
    details = request.query_params.get("includeDetails", "false").lower() == "true"
    with state(request).lock:
        rows = _report_rows(o, meta)
    return reports.run(meta, rows, details)
