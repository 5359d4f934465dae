"""Shared fixtures: one app and one migrated database per run, a real SMTP server on loopback,
clean tables after each test, login and API helpers.

TEST_DATABASE_URL selects the database (PostgreSQL in CI); by default a SQLite file in a temp dir."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

import app.models  # noqa: F401  (every model mapped before a test module builds loader options at import)
from app import create_app
from app.extensions import db, limiter

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LINK_RE = re.compile(r"https?://[^\s<>\"]+")


# ------------------------------------------------------------------ SMTP on loopback


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        address = address.lower()
        with self.lock:
            return [m for m in self.messages if address in m["To"].lower()]

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"aucun email reçu pour {address} (reçus : {[m['To'] for m in self.messages]})"
        return found[-1]

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    def links_in(self, message: EmailMessage) -> list[str]:
        return LINK_RE.findall(self.text_of(message))


class _Handler:
    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.mailbox.lock:
            self.mailbox.messages.append(message)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    box = Mailbox()
    port = _free_port()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    box, _ = smtp_server
    box.clear()
    return box


# ------------------------------------------------------------------ app and database


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _reset_schema(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory, smtp_server):
    from flask_migrate import upgrade

    _, smtp_port = smtp_server
    url = _database_url(tmp_path_factory)
    _reset_schema(url)
    application = create_app({
        "APP_ENV": "testing",
        "SECRET_KEY": "tests-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_DEV_MAILBOX": False,
        "BASE_URL": "http://certifia.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,
        "SERVER_NAME": None,
    })
    with application.app_context():
        upgrade(directory=str(application.extensions["migrate"].directory))
        from app.referential.services import load_referential

        load_referential()
        db.session.commit()
    yield application
    with application.app_context():  # every pool closed here, not left to the garbage collector at exit
        from app.core import apart

        db.session.remove()
        apart.engine().dispose()
        db.engine.dispose()


KEEP_TABLES = {"cqps", "competences", "alembic_version"}


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empties every table but the referential after each test (cheaper than a new database)."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in KEEP_TABLES:
                db.session.execute(table.delete())
        from app.referential.services import load_referential, reset_registrations

        load_referential()
        reset_registrations()  # the secretariat's data, which load_referential keeps
        db.session.commit()
        db.session.remove()
    limiter.reset()
    os.environ.pop("APP_TODAY", None)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def today_is(monkeypatch):
    """Moves the app's clock: today_is('2027-03-12')."""

    def set_today(value) -> None:
        monkeypatch.setenv("APP_TODAY", str(value))

    return set_today


# ------------------------------------------------------------------ web and API helpers


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"pas de jeton CSRF sur {url} (statut {page.status_code})"
    return match.group(1)


def submit_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """Posts a form as a browser would: the CSRF token is read from the page first."""
    data = dict(data)
    data["csrf_token"] = csrf_token(client, form_url or url)
    return client.post(url, data=data, **kwargs)


def login(client, email_address: str, password: str):
    return submit_form(client, "/connexion", {"email": email_address, "password": password})


@pytest.fixture
def login_as(client):
    """login_as(user) logs the test client in (users made by the factories share one password)."""
    from tests.factories import PASSWORD

    def do_login(user, password: str = PASSWORD):
        response = login(client, user.email, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return do_login


class ApiClient:
    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, url: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return getattr(self.client, method)(f"/api/v1{url}", headers=headers, **kwargs)

    def get(self, url, **kw):
        return self._call("get", url, **kw)

    def post(self, url, **kw):
        return self._call("post", url, **kw)

    def put(self, url, **kw):
        return self._call("put", url, **kw)

    def patch(self, url, **kw):
        return self._call("patch", url, **kw)

    def delete(self, url, **kw):
        return self._call("delete", url, **kw)


@pytest.fixture
def api_as(app):
    """api_as(user) → an API client with a fresh Bearer token of that user; api_as(None): no token."""

    def make(user) -> ApiClient:
        token = None
        if user is not None:
            from app.accounts.services import create_api_token

            with app.app_context():
                from app.accounts.models import User

                token = create_api_token(db.session.get(User, user.id))
                db.session.commit()
        return ApiClient(app.test_client(), token)

    return make


def pytest_collection_modifyitems(config, items):
    """Race tests need row locks: they run on PostgreSQL only."""
    on_postgres = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
    skip = pytest.mark.skip(reason="PostgreSQL requis (verrous de ligne) : TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(skip)
