"""Configuration from the environment (app/config.py): what production refuses, and the defaults
outside it. No app is built: load_config is what create_app starts with."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import env_bool, load_config

ENV = ("APP_ENV", "APP_TODAY", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_USE_TLS")


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment and an empty instance folder."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> str:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return str(tmp_path / "instance")

    return set_env


def test_production_refuses_app_today(env):
    instance = env(APP_ENV="production", SECRET_KEY="une-cle-de-production", APP_TODAY="2027-03-12")
    with pytest.raises(RuntimeError, match="APP_TODAY est refusé en production"):
        load_config(instance)


def test_production_refuses_a_missing_secret_key(env, tmp_path):
    instance = env(APP_ENV="production")
    with pytest.raises(RuntimeError, match="SECRET_KEY est obligatoire en production"):
        load_config(instance)
    assert not (tmp_path / "instance" / "secret_key").exists()  # no key made up behind the operator's back


def test_the_factory_refuses_them_before_building_anything(env):
    env(APP_ENV="production", SECRET_KEY="une-cle-de-production", APP_TODAY="2027-03-12")
    with pytest.raises(RuntimeError, match="APP_TODAY"):
        create_app()


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
    config = load_config(env(APP_ENV="production", SECRET_KEY="une-cle-de-production"))
    assert config["SECRET_KEY"] == "une-cle-de-production"
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
