"""Simulated Semrush under ``/semrush``: the Standard API's text reports, the balance check, Projects API.

``GET /semrush/?type=...&key=...`` answers semicolon-separated text (header line of column names, then
rows; values double-quoted with ``export_escape=1``), ``display_limit`` being the end row and
``display_offset`` the rows skipped. Errors are ``ERROR nn :: TEXT`` bodies in HTTP 200 answers, as
Semrush sends them: a key starting with ``bad`` is ``ERROR 120``, one starting with ``nounits`` has no
units (``ERROR 132``), a domain or phrase containing ``nothing`` is ``ERROR 50 :: NOTHING FOUND``.
Every returned line spends units, read back by ``/semrush/users/countapiunits.html``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse

from simulator.control import Reply, state
from simulator.generic import Sim
from simulator.providers import _semrush_projects
from simulator.providers._semrush_data import account, competitors, organic, phrase_metrics, related
from simulator.urls import BASES

PROVIDER = "semrush"
WRONG_KEY = "ERROR 120 :: WRONG KEY - ID PAIR"
#: The Standard API's errors are ``ERROR nn :: TEXT`` lines (the definition's ``plain_text``).
SIM = Sim(PROVIDER, body=lambda _status, text, _code: text, faults={
    401: (WRONG_KEY, None), 403: (WRONG_KEY, None), 429: ("ERROR 429 :: REQUEST RATE IS TOO HIGH", None),
    500: ("ERROR 500 :: INTERNAL ERROR", None), 400: ("ERROR 10000 :: WRONG PARAMETER VALUE", None)})
router = SIM.router()
fault_response = SIM.fault_response
#: An auth-checked JSON read for tests (the balance check answers plain text).
AUTH_PROBE = f"{BASES[PROVIDER]}/reports/v1/projects/1/siteaudit/info"
router.include_router(_semrush_projects.router)

HEADERS = {
    "Ph": "Keyword", "Po": "Position", "Pp": "Previous Position", "Nq": "Search Volume", "Cp": "CPC",
    "Co": "Competition", "Nr": "Number of Results", "Td": "Trends", "In": "Intents",
    "Kd": "Keyword Difficulty Index", "Ur": "Url", "Tr": "Traffic (%)", "Tg": "Traffic",
    "Tc": "Traffic Cost (%)", "Rr": "Related Relevance", "Ts": "Timestamp", "Dn": "Domain",
    "Cr": "Competitor Relevance", "Np": "Common Keywords", "Or": "Organic Keywords", "Ot": "Organic Traffic",
    "Oc": "Organic Cost", "Ad": "Adwords Keywords", "Dt": "Date", "Db": "Database",
}
DATABASES = ("us", "uk", "ca", "de", "fr", "es", "it", "br", "au", "in", "nl", "se", "pl", "jp")
#: Sort codes the reports accept and the column each sorts by.
SORTS = {"po": "Po", "nq": "Nq", "tr": "Tr", "tg": "Tg", "tc": "Tc", "cp": "Cp", "co": "Co", "kd": "Kd",
         "nr": "Nr", "rr": "Rr", "np": "Np", "cr": "Cr", "ts": "Ts"}


def fail(text: str) -> NoReturn:
    """Answer the current request with a Semrush error line (HTTP 200, as the Standard API does)."""
    raise Reply(PlainTextResponse(text))


def key_account(request: Request) -> dict[str, Any]:
    """The state of the ``key`` query parameter, or ``ERROR 120``."""
    return account(request, SIM.credential(request, lambda: fail(WRONG_KEY)))


@router.get("/users/countapiunits.html")
def count_api_units(request: Request) -> Response:
    """The remaining unit balance as plain text (free)."""
    acct = key_account(request)
    with state(request).lock:
        return PlainTextResponse(str(acct["units"]))


def _overview_all(q: Any) -> list[dict[str, Any]]:
    phrase = _need(q, "phrase", 43)
    base = phrase_metrics(phrase)
    return [{**phrase_metrics(f"{phrase}|{db}"), "Ph": phrase, "Db": db, "Dt": "202608",
             "In": base["In"], "Kd": base["Kd"]} for db in DATABASES]


def _need(q: Any, name: str, code: int) -> str:
    value = q.get(name)
    if not value:
        fail(f"ERROR {code} :: {name.upper()} NOT SET")
    if "nothing" in value:
        fail("ERROR 50 :: NOTHING FOUND")
    return str(value)


#: Report type -> (rows, cost in units per line).
REPORTS: dict[str, tuple[Callable[[Any], list[dict[str, Any]]], int]] = {
    "domain_organic": (lambda q: organic(_need(q, "domain", 42)), 10),
    "domain_organic_organic": (lambda q: competitors(_need(q, "domain", 42)), 40),
    "phrase_this": (lambda q: [phrase_metrics(_need(q, "phrase", 43))], 10),
    "phrase_all": (lambda q: _overview_all(q), 10),
    "phrase_related": (lambda q: related(_need(q, "phrase", 43)), 40),
}
DEFAULT_COLUMNS = {"domain_organic": "Ph,Po,Pp,Nq,Cp,Ur,Tr,Tc,Co,Nr,Td", "domain_organic_organic":
                   "Dn,Cr,Np,Or,Ot,Oc,Ad", "phrase_this": "Ph,Nq,Cp,Co,Nr", "phrase_all": "Dt,Db,Ph,Nq,Cp,Co",
                   "phrase_related": "Ph,Nr,Cp,Co,Nq,Td,Rr"}


def _sorted(rows: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    if not sort:
        return rows
    col, _, direction = sort.partition("_")
    if col not in SORTS or direction not in ("asc", "desc"):
        fail("ERROR 10000 :: WRONG VALUE FOR PARAMETER display_sort")
    return sorted(rows, key=lambda r: r.get(SORTS[col]) or 0, reverse=direction == "desc")


def _render(rows: list[dict[str, Any]], codes: list[str], escape: bool) -> str:
    def fmt(value: Any) -> str:
        text = "" if value is None else str(value)
        return f'"{text}"' if escape else text
    lines = [";".join(HEADERS[c] for c in codes)]
    lines += [";".join(fmt(row.get(c)) for c in codes) for row in rows]
    return "\r\n".join(lines) + "\r\n"


@router.get("/")
def report(request: Request) -> Response:
    """A Standard API report, chosen by ``type``."""
    acct, q = key_account(request), request.query_params
    kind = q.get("type") or fail("ERROR 41 :: TYPE NOT SET")
    if kind not in REPORTS:
        fail("ERROR 10000 :: WRONG VALUE FOR PARAMETER type")
    if kind != "phrase_all" and not q.get("database"):
        fail("ERROR 46 :: DATABASE NOT SET")
    build, cost = REPORTS[kind]
    codes = [c for c in (q.get("export_columns") or DEFAULT_COLUMNS[kind]).split(",") if c in HEADERS]
    limit, offset = int(q.get("display_limit") or 0) or 10_000, int(q.get("display_offset") or 0)
    if offset and offset >= limit:
        fail("ERROR 605 :: DISPLAY_OFFSET IS EQUAL OR MORE THAN DISPLAY_LIMIT")
    with state(request).lock:
        if acct["units"] <= 0:
            fail("ERROR 132 :: API UNITS BALANCE IS ZERO")
    rows = _sorted(build(q), q.get("display_sort"))[offset:limit]
    if not rows:
        fail("ERROR 50 :: NOTHING FOUND")
    with state(request).lock:
        acct["units"] = max(0, acct["units"] - cost * len(rows))
    return PlainTextResponse(_render(rows, codes, q.get("export_escape") == "1"),
                             media_type="text/csv")
