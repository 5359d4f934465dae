"""Against the real Redis on 127.0.0.1:6379 (REDIS_URL): what the app keeps there.

- Rate limits (Flask-Limiter): two web processes share one count of failed logins, as gunicorn
  workers or hosts behind a load balancer do.
- The outbox's RQ queue: a request that queued an email enqueues one job once it has committed;
  the worker of `make worker` (`python -m app.worker`, RQ's SimpleWorker, here in burst mode)
  delivers it to the loopback SMTP server.

Without Redis these tests are skipped, saying why; REQUIRE_REDIS=1 (CI) makes that a failure. They
use Redis database 15 and empty what they use in it first."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.models import OutboxEmail
from app.extensions import db
from app.worker import QUEUE
from tests.conftest import CSRF_RE, submit_form
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="module")
def redis():
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except RedisError as exc:
        reason = f"Redis ne répond pas sur 127.0.0.1:6379 ({exc}) : lancez redis-server"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"{reason} (REQUIRE_REDIS=1)")
        pytest.skip(reason)
    yield connection
    connection.close()


def _environment(app, smtp_port: int) -> dict[str, str]:
    """What a process of the deployment reads: the tests' database, Redis and SMTP server."""
    env = {k: v for k, v in os.environ.items() if k not in ("APP_TODAY", "TEST_DATABASE_URL")}
    env.update(APP_ENV="development", SECRET_KEY="tests-secret-key", REDIS_URL=REDIS_URL,
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], UPLOAD_DIR=app.config["UPLOAD_DIR"],
               MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port), BASE_URL="http://certifia.test")
    return env


# ---------------------------------------------------------------- rate limits


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebProcess:
    """`flask run` in a process of its own; a browser with its cookie jar."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = _free_port()
        self.log = log
        with log.open("w") as output:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "run", "--host", "127.0.0.1", "--port",
                 str(self.port), "--no-reload", "--no-debugger"],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def wait_until_up(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"le serveur s'est arrêté : {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"le serveur ne répond pas sur le port {self.port} après {timeout} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def failed_login(self, email: str) -> int:
        url = f"http://127.0.0.1:{self.port}/connexion"
        with self.browser.open(url, timeout=30) as page:
            token = CSRF_RE.search(page.read().decode()).group(1)
        body = urllib.parse.urlencode({"email": email, "password": "pas le bon mot de passe",
                                       "csrf_token": token}).encode()
        try:
            with self.browser.open(url, data=body, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def test_failed_logins_are_counted_in_redis_across_web_processes(app, smtp_server, redis, tmp_path):
    limit = int(re.match(r"\d+", app.config["LOGIN_RATE_LIMIT"]).group())  # « 10 per 15 minutes »
    email = f"inconnu-{uuid.uuid4().hex[:12]}@exemple.fr"
    for key in redis.scan_iter(match="*LIMITER/*"):  # the per-address count of 127.0.0.1 too
        redis.delete(key)
    env = _environment(app, smtp_server[1])
    first, second = WebProcess(env, tmp_path / "web1.log"), WebProcess(env, tmp_path / "web2.log")
    try:
        first.wait_until_up()
        second.wait_until_up()
        answers = [(first if n % 2 else second).failed_login(email) for n in range(limit)]
        assert answers == [422] * limit  # refused, each counted once
        assert first.failed_login(email) == 429 and second.failed_login(email) == 429
    finally:
        first.stop()
        second.stop()
    keys = [key.decode() for key in redis.scan_iter(match="*LIMITER/*")]
    assert any(email in key for key in keys), keys


# ---------------------------------------------------------------- the outbox's queue and worker


def test_an_email_queued_by_a_request_is_enqueued_after_the_commit_and_sent_by_the_worker(
        app, app_ctx, client, mailbox, smtp_server, redis, monkeypatch):
    from rq import Queue

    queue = Queue(QUEUE, connection=redis)
    queue.empty()
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    user = make_user("entreprise", email="rh@exemple.fr")

    assert submit_form(client, "/mot-de-passe-oublie", {"email": user.email}).status_code == 200
    assert queue.count == 1  # one job, enqueued once the request committed
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "password_reset"))
    assert email.status == "pending" and mailbox.to(user.email) == []  # not sent by the web process

    worker = subprocess.run([sys.executable, "-m", "app.worker", "--burst"], cwd=ROOT,
                            env=_environment(app, smtp_server[1]), capture_output=True, text=True, timeout=300)
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert queue.count == 0
    message = mailbox.last_to(user.email)
    assert message["Subject"] == "Réinitialisation de votre mot de passe Certifia"
    assert any("/mot-de-passe/" in link for link in mailbox.links_in(message))
    db.session.expire_all()
    assert db.session.get(OutboxEmail, email.id).status == "sent"
