"""The ``sintra`` commands that talk to the API: integrations, jobs, workflows, schedules, webhooks, events.

Output is a table for people, or JSON with ``--json``. Exit codes scripts can rely on::

    0 done   1 the API refused (4xx)   2 bad usage   3 the job finished but did not succeed
    4 timed out waiting   5 the API or a service behind it is unavailable (5xx, no connection)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from pydantic import BaseModel

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_JOB_FAILED, EXIT_TIMEOUT, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4, 5


def _client(args: argparse.Namespace) -> Any:
    from producers.client import SintraClient

    key = args.key or os.environ.get("SINTRA_API_KEY", "")
    if not key:
        print("sintra: give --key or set SINTRA_API_KEY (create one with `sintra keys create`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return SintraClient(args.api or os.environ.get("SINTRA_API_URL", "http://127.0.0.1:8000"), key)


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [_plain(d) for d in data]
    return data


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as an aligned text table with a header."""
    cells = [[("" if r.get(c) is None else str(r.get(c)))[:60] for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _show(args: argparse.Namespace, data: Any, columns: Sequence[str] = (), key: str | None = None) -> None:
    """Print ``data`` as JSON (``--json``), a table of ``key``'s rows, or ``field: value`` lines."""
    plain = _plain(data)
    if args.json:
        print(json.dumps(plain, indent=2, default=str))
        return
    rows = plain.get(key, []) if key and isinstance(plain, dict) else plain
    if isinstance(rows, list):
        print(table(rows, columns) if rows else "(none)")
        if isinstance(plain, dict) and plain.get("next_cursor"):
            print(f"more: --cursor {plain['next_cursor']}")
        return
    for name in columns or list(plain):
        value = plain.get(name)
        print(f"{name}: {json.dumps(value, default=str) if isinstance(value, (dict, list)) else value}")


def _run(args: argparse.Namespace) -> int:
    """Run the chosen handler; turn API and connection errors into the documented exit codes."""
    from producers.client import SintraApiError

    try:
        with _client(args) as client:
            return int(args.handler(client, args) or EXIT_OK)
    except SintraApiError as exc:
        print(f"sintra: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE if exc.status >= 500 else EXIT_API
    except httpx.TransportError as exc:
        print(f"sintra: cannot reach the API: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except json.JSONDecodeError as exc:
        print(f"sintra: --params is not JSON: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _progress(event: Any) -> str | None:
    """A progress line for a job event, or None."""
    data = event.data or {}
    if event.type == "job.snapshot":
        progress, status = data.get("progress") or {}, data.get("status")
    else:
        progress, status = data.get("data") or {}, event.type.removeprefix("job.")
    step, pct = progress.get("step"), progress.get("percent")
    if step is None and pct is None:
        return f"[{status}]"
    bar = "" if pct is None else "[" + "#" * int(pct / 5) + "-" * (20 - int(pct / 5)) + f"] {pct:5.1f}% "
    return f"{bar}{step or ''} ({status})"


def wait_for(client: Any, args: argparse.Namespace, job_id: str) -> int:
    """Follow a job's stream, print progress to stderr, print the job; exit 0, 3 or 4."""
    from config.messages import TERMINAL_STATUSES

    last = None
    for event in client.job_events(job_id, max_seconds=args.timeout):
        line = _progress(event)
        if line and line != last and not args.quiet:
            print(line, file=sys.stderr, flush=True)
            last = line
    job = client.get_job(job_id)
    _show(args, job, ("id", "status", "attempts", "progress", "result", "error"))
    if job.status not in TERMINAL_STATUSES:
        print(f"sintra: job {job_id} still {job.status} after {args.timeout:g} s", file=sys.stderr)
        return EXIT_TIMEOUT
    return EXIT_OK if job.status == "succeeded" else EXIT_JOB_FAILED


JOB_COLUMNS = ("id", "agent", "integration", "action", "status", "attempts", "created_at")
INTEGRATION_COLUMNS = ("agent", "id", "name", "status", "availability", "implemented")


def _integrations(client: Any, args: argparse.Namespace) -> int:
    verb = args.verb
    if verb == "list":
        data = client.agent(args.agent) if args.agent else client.integrations()
        agents = [data] if args.agent else data.agents
        rows = [i.model_dump(mode="json") for a in agents for i in a.integrations]
        _show(args, data if args.json else rows, INTEGRATION_COLUMNS)
    elif verb == "show":
        _show(args, client.integration(args.agent, args.integration),
              (*INTEGRATION_COLUMNS, "fields_set", "message", "connected_at"))
    elif verb == "configure":
        creds = dict(pair.split("=", 1) for pair in args.set) if args.set else json.loads(sys.stdin.read() or "{}")
        _show(args, client.configure(args.agent, args.integration, creds), ("agent", "id", "status", "fields_set"))
    elif verb == "connect":
        result = client.connect(args.agent, args.integration)
        _show(args, result, ("status", "job_id", "message"))
        return EXIT_OK if result.status == "connected" else EXIT_JOB_FAILED if result.status != "pending" \
            else EXIT_TIMEOUT
    else:
        _show(args, client.disconnect(args.agent, args.integration),
              ("agent", "id", "status", "jobs_failed", "schedules_paused"))
    return EXIT_OK


def _jobs(client: Any, args: argparse.Namespace) -> int:
    verb = args.verb
    if verb == "create":
        job = client.create_job(args.agent, args.integration, args.action, json.loads(args.params),
                                idempotency_key=args.idempotency_key)
        if args.wait:
            return wait_for(client, args, job.id)
        _show(args, job, ("id", "status", "agent", "integration", "action"))
    elif verb == "list":
        _show(args, client.list_jobs(agent=args.agent, integration=args.integration, status=args.status,
                                     limit=args.limit, cursor=args.cursor), JOB_COLUMNS, key="jobs")
    elif verb == "wait":
        return wait_for(client, args, args.id)
    else:
        call = {"get": client.get_job, "cancel": client.cancel_job, "retry": client.retry_job}[verb]
        _show(args, call(args.id), ("id", "status", "attempts", "progress", "result", "error", "finished_at"))
    return EXIT_OK


def _workflows(client: Any, args: argparse.Namespace) -> int:
    if args.verb == "list":
        rows = [{"id": w.id, "agent": w.agent, "steps": len(w.steps), "description": w.description}
                for w in client.workflows().workflows]
        _show(args, rows, ("id", "agent", "steps", "description"))
        return EXIT_OK
    job = client.run_workflow(args.workflow, json.loads(args.params), idempotency_key=args.idempotency_key)
    if args.wait:
        return wait_for(client, args, job.id)
    _show(args, job, ("id", "status", "agent", "action"))
    return EXIT_OK


def _webhooks(client: Any, args: argparse.Namespace) -> int:
    verb = args.verb
    if verb == "create":
        hook = client.create_webhook(args.url, args.events.split(","), description=args.description)
        _show(args, hook, ("id", "url", "events", "status"))
        if not args.json:
            print(f"Signing secret (shown once; store it now):\n{hook.secret}")
    elif verb == "list":
        _show(args, client.webhooks(cursor=args.cursor), ("id", "url", "events", "status", "created_at"),
              key="webhooks")
    elif verb == "show":
        _show(args, client.webhook(args.id))
    elif verb == "delete":
        client.delete_webhook(args.id)
        print(f"deleted webhook {args.id}")
    elif verb == "deliveries":
        _show(args, client.webhook_deliveries(args.id, status=args.status, cursor=args.cursor),
              ("id", "event_type", "status", "attempts", "last_status", "last_error", "created_at"),
              key="deliveries")
    else:
        _show(args, client.redeliver(args.id, args.delivery), ("id", "status", "next_attempt_at"))
    return EXIT_OK


def _events(client: Any, args: argparse.Namespace) -> int:
    """Follow the workspace's live stream: one line per event (JSON lines with ``--json``)."""
    types = args.types.split(",") if args.types else None
    for event in client.events(after=args.after, types=types, max_seconds=args.seconds):
        if args.json:
            print(json.dumps(event.data, default=str), flush=True)
        else:
            data = event.data or {}
            print(f"{event.id:>8}  {data.get('at', '')[:19]}  {event.type:<26} {data.get('job_id') or ''}  "
                  f"{json.dumps(data.get('data') or {}, default=str)[:80]}", flush=True)
    return EXIT_OK


def _schedules(client: Any, args: argparse.Namespace) -> int:
    verb, columns = args.verb, ("id", "name", "cron", "timezone", "status", "next_fire_at")
    if verb == "create":
        job = {"agent": args.agent, "integration": args.integration, "action": args.action,
               "params": json.loads(args.params)}
        _show(args, client.create_schedule(args.cron, job, timezone=args.timezone, name=args.name or "",
                                           misfire_policy=args.misfire_policy), columns)
    elif verb == "list":
        _show(args, client.schedules(cursor=args.cursor), columns, key="schedules")
    elif verb == "delete":
        client.delete_schedule(args.id)
        print(f"deleted schedule {args.id}")
    elif verb == "update":
        changes = {k: v for k, v in (("cron", args.cron), ("timezone", args.timezone),
                                     ("misfire_policy", args.misfire_policy), ("name", args.name)) if v}
        _show(args, client.update_schedule(args.id, **changes), columns)
    else:
        verbs = {"get": client.schedule, "pause": client.pause_schedule, "resume": client.resume_schedule}
        _show(args, verbs[verb](args.id), (*columns, "paused_reason", "next_fire_times"))
    return EXIT_OK


def _common(p: argparse.ArgumentParser, handler: Callable[[Any, argparse.Namespace], int]) -> argparse.ArgumentParser:
    p.add_argument("--api", default=None, help="API URL (default: SINTRA_API_URL or http://127.0.0.1:8000)")
    p.add_argument("--key", default=None, help="API key (default: SINTRA_API_KEY)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_run, handler=handler)
    return p


def _waiting(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (default 300)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def add_api_parsers(sub: argparse._SubParsersAction) -> None:
    """Register every API command on ``sintra``'s subparsers."""
    ints = sub.add_parser("integrations", help="the catalog; configure, connect, disconnect")
    iv = ints.add_subparsers(dest="verb", required=True)
    _common(iv.add_parser("list", help="agents' integrations and their state"), _integrations) \
        .add_argument("--agent", default=None)
    for verb in ("show", "configure", "connect", "disconnect"):
        p = _common(iv.add_parser(verb, help=f"{verb} one integration"), _integrations)
        p.add_argument("agent")
        p.add_argument("integration")
        if verb == "configure":
            p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                           help="a credential field (repeat); without it, a JSON object is read from stdin")
    jobs = sub.add_parser("jobs", help="submit, list, follow and cancel jobs").add_subparsers(dest="verb",
                                                                                             required=True)
    create = _common(jobs.add_parser("create", help="submit a job"), _jobs)
    for name in ("agent", "integration", "action"):
        create.add_argument(name)
    create.add_argument("--params", default="{}", help="parameters as JSON")
    create.add_argument("--idempotency-key", default=None)
    create.add_argument("--wait", action="store_true", help="follow it until it is finished")
    _waiting(create)
    lst = _common(jobs.add_parser("list", help="newest jobs first"), _jobs)
    for name in ("agent", "integration", "status", "cursor"):
        lst.add_argument(f"--{name}", default=None)
    lst.add_argument("--limit", type=int, default=None)
    for verb in ("get", "wait", "cancel", "retry"):
        p = _common(jobs.add_parser(verb, help=f"{verb} a job"), _jobs)
        p.add_argument("id")
        if verb == "wait":
            _waiting(p)
    wfs = sub.add_parser("workflows", help="multi-source workflows").add_subparsers(dest="verb", required=True)
    _common(wfs.add_parser("list", help="the workflows"), _workflows)
    run = _common(wfs.add_parser("run", help="start a workflow"), _workflows)
    run.add_argument("workflow")
    run.add_argument("--params", default="{}", help="parameters as JSON")
    run.add_argument("--idempotency-key", default=None)
    run.add_argument("--wait", action="store_true", help="follow it until the report is ready")
    _waiting(run)
    _add_webhook_parsers(sub)
    _add_schedule_parsers(sub)
    ev = _common(sub.add_parser("events", help="follow the workspace's live event stream"), _events)
    ev.add_argument("--types", default=None, help="comma-separated event types (default: all)")
    ev.add_argument("--after", type=int, default=None, help="start after this event id")
    ev.add_argument("--seconds", type=float, default=300.0, help="stop after this long (default 300)")


def _add_webhook_parsers(sub: argparse._SubParsersAction) -> None:
    hooks = sub.add_parser("webhooks", help="signed event deliveries").add_subparsers(dest="verb", required=True)
    create = _common(hooks.add_parser("create", help="register a receiver (its secret is shown once)"), _webhooks)
    create.add_argument("url")
    create.add_argument("--events", required=True, help="comma-separated: job.succeeded,job.failed,...")
    create.add_argument("--description", default="")
    _common(hooks.add_parser("list", help="the endpoints"), _webhooks).add_argument("--cursor", default=None)
    for verb in ("show", "delete", "deliveries"):
        p = _common(hooks.add_parser(verb, help=f"{verb} an endpoint"), _webhooks)
        p.add_argument("id")
        if verb == "deliveries":
            p.add_argument("--status", default=None, choices=["pending", "delivered", "failed"])
            p.add_argument("--cursor", default=None)
    redo = _common(hooks.add_parser("redeliver", help="send a delivery again"), _webhooks)
    redo.add_argument("id")
    redo.add_argument("delivery")


def _add_schedule_parsers(sub: argparse._SubParsersAction) -> None:
    sch = sub.add_parser("schedules", help="recurring jobs").add_subparsers(dest="verb", required=True)
    create = _common(sch.add_parser("create", help="create a schedule"), _schedules)
    for name in ("cron", "agent", "integration", "action"):
        create.add_argument(f"--{name}", required=True)
    create.add_argument("--timezone", default="UTC", help="IANA time zone (default UTC)")
    create.add_argument("--params", default="{}", help="job parameters as JSON")
    create.add_argument("--name", default="")
    create.add_argument("--misfire-policy", default="run_latest", choices=["run_latest", "skip"])
    _common(sch.add_parser("list", help="list schedules"), _schedules).add_argument("--cursor", default=None)
    for verb in ("get", "pause", "resume", "delete"):
        _common(sch.add_parser(verb, help=f"{verb} a schedule"), _schedules).add_argument("id")
    upd = _common(sch.add_parser("update", help="change a schedule"), _schedules)
    upd.add_argument("id")
    for name in ("cron", "timezone", "name"):
        upd.add_argument(f"--{name}", default=None)
    upd.add_argument("--misfire-policy", default=None, choices=["run_latest", "skip"])
