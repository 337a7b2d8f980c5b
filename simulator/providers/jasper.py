"""Simulated Jasper API under ``/jasper/v1``: command, templates, voices (tones) and style guides.

State is kept per ``X-API-Key`` (a key starting with ``bad`` is refused with 401). Each workspace starts
with three templates, twelve voices and two style guides. Generation answers at once with ``outputCount``
texts written from the inputs. Errors use Jasper's ``{requestId, resource, errors}`` envelope; voices page
with ``page``/``size`` and a ``pagination`` object.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, NoReturn

from fastapi import Request

from simulator.control import Reply, hex_id, json_error, params
from simulator.generic import Sim

PROVIDER = "jasper"
LANGUAGES = ("English", "French", "Spanish", "Italian", "Portuguese", "German")
VOICES = ("Friendly", "Bold", "Playful", "Expert", "Calm", "Witty", "Formal", "Warm", "Direct", "Curious",
          "Upbeat", "Trusted")
TEMPLATES = (
    ("Product Descriptions", "Compelling product descriptions for sites, emails and social media.",
     [("productName", "string", True, 100), ("productDescription", "string", False, 800)]),
    ("Blog Post Outline", "An outline for a long-form post from a title and keywords.",
     [("title", "string", True, 200), ("keywords", "string", False, 300)]),
    ("Facebook Ad Headline", "Scroll-stopping headlines for Facebook ads.",
     [("productName", "string", True, 100), ("audience", "string", False, 200)]),
)


def envelope(status: int, message: str, resource: str | None, *more: str) -> dict[str, Any]:
    """Jasper's ``{requestId, resource, errors}`` envelope: its errors are a list of strings, which the
    definition's ``errors[0]`` path reads but cannot build."""
    return {"requestId": str(uuid.uuid4()), "resource": resource or "api", "errors": [message, *more]}


SIM = Sim(PROVIDER, body=envelope, faults={401: ("Unauthorized", "auth"),
                                           403: ("Forbidden: the workspace plan has no API access", None),
                                           429: ("Too Many Requests", None), 400: ("Bad request", None),
                                           500: ("Internal server error", None)},
          refused=("Unauthorized: missing or invalid X-API-Key", "auth"))
router = SIM.router("/v1")
fault_response = SIM.fault_response


def fail(status: int, resource: str, *errors: str) -> NoReturn:
    """Answer the current request with a Jasper error."""
    raise Reply(json_error(status, envelope(status, errors[0], resource, *errors[1:])))


def stable_id(prefix: str, name: str) -> str:
    """A seeded object's id, the same in every workspace and run, so the catalog's examples can name it."""
    return f"{prefix}_{hashlib.md5(name.encode()).hexdigest()}"


def _seed() -> dict[str, Any]:
    templates = [{"id": stable_id("skl", name), "name": name, "description": desc, "responseFormats": ["text"],
                  "inputSchema": [{"inputKey": key, "type": kind, "required": req, "maxLength": length,
                                   "label": key} for key, kind, req, length in schema]}
                 for name, desc, schema in TEMPLATES]
    tones = [{"id": stable_id("ton", name), "name": name, "value": f"{name} and clear; short sentences.",
              "metadata": {}, "settings": {"appVisibility": "visible"},
              "createdAt": f"2026-0{1 + i % 9}-1{i % 9}T10:00:00.000Z"} for i, name in enumerate(VOICES)]
    styles = [{"id": stable_id("sty", name), "name": name, "description": f"{name} house rules",
               "customInstructions": "Always use a friendly, conversational tone.", "createdAt":
               "2026-01-15T12:00:00.000Z", "createdBy": None, "updatedAt": "2026-01-20T14:30:00.000Z",
               "appUrl": "", "terms": [{"type": "REPLACE", "term": "utilize", "replaceWith": "use"}],
               "rules": [{"name": "oxfordComma", "type": "boolean", "value": True, "ignore": "enabled"}]}
              for name in ("Marketing", "Support")]
    return {"templates": templates, "tones": tones, "styles": styles}


def workspace(request: Request) -> dict[str, Any]:
    """The state of the request's key, or Jasper's 401."""
    return SIM.account(request, _seed)


def _ok(resource: str, data: Any, **extra: Any) -> dict[str, Any]:
    return {"requestId": str(uuid.uuid4()), "resource": resource, "data": data, **extra}


def _check_brand(ws: dict[str, Any], inputs: dict[str, Any]) -> None:
    """Voice, style and knowledge ids must exist (Jasper answers 400 otherwise)."""
    if (tone := inputs.get("toneId")) and tone not in {t["id"] for t in ws["tones"]}:
        fail(400, "content", f"toneId {tone} not found")
    if (style := inputs.get("styleId")) and style not in {s["id"] for s in ws["styles"]}:
        fail(400, "content", f"styleId {style} not found")
    if len(inputs.get("knowledgeIds") or []) > 3:
        fail(400, "content", "Up to 3 knowledge items are allowed")


def _options(body: dict[str, Any], *, command: bool) -> int:
    """Validate ``options``; return the output count."""
    opts = body.get("options") or {}
    count = opts.get("outputCount", 1)
    if not isinstance(count, int) or not 1 <= count <= 10:
        fail(400, "content", "options.outputCount must be a number between 1 and 10")
    for name in ("outputLanguage", "inputLanguage"):
        if name in opts and opts[name] not in LANGUAGES:
            fail(400, "content", f"options.{name} must be one of {', '.join(LANGUAGES)}")
    if "completionType" in opts and (not command or opts["completionType"] not in ("performance", "quality")):
        fail(400, "content", "options.completionType is not allowed here" if not command
             else "options.completionType must be performance or quality")
    return count


def _texts(seed: str, count: int) -> list[dict[str, str]]:
    return [{"id": f"txt_{hex_id(32)}", "text": f"{seed} (version {n})"} for n in range(1, count + 1)]


@router.post("/command", status_code=201)
async def command(request: Request) -> dict[str, Any]:
    """Run a command: ``inputs.command`` is required."""
    ws, body = workspace(request), await params(request)
    inputs = body.get("inputs")
    if not isinstance(inputs, dict) or not str(inputs.get("command") or "").strip():
        fail(400, "content", "inputs.command should not be empty")
    _check_brand(ws, inputs)
    count = _options(body, command=True)
    search = " Sources: 3 search results." if inputs.get("retrievalAddOn") == "webSearch" else ""
    return _ok("content", _texts(f"{inputs['command'].strip()} — written by Jasper.{search}", count))


@router.get("/templates")
def templates(request: Request) -> dict[str, Any]:
    """Every template of the workspace (no paging)."""
    return _ok("template", workspace(request)["templates"])


@router.post("/templates/{template_id}/run")
async def run_template(template_id: str, request: Request) -> dict[str, Any]:
    """Run a template: its required inputs must be present."""
    ws, body = workspace(request), await params(request)
    template = next((t for t in ws["templates"] if t["id"] == template_id), None)
    if template is None:
        fail(404, "template", f"Template {template_id} not found")
    inputs = body.get("inputs")
    if not isinstance(inputs, dict):
        fail(400, "content", "inputs must be an object")
    missing = [i["inputKey"] for i in template["inputSchema"]
               if i["required"] and not inputs.get(i["inputKey"])]
    if missing:
        fail(400, "content", *(f"inputs.{key} is required" for key in missing))
    _check_brand(ws, inputs)
    count = _options(body, command=False)
    first = next(iter(v for k, v in inputs.items() if isinstance(v, str)), "")
    return _ok("content", _texts(f"{template['name']}: {first}", count))


@router.get("/tones")
def tones(request: Request, q: str | None = None, page: int = 1, size: int = 10) -> dict[str, Any]:
    """Voices, newest first, paged; ``q`` supports ``name: value``."""
    ws = workspace(request)
    if page < 1 or size < 1:
        fail(400, "tone", "page and size must be positive numbers")
    items = sorted(ws["tones"], key=lambda t: t["createdAt"], reverse=True)
    if q:
        field, _, value = q.partition(":")
        if field.strip() != "name":
            fail(400, "tone", "q supports name, metadata[...] and settings[...]")
        items = [t for t in items if value.strip().lower() in t["name"].lower()]
    chunk = SIM.page(request, items, default=10, maximum=100).items

    def link(n: int) -> str | None:
        ok = n >= 1 and (n - 1) * size < len(items)
        return str(request.url.include_query_params(page=n, size=size)) if ok else None

    pagination = {"totalRecords": len(items), "page": page, "pageSize": size, "next": link(page + 1),
                  "prev": link(page - 1)}
    return _ok("tone", chunk, pagination=pagination)


@router.get("/styles")
def styles(request: Request) -> dict[str, Any]:
    """Every style guide of the workspace, newest first."""
    return _ok("style", workspace(request)["styles"])
