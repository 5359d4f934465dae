"""Liveness and readiness (`GET /health`, `flask check`): the database answers, its schema is at the
latest migration, Redis answers when configured. Used by the load balancer (HAProxy's
`option httpchk GET /health`) and by deployment scripts.

Redis down does not make the host unhealthy: every host shares the one Redis, so a 503 would take them
all out while they can still serve (emails wait, rate limits count in memory meanwhile); it is
reported ("redis": "error", "status": "degraded") and `flask check` fails on it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.core.permissions import public
from app.extensions import db

bp = Blueprint("health", __name__)


@cache
def _migration_heads(directory: str) -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def check_database() -> tuple[str, str, list[str]]:
    """(database, migrations, problems)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        db.session.rollback()
        return "error", "unknown", [f"base de données injoignable ({type(exc).__name__})"]
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")).all())
    except Exception:
        db.session.rollback()
        current = set()
    directory = str(Path(current_app.extensions["migrate"].directory))
    heads = set(_migration_heads(directory))
    if current != heads:
        return "ok", "outdated", [f"schéma de la base pas à la dernière migration (base : "
                                  f"{', '.join(sorted(current)) or 'aucune'} ; code : {', '.join(sorted(heads))}) : "
                                  "lancez flask db upgrade"]
    return "ok", "ok", []


def check_redis() -> tuple[str, list[str]]:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not_configured", []
    from redis import Redis

    connection = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        connection.ping()
    except Exception as exc:
        return "error", [f"Redis injoignable ({type(exc).__name__})"]
    finally:
        connection.close()
    return "ok", []


def health_report() -> tuple[dict, int]:
    """The report and its HTTP status (503 when the database or its schema is not ready)."""
    database, migrations, problems = check_database()
    redis, redis_problems = check_redis()
    ready = database == "ok" and migrations == "ok"
    status = "error" if not ready else ("degraded" if redis == "error" else "ok")
    report = {"status": status, "database": database, "migrations": migrations, "redis": redis}
    if problems or redis_problems:
        report["problems"] = problems + redis_problems
    return report, 200 if ready else 503


@bp.route("/health")
@public
def health():
    report, status = health_report()
    response = jsonify(report)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


health.talisman_view_options = {"force_https": False}  # the load balancer checks over plain http
