"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``.

The sender signs with :func:`sign`; a receiver checks the three ``webhook-*`` headers with :func:`verify`
(also exported by ``producers.client``). Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

#: How far a delivery's timestamp may be from the receiver's clock (replay protection), in seconds.
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(ValueError):
    """The delivery is not signed by the endpoint's secret, or is too old or too new."""


def _key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise WebhookVerificationError("the secret is not a whsec_<base64> webhook secret") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one delivery attempt."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes | str, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> Any:
    """Check a delivery's signature and timestamp; return the decoded JSON payload.

    Raises :class:`WebhookVerificationError` saying what is wrong. ``headers`` may use any case.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, ts_text, signatures = (lower[h] for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    except KeyError as exc:
        raise WebhookVerificationError(f"missing header {exc.args[0]}") from None
    try:
        timestamp = int(ts_text)
    except ValueError:
        raise WebhookVerificationError(f"webhook-timestamp {ts_text[:20]!r} is not a Unix time") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is {int(current - timestamp)} s from now "
                                       f"(more than {tolerance} s): refusing a possible replay")
    data = body.encode() if isinstance(body, str) else body
    expected = sign(secret, msg_id, timestamp, data).split(",", 1)[1]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(data)
    raise WebhookVerificationError("no v1 signature matches the endpoint's secret")
