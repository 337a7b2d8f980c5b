"""Migrations build the schema on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations


from alembic import command
from sqlalchemy import inspect

from config.messages import JobCreate
from workers.store import jobs as job_store
from workers.store.db import alembic_config, build_engine, migrate, session_scope


def test_migrations_create_the_schema_and_match_the_models(fresh_url: str) -> None:
    migrate(fresh_url)
    engine = build_engine(fresh_url)
    tables = set(inspect(engine).get_table_names())
    assert {"workspaces", "api_keys", "integrations", "jobs", "job_steps", "audit_events"} <= tables
    command.check(alembic_config(fresh_url))  # raises if the models drifted from the migrations
    command.downgrade(alembic_config(fresh_url), "base")
    assert "jobs" not in set(inspect(build_engine(fresh_url)).get_table_names())
    engine.dispose()


def test_idempotency_key_is_unique_per_workspace(fresh_url: str) -> None:
    from workers.store.keys import create_key

    migrate(fresh_url)
    engine = build_engine(fresh_url)
    with session_scope(engine) as s:
        create_key(session=s, workspace="a")
        create_key(session=s, workspace="b")
        req = JobCreate(agent="emmie", integration="mailchimp", action="ping", idempotency_key="k")
        first, created = job_store.create_job(session=s, workspace="a", req=req)
        again, created_again = job_store.create_job(session=s, workspace="a", req=req)
        other, created_other = job_store.create_job(session=s, workspace="b", req=req)
    assert created and not created_again and again.id == first.id
    assert created_other and other.id != first.id
    engine.dispose()


