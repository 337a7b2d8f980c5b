"""The job lifecycle on both databases: start only when waiting and due, ownership, takeover, replay,
the outbox relay and the one retry policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from config.messages import JobCreate
from workers.dispatch import relay_once, take_over_expired
from workers.errors import AuthError, ProviderUnavailable, RateLimited
from workers.lifecycle import RetryPolicy
from workers.store import events
from workers.store import jobs as job_store
from workers.store.db import session_scope
from workers.store.models import Job, utcnow

LEASE = timedelta(seconds=15)


class FakeEnqueuer:
    """Records sends; ``down`` makes it fail like a broker that is unreachable."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.down = False

    def enqueue(self, msg: Any, agent_id: str, **_options: Any) -> str:
        if self.down:
            raise ConnectionError("broker down")
        self.sent.append(msg.job_id)
        return f"m{len(self.sent)}"


def _job(engine: Any, **req: Any) -> Job:
    with session_scope(engine) as s:
        job, _ = job_store.create_job(session=s, workspace="a", req=JobCreate(
            agent="emmie", integration="mailchimp", action="list_campaigns", **req))
        return job


def test_terminal_jobs_never_change_state(engine: Any) -> None:
    job = _job(engine)
    with session_scope(engine) as s:
        assert job_store.mark_running(session=s, job_id=job.id, worker_id="w1", lease=LEASE)
        assert job_store.finish_attempt(session=s, job_id=job.id, worker_id="w1",
                                        values={"status": "succeeded", "finished_at": utcnow()})
        s.commit()
        assert not job_store.mark_running(session=s, job_id=job.id, worker_id="w2", lease=LEASE)
        assert not job_store.mark_failed(session=s, job_id=job.id, error={"type": "x", "message": "y"})
        s.expire_all()
        assert job_store.get_job(session=s, job_id=job.id).status == "succeeded"  # type: ignore[union-attr]


def test_a_duplicate_delivery_of_a_running_job_does_not_start_it_and_a_taken_over_worker_cannot_finish_it(
        engine: Any) -> None:
    job = _job(engine)
    with session_scope(engine) as s:
        assert job_store.mark_running(session=s, job_id=job.id, worker_id="w1", lease=LEASE)
        s.commit()
        assert not job_store.mark_running(session=s, job_id=job.id, worker_id="w2", lease=LEASE)
        # w1 stops heartbeating: its lease runs out and the sweeper hands the job to another worker
        s.execute(update(Job).where(Job.id == job.id).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert take_over_expired(engine, max_losses=5) == 1
    with session_scope(engine) as s:
        again = job_store.get_job(session=s, job_id=job.id)
        assert again is not None and again.status == "retrying" and again.dispatch_at is not None
        assert [e["kind"] for e in again.attempt_log or []] == ["worker_lost"]
        assert job_store.mark_running(session=s, job_id=job.id, worker_id="w2", lease=LEASE)
        s.commit()
        # the first worker comes back to life: its outcome is not written over the new attempt
        assert not job_store.finish_attempt(session=s, job_id=job.id, worker_id="w1", values={"status": "succeeded"})
        s.commit()
        s.expire_all()
        assert job_store.get_job(session=s, job_id=job.id).attempts == 2  # type: ignore[union-attr]


def test_a_poison_job_that_kills_its_worker_is_failed_after_max_losses(engine: Any) -> None:
    job = _job(engine)
    for attempt in range(3):
        with session_scope(engine) as s:
            assert job_store.mark_running(session=s, job_id=job.id, worker_id=f"w{attempt}", lease=LEASE)
            s.execute(update(Job).where(Job.id == job.id).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        take_over_expired(engine, max_losses=3)
    with session_scope(engine) as s:
        final = job_store.get_job(session=s, job_id=job.id)
        assert final is not None and final.status == "failed" and "died 3 times" in final.error["message"]


def test_a_retry_message_that_arrives_before_its_time_does_not_start_the_job(engine: Any) -> None:
    job = _job(engine)
    with session_scope(engine) as s:
        s.execute(update(Job).where(Job.id == job.id).values(status="retrying",
                                                             not_before=utcnow() + timedelta(seconds=30)))
        s.commit()
        assert not job_store.mark_running(session=s, job_id=job.id, worker_id="w1", lease=LEASE)
        s.execute(update(Job).where(Job.id == job.id).values(not_before=utcnow() - timedelta(seconds=1)))
        s.commit()
        assert job_store.mark_running(session=s, job_id=job.id, worker_id="w1", lease=LEASE)


def test_the_relay_sends_due_outbox_entries_once_and_keeps_them_while_the_broker_is_down(engine: Any) -> None:
    jobs = [_job(engine) for _ in range(3)]
    broker = FakeEnqueuer()
    assert relay_once(engine, broker) == 0  # within the grace the creator's own send is expected
    with session_scope(engine) as s:
        s.execute(update(Job).values(dispatch_at=utcnow() - timedelta(seconds=1)))
    broker.down = True
    assert relay_once(engine, broker) == 0
    broker.down = False
    assert relay_once(engine, broker) == 3
    assert relay_once(engine, broker) == 0
    assert sorted(broker.sent) == sorted(j.id for j in jobs)


def test_replay_runs_the_same_job_again_and_records_the_timeline(engine: Any) -> None:
    job = _job(engine)
    with session_scope(engine) as s:
        job_store.mark_failed(session=s, job_id=job.id, error={"type": "transient", "message": "503"})
        failed = job_store.get_job(session=s, job_id=job.id)
        assert failed is not None
        assert job_store.request_retry(session=s, job=failed, reason="retried by test", actor="test")
        s.commit()
        assert not job_store.request_retry(session=s, job=failed, reason="twice", actor="test")  # now queued
        s.expire_all()
        again = job_store.get_job(session=s, job_id=job.id)
        assert again is not None and again.status == "queued" and again.error is None
        kinds = [e.type for e in events.since(s, workspace="a", job_id=job.id)]
        assert kinds == ["job.queued", "job.failed", "job.queued"]


POLICY = RetryPolicy(min_backoff=1, max_backoff=60, rate_limit_budget=900)


def _decide(error: Any, log: list[dict[str, Any]], *, max_retries: int = 5, since: Any = None) -> Any:
    return POLICY.decide(error=error, cancelled=False, attempt_log=log, max_retries=max_retries,
                         rate_limited_since=since, now=utcnow())


def test_policy_transient_failures_retry_with_backoff_until_the_budget() -> None:
    err = ProviderUnavailable("503")
    first = _decide(err, [{"kind": "transient"}])
    assert first.status == "retrying" and 1 <= first.delay <= 1.5
    assert _decide(err, [{"kind": "transient"}] * 5).status == "retrying"
    assert _decide(err, [{"kind": "transient"}] * 6).status == "failed"
    assert _decide(err, [{"kind": "transient"}], max_retries=0).status == "failed"  # a connection test


def test_policy_rate_limits_wait_by_time_not_by_attempts() -> None:
    err = RateLimited("429", retry_after=2)
    many = [{"kind": "rate_limited"}] * 100
    assert _decide(err, many, since=utcnow() - timedelta(seconds=60)).status == "retrying"
    assert _decide(err, many, since=utcnow() - timedelta(seconds=899)).status == "failed"
    assert _decide(AuthError("401"), []).status == "failed"


def test_a_dead_worker_is_reaped_its_fetched_messages_dropped_and_its_jobs_sent_again(engine: Any) -> None:
    import redis

    from config.settings import Settings
    from tests.conftest import require_service
    from workers.broker import Enqueuer, build_broker
    from workers.dispatch import reap_dead_workers
    from workers.store.models import WorkerProcess

    require_service("Redis")
    broker = build_broker(Settings(redis_url="redis://127.0.0.1:6379/15"))
    broker.flush_all()
    enqueuer = Enqueuer(broker)
    waiting, running = _job(engine), _job(engine)
    ids = {j.id: enqueuer.enqueue(job_store.message_for(j), "emmie") for j in (waiting, running)}
    r = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    dead_acks = "dramatiq:__acks__.dead-broker.agent.emmie"
    for rid in ids.values():  # the dead process had fetched both messages
        r.lrem("dramatiq:agent.emmie", 0, rid)
        r.sadd(dead_acks, rid)
    old = utcnow() - timedelta(seconds=60)
    with session_scope(engine) as s:
        s.execute(update(Job).where(Job.id.in_(list(ids))).values(dispatch_at=None))  # type: ignore[attr-defined]
        for job_id, rid in ids.items():
            s.execute(update(Job).where(Job.id == job_id).values(message_id=rid))
        s.add(WorkerProcess(id="w-dead", hostname="elsewhere", pid=1, queues=["agent.emmie"], started_at=old,
                            heartbeat_at=old, broker_id="dead-broker"))
        s.commit()
        assert job_store.mark_running(session=s, job_id=running.id, worker_id="w-dead", lease=LEASE)
        s.commit()
    assert reap_dead_workers(engine, enqueuer, after=15) == 1
    assert reap_dead_workers(engine, enqueuer, after=15) == 0  # once
    assert not r.exists(dead_acks) and r.hlen("dramatiq:agent.emmie.msgs") == 0
    assert take_over_expired(engine, max_losses=5) == 1  # the running one, in the same sweep
    with session_scope(engine) as s:
        for job_id in ids:
            job = job_store.get_job(session=s, job_id=job_id)
            assert job is not None and job.dispatch_at is not None, job_id  # each sent again, once
    broker.flush_all()


def test_a_waiting_job_whose_message_redis_lost_is_sent_again_and_one_still_queued_is_not(engine: Any) -> None:
    from config.settings import Settings
    from tests.conftest import require_service
    from workers.broker import Enqueuer, build_broker
    from workers.dispatch import resend_lost

    require_service("Redis")
    broker = build_broker(Settings(redis_url="redis://127.0.0.1:6379/15"))
    broker.flush_all()
    enqueuer = Enqueuer(broker)
    kept, lost = _job(engine), _job(engine)
    old = utcnow() - timedelta(seconds=30)
    with session_scope(engine) as s:
        s.execute(update(Job).where(Job.id == kept.id).values(
            message_id=enqueuer.enqueue(job_store.message_for(kept), "emmie"), dispatch_at=None, updated_at=old))
        s.execute(update(Job).where(Job.id == lost.id).values(message_id="gone-with-a-redis-restart",
                                                              dispatch_at=None, updated_at=old))
    assert resend_lost(engine, enqueuer, grace=5, stale=60) == 1
    with session_scope(engine) as s:
        assert job_store.get_job(session=s, job_id=lost.id).dispatch_at is not None  # type: ignore[union-attr]
        assert job_store.get_job(session=s, job_id=kept.id).dispatch_at is None  # type: ignore[union-attr]
    broker.flush_all()
