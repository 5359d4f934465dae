"""The outbox's sender side (app/worker.py) without Redis: after the commit, the emails a request
queued are sent by the request's own process, also when the RQ queue does not answer. With the real
Redis and worker: tests/test_redis.py."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

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


def test_a_queue_that_does_not_answer_falls_back_to_sending_in_the_request(app, app_ctx, client, mailbox,
                                                                          monkeypatch, caplog):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    user = make_user("entreprise", email="rh@exemple.fr")
    with caplog.at_level(logging.WARNING, logger="app.worker"):
        assert submit_form(client, "/mot-de-passe-oublie", {"email": user.email}).status_code == 200
    assert "File RQ indisponible, envoi en ligne" in caplog.text
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
