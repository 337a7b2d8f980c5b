"""Standard Webhooks signing and the receiver-side ``verify()``: pure functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from producers.client import WebhookVerificationError, verify
from producers.webhook_signature import sign

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
BODY = b'{"type":"job.failed","timestamp":"2026-12-01T09:00:00Z","data":{"job_id":"j1"}}'


def _headers(ts: int, sig: str, msg_id: str = "msg_1") -> dict[str, str]:
    return {"Webhook-Id": msg_id, "Webhook-Timestamp": str(ts), "Webhook-Signature": sig}


def test_signature_is_base64_hmac_sha256_of_id_timestamp_and_body() -> None:
    expected = hmac.new(b"k" * 32, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    assert sign(SECRET, "msg_1", 1700000000, BODY) == "v1," + base64.b64encode(expected).decode()


def test_verify_accepts_a_fresh_signed_delivery_and_returns_the_payload() -> None:
    now = int(time.time())
    payload = verify(SECRET, _headers(now, "v1,bogus " + sign(SECRET, "msg_1", now, BODY)), BODY)
    assert payload["data"]["job_id"] == "j1"


@pytest.mark.parametrize("change, problem", [
    ({"body": BODY.replace(b"j1", b"j2")}, "no v1 signature matches"),
    ({"msg_id": "msg_2"}, "no v1 signature matches"),
    ({"age": 600}, "possible replay"),
    ({"age": -600}, "possible replay"),
    ({"secret": "whsec_" + base64.b64encode(b"x" * 32).decode()}, "no v1 signature matches"),
])
def test_verify_refuses_tampered_replayed_or_foreign_deliveries(change: dict, problem: str) -> None:
    ts = int(time.time()) - change.get("age", 0)
    sig = sign(SECRET, "msg_1", ts, BODY)
    headers = _headers(ts, sig, change.get("msg_id", "msg_1"))
    with pytest.raises(WebhookVerificationError, match=problem):
        verify(change.get("secret", SECRET), headers, change.get("body", BODY))


def test_verify_names_a_missing_header() -> None:
    with pytest.raises(WebhookVerificationError, match="webhook-signature"):
        verify(SECRET, {"webhook-id": "m", "webhook-timestamp": "1"}, BODY)
