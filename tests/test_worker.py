"""The outbox's sender side (app/worker.py) without Redis: after the commit, the emails a request
queued are sent by a background thread of the process (the tests' "inline" mode: before the
response), also when the RQ queue does not answer; never inside a request, measured with an SMTP
server that accepts connections and never answers. No code path marks an email sent that no SMTP
server accepted. With the real Redis and worker: tests/test_redis.py and tests/deploy/."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.models import OutboxEmail
from app.extensions import db
from tests.conftest import submit_form
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reset_email() -> OutboxEmail:
    return db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "password_reset"))


def test_without_redis_the_request_sends_its_emails_after_the_commit(app_ctx, client, mailbox):
    user = make_user("entreprise", email="rh@exemple.fr")
    assert submit_form(client, "/mot-de-passe-oublie", {"email": user.email}).status_code == 200
    assert mailbox.last_to(user.email)["Subject"] == "Réinitialisation de votre mot de passe Certifia"
    db.session.expire_all()
    assert _reset_email().status == "sent"


def test_a_queue_that_does_not_answer_falls_back_to_the_process_sender(app, app_ctx, client, mailbox,
                                                                      monkeypatch, caplog):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    user = make_user("entreprise", email="rh@exemple.fr")
    with caplog.at_level(logging.WARNING, logger="app.worker"):
        assert submit_form(client, "/mot-de-passe-oublie", {"email": user.email}).status_code == 200
    assert "File RQ indisponible, envoi en arrière-plan" in caplog.text
    assert mailbox.last_to(user.email)  # not lost, not delayed
    db.session.expire_all()
    assert _reset_email().status == "sent"


def test_a_request_that_queued_no_email_does_not_reach_for_the_queue(app, app_ctx, client, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    with caplog.at_level(logging.WARNING, logger="app.worker"):
        assert submit_form(client, "/mot-de-passe-oublie", {"email": "personne@exemple.fr"}).status_code == 200
    assert "File RQ" not in caplog.text


def test_the_worker_needs_redis_url_and_says_so():
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "APP_TODAY")}
    env.update(APP_ENV="development", SECRET_KEY="tests-secret-key", DATABASE_URL="sqlite://")
    worker = subprocess.run([sys.executable, "-m", "app.worker", "--burst"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert worker.returncode == 1
    assert "REDIS_URL est requis pour lancer le worker" in worker.stderr


# ---------------------------------------------------------------- never inside the request


class SilentSmtp:
    """Accepts TCP connections and never answers (no greeting): an SMTP server that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def silent_smtp():
    server = SilentSmtp()
    yield server
    server.close()


def _wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = predicate()
        if value:
            return value
        db.session.rollback()
        time.sleep(0.1)
    raise AssertionError("délai dépassé")


def test_with_the_background_sender_the_email_arrives_after_the_response(app, app_ctx, client, mailbox,
                                                                         monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_DELIVERY", "thread")
    user = make_user("entreprise", email="rh@exemple.fr")
    assert submit_form(client, "/mot-de-passe-oublie", {"email": user.email}).status_code == 200
    _wait_for(lambda: mailbox.to(user.email))
    assert _wait_for(lambda: _reset_email().status == "sent")


def test_an_smtp_server_that_never_answers_delays_no_request(app, app_ctx, client, mailbox, monkeypatch,
                                                            silent_smtp):
    monkeypatch.setitem(app.config, "OUTBOX_DELIVERY", "thread")
    monkeypatch.setitem(app.config, "MAIL_PORT", silent_smtp.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2)
    user = make_user("entreprise", email="rh@exemple.fr")
    form = {"email": user.email}
    started = time.monotonic()
    assert submit_form(client, "/mot-de-passe-oublie", form).status_code == 200
    assert time.monotonic() - started < 1.5  # the 45 s of the issue: the SMTP wait is not the request's
    # The sender thread times out, the email stays pending with its error, retried later.
    email = _wait_for(lambda: (e := _reset_email()) is not None and e.attempts == 1 and e)
    assert email.status == "pending" and "timed out" in (email.last_error or "").lower()
    assert email.sent_at is None and mailbox.to(user.email) == []


# ---------------------------------------------------------------- never marked sent unless accepted


def _queued():
    from app.core.mail import queue_email

    user = make_user("jury", email="x@exemple.fr")
    email = queue_email("test", user.email, "Objet", "account_invitation", user=user, link="http://lien", days=7)
    db.session.commit()
    return email


@pytest.mark.parametrize("setting, value", [("MAIL_SUPPRESS_SEND", True), ("MAIL_PORT", None)])
def test_an_email_no_smtp_server_accepted_is_never_marked_sent(app, app_ctx, monkeypatch, setting, value):
    from app.core.mail import send_pending

    monkeypatch.setitem(app.config, setting, _closed_port() if value is None else value)
    email = _queued()
    assert send_pending() == {"sent": 0, "retry": 1, "failed": 0}
    db.session.expire_all()
    assert email.status == "pending" and email.sent_at is None and email.last_error


def test_the_development_mailbox_never_marks_sent_in_production(app, app_ctx, monkeypatch):
    from app.core.mail import send_pending

    monkeypatch.setitem(app.config, "MAIL_DEV_MAILBOX", True)
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    email = _queued()
    assert send_pending()["sent"] == 0
    db.session.expire_all()
    assert email.status == "pending" and "MAIL_SERVER requis" in email.last_error


# ---------------------------------------------------------------- the schedule


def test_the_schedule_is_the_next_slot_and_scheduling_twice_is_one_job():
    from app.worker import next_daily_run, next_retry_run, schedule_next

    now = datetime(2027, 3, 12, 5, 30, tzinfo=UTC)
    assert next_daily_run(now, 6) == datetime(2027, 3, 12, 6, tzinfo=UTC)
    assert next_daily_run(now.replace(hour=6), 6) == datetime(2027, 3, 13, 6, tzinfo=UTC)
    assert next_retry_run(now, 300) == datetime(2027, 3, 12, 5, 35, tzinfo=UTC)

    class FakeQueue:
        def __init__(self):
            self.jobs = {}

        def fetch_job(self, job_id):
            return self.jobs.get(job_id)

        def enqueue_at(self, at, func, job_id, **options):
            self.jobs[job_id] = (at, func)

    queue = FakeQueue()
    first = schedule_next(queue, now, hour=6, retry_seconds=300)
    second = schedule_next(queue, now, hour=6, retry_seconds=300)  # another host's worker
    assert first == second == ["certifia-daily-2027031206", "certifia-retry-20270312053500"]
    assert queue.jobs == {"certifia-daily-2027031206": (datetime(2027, 3, 12, 6, tzinfo=UTC), "app.worker.daily_job"),
                          "certifia-retry-20270312053500": (datetime(2027, 3, 12, 5, 35, tzinfo=UTC),
                                                            "app.worker.retry_job")}


# ---------------------------------------------------------------- the real worker and an SMTP server that hangs


def test_the_worker_times_out_on_an_smtp_server_that_hangs_and_retries_later(app, app_ctx, silent_smtp):
    """`python -m app.worker --burst` on Redis (database 13): the job ends after MAIL_TIMEOUT, the email stays
    pending with its error and a later attempt time (the scheduled retry job sends it then)."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    from app.worker import JOB, QUEUE

    redis_url = "redis://127.0.0.1:6379/13"
    connection = Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        connection.ping()
    except RedisError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis ne répond pas ({exc}) (REQUIRE_REDIS=1)")
        pytest.skip(f"Redis ne répond pas sur 127.0.0.1:6379 ({exc})")
    connection.flushdb()
    email = _queued()
    Queue(QUEUE, connection=connection).enqueue(JOB)
    env = {k: v for k, v in os.environ.items() if k not in ("APP_TODAY", "TEST_DATABASE_URL")}
    env.update(APP_ENV="development", SECRET_KEY="tests-secret-key", REDIS_URL=redis_url,
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], UPLOAD_DIR=app.config["UPLOAD_DIR"],
               MAIL_SERVER="127.0.0.1", MAIL_PORT=str(silent_smtp.port), MAIL_TIMEOUT="2")
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "app.worker", "--burst"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert time.monotonic() - started < 120
    db.session.expire_all()
    email = db.session.get(OutboxEmail, email.id)
    assert email.status == "pending" and email.attempts == 1 and "timed out" in email.last_error.lower()
    assert email.next_attempt_at > email.created_at
    connection.flushdb()
    connection.close()


def test_the_daily_job_sends_the_reminders_then_the_outbox_and_schedules_tomorrow(app, monkeypatch, mailbox):
    from app import worker

    scheduled = []
    monkeypatch.setattr(worker, "worker_app", lambda: app)
    monkeypatch.setattr(worker, "_schedule_from_worker_app", lambda: scheduled.append("next"))
    with app.app_context():
        _queued()
    counts = worker.daily_job()
    assert counts["emails_sent"] == 1 and mailbox.to("x@exemple.fr")
    assert scheduled == ["next"]

    def broken():
        raise RuntimeError("base perdue")

    monkeypatch.setattr("app.jury.notifications.send_reminders", broken)
    with pytest.raises(RuntimeError):
        worker.daily_job()
    assert scheduled == ["next", "next"]  # tomorrow is scheduled even when today failed
