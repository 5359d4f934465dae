"""The outbox's sender side and the daily schedule.

After a request committed, the emails it queued are handed over (`dispatch_after_commit`):
- with REDIS_URL, one job on the RQ queue `emails`, run by the worker (`make worker`, that is
  `python -m app.worker`);
- without Redis, or while Redis does not answer, a background thread of the web process (one per
  process, woken by each request that queued an email): never the request itself, so that an SMTP
  server that hangs delays no page. The tests' "inline" mode sends before the response instead.
Either way an email is sent by `core.mail.send_pending`, which claims each row (SELECT … FOR UPDATE
SKIP LOCKED), retries with backoff and never loses one; the cron `flask outbox send` is the safety net.

The schedule: the worker runs with RQ's own scheduler (`Worker(with_scheduler=True)`, part of RQ
itself, so no second package to keep up: rq-scheduler is a separate, slower-moving project, and RQ's
newer `rq cron` runs as a separate process with no lock across hosts). Two self-renewing jobs:
- `daily_job` (reminders, the retention purge, then the outbox) every day at DAILY_SCHEDULE_HOUR UTC;
- `retry_job` (the outbox's retries) every OUTBOX_RETRY_SECONDS.
Each occurrence has a job id made of its time slot, so that the workers of several hosts, which all
schedule the next occurrence when they start and when one runs, schedule it once; RQ's scheduler
holds a lock per queue, so one of them enqueues it. Reminders are sent once each anyway."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import Flask, current_app

from app.core.mail import QUEUED_FLAG, send_pending
from app.extensions import db

log = logging.getLogger(__name__)
QUEUE = "emails"
JOB = "app.worker.send_pending_job"  # by name: the worker imports it, never the web process's objects
DAILY_JOB = "app.worker.daily_job"
RETRY_JOB = "app.worker.retry_job"
EXPORTS_QUEUE = "exports"  # exports and the statistics' refresh (app/stats/jobs.py), after the emails
STATS_JOB = "app.stats.jobs.refresh_statistics_job"
JOB_TIMEOUT = 600  # seconds: a job stuck longer (an SMTP server that hangs past its own timeout) is killed


@cache
def _queue(redis_url: str):
    """One connection pool per process and URL (not one per request); short timeouts, so that a
    request never waits long on a Redis that does not answer."""
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5),
                 default_timeout=JOB_TIMEOUT)


def send_outbox() -> dict[str, int]:
    """The whole outbox: the webhook calls first (a hook that gets disabled emails its owner), then the emails."""
    from app.files.webhooks import deliver_pending

    hooks = deliver_pending()
    return {**send_pending(), **{f"webhooks_{k}": v for k, v in hooks.items()}}


# ---------------------------------------------------------------- without Redis: one sender thread


class BackgroundSender:
    """A daemon thread of the process that sends what is due each time it is woken."""

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="certifia-outbox", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            with self.app.app_context():
                try:
                    send_outbox()
                except Exception:  # the next wake-up, the worker or the cron retries
                    log.exception("Envoi des emails reporté")
                finally:
                    db.session.remove()


_senders: dict[int, BackgroundSender] = {}
_senders_lock = threading.Lock()


def background_sender(app: Flask) -> BackgroundSender:
    with _senders_lock:
        sender = _senders.get(id(app))
        if sender is None or not sender.thread.is_alive():
            sender = _senders[id(app)] = BackgroundSender(app)
        return sender


def dispatch_after_commit() -> None:
    """Called once the request has committed: hands the emails it queued to whoever sends them."""
    if not db.session.info.pop(QUEUED_FLAG, False):
        return
    config = current_app.config
    redis_url = config.get("REDIS_URL")
    if redis_url:
        try:
            _queue(redis_url).enqueue(JOB)
            return
        except Exception as exc:  # Redis down: this process's sender thread (and the cron) delivers
            log.warning("File RQ indisponible, envoi en arrière-plan (%s)", exc)
    if config.get("OUTBOX_DELIVERY") == "inline":
        try:
            send_outbox()
        except Exception:  # never turn a committed change into an error page
            log.exception("Envoi des emails reporté")
            db.session.rollback()
        return
    background_sender(current_app._get_current_object()).wake.set()


# ---------------------------------------------------------------- the worker's jobs


@cache
def worker_app() -> Flask:
    """The worker process's app, created once from the environment (DATABASE_URL, MAIL_*, …)."""
    from app import create_app

    return create_app()


def send_pending_job() -> dict[str, int]:
    """The RQ job: sends what is due, in the worker's app."""
    with worker_app().app_context():
        try:
            return send_outbox()
        finally:
            db.session.remove()


def next_daily_run(now: datetime, hour: int) -> datetime:
    run = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


def next_retry_run(now: datetime, seconds: int) -> datetime:
    seconds = max(seconds, 10)
    epoch = int(now.timestamp())
    return datetime.fromtimestamp((epoch // seconds + 1) * seconds, UTC)


def schedule_next(queue, now: datetime | None = None, *, hour: int = 6, retry_seconds: int = 300,
                  stats_seconds: int | None = None) -> list[str]:
    """Schedules the next daily and retry occurrences (ids by slot: scheduling twice is a no-op), and with
    `stats_seconds` the statistics' refresh (app/stats/jobs.py) on the queue `exports`, after the emails."""
    now = now or datetime.now(UTC)
    ids = []
    daily = next_daily_run(now, hour)
    retry = next_retry_run(now, retry_seconds)
    planned = [(queue, DAILY_JOB, daily, f"certifia-daily-{daily:%Y%m%d%H}"),
               (queue, RETRY_JOB, retry, f"certifia-retry-{retry:%Y%m%d%H%M%S}")]
    if stats_seconds:
        from rq import Queue

        stats = next_retry_run(now, stats_seconds)
        planned.append((Queue(EXPORTS_QUEUE, connection=queue.connection), STATS_JOB, stats,
                        f"certifia-stats-{stats:%Y%m%d%H%M%S}"))
    for target, func, at, job_id in planned:
        existing = target.fetch_job(job_id)
        if existing is None:
            target.enqueue_at(at, func, job_id=job_id, job_timeout=JOB_TIMEOUT, result_ttl=86400,
                              failure_ttl=7 * 86400)
        ids.append(job_id)
    return ids


def _schedule_from_worker_app() -> None:
    app = worker_app()
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        schedule_next(_queue(redis_url), hour=app.config["DAILY_SCHEDULE_HOUR"],
                      retry_seconds=app.config["OUTBOX_RETRY_SECONDS"],
                      stats_seconds=app.config["STATS_REFRESH_SECONDS"])


def daily_job() -> dict[str, int]:
    """Every day: the reminders due today (each sent once), then the outbox."""
    from app.jury.notifications import send_reminders

    app = worker_app()
    try:
        with app.app_context():
            try:
                counts = send_reminders()
                db.session.commit()
                from app.jury.retention import purge

                purged = purge()  # the retention policy (RGPD), after the day's reminders
                db.session.commit()
                counts = {**counts, "retention_erased": len(purged.erased_candidates),
                          "retention_withdrawn": len(purged.withdrawn_files), "retention_notices": len(purged.notices)}
                delivery = send_outbox()
            finally:
                db.session.remove()
    finally:
        _schedule_from_worker_app()  # tomorrow's run, even when today's failed (RQ keeps the failure)
    log.info("Tâches quotidiennes : rappels %s, emails %s", counts, delivery)
    return {**counts, **{f"emails_{k}": v for k, v in delivery.items()}}


def retry_job() -> dict[str, int]:
    """Every few minutes: the emails whose retry is due (SMTP failures, Redis down at dispatch)."""
    try:
        return send_pending_job()
    finally:
        _schedule_from_worker_app()


def main(argv: list[str] | None = None) -> None:
    """RQ's SimpleWorker on the queue `emails`, with RQ's scheduler: jobs run in this process, so the
    app is created once (a forking worker would build one per job)."""
    parser = argparse.ArgumentParser(prog="python -m app.worker",
                                     description="Worker RQ de Certifia : envoie les emails de la file « emails » "
                                                 "et lance les tâches quotidiennes (rappels, reprises des emails).")
    parser.add_argument("--burst", action="store_true", help="s'arrête dès que la file est vide")
    parser.add_argument("--no-schedule", action="store_true", help="sans les tâches planifiées")
    args = parser.parse_args(argv)
    app = worker_app()
    redis_url = app.config.get("REDIS_URL")
    if not redis_url:
        sys.exit("REDIS_URL est requis pour lancer le worker (ex. redis://127.0.0.1:6379/0).")
    from redis import Redis
    from rq import SimpleWorker

    logging.basicConfig(level=logging.INFO)
    schedule = not args.no_schedule and not args.burst
    if schedule:
        _schedule_from_worker_app()
    # No socket timeout here: the worker waits for jobs in a long blocking read.
    SimpleWorker([QUEUE, EXPORTS_QUEUE], connection=Redis.from_url(redis_url)).work(burst=args.burst, with_scheduler=schedule)


if __name__ == "__main__":
    from app import worker  # the module the jobs name (not __main__), so that they share its app

    worker.main()
