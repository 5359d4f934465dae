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


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RuntimeError(f"La variable {name} doit être un nombre entier (reçu : {raw!r}).") from None
    if value < 0:
        raise RuntimeError(f"La variable {name} doit être positive ou nulle (reçu : {raw!r}).")
    return value


def _secret_key(instance_path: Path, app_env: str) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if app_env == "production":
        return ""  # refused by check_production, with the other problems; never made up here
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
    production = app_env == "production"
    mail_server = os.environ.get("MAIL_SERVER")
    redis_url = os.environ.get("REDIS_URL") or None
    config = {
        "APP_ENV": app_env,
        "TESTING": app_env == "testing",
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance, app_env),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{(instance / 'certifia.sqlite3').resolve()}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(instance / "uploads"),
        # CPF register (R16): the identifiers the Caisse des Dépôts gives the certifier (idClient: 8 characters).
        "CDC_ID_CLIENT": os.environ.get("CDC_ID_CLIENT") or None,
        "CDC_ID_CONTRAT": os.environ.get("CDC_ID_CONTRAT") or None,
        # Training organisations: the Carif-Oref « Quiforme » API by SIRET (API Entreprise's base URL, e.g.
        # https://entreprise.api.gouv.fr/v3, and its token); unset, the imported public list answers alone.
        "QUIFORME_API_URL": os.environ.get("QUIFORME_API_URL") or None,
        "QUIFORME_API_TOKEN": os.environ.get("QUIFORME_API_TOKEN") or None,
        "QUIFORME_RECIPIENT": os.environ.get("QUIFORME_RECIPIENT") or None,
        "QUIFORME_TIMEOUT": _int_env("QUIFORME_TIMEOUT", 5),
        "QUIFORME_CACHE_HOURS": _int_env("QUIFORME_CACHE_HOURS", 24),
        "MAX_CONTENT_LENGTH": 11 * 1024 * 1024,
        "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
        # Upload quotas (MB): the scans of one candidature (with the candidate page's), and of one establishment.
        "FILE_UPLOAD_QUOTA_MB": _int_env("FILE_UPLOAD_QUOTA_MB", 50),
        "ESTABLISHMENT_UPLOAD_QUOTA_MB": _int_env("ESTABLISHMENT_UPLOAD_QUOTA_MB", 2048),
        # clamd's unix socket: every upload is scanned (INSTREAM) when set, refused when clamd does not answer.
        "CLAMAV_SOCKET": os.environ.get("CLAMAV_SOCKET") or None,
        # RGPD: the jury's booklet shows the birth date when the branch decides so; retention per phase (months,
        # 0 = never deleted), the notice sent that many days before a deletion (app/core/retention.py).
        "JURY_BOOKLET_SHOWS_BIRTH_DATE": env_bool("JURY_BOOKLET_SHOWS_BIRTH_DATE"),
        "RETENTION_ACTIVE_FILE_MONTHS": _int_env("RETENTION_ACTIVE_FILE_MONTHS", 36),
        "RETENTION_CLOSED_FILE_MONTHS": _int_env("RETENTION_CLOSED_FILE_MONTHS", 60),
        "RETENTION_SCAN_MONTHS": _int_env("RETENTION_SCAN_MONTHS", 24),
        "RETENTION_AUDIT_MONTHS": _int_env("RETENTION_AUDIT_MONTHS", 12),
        "RETENTION_OUTBOX_MONTHS": _int_env("RETENTION_OUTBOX_MONTHS", 3),
        "RETENTION_NOTICE_DAYS": _int_env("RETENTION_NOTICE_DAYS", 30),
        "REDIS_URL": redis_url,
        # Statistics (app/stats/cache.py), with Redis: figures kept per filter set, recomputed in the
        # background once older than STATS_FRESH_SECONDS (a decision shows within a minute); the worker
        # recomputes the filter sets asked for lately every STATS_REFRESH_SECONDS. Exports in the worker,
        # kept EXPORT_KEEP_HOURS.
        "STATS_FRESH_SECONDS": _int_env("STATS_FRESH_SECONDS", 30),
        "STATS_REFRESH_SECONDS": _int_env("STATS_REFRESH_SECONDS", 30),
        "STATS_CACHE_PREFIX": os.environ.get("STATS_CACHE_PREFIX") or "certifia:stats:",
        "EXPORT_KEEP_HOURS": _int_env("EXPORT_KEEP_HOURS", 24),
        # A session's parchments in the worker: their parts laid out by that many child processes (1: in the job's own).
        "PDF_PROCESSES": _int_env("PDF_PROCESSES", 2),
        # Mail: without MAIL_SERVER, development keeps emails in the local mailbox page.
        "MAIL_SERVER": mail_server or "127.0.0.1",
        "MAIL_SERVER_CONFIGURED": bool(mail_server),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": env_bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": False,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Certifia <ne-pas-repondre@certifia.local>"),
        "MAIL_DEV_MAILBOX": env_bool("MAIL_DEV_MAILBOX", default=not mail_server),
        "MAIL_TIMEOUT": int(os.environ.get("MAIL_TIMEOUT", "15")),
        # After the commit, who sends the emails a request queued: the RQ worker when REDIS_URL answers,
        # else a background thread of the process ("thread"); the tests send them before the response
        # ("inline") so that they can read the mailbox at once. Never the request itself otherwise.
        "OUTBOX_DELIVERY": os.environ.get("OUTBOX_DELIVERY") or ("inline" if app_env == "testing" else "thread"),
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
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Redis down: each process counts in memory meanwhile (limits stay on, per process) rather
        # than refusing every request or letting every attempt through.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": bool(redis_url),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Login (app/accounts/throttle.py): failures per (account, address) pair, per address (a NAT hides a
        # company: a higher bound), and the account's doubling delay past LOGIN_DELAY_AFTER failures, which
        # only addresses with LOGIN_DELAY_FREE_FAILURES failures on it must wait (never a lock for the user).
        "LOGIN_RATE_LIMIT": "10 per 15 minutes",
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT") or "100 per 15 minutes",
        "LOGIN_DELAY_AFTER": 10,
        "LOGIN_DELAY_FREE_FAILURES": 3,
        "LOGIN_DELAY_MAX_SECONDS": 900,
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
        # Files that stall: an open file idle this many days is reminded to whoever must act; at twice as many
        # the company is offered « abandonner » or « relancer » (app.files.stalled; nothing closed automatically).
        "STALLED_FILE_DAYS": _int_env("STALLED_FILE_DAYS", 60),
        # R14: present members each college (salariés, employeurs) needs before a session's results are published.
        "JURY_MIN_PER_COLLEGE": _int_env("JURY_MIN_PER_COLLEGE", 2),
        # Printed on parchments, attestations and minutes: the certifier and the place of issue.
        "CERTIFIER_NAME": os.environ.get("CERTIFIER_NAME", "Commission paritaire nationale de l'emploi des Industries Chimiques"),
        "ISSUE_PLACE": os.environ.get("ISSUE_PLACE", "Paris"),
        # Serving (gunicorn behind a load balancer): how many proxies set X-Forwarded-* in front of us.
        "TRUSTED_PROXIES": _int_env("TRUSTED_PROXIES", 0),
        "STATIC_MAX_AGE": 365 * 24 * 3600,
        "LOG_JSON": env_bool("LOG_JSON", default=production),
        # The worker's daily schedule (UTC hour) and how often it retries the outbox (seconds).
        "DAILY_SCHEDULE_HOUR": _int_env("DAILY_SCHEDULE_HOUR", 6),
        "OUTBOX_RETRY_SECONDS": _int_env("OUTBOX_RETRY_SECONDS", 300),
        # Webhooks: URLs on loopback/private/link-local addresses refused (server-side request forgery) unless
        # allowed (tests, intranet); checked at registration and again at each delivery (DNS rebinding).
        "WEBHOOK_ALLOW_PRIVATE": env_bool("WEBHOOK_ALLOW_PRIVATE", default=app_env != "production"),
        "WEBHOOK_TIMEOUT_SECONDS": 5,
        "WEBHOOK_BACKOFF_SECONDS": 60,
        "WEBHOOK_RETRY_HOURS": 24,
    }
    config.update(overrides)
    return config


MIN_SECRET_KEY_LENGTH = 32


def production_problems(config: dict) -> list[str]:
    """What makes this configuration unsafe for production, one French sentence per problem (empty
    outside production)."""
    if config.get("APP_ENV") != "production":
        return []
    problems = []
    if not config.get("SECRET_KEY"):
        problems.append(f"SECRET_KEY est obligatoire en production ({MIN_SECRET_KEY_LENGTH} caractères au moins).")
    elif len(config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY doit compter au moins {MIN_SECRET_KEY_LENGTH} caractères "
                        "(par exemple : python -c 'import secrets; print(secrets.token_urlsafe(48))').")
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append("DATABASE_URL doit désigner une base PostgreSQL (SQLite est refusé en production).")
    if not str(config.get("BASE_URL", "")).startswith("https://"):
        problems.append(f"BASE_URL doit commencer par https:// (reçu : {config.get('BASE_URL')!r}).")
    if not config.get("MAIL_SERVER_CONFIGURED"):
        problems.append("MAIL_SERVER est obligatoire en production (serveur SMTP qui envoie les emails).")
    if not config.get("REDIS_URL"):
        problems.append("REDIS_URL est obligatoire en production (limites de débit partagées et worker des emails).")
    if os.environ.get("APP_TODAY"):
        problems.append("APP_TODAY est refusé en production (la date du jour ne se fixe pas).")
    if config.get("MAIL_DEV_MAILBOX"):
        problems.append("MAIL_DEV_MAILBOX (boîte mail de développement) est refusée en production.")
    if config.get("OUTBOX_DELIVERY") == "inline":
        problems.append("OUTBOX_DELIVERY=inline est refusé en production (aucun email envoyé pendant une requête).")
    return problems


def check_production(config: dict) -> None:
    """Refuses to start in production with every problem named (RuntimeError)."""
    problems = production_problems(config)
    if problems:
        raise RuntimeError("Configuration refusée en production :\n- " + "\n- ".join(problems))
