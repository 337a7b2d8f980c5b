"""Record ids, storage and the seed data of a simulated Salesforce org."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.providers import _salesforce_reports as reports

PREFIXES = {"Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006", "Case": "500",
            "Task": "00T", "User": "005"}
#: Stage -> (probability, forecast category, closed, won).
STAGES = {"Prospecting": (10, "Pipeline", False, False), "Qualification": (10, "Pipeline", False, False),
          "Needs Analysis": (20, "Pipeline", False, False),
          "Value Proposition": (50, "Pipeline", False, False),
          "Proposal/Price Quote": (75, "BestCase", False, False),
          "Negotiation/Review": (90, "Commit", False, False), "Closed Won": (100, "Closed", True, True),
          "Closed Lost": (0, "Omitted", True, False)}
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def sf_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce id (key prefix, counter, case-safe checksum suffix)."""
    digits = ""
    while True:
        n, r = divmod(n, 62)
        digits = _B62[r] + digits
        if not n:
            break
    base = (prefix + "5g" + digits.rjust(10, "0"))[:15]
    chunks = (base[i:i + 5] for i in range(0, 15, 5))
    bits = (sum(1 << j for j, c in enumerate(chunk) if c.isupper()) for chunk in chunks)
    return base + "".join(_SUFFIX[b] for b in bits)


#: Ids of the two saved reports every simulated org has.
REPORT_IDS = [sf_id("00O", 1), sf_id("00O", 2)]


def stamp(moment: datetime) -> str:
    """A Salesforce datetime like ``2026-09-01T12:00:00.000+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def derive(record: dict[str, Any]) -> None:
    """Set an opportunity's probability, forecast category and closed/won flags from its stage."""
    default = (50, "Pipeline", False, False)
    probability, category, closed, won = STAGES.get(record.get("StageName", ""), default)
    record.update(Probability=probability, ForecastCategoryName=category, IsClosed=closed, IsWon=won)


def insert(o: dict[str, Any], sobject: str, fields: dict[str, Any],
           when: datetime | None = None) -> dict[str, Any]:
    """Store a new record with its system fields."""
    o["counter"] += 1
    now = stamp(when or datetime.now(UTC))
    record = {"Id": sf_id(PREFIXES.get(sobject, "a01"), o["counter"]), "OwnerId": o["user_id"],
              "CreatedById": o["user_id"], "CreatedDate": now, "LastModifiedDate": now, "IsDeleted": False,
              **fields}
    if sobject == "Opportunity":
        derive(record)
    o["records"].setdefault(sobject, []).append(record)
    o["by_id"][record["Id"]] = (sobject, record)
    return record


def seed(key: str) -> dict[str, Any]:
    """A fresh org: users, five accounts, 24 opportunities across stages, 260 leads, two reports."""
    n = int(hashlib.sha256(key.encode()).hexdigest()[:6], 16)
    users = [sf_id("005", n * 10 + i) for i in range(3)]
    o: dict[str, Any] = {"org_id": sf_id("00D", n), "user_id": users[0], "api_calls": 0, "records": {},
                         "by_id": {}, "cursors": {}, "reports": reports.saved_reports(REPORT_IDS),
                         "counter": 1000}
    created = datetime.now(UTC) - timedelta(days=30)
    for i, name in enumerate(("Acme Corp", "Globex", "Initech", "Umbrella", "Hooli")):
        insert(o, "Account", {"Name": name, "Industry": "Technology", "OwnerId": users[i % 3]}, created)
    accounts = [r["Id"] for r in o["records"]["Account"]]
    today = datetime.now(UTC).date()
    for i in range(24):
        insert(o, "Opportunity", {"Name": f"Deal {i + 1:02d}", "StageName": list(STAGES)[i % len(STAGES)],
                                  "Amount": 5000.0 + 2500 * i, "AccountId": accounts[i % 5],
                                  "CloseDate": (today + timedelta(days=15 * (i - 6))).isoformat(),
                                  "OwnerId": users[i % 3]}, created)
    for i in range(260):
        insert(o, "Lead", {"FirstName": f"Lead{i}", "LastName": f"Person {i:03d}",
                           "Company": f"Company {i % 40}", "Email": f"lead{i}@example.com",
                           "Status": LEAD_STATUSES[i % 3],
                           "OwnerId": users[i % 3]}, created)
    return o
