"""The scheduler service: ``python -m schedules`` (several may run at once); also webhooks and health checks."""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import timedelta

from config.logging import configure_logging
from config.settings import get_settings
from producers.enqueue import Enqueuer
from schedules.health import HealthCheck
from schedules.runner import Scheduler
from workers.broker import build_broker
from workers.dispatch import Maintenance
from workers.store.db import build_engine


def main(argv: list[str] | None = None) -> None:
    """Tick until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m schedules", description=__doc__)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks (default 1)")
    parser.add_argument("--no-webhooks", action="store_true", help="do not run the webhook dispatcher here")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine = build_engine(settings.db_url)
    if not args.no_webhooks:
        from producers.webhooks import WebhookDispatcher, vault_secrets

        dispatcher = WebhookDispatcher(engine, settings, vault_secrets(settings))
        threading.Thread(target=dispatcher.run, kwargs={"interval": args.interval, "stop": stop.is_set},
                         name="webhooks", daemon=True).start()
    enqueuer = Enqueuer(build_broker(settings))
    # the outbox relay and the sweeper (lost messages, dead workers' jobs, finished workflows) run here
    # too, so a system with no idle worker still recovers; any number of replicas is safe
    maintenance = Maintenance(engine, enqueuer, settings)
    maintenance.start()
    if settings.health_check_seconds:  # each connected integration's connection test, once per period
        health = HealthCheck(engine, enqueuer, period=timedelta(seconds=settings.health_check_seconds))
        threading.Thread(target=health.run, kwargs={"interval": max(args.interval, 5.0), "stop": stop.is_set},
                         name="health", daemon=True).start()
    scheduler = Scheduler(engine, lambda msg, agent: enqueuer.enqueue(msg, agent))
    try:
        scheduler.run(interval=args.interval, stop=stop.is_set)
    finally:
        maintenance.stop()


if __name__ == "__main__":
    main()
