"""`GET /health` and `flask check` (app/core/health.py): the database answers, its schema is at the latest
migration, Redis answers when configured; a database down gives 503 pages, never a traceback."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_health_is_ok_without_a_token_or_a_session(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "migrations": "ok", "redis": "not_configured"}
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Request-Id"]


def test_health_reports_a_redis_that_does_not_answer_but_stays_up(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    response = client.get("/health")
    assert response.status_code == 200  # every host shares Redis: the balancer must not take them all out
    assert response.json["status"] == "degraded" and response.json["redis"] == "error"
    assert "Redis injoignable" in response.json["problems"][0]


def test_health_is_503_when_the_schema_is_behind(app, app_ctx, client):
    (version,) = db.session.execute(text("SELECT version_num FROM alembic_version")).one()
    db.session.execute(text("UPDATE alembic_version SET version_num = 'ancienne'"))
    db.session.commit()
    try:
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json["status"] == "error" and response.json["migrations"] == "outdated"
        assert "lancez flask db upgrade" in response.json["problems"][0]
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})
        db.session.commit()


def test_flask_check_reports_the_same_with_its_exit_code(app, runner, monkeypatch):
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "Base de données : ok" in result.output and "Migrations : ok" in result.output
    assert "Redis : not_configured" in result.output
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1 and "Redis : error" in result.output


@pytest.fixture
def app_without_database(tmp_path):
    """An app whose PostgreSQL does not answer (nothing listens on its port)."""
    return create_app({
        "APP_ENV": "testing", "SECRET_KEY": "tests-secret-key", "UPLOAD_DIR": str(tmp_path / "uploads"),
        "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/absente",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "connect_args": {"connect_timeout": 2}},
        "WTF_CSRF_ENABLED": False, "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://",
    })


def test_a_database_down_is_a_503_everywhere_never_a_traceback(app_without_database):
    client = app_without_database.test_client()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json["database"] == "error" and health.json["status"] == "error"
    assert "base de données injoignable" in health.json["problems"][0]
    login = client.post("/connexion", data={"email": "rh@exemple.fr", "password": "x" * 12})
    page = login.get_data(as_text=True)
    assert login.status_code == 503, page[:500]
    assert "Le service est momentanément indisponible." in page and "Traceback" not in page
    assert f"<code>{login.headers['X-Request-Id']}</code>" in page  # the reference to give the support
    api = client.get("/api/v1/cqps", headers={"Authorization": "Bearer inconnu"})
    assert api.status_code == 503 and api.content_type == "application/problem+json"
    result = app_without_database.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and "Base de données : error" in result.output
