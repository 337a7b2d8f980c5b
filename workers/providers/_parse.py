"""Lenient readers for values providers send: numbers in headers, ISO timestamps and JSON object bodies.

Each returns None for a value that is absent or unreadable, so callers can fall back instead of failing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx


def int_or_none(value: str | None) -> int | None:
    """``value`` as an int, or None when it is absent or not an integer."""
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def float_or_none(value: str | None) -> float | None:
    """``value`` as a float, or None when it is absent or not a number."""
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def aware_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z``, an offset, or none meaning UTC) as an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object when the response says JSON and holds one, else None."""
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def json_dict(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object whatever its content type (error bodies are often mislabelled), else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
