"""Configuration from the environment (app/config.py): what production refuses, and the defaults
outside it. No app is built: load_config is what create_app starts with."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import env_bool, load_config

ENV = ("APP_ENV", "APP_TODAY", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_USE_TLS", "BASE_URL",
       "UPLOAD_DIR", "MAIL_DEV_MAILBOX", "OUTBOX_DELIVERY", "TRUSTED_PROXIES", "LOG_JSON", "MAIL_TIMEOUT")
GOOD_KEY = "k" * 40
PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": GOOD_KEY, "BASE_URL": "https://certifia.exemple.fr",
              "DATABASE_URL": "postgresql+psycopg://certifia@127.0.0.1:5432/certifia", "MAIL_SERVER": "smtp.exemple.fr",
              "REDIS_URL": "redis://127.0.0.1:6379/0", "LOG_JSON": "0"}


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment and an empty instance folder."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)

    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))

    def set_env(**values: str) -> str:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return str(tmp_path / "instance")

    return set_env


def _refusal(**changes: str | None) -> str:
    """The message create_app refuses to start with, production settings changed by `changes`."""
    import os

    for name, value in {**PRODUCTION, **changes}.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    with pytest.raises(RuntimeError) as refused:
        create_app()
    return str(refused.value)


def test_a_safe_production_configuration_starts(env):
    env(**PRODUCTION)
    app = create_app()
    assert app.config["APP_ENV"] == "production" and not app.config["MAIL_DEV_MAILBOX"]
    assert app.config["OUTBOX_DELIVERY"] == "thread" and app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"]


@pytest.mark.parametrize("changes, message", [
    ({"SECRET_KEY": "x"}, "SECRET_KEY doit compter au moins 32 caractères"),
    ({"SECRET_KEY": "k" * 31}, "SECRET_KEY doit compter au moins 32 caractères"),
    ({"SECRET_KEY": None}, "SECRET_KEY est obligatoire en production"),
    ({"DATABASE_URL": None}, "DATABASE_URL doit désigner une base PostgreSQL (SQLite est refusé en production)"),
    ({"DATABASE_URL": "sqlite:////srv/certifia.sqlite3"}, "SQLite est refusé en production"),
    ({"BASE_URL": "http://certifia.exemple.fr"}, "BASE_URL doit commencer par https:// (reçu : 'http://certifia"),
    ({"BASE_URL": None}, "BASE_URL doit commencer par https://"),
    ({"MAIL_SERVER": None, "MAIL_DEV_MAILBOX": "0"}, "MAIL_SERVER est obligatoire en production"),
    ({"REDIS_URL": None}, "REDIS_URL est obligatoire en production"),
    ({"APP_TODAY": "2027-03-12"}, "APP_TODAY est refusé en production"),
    ({"MAIL_DEV_MAILBOX": "1"}, "MAIL_DEV_MAILBOX (boîte mail de développement) est refusée en production"),
    ({"OUTBOX_DELIVERY": "inline"}, "OUTBOX_DELIVERY=inline est refusé en production"),
])
def test_production_refuses_each_unsafe_setting_by_name(env, changes, message):
    env()
    text = _refusal(**changes)
    assert text.startswith("Configuration refusée en production :")
    assert message in text
    assert text.count("\n- ") == 1  # only that problem


def test_production_names_every_problem_at_once(env, tmp_path):
    env()
    text = _refusal(SECRET_KEY="court", DATABASE_URL=None, BASE_URL="http://x", MAIL_SERVER=None, REDIS_URL=None,
                    APP_TODAY="2027-03-12")
    for name in ("SECRET_KEY", "SQLite", "BASE_URL", "MAIL_SERVER", "REDIS_URL", "APP_TODAY", "MAIL_DEV_MAILBOX"):
        assert name in text
    assert text.count("\n- ") == 7  # without MAIL_SERVER, the development mailbox would be on
    assert not (tmp_path / "instance" / "secret_key").exists()  # no key made up behind the operator's back


def test_a_missing_secret_key_is_not_made_up_in_production(env, tmp_path):
    instance = env(APP_ENV="production")
    assert load_config(instance)["SECRET_KEY"] == ""
    assert not (tmp_path / "instance" / "secret_key").exists()


@pytest.mark.parametrize("name, raw", [("TRUSTED_PROXIES", "deux"), ("TRUSTED_PROXIES", "-1")])
def test_integer_settings_are_checked_with_their_name(env, name, raw):
    with pytest.raises(RuntimeError, match=name):
        load_config(env(**{name: raw}))


def test_an_unknown_app_env_is_refused(env):
    instance = env(APP_ENV="prod")
    with pytest.raises(RuntimeError, match="APP_ENV doit valoir development, testing ou production"):
        load_config(instance)


@pytest.mark.parametrize("raw, expected", [("true", True), ("1", True), ("TRUE", True), ("false", False),
                                           ("0", False), ("False", False)])
def test_booleans_are_true_false_or_1_0_in_any_case(env, monkeypatch, raw, expected):
    monkeypatch.setenv("MAIL_USE_TLS", raw)
    assert env_bool("MAIL_USE_TLS") is expected


def test_a_boolean_that_is_neither_is_refused_with_its_name(env, monkeypatch):
    instance = env(MAIL_USE_TLS="peut-être")
    with pytest.raises(RuntimeError, match="MAIL_USE_TLS doit valoir true/false ou 1/0"):
        load_config(instance)


def test_production_secures_cookies_and_https(env):
    config = load_config(env(**PRODUCTION))
    assert config["SECRET_KEY"] == GOOD_KEY
    assert config["FORCE_HTTPS"] and config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert not config["TESTING"]


def test_outside_production_a_secret_key_is_made_once_and_kept(env, tmp_path):
    instance = env()
    first = load_config(instance)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text() == first["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 48
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert load_config(instance)["SECRET_KEY"] == first["SECRET_KEY"]
    assert not first["FORCE_HTTPS"] and not first["SESSION_COOKIE_SECURE"]


def test_without_redis_rate_limits_stay_in_memory_and_with_it_go_to_redis(env):
    assert load_config(env())["RATELIMIT_STORAGE_URI"] == "memory://"
    config = load_config(env(REDIS_URL="redis://127.0.0.1:6379/0"))
    assert config["RATELIMIT_STORAGE_URI"] == config["REDIS_URL"] == "redis://127.0.0.1:6379/0"


def test_without_mail_server_emails_go_to_the_development_mailbox(env):
    assert load_config(env())["MAIL_DEV_MAILBOX"] is True
    assert load_config(env(MAIL_SERVER="smtp.exemple.fr"))["MAIL_DEV_MAILBOX"] is False


def test_behind_the_trusted_proxy_https_is_read_from_x_forwarded_proto(env):
    """TRUSTED_PROXIES=1 (ProxyFix): the balancer's X-Forwarded-Proto says the request came over https; the
    load balancer's /health check over plain http is never redirected."""
    env(**{**PRODUCTION, "TRUSTED_PROXIES": "1", "DATABASE_URL": "postgresql+psycopg://certifia@127.0.0.1:1/absente"})
    client = create_app().test_client()
    plain = client.get("/connexion")
    assert plain.status_code == 302 and plain.location.startswith("https://")
    assert client.get("/connexion", headers={"X-Forwarded-Proto": "https"}).status_code == 200
    assert client.get("/health").status_code == 503  # answered (database unreachable here), not redirected

