"""Logging for every Sintra process: one structlog pipeline, secrets redacted everywhere.

``configure_logging`` is the only ``structlog.configure`` call. Foreign stdlib records (dramatiq, hvac,
httpx, uvicorn) go through the same processors via ``ProcessorFormatter``. Redaction runs after
exceptions are rendered, so it also scrubs exception text and tracebacks:

1. every secret value registered with :func:`register_secret` (each credential load registers its
   secret fields), also URL-encoded, base64'd and in 8+ character fragments (:mod:`config.redaction`);
2. values under key names that look secret (``password``, ``token``, ``api_key``, ...);
3. URL query strings and ``Authorization`` header values in free text.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from config.redaction import MIN_SECRET_LEN, REDACTED, SECRETS

__all__ = ["MIN_SECRET_LEN", "REDACTED", "SECRET_KEY", "configure_logging", "redact", "redact_text",
           "register_secret", "register_secrets", "scrub_secrets"]

#: Key names whose values are always hidden.
SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|apikey|authorization|auth|cookie|credential|private[_-]?key|"
    r"signature|session)", re.I)
_QUERY = re.compile(r"(https?://[^\s'\"?]+)\?[^\s'\"]*")
_AUTH_HEADER = re.compile(r"((?:authorization|x-api-key|api-key)['\"]?\s*[:=]\s*['\"]?)([^'\",}\s]+(?: [^'\",}\s]+)?)",
                          re.I)
_KV_SECRET = re.compile(
    r"((?:access_token|refresh_token|client_secret|api_key|apikey|password|token|secret)['\"]?\s*[=:]\s*['\"]?)"
    r"([^'\"&\s,}]+)", re.I)

def register_secret(value: str | None) -> None:
    """Hide ``value`` (and its encodings and 8-char fragments, see :mod:`config.redaction`) wherever it
    appears in any later log line, error, result or traceback of this process."""
    if value:
        SECRETS.add(value)


def register_secrets(values: Iterable[str]) -> None:
    """Register several secret values."""
    for value in values:
        register_secret(value)


def scrub_secrets(value: Any) -> Any:
    """``value`` with registered secrets hidden (strings inside JSON-like values too); nothing else changes.

    For stored data (job results, steps): unlike :func:`redact`, it leaves query strings and key names be.
    """
    return SECRETS.scrub_value(value)


def redact_text(text: str) -> str:
    """``text`` with registered secrets, secret-looking key values and query strings removed."""
    text = SECRETS.scrub(text)
    text = _QUERY.sub(r"\1?" + REDACTED, text)
    text = _AUTH_HEADER.sub(r"\1" + REDACTED, text)
    return _KV_SECRET.sub(r"\1" + REDACTED, text)


def redact(value: Any) -> Any:
    """Recursively redact strings, and values under secret-looking keys, in ``value``."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and SECRET_KEY.search(k) and v not in (None, "", [], {})
                    and not isinstance(v, bool) else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value


def _redact_processor(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    safe_keys = {"event", "level", "timestamp", "logger", "exception"}
    out: dict[str, Any] = {}
    for key, val in event.items():
        if key not in safe_keys and SECRET_KEY.search(key) and val not in (None, "", False, True):
            out[key] = REDACTED
        else:
            out[key] = redact(val)
    return out


def _stringify_event(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    # foreign records may carry %-args already merged; make sure "event" is text before redaction
    if not isinstance(event.get("event"), str):
        event["event"] = str(event.get("event"))
    return event


def configure_logging(*, fmt: str = "console", level: str = "INFO", stream: Any = None) -> None:
    """Configure structlog and the stdlib root logger once for this process."""
    json_output = fmt == "json"
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    if json_output:
        render_exc: Any = structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
        renderer: Any = structlog.processors.JSONRenderer()
    else:
        render_exc = structlog.processors.format_exc_info
        renderer = structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    tail = [structlog.stdlib.PositionalArgumentsFormatter(), _stringify_event, render_exc, _redact_processor]
    structlog.configure(
        # filter_by_level first: a line below the logger's level is dropped before the other processors
        # run (stdlib would drop it only after them; a worker's per-job INFO lines cost CPU at WARNING)
        processors=[structlog.stdlib.filter_by_level, *shared, *tail,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, *tail],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_sintra", False):
            root.removeHandler(old)
    handler._sintra = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    route_library_loggers()
    # httpx logs full URLs at INFO; keep them at WARNING (redaction would still scrub query strings)
    for noisy in ("httpx", "httpcore", "urllib3", "hvac"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def route_library_loggers() -> None:
    """Send every library logger that has its own handlers (uvicorn's, for one) through our pipeline.

    uvicorn installs handlers on ``uvicorn``, ``uvicorn.error`` and ``uvicorn.access`` with
    ``propagate=False`` before it loads the app: left alone, those lines would bypass redaction.
    """
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger) or name.startswith(("sintra", "tests")):
            continue
        for old in list(logger.handlers):
            if not getattr(old, "_sintra", False):
                logger.removeHandler(old)
        logger.propagate = True
