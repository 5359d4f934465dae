"""Security frame of every page: headers (CSP without inline scripts, nosniff, no framing), session cookie
flags, CSRF on every form."""

from __future__ import annotations

import re

import pytest

from tests.accounts.conftest import page_text
from tests.conftest import login
from tests.factories import PASSWORD, make_user


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("url", ["/connexion", "/demande-de-compte", "/mot-de-passe-oublie", "/page-inconnue"])
def test_security_headers_on_pages(client, url):
    response = client.get(url)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = _csp(response)
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"


def test_security_headers_on_the_api(client):
    response = client.get("/api/v1/cqps")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("url", ["/connexion", "/demande-de-compte", "/mot-de-passe-oublie"])
def test_pages_have_no_inline_script_or_style(client, url):
    html = client.get(url).get_data(as_text=True)
    assert "<script>" not in html and "onclick=" not in html and "style=" not in html
    assert re.search(r'<script src="/static/js/app\.[0-9a-f]{12}\.js" defer></script>', html)  # fingerprinted


def test_session_cookie_is_httponly_and_samesite(app_ctx, client):
    user = make_user("jury")
    response = login(client, user.email, PASSWORD)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    flags = cookies[-1].lower()
    assert "httponly" in flags and "samesite=lax" in flags
    assert "secure" not in flags  # testing over http; production adds Secure


def test_production_config_asks_for_secure_cookies(monkeypatch, tmp_path):
    from app.config import load_config

    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("APP_TODAY", raising=False)
    config = load_config(str(tmp_path), {"APP_ENV": "production"})
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"] and config["FORCE_HTTPS"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("url,data", [
    ("/connexion", {"email": "a@exemple.fr", "password": "x" * 12}),
    ("/demande-de-compte", {"siret": "73282932000074"}),
    ("/mot-de-passe-oublie", {"email": "a@exemple.fr"}),
])
def test_public_forms_refuse_a_post_without_csrf_token(client, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "jeton CSRF" in page_text(response)


def test_forms_refuse_a_wrong_csrf_token(app_ctx, client):
    user = make_user("jury")
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": "faux"})
    assert response.status_code == 400
    assert client.get("/jury").status_code == 302  # not logged in


@pytest.mark.parametrize("url,data", [
    ("/secretariat/utilisateurs", {"role": "jury", "first_name": "A", "last_name": "B", "email": "j@exemple.fr"}),
    ("/referentiel/cqp/FAB-OPF", {"title": "Pirate", "domain": "Fabrication"}),
    ("/deconnexion", {}),
])
def test_logged_in_forms_refuse_a_post_without_csrf_token(app_ctx, client, login_as, url, data):
    login_as(make_user("secretariat"))
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert client.get("/secretariat").status_code == 200


def test_the_api_needs_no_csrf_token_but_a_bearer_token(app_ctx, api_as):
    api = api_as(make_user("secretariat"))
    response = api.post("/establishments", json={"siret": "73282932000074", "name": "Chimie"})
    assert response.status_code == 201


def test_a_logged_in_browser_cookie_does_not_open_the_api(app_ctx, client, login_as):
    login_as(make_user("secretariat"))
    response = client.post("/api/v1/establishments", json={"siret": "73282932000074", "name": "Chimie"})
    assert response.status_code == 401  # no CSRF hole: the API only takes Bearer tokens

