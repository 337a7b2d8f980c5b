"""The secret registry: encodings and partial echoes are hidden; cost and size stay bounded."""

from __future__ import annotations

import base64
import json
import secrets
import time
from urllib.parse import quote, quote_plus

import pytest

from config.logging import redact_text, scrub_secrets
from config.redaction import REDACTED, SecretIndex
from workers.errors import ProviderRejected

CANARY = "CANARY-7f3a9c1e5b2d4086a1e9"


def _forms(secret: str) -> dict[str, str]:
    return {
        "raw": f"key {secret} rejected",
        "url": f"https://x.example/p?next=/cb%3Fk%3D{quote(secret, safe='')}",
        "url_plus": f"k={quote_plus(secret + ' x')}",
        "json": json.dumps({"echo": secret + '"'}),
        "base64": f"b={base64.b64encode(secret.encode()).decode()}",
        "basic_header": "Authorization was Basic " + base64.b64encode(f"user:{secret}".encode()).decode(),
        "basic_header_shifted": base64.b64encode(f"ab:{secret}:x".encode()).decode(),
        "urlsafe_b64": base64.urlsafe_b64encode(f"u:{secret}".encode()).decode(),
        "partial_head": f"got {secret[:9]}...",
        "partial_middle": f"got ...{secret[6:16]}...",
        "partial_tail": f"got ...{secret[-8:]}",
    }


@pytest.mark.parametrize("form", list(_forms(CANARY)))
def test_registered_secret_is_hidden_in_every_form(form: str) -> None:
    index = SecretIndex()
    index.add(CANARY)
    text = _forms(CANARY)[form]
    out = index.scrub(text)
    assert REDACTED in out
    # no 8-character piece of the secret, or of one of its encodings, survives
    for encoded in (CANARY, quote(CANARY, safe=""), base64.b64encode(CANARY.encode()).decode()):
        for i in range(len(encoded) - 7):
            assert encoded[i:i + 8] not in out, (form, out)


def test_text_without_secrets_is_left_alone() -> None:
    index = SecretIndex()
    index.add(CANARY)
    text = "created campaign 42 for list leads; next page https://x.example/p?page=2"
    assert index.scrub(text) == text


def test_short_secrets_are_hidden_whole_only() -> None:
    index = SecretIndex()
    index.add("Ab3$x")
    assert index.scrub("pin Ab3$x ok") == f"pin {REDACTED} ok"
    assert index.scrub("Ab3 stays") == "Ab3 stays"


def test_registry_is_bounded_least_recently_registered_out() -> None:
    index = SecretIndex(max_secrets=100)
    values = [secrets.token_hex(12) for _ in range(1000)]
    for value in values:
        index.add(value)
    assert len(index) == 100
    assert index.scrub(values[-1]) == REDACTED
    assert index.scrub(values[0]) == values[0]


def test_registry_bounds_window_count_and_expires_entries() -> None:
    index = SecretIndex(max_windows=5000, ttl=0.05)
    index.add("x" * 3000 + "unique-tail")
    index.add(old := secrets.token_hex(12))
    assert index.window_count <= 5000
    time.sleep(0.1)
    index.add(secrets.token_hex(12))
    assert index.scrub(old) == old


def test_matching_cost_does_not_grow_with_the_number_or_size_of_secrets() -> None:
    small, big = SecretIndex(), SecretIndex()
    small.add(CANARY)
    for i in range(2000):
        big.add(f"tenant-{i}-{CANARY}-{i}")
    big.add("Z" * 16_384)
    text = "provider said: nothing secret here, just a fairly ordinary error message " * 20

    def cost(index: SecretIndex) -> float:
        started = time.perf_counter()
        for _ in range(50):
            index.scrub(text)
        return time.perf_counter() - started

    cost(small), cost(big)  # warm up
    assert cost(big) < 3 * cost(small) + 0.05


def test_provider_error_text_is_redacted_when_the_error_is_built() -> None:
    from config.logging import register_secret

    register_secret(CANARY)
    exc = ProviderRejected(f"semrush answered 400: ERROR 50 :: key {quote(CANARY)} is invalid",
                           provider_code=base64.b64encode(CANARY.encode()).decode())
    assert CANARY not in exc.message and quote(CANARY) not in exc.message
    assert exc.provider_code is not None and base64.b64encode(CANARY.encode()).decode() not in exc.provider_code
    assert CANARY not in str(exc.as_dict())
    assert REDACTED in redact_text(CANARY[3:14])
    assert scrub_secrets({"account": {"name": f"echo {CANARY}"}}) == {"account": {"name": f"echo {REDACTED}"}}


def test_uvicorns_own_loggers_go_through_the_redacting_pipeline() -> None:
    import io
    import logging

    from config.logging import configure_logging, register_secret

    secret = f"uvicorn-canary-{secrets.token_hex(8)}"
    register_secret(secret)
    access = logging.getLogger("uvicorn.access")
    own = logging.StreamHandler(io.StringIO())  # what uvicorn's dictConfig installs
    access.addHandler(own)
    access.propagate = False
    saved_level = access.level
    access.setLevel(logging.INFO)  # uvicorn sets it from --log-level (the simulator runs at warning)
    stream = io.StringIO()
    level = logging.getLogger().level
    configure_logging(fmt="json", level="INFO", stream=stream)
    try:
        access.info('127.0.0.1 - "GET /cb?code=%s HTTP/1.1" 200', secret)
        assert own not in access.handlers and access.propagate
        assert "uvicorn.access" in stream.getvalue() and secret not in stream.getvalue()
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "stream", None) is stream:
                logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
        access.setLevel(saved_level)


def test_words_inside_a_secret_are_not_hidden_everywhere_but_the_secret_is() -> None:
    index = SecretIndex()
    index.add("ya29.sim-configured")
    index.add("correcthorsebattery")
    out = index.scrub("not configured; token ya29.sim-configured, password correcthorsebattery, echo sim-conf")
    assert out == f"not configured; token {REDACTED}, password {REDACTED}, echo {REDACTED}"


def test_a_partial_echo_made_only_of_letters_is_hidden_unless_it_is_written_like_a_word() -> None:
    """A canary whose first 8 characters after its capitalised prefix are hex letters: every window of its
    14-character head is letters-only (or has under 5 different characters), and it is still hidden."""
    index = SecretIndex()
    for key in ("CANARYbebbeff3e1d9a0c4d2b", "CANARYedbcdbac91f0e2d7c6", "sk_Configured_words_key"):
        index.add(key)
    out = index.scrub("key starting CANARYbebbeff3 is unknown; got CANARYedbcdbac; Configured words stay")
    # what is left of each head is shorter than a window ("f3", "ac"): it tells nothing about the key
    assert out.startswith(f"key starting {REDACTED}") and f"got {REDACTED}" in out, out
    assert "CANARY" not in out and "ebbeff" not in out and "dbcdb" not in out, out
    assert out.endswith("; Configured words stay"), out


def test_low_variety_runs_inside_a_secret_do_not_cut_record_ids_but_the_secret_is_hidden() -> None:
    """A key with a run of zeros must not mask every id with such a run (a post id 7380000000000000001)."""
    index = SecretIndex()
    index.add("0000000000000000000000000000000000000000")
    index.add("00D5g000004ABCDe!AQ4AQLx7kR2")
    text = "post urn:li:share:7380000000000000001, account 0015g00000G9AAI, echo 00D5g000004ABCDe!AQ4"
    out = index.scrub(text + " key 0000000000000000000000000000000000000000")
    assert out.startswith("post urn:li:share:7380000000000000001, account 0015g00000G9AAI, echo "), out
    assert "AQ4" not in out.split("echo ", 1)[1] and out.endswith(f"key {REDACTED}"), out


def test_scrub_value_finds_secrets_in_every_form_nested_and_leaves_clean_values_equal() -> None:
    index = SecretIndex()
    index.add(CANARY)
    index.add("Ab3$x")  # a short one: matched whole only
    clean = {"campaigns": [{"id": "c0001a1b2", "title": "Autumn newsletter", "sent": 12, "ok": True, "x": None}],
             "total": 1.5, 7: ["2026-01-02T03:04:05+00:00"]}
    assert index.scrub_value(clean) == clean
    for form, text in _forms(CANARY).items():
        for value in ({"deep": [{"k": text}]}, [text], ({"t": (1, text)},), {text: 1},
                      {"escaped": 'quote " and \\ ' + text}, {"when": object(), "echo": text}):
            out = index.scrub_value(value)
            assert CANARY[:8] not in str(out) and CANARY[-8:] not in str(out), (form, value, out)
            assert REDACTED in str(out), (form, value, out)
    assert index.scrub_value({"pin": "pin Ab3$x ok"}) == {"pin": f"pin {REDACTED} ok"}
    assert index.scrub_value(["a\nb", "Ab3$x"]) == ["a\nb", REDACTED]
