"""Opaque list cursors: ``next_cursor`` encodes the last row's (time, id); a bad one is a 422 naming it."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from fastapi import Query

from producers.api.errors import ApiError

#: Most rows one page returns.
MAX_PAGE = 500

CursorParam = Annotated[str | None, Query(description="`next_cursor` of the previous page.", max_length=300)]
LimitParam = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page.")]


def encode_cursor(at: datetime, row_id: str | int) -> str:
    """The cursor that continues after the row (``at``, ``row_id``)."""
    raw = json.dumps({"t": at.isoformat(), "id": row_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, str | int] | None:
    """The (time, id) a cursor stands for; :class:`ApiError` 422 ``invalid_cursor`` when it is not ours."""
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(data["t"])
        row_id = data["id"]
        if at.tzinfo is None or not isinstance(row_id, (str, int)):
            raise ValueError("incomplete cursor")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "invalid_cursor", f"invalid cursor {cursor[:60]!r}: pass the next_cursor of a "
                       "previous page unchanged", fields=[{"field": "cursor", "problem": "not a cursor"}]) from None
    return at, row_id
