"""Migrations build the schema on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

from datetime import timedelta

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


def test_terminal_jobs_never_change_state(fresh_url: str) -> None:
    from workers.store.keys import create_key

    migrate(fresh_url)
    engine = build_engine(fresh_url)
    with session_scope(engine) as s:
        create_key(session=s, workspace="a")
        job, _ = job_store.create_job(session=s, workspace="a",
                                      req=JobCreate(agent="emmie", integration="mailchimp", action="ping"))
        assert job_store.mark_running(session=s, job_id=job.id, lease=LEASE)
        assert job_store.mark_succeeded(session=s, job_id=job.id, result={"ok": True})
        assert not job_store.mark_running(session=s, job_id=job.id, lease=LEASE)
        assert not job_store.mark_failed(session=s, job_id=job.id, error={"type": "x", "message": "y"})
        s.expire_all()
        assert job_store.get_job(session=s, job_id=job.id).status == "succeeded"  # type: ignore[union-attr]
    engine.dispose()


LEASE = timedelta(minutes=10)


def test_a_running_job_is_taken_over_only_after_its_lease(fresh_url: str) -> None:
    from sqlalchemy import update

    from workers.store.keys import create_key
    from workers.store.models import Job, utcnow

    migrate(fresh_url)
    engine = build_engine(fresh_url)
    with session_scope(engine) as s:
        create_key(session=s, workspace="a")
        job, _ = job_store.create_job(session=s, workspace="a",
                                      req=JobCreate(agent="emmie", integration="mailchimp", action="ping"))
        assert job_store.mark_running(session=s, job_id=job.id, lease=LEASE)
        assert not job_store.mark_running(session=s, job_id=job.id, lease=LEASE)  # a duplicate delivery
        s.execute(update(Job).where(Job.id == job.id).values(started_at=utcnow() - timedelta(minutes=11)))
        s.commit()
        assert job_store.mark_running(session=s, job_id=job.id, lease=LEASE)  # its worker died: take over
        s.expire_all()
        assert job_store.get_job(session=s, job_id=job.id).attempts == 2  # type: ignore[union-attr]
    engine.dispose()
