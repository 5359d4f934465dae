"""Configuration read from the environment (the table of README.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise RuntimeError(f"La variable {name} doit valoir true/false ou 1/0 (reçu : {raw!r}).")


def _secret_key(instance_path: Path, app_env: str) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if app_env == "production":
        raise RuntimeError("SECRET_KEY est obligatoire en production.")
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Builds the Flask config from the environment, then applies `overrides` (tests)."""
    overrides = dict(overrides or {})
    instance = Path(instance_path)
    app_env = overrides.get("APP_ENV") or os.environ.get("APP_ENV", "development")
    if app_env not in {"development", "testing", "production"}:
        raise RuntimeError(f"APP_ENV doit valoir development, testing ou production (reçu : {app_env!r}).")
    if app_env == "production" and os.environ.get("APP_TODAY"):
        raise RuntimeError("APP_TODAY est refusé en production.")
    production = app_env == "production"
    mail_server = os.environ.get("MAIL_SERVER")
    config = {
        "APP_ENV": app_env,
        "TESTING": app_env == "testing",
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance, app_env),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{(instance / 'certifia.sqlite3').resolve()}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(instance / "uploads"),
        "MAX_CONTENT_LENGTH": 11 * 1024 * 1024,
        "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Mail: without MAIL_SERVER, development keeps emails in the local mailbox page.
        "MAIL_SERVER": mail_server or "127.0.0.1",
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": env_bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": False,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Certifia <ne-pas-repondre@certifia.local>"),
        "MAIL_DEV_MAILBOX": not mail_server,
        "OUTBOX_MAX_ATTEMPTS": 6,
        "OUTBOX_BACKOFF_SECONDS": 60,
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_I18N_ENABLED": False,
        # Rate limits
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": "10 per 15 minutes",
        "VERIFY_RATE_LIMIT": "60 per minute",
        "PARTNER_RATE_LIMIT": "300 per hour",
        # API (flask-smorest)
        "API_TITLE": "Certifia API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": None,
        "JSON_SORT_KEYS": False,
        "FORCE_HTTPS": production,
        "STUCK_FILE_DAYS": 30,
    }
    config.update(overrides)
    return config
