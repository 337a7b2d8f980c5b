"""The tables a worker's own statements use, as SQLAlchemy Core ``Table`` objects, and the column types.

Why not the SQLModel classes (:mod:`workers.store.models`): importing them imports SQLModel and the
SQLAlchemy ORM, about 7 MB of every worker process (issue 12), while a worker's statements (start,
outcome, steps, progress, heartbeat, relay and sweeper) are Core. These describe the same tables as the
models (same names, columns, types; ``tests/test_store_tables.py`` compares them); the schema itself is
created and evolved only by the Alembic migrations. The API and the rare worker paths that work with ORM
objects (workflows, OAuth connection, a connection's state) still use the models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Float, Integer, MetaData, String, Table, TypeDecorator

from config.logging import scrub_secrets


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored: use timezone-aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ScrubbedJSON(TypeDecorator[Any]):
    """JSON whose strings are scrubbed of this process's registered secrets on every write.

    Bind processing runs for ORM flushes and Core ``update().values()`` alike, so job results, errors,
    progress, steps and audit details cannot carry a secret a provider echoed, whoever writes them.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return scrub_secrets(value)


METADATA = MetaData()


def _s(name: str, length: int, *, nullable: bool = False, primary_key: bool = False) -> Column[Any]:
    return Column(name, String(length), nullable=nullable, primary_key=primary_key)


def _ts(name: str, *, nullable: bool = True, primary_key: bool = False) -> Column[Any]:
    return Column(name, UTCDateTime(), nullable=nullable, primary_key=primary_key)


JOBS = Table(
    "jobs", METADATA,
    _s("id", 64, primary_key=True), _s("workspace_id", 64), _s("agent", 32), _s("integration", 64),
    _s("action", 64), _s("kind", 32), Column("params", JSON, nullable=False), _s("status", 32),
    Column("attempts", Integer, nullable=False), Column("result", ScrubbedJSON, nullable=True),
    Column("error", ScrubbedJSON, nullable=True), Column("progress", ScrubbedJSON, nullable=True),
    _s("idempotency_key", 200, nullable=True), _ts("run_at"), _s("schedule_id", 64, nullable=True),
    _s("parent_id", 64, nullable=True), _ts("created_at", nullable=False), _ts("started_at"), _ts("finished_at"),
    _ts("updated_at", nullable=False), Column("attempt_log", ScrubbedJSON, nullable=True), _ts("dispatch_at"),
    _s("message_id", 64, nullable=True), _s("worker_id", 64, nullable=True), _ts("lease_expires_at"),
    _ts("not_before"), _ts("rate_limited_since"), _ts("cancel_requested_at"),
)

INTEGRATIONS = Table(
    "integrations", METADATA,
    Column("id", Integer, primary_key=True), _s("workspace_id", 64), _s("agent", 32), _s("integration", 64),
    _s("status", 32), Column("fields_set", JSON, nullable=False), Column("vault_version", Integer, nullable=True),
    _s("message", 1000, nullable=True), _ts("configured_at"), _ts("connected_at"), _ts("disconnected_at"),
    _ts("updated_at", nullable=False), _ts("next_check_at"), Column("app_fields", JSON, nullable=True),
)

EVENTS = Table(
    "events", METADATA,
    Column("id", Integer, primary_key=True), _ts("at", nullable=False), _s("workspace_id", 64), _s("type", 64),
    _s("job_id", 64, nullable=True), Column("data", ScrubbedJSON, nullable=True),
)

WORKER_PROCESSES = Table(
    "worker_processes", METADATA,
    _s("id", 64, primary_key=True), _s("agent", 32, nullable=True), _s("hostname", 255),
    Column("pid", Integer, nullable=False), Column("queues", JSON, nullable=False), _ts("started_at", nullable=False),
    _ts("heartbeat_at", nullable=False), Column("in_flight", Integer, nullable=False), _ts("stopped_at"),
    _s("broker_id", 64, nullable=True),
)

JOB_STEPS = Table(
    "job_steps", METADATA,
    _s("job_id", 64, primary_key=True), _s("key", 128, primary_key=True), Column("value", ScrubbedJSON, nullable=True),
    _ts("created_at", nullable=False),
)

AUDIT_EVENTS = Table(
    "audit_events", METADATA,
    Column("id", Integer, primary_key=True), _ts("at", nullable=False), _s("workspace_id", 64, nullable=True),
    _s("actor", 64), _s("kind", 32), _s("job_id", 64, nullable=True), _s("agent", 32, nullable=True),
    _s("integration", 64, nullable=True), _s("action", 64, nullable=True), _s("method", 16, nullable=True),
    _s("path", 500, nullable=True), Column("status", Integer, nullable=True),
    Column("duration_ms", Float, nullable=True), _s("outcome", 32), Column("detail", ScrubbedJSON, nullable=True),
)

SCHEDULES = Table(
    "schedules", METADATA,
    _s("id", 64, primary_key=True), _s("workspace_id", 64), _s("name", 200), _s("cron", 200), _s("timezone", 64),
    _s("agent", 32), _s("integration", 64), _s("action", 64), Column("params", JSON, nullable=False),
    _s("misfire_policy", 16), _s("status", 16), _s("paused_reason", 500, nullable=True), _ts("next_fire_at"),
    _ts("last_fired_at"), _ts("created_at", nullable=False), _ts("updated_at", nullable=False),
)
