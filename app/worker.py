"""The outbox's sender side: what happens to the emails a request queued, once it has committed.

With REDIS_URL, the request enqueues one job on the RQ queue `emails`; the worker (`make worker`,
that is `python -m app.worker`) runs it in an app it creates from the environment. Without Redis, or
while Redis does not answer, the request's own process sends them. Either way an email is sent by
`core.mail.send_pending`, which claims each row, retries with backoff and never loses one; the cron
`flask outbox send` is the safety net."""

from __future__ import annotations

import argparse
import logging
import sys
from functools import cache

from flask import Flask, current_app

from app.core.mail import QUEUED_FLAG, send_pending
from app.extensions import db

log = logging.getLogger(__name__)
QUEUE = "emails"
JOB = "app.worker.send_pending_job"  # by name: the worker imports it, never the web process's objects


@cache
def _queue(redis_url: str):
    """One connection pool per process and URL (not one per request); short timeouts, so that a
    request never waits long on a Redis that does not answer."""
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5))


def dispatch_after_commit() -> None:
    """Called once the request has committed: hands the emails it queued to whoever sends them."""
    if not db.session.info.pop(QUEUED_FLAG, False):
        return
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            _queue(redis_url).enqueue(JOB)
            return
        except Exception as exc:  # Redis down: sent here instead (and the cron still delivers)
            log.warning("File RQ indisponible, envoi en ligne (%s)", exc)
    try:
        send_pending()
    except Exception:  # never turn a committed change into an error page
        log.exception("Envoi des emails reporté")
        db.session.rollback()


@cache
def worker_app() -> Flask:
    """The worker process's app, created once from the environment (DATABASE_URL, MAIL_*, …)."""
    from app import create_app

    return create_app()


def send_pending_job() -> dict[str, int]:
    """The RQ job: sends what is due, in the worker's app."""
    with worker_app().app_context():
        try:
            return send_pending()
        finally:
            db.session.remove()


def main(argv: list[str] | None = None) -> None:
    """RQ's SimpleWorker on the queue `emails`: jobs run in this process, so the app is created once
    (a forking worker would build one per job)."""
    parser = argparse.ArgumentParser(prog="python -m app.worker",
                                     description="Worker RQ de Certifia : envoie les emails de la file « emails ».")
    parser.add_argument("--burst", action="store_true", help="s'arrête dès que la file est vide")
    args = parser.parse_args(argv)
    redis_url = worker_app().config.get("REDIS_URL")
    if not redis_url:
        sys.exit("REDIS_URL est requis pour lancer le worker (ex. redis://127.0.0.1:6379/0).")
    from redis import Redis
    from rq import SimpleWorker

    logging.basicConfig(level=logging.INFO)
    # No socket timeout here: the worker waits for jobs in a long blocking read.
    SimpleWorker([QUEUE], connection=Redis.from_url(redis_url)).work(burst=args.burst)


if __name__ == "__main__":
    from app import worker  # the module the jobs name (not __main__), so that they share its app

    worker.main()
