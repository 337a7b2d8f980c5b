"""Seed data of a simulated Zendesk account, and the ticket search query language it understands."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
SECTION_FAQ, SECTION_BILLING = 360000000101, 360000000102
PERMISSION_GROUP, GROUP_SUPPORT, GROUP_TIER2 = 360000000201, 360000000301, 360000000302
SUBJECTS = ("Cannot log in", "Refund request", "Printer on fire", "Shipping delay", "Invoice is wrong",
            "Password reset link expired", "Feature request: dark mode", "App crashes on start",
            "Change billing address", "Order arrived damaged")
ARTICLES = (
    ("How to reset your password", "Open <b>Settings</b>, choose <i>Security</i> and click Reset password. "
     "The reset link expires after 24 hours.", SECTION_FAQ, "en-us", ["password", "login"]),
    ("Two-factor authentication", "Turn on two-factor authentication to protect your login.", SECTION_FAQ,
     "en-us", ["login"]),
    ("Shipping times", "Orders ship within 2 business days. Tracking links arrive by email.", SECTION_FAQ,
     "en-us", ["shipping"]),
    ("Damaged orders", "Send us a photo of the damaged order and we will ship a replacement.", SECTION_FAQ,
     "en-us", ["shipping", "returns"]),
    ("Requesting a refund", "Refunds are issued to the original payment method within 5 days.",
     SECTION_BILLING, "en-us", ["refund", "billing"]),
    ("Updating your billing address", "Change the billing address under Account > Billing.", SECTION_BILLING,
     "en-us", ["billing"]),
    ("Reading your invoice", "Each invoice lists the plan, seats and taxes for the period.", SECTION_BILLING,
     "en-us", ["billing", "invoice"]),
    ("Réinitialiser votre mot de passe", "Ouvrez Paramètres puis Sécurité pour réinitialiser le password.",
     SECTION_FAQ, "fr", ["password"]),
)
MACROS: tuple[tuple[str, bool, list[tuple[str, str | int]]], ...] = (
    ("Support::Password reset instructions", True, [
        ("comment_value_html", "<p>You can reset your password from Settings &gt; Security.</p>"),
        ("status", "solved")]),
    ("Support::Ask for more details", True, [
        ("comment_value", "Could you send us a screenshot and the time it happened?"),
        ("status", "pending")]),
    ("Billing::Refund issued", True, [
        ("comment_value", "Your refund is on its way: allow 5 business days."), ("current_tags", "refunded"),
        ("status", "solved")]),
    ("Triage::Escalate to tier 2", True, [
        ("priority", "high"), ("group_id", GROUP_TIER2), ("set_tags", "escalated tier2"),
        ("comment_value", "Escalating to tier 2."), ("comment_mode_is_public", "false")]),
    ("Triage::Mark urgent", True, [("priority", "urgent")]),
    ("Close duplicate", True, [("status", "closed"), ("comment_value", "Closing as a duplicate.")]),
    ("Legacy::Old greeting", False, [("comment_value", "Hello from the old template.")]),
)


def stamp(days_ago: float = 0.0) -> str:
    """A Zendesk timestamp ``days_ago`` days in the past."""
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(acct: dict[str, Any]) -> int:
    """The next id of this account (ids only grow, like Zendesk's)."""
    acct["last_id"] += 1
    return int(acct["last_id"])


def user(uid: int, name: str, email: str, role: str) -> dict[str, Any]:
    """A user object."""
    return {"id": uid, "url": f"/api/v2/users/{uid}.json", "name": name, "email": email, "role": role,
            "active": True, "verified": True, "locale": "en-US", "time_zone": "Europe/Paris",
            "created_at": stamp(400), "updated_at": stamp(3)}


def comment_audit(acct: dict[str, Any], ticket: dict[str, Any], author: int, comment: dict[str, Any],
                  changes: list[dict[str, Any]], custom: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record one audit (a comment and field changes) on ``ticket`` and return it."""
    events = [{"id": new_id(acct), **change} for change in changes]
    if comment:
        events.insert(0, {"id": new_id(acct), "type": "Comment", "author_id": author,
                          "public": comment["public"],
                          "body": comment.get("body") or re.sub(r"<[^>]+>", "", comment.get("html_body", "")),
                          "html_body": comment.get("html_body") or f"<p>{comment.get('body', '')}</p>"})
    audit = {"id": new_id(acct), "ticket_id": ticket["id"], "created_at": ticket["updated_at"],
             "author_id": author, "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
             "metadata": {"system": {"client": "Sintra simulator", "ip_address": "203.0.113.7"},
                          "custom": dict(custom or {})}, "events": events}
    acct["audits"].setdefault(ticket["id"], []).append(audit)
    return audit


def _tickets(acct: dict[str, Any], requesters: list[int]) -> None:
    for n in range(30):
        tid, subject = new_id(acct), SUBJECTS[n % len(SUBJECTS)]
        created = stamp(40 - n)
        ticket = {"id": tid, "url": f"/api/v2/tickets/{tid}.json", "external_id": None, "type": "question",
                  "subject": subject, "raw_subject": subject, "description": f"{subject}: details #{n}",
                  "priority": PRIORITIES[n % 4], "status": STATUSES[n % 5], "requester_id": requesters[n % 3],
                  "submitter_id": requesters[n % 3], "assignee_id": acct["me"] if n % 2 else None,
                  "group_id": GROUP_SUPPORT, "tags": ["sim", subject.split()[0].lower()], "custom_fields": [],
                  "created_at": created, "updated_at": created, "via": {"channel": "email"}}
        acct["tickets"][tid] = ticket
        comment_audit(acct, ticket, requesters[n % 3], {"body": ticket["description"], "public": True}, [])


def _help_center(acct: dict[str, Any]) -> None:
    acct["sections"] = {SECTION_FAQ: "FAQ", SECTION_BILLING: "Billing"}
    for n, (title, body, section, locale, labels) in enumerate(ARTICLES):
        aid = new_id(acct)
        acct["articles"][aid] = {
            "id": aid, "url": f"/api/v2/help_center/{locale}/articles/{aid}.json",
            "html_url": f"https://sim.zendesk.com/hc/{locale}/articles/{aid}", "title": title, "body": body,
            "locale": locale, "source_locale": locale, "section_id": section, "author_id": acct["me"],
            "permission_group_id": PERMISSION_GROUP, "user_segment_id": None, "draft": False,
            "promoted": False, "outdated": False, "label_names": labels, "vote_sum": n, "vote_count": n + 2,
            "created_at": stamp(200 - n), "updated_at": stamp(20 - n), "edited_at": stamp(20 - n)}


def _macros_and_ratings(acct: dict[str, Any], requesters: list[int]) -> None:
    for position, (title, active, actions) in enumerate(MACROS, start=1):
        mid = new_id(acct)
        acct["macros"][mid] = {"id": mid, "url": f"/api/v2/macros/{mid}.json", "title": title,
                               "raw_title": title, "active": active, "position": position, "default": False,
                               "restriction": None, "description": None, "created_at": stamp(300),
                               "updated_at": stamp(30),
                               "actions": [{"field": f, "value": v} for f, v in actions]}
    scores = ("good", "good", "bad", "offered", "good")
    comments = ("Quick and helpful", None, "Took too long", None, "Great support")
    for n, tid in enumerate(list(acct["tickets"])[:25]):
        rid = new_id(acct)
        acct["ratings"][rid] = {
            "id": rid, "url": f"/api/v2/satisfaction_ratings/{rid}.json", "ticket_id": tid,
            "score": scores[n % 5], "comment": comments[n % 5] if scores[n % 5] != "offered" else None,
            "reason": "Issue took too long to resolve" if scores[n % 5] == "bad" else None,
            "assignee_id": acct["me"], "group_id": GROUP_SUPPORT, "requester_id": requesters[n % 3],
            "created_at": stamp(50 - 2 * n), "updated_at": stamp(50 - 2 * n)}


def seed(email: str) -> dict[str, Any]:
    """A fresh account for the agent ``email``: users, tickets, articles, macros and CSAT ratings."""
    acct: dict[str, Any] = {"calls": 0, "last_id": 10000, "users": {}, "tickets": {}, "audits": {},
                            "idempotency": {}, "articles": {}, "macros": {}, "ratings": {}}
    acct["me"] = new_id(acct)
    acct["users"][acct["me"]] = user(acct["me"], "Sim Agent", email, "admin")
    requesters = []
    for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing"):
        uid = new_id(acct)
        requesters.append(uid)
        acct["users"][uid] = user(uid, name, f"{name.split()[0].lower()}@customer.example", "end-user")
    _tickets(acct, requesters)
    _help_center(acct)
    _macros_and_ratings(acct, requesters)
    return acct


_TERM = re.compile(r'(-?)(\w+)(:|<=|>=|<|>)("[^"]*"|\S+)|("[^"]*"|\S+)')


def _compare(actual: Any, op: str, wanted: str, order: tuple[str, ...] = ()) -> bool:
    if op == ":":
        if isinstance(actual, list):
            return wanted.lower() in [str(a).lower() for a in actual]
        return str(actual).lower() == wanted.lower() if actual is not None else wanted.lower() == "none"
    if order and actual in order and wanted in order:
        return _holds(op, order.index(actual), order.index(wanted))
    return _holds(op, str(actual or ""), wanted)


#: Positions in an ordered vocabulary, or text: the two sides of a comparison share one type.
_Ordered = TypeVar("_Ordered", int, str)


def _holds(op: str, a: _Ordered, w: _Ordered) -> bool:
    return {"<": a < w, ">": a > w, "<=": a <= w, ">=": a >= w}[op]


def _ticket_value(acct: dict[str, Any], ticket: dict[str, Any], key: str) -> Any:
    if key in ("requester", "assignee", "submitter"):
        uid = ticket.get(f"{key}_id")
        found = acct["users"].get(uid) or {}
        return [str(uid), found.get("email"), found.get("name")] if uid else None
    if key in ("tags", "tag"):
        return ticket.get("tags") or []
    if key in ("created", "updated"):
        return (ticket.get(f"{key}_at") or "")[:10]
    return ticket.get({"ticket_type": "type"}.get(key, key))


def matches(acct: dict[str, Any], ticket: dict[str, Any], query: str) -> bool:
    """Whether ``ticket`` matches a Zendesk search query (``key:value``, ``key<value``, free text)."""
    for m in _TERM.finditer(query):
        negate, key, op, value, word = m.groups()
        if word is not None:
            text = f"{ticket.get('subject')} {ticket.get('description')}".lower()
            if word.strip('"').lower() not in text:
                return False
            continue
        value = value.strip('"')
        if key == "type":
            ok = value == "ticket"
        else:
            order = STATUSES if key == "status" else PRIORITIES if key == "priority" else ()
            ok = _compare(_ticket_value(acct, ticket, key), op, value, order)
        if ok == bool(negate):
            return False
    return True
