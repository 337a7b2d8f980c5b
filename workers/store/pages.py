"""Keyset pages over (created_at, id): stable under inserts, no OFFSET scans."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from workers.store.models import Job, Schedule

T = TypeVar("T")
#: The key a page continues after: the last row's (created_at, id).
After = tuple[datetime, Any] | None


def keyset(session: Session, stmt: Any, created: Any, ident: Any, *, after: After, limit: int,
           newest_first: bool) -> tuple[list[Any], bool]:
    """Rows of ``stmt`` after ``after`` in (created, id) order, and whether more follow."""
    if after is not None:
        at, last = after
        if newest_first:
            stmt = stmt.where(or_(created < at, and_(created == at, ident < last)))
        else:
            stmt = stmt.where(or_(created > at, and_(created == at, ident > last)))
    order = (created.desc(), ident.desc()) if newest_first else (created.asc(), ident.asc())
    rows = list(session.exec(stmt.order_by(*order).limit(limit + 1)).all())
    return rows[:limit], len(rows) > limit


def jobs_page(*, session: Session, workspace: str, agent: str | None = None, integration: str | None = None,
              status: str | None = None, after: After = None, limit: int = 50) -> tuple[list[Job], bool]:
    """A page of a workspace's jobs, newest first, filtered."""
    stmt = select(Job).where(Job.workspace_id == workspace)
    for column, value in ((Job.agent, agent), (Job.integration, integration), (Job.status, status)):
        if value:
            stmt = stmt.where(column == value)
    return keyset(session, stmt, col(Job.created_at), col(Job.id), after=after, limit=limit, newest_first=True)


def schedules_page(*, session: Session, workspace: str, after: After = None,
                   limit: int = 100) -> tuple[list[Schedule], bool]:
    """A page of a workspace's schedules, oldest first."""
    stmt = select(Schedule).where(Schedule.workspace_id == workspace)
    return keyset(session, stmt, col(Schedule.created_at), col(Schedule.id), after=after, limit=limit,
                  newest_first=False)
