"""Deployment tests: real processes as docs/deploy.md runs them (gunicorn with gunicorn.conf.py, the RQ
worker, HAProxy), on one PostgreSQL database of their own and one Redis database.

PostgreSQL: MULTIHOST_DATABASE_URL (default: the database certifia_ops_multihost on 127.0.0.1, created
when missing and WIPED at each run). Redis: database 14 of 127.0.0.1:6379 (emptied). Without
PostgreSQL, Redis or the `haproxy` binary the tests that need them are skipped, saying why;
REQUIRE_POSTGRES=1 / REQUIRE_REDIS=1 (CI) make a missing server a failure, REQUIRE_HAPROXY=1 a missing
haproxy."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import CSRF_RE

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/certifia_ops_multihost"
REDIS_URL = "redis://127.0.0.1:6379/14"
SECRET_KEY = "deploy-tests-secret-key-of-forty-characters"


def _missing(reason: str, required_by: str) -> None:
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1)")
    pytest.skip(reason)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# ---------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def haproxy_binary() -> str:
    path = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)
    if not path:
        _missing("haproxy absent (paquet Debian haproxy)", "REQUIRE_HAPROXY")
    return path


@pytest.fixture(scope="session")
def deploy_redis():
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except RedisError as exc:
        _missing(f"Redis ne répond pas sur 127.0.0.1:6379 ({exc})", "REQUIRE_REDIS")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture(scope="session")
def deploy_database_url() -> str:
    """The deployment's PostgreSQL database, empty (created when missing)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = os.environ.get("MULTIHOST_DATABASE_URL") or DEFAULT_DATABASE
    parsed = make_url(url)
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 3})
    try:
        with server.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    except Exception as exc:
        _missing(f"PostgreSQL ne répond pas ({type(exc).__name__})", "REQUIRE_POSTGRES")
    finally:
        server.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def run_flask(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def production_env(database_url: str, smtp_port: int, upload_dir: Path, **extra: str) -> dict[str, str]:
    """What a host of the deployment reads (docs/deploy.md's environment reference)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("APP_TODAY", "TEST_DATABASE_URL", "MAIL_DEV_MAILBOX", "OUTBOX_DELIVERY")}
    env.update(APP_ENV="production", SECRET_KEY=SECRET_KEY, DATABASE_URL=database_url, REDIS_URL=REDIS_URL,
               BASE_URL="https://certifia.test", MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port),
               UPLOAD_DIR=str(upload_dir), TRUSTED_PROXIES="1", LOG_JSON="1", GUNICORN_WORKERS="2",
               GUNICORN_THREADS="4", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> Process:
        with self.log.open("a") as output:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send(self, sig: int = signal.SIGTERM) -> None:
        if self.alive():
            self.process.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if not self.alive():
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """The host dies (power cut, OOM killer): the master and its workers at once."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def gunicorn(name: str, bind: str, env: dict[str, str], log: Path) -> Process:
    return Process(name, [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], {**env, "GUNICORN_BIND": bind}, log)


def worker(name: str, env: dict[str, str], log: Path) -> Process:
    return Process(name, [sys.executable, "-m", "app.worker"], env, log)


def wait_for_health(host: str, port: int, process: Process | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            pytest.fail(f"{process.name} s'est arrêté : {process.tail()}")
        try:
            status, _, _ = request(host, port, "GET", "/health", timeout=3)
            if status == 200:
                return
            last = status
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"{host}:{port}/health ne répond pas 200 après {timeout} s ({last}) {process.tail() if process else ''}")


# ---------------------------------------------------------------- a browser over plain http


def request(host: str, port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


@dataclass
class Browser:
    """Keeps cookies by hand: the app (production) sets them Secure, HAProxy speaks https's X-Forwarded-Proto
    to it while the test speaks plain http to HAProxy."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def _send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    pair = value.split(";", 1)[0]
                    key, _, val = pair.partition("=")
                    if val:
                        self.cookies[key.strip()] = val.strip()
                    else:
                        self.cookies.pop(key.strip(), None)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data.decode(errors="replace")
        finally:
            connection.close()

    def get(self, path: str, headers: dict | None = None):
        return self._send("GET", path, headers=headers)

    def post_form(self, path: str, data: dict, form_path: str | None = None):
        _, _, page = self.get(form_path or path)
        match = CSRF_RE.search(page)
        assert match, page[:500]
        body = urllib.parse.urlencode({**data, "csrf_token": match.group(1)}).encode()
        # Over https (X-Forwarded-Proto) Flask-WTF also checks the Referer, as a browser sends it.
        referer = f"https://{self.host}:{self.port}{form_path or path}"
        return self._send("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded",
                                               "Referer": referer})

    def api(self, method: str, path: str, token: str, json_body: dict | None = None):
        import json

        body = json.dumps(json_body).encode() if json_body is not None else None
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "X-Forwarded-Proto": "https"}  # what the balancer adds: straight to a host here
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, f"/api/v1{path}", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()
