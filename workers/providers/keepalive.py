"""Keep-alive refresh: a refresh token that lapses when unused is refreshed before it does.

Some grants end when their refresh token goes unused for a while (Google: six months; TikTok: a year,
as each refresh rotates it with a new lifetime; Salesforce: whatever the org's policy says). Each
refresh stores ``refreshed_at`` (epoch seconds) beside the tokens; the health check's connection test
refreshes when that is older than the idle limit minus a margin (two check periods, so one missed
check still leaves a chance). A grant with no ``refreshed_at`` on record is refreshed once to start one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from workers.credentials.base import Credentials
from workers.providers.oauth import OAuth2Client

DAY_S = 86_400


def refresh_due(creds: Mapping[str, str], *, idle_days: int, margin_s: float, now: float) -> bool:
    """Whether a grant's refresh token is within ``margin_s`` of lapsing unused (or its last use is unknown)."""
    if not creds.get("refresh_token"):
        return False
    try:
        last = float(creds.get("refreshed_at") or "nan")
    except ValueError:
        last = float("nan")
    return last != last or now - last >= idle_days * DAY_S - margin_s  # NaN: never refreshed on record


def idle_days_of(client: OAuth2Client, overrides: Mapping[str, int]) -> int | None:
    """The provider's unused-expiry in days: the operator's setting, else the provider definition."""
    if client.token.grant_type != "refresh_token":
        return None
    return overrides.get(client.provider, client.token.idle_expiry_days)


def keep_alive(client: OAuth2Client, *, overrides: Mapping[str, int], margin_s: float) -> bool:
    """Refresh the client's grant (single-flight) when it nears its unused-expiry; True when it was due."""
    days = idle_days_of(client, overrides)
    if days is None or not refresh_due(client.credentials, idle_days=days, margin_s=margin_s, now=time.time()):
        return False

    def settled(creds: Credentials) -> bool:  # another process may have refreshed it while we waited
        return client.is_fresh(creds) and not refresh_due(creds, idle_days=days, margin_s=margin_s,
                                                          now=time.time())

    client.credentials = client.refresher.refresh(client.credentials, client.fetch_token, is_fresh=settled)
    return True
