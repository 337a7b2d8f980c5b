"""Redaction: registered secrets, secret-looking keys and query strings never reach a log line."""

from __future__ import annotations

import io
import json
import logging

import structlog

from config.logging import configure_logging, redact, redact_text, register_secret


def test_registered_secret_is_masked_in_text_and_nested_values() -> None:
    register_secret("s3cr3t-value-123")
    assert "s3cr3t-value-123" not in redact_text("token s3cr3t-value-123 leaked")
    assert redact({"a": ["x s3cr3t-value-123"], "password": "p"}) == {"a": ["x [REDACTED]"], "password": "[REDACTED]"}


def test_query_strings_and_authorization_headers_are_masked() -> None:
    out = redact_text("GET https://graph.example/v1/me?access_token=abc&x=1 Authorization: Bearer zzz")
    assert "abc" not in out and "zzz" not in out and "https://graph.example/v1/me" in out


def test_structlog_stdlib_and_exception_output_are_redacted() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="INFO", stream=stream)
    register_secret("canary-log-secret-42")
    structlog.get_logger("t").info("event with canary-log-secret-42", api_key="plain-key-value")
    logging.getLogger("dramatiq.worker").error("Failed to process message run(token='canary-log-secret-42')")
    try:
        raise RuntimeError("boom canary-log-secret-42 at https://x.example/a?key=qqq")
    except RuntimeError:
        structlog.get_logger("t").exception("crashed")
    text = stream.getvalue()
    assert "canary-log-secret-42" not in text and "plain-key-value" not in text and "qqq" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3 and "RuntimeError" in text
