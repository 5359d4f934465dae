"""Login and logout: wrong password, inactive account, rate limit per account and per address (429 in
French), the session renewed at login and dead after logout (a copied cookie no longer works)."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.accounts.conftest import page_text
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_user


def test_wrong_password_is_a_french_error_on_the_form(app_ctx, client):
    user = make_user("entreprise")
    response = login(client, user.email, "pas le bon mot de passe")
    assert response.status_code == 422
    html = page_text(response)
    assert "Adresse email ou mot de passe incorrect." in html
    assert f'value="{user.email}"' in html  # the email is kept, the password is not
    assert "pas le bon mot de passe" not in html


def test_unknown_email_gets_the_same_answer(app_ctx, client):
    response = login(client, "personne@exemple.fr", PASSWORD)
    assert response.status_code == 422
    assert "Adresse email ou mot de passe incorrect." in page_text(response)


def test_deactivated_user_cannot_log_in(app_ctx, client):
    user = make_user("jury")
    user.active = False
    db.session.commit()
    assert login(client, user.email, PASSWORD).status_code == 422


def test_email_is_case_insensitive(app_ctx, client):
    user = make_user("jury", email="nadia@exemple.fr")
    assert login(client, "  NADIA@exemple.fr ", PASSWORD).status_code == 302
    assert user.last_login_at is not None


def test_login_redirects_only_to_local_next(app_ctx, client):
    user = make_user("secretariat")
    response = submit_form(client, "/connexion?next=https://evil.example/x", {"email": user.email, "password": PASSWORD},
                           form_url="/connexion")
    assert response.headers["Location"].endswith("/accueil")


def test_session_is_renewed_at_login(app_ctx, client):
    """No session fixation: the cookie before login does not carry the logged-in session."""
    user = make_user("jury")
    client.get("/connexion")
    before = client.get_cookie("session").value
    login(client, user.email, PASSWORD)
    after = client.get_cookie("session").value
    assert before != after
    stranger = client.application.test_client()
    stranger.set_cookie("session", before)
    assert stranger.get("/jury").status_code == 302


def test_logout_kills_the_session_even_for_a_copied_cookie(app, app_ctx, client, login_as):
    user = make_user("secretariat")
    login_as(user)
    stolen = client.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", stolen)
    assert copy.get("/secretariat").status_code == 200
    response = submit_form(client, "/deconnexion", {}, form_url="/secretariat")
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion")
    assert client.get("/secretariat").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/secretariat")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_logout_needs_a_post_with_csrf(app_ctx, client, login_as):
    login_as(make_user("jury"))
    assert client.get("/deconnexion").status_code == 405
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/jury").status_code == 200  # still logged in


# ---------------------------------------------------------------- throttling (LOGIN_RATE_LIMIT: 10 per 15 min per
# (account, address); LOGIN_ADDRESS_RATE_LIMIT per address; app/accounts/throttle.py)


def test_eleventh_attempt_on_one_account_from_one_address_is_429_in_french(app, app_ctx, client):
    user = make_user("entreprise")
    for _ in range(10):
        assert submit_form(client, "/connexion", {"email": user.email, "password": "faux"}).status_code == 422
    response = submit_form(client, "/connexion", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    html = page_text(response)
    assert "Trop de tentatives" in html and '<html lang="fr">' in html


def test_failures_from_many_addresses_never_lock_the_account(app, app_ctx):
    """No lockout (issue 17): the account's failures elsewhere delay those addresses, not the user's."""
    user = make_user("entreprise")
    for n in range(10):
        response = submit_form(app.test_client(), "/connexion", {"email": user.email, "password": "faux"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"})
        assert response.status_code == 422
    response = submit_form(app.test_client(), "/connexion", {"email": user.email.upper(), "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert response.status_code == 302


def test_failures_from_one_address_beyond_its_higher_bound_are_429(app, app_ctx, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_RATE_LIMIT", "12 per 15 minutes")
    for n in range(12):
        response = submit_form(client, "/connexion", {"email": f"essai{n}@exemple.fr", "password": "faux"})
        assert response.status_code == 422
    response = submit_form(client, "/connexion", {"email": "autre@exemple.fr", "password": "faux"})
    assert response.status_code == 429
    assert "depuis votre adresse" in page_text(response)


def test_the_limit_leaves_other_accounts_and_addresses_alone(app, app_ctx):
    user = make_user("entreprise")
    other = make_user("entreprise")
    for n in range(10):
        submit_form(app.test_client(), "/connexion", {"email": user.email, "password": "faux"},
                    environ_base={"REMOTE_ADDR": f"10.0.1.{n + 1}"})
    fresh = app.test_client()
    response = submit_form(fresh, "/connexion", {"email": other.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.2.1"})
    assert response.status_code == 302


def test_successful_logins_do_not_count(app, app_ctx):
    """Colleagues behind one address log in all day: only failures count against the limits."""
    user = make_user("entreprise")
    for _ in range(15):
        browser = app.test_client()
        response = submit_form(browser, "/connexion", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
    for n in range(10):
        response = submit_form(app.test_client(), "/connexion", {"email": user.email, "password": "faux"})
        assert response.status_code == 422, n
    response = submit_form(app.test_client(), "/connexion", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429


def test_showing_the_login_page_is_not_limited(client):
    for _ in range(15):
        assert client.get("/connexion").status_code == 200


@pytest.mark.parametrize("url", ["/mot-de-passe-oublie", "/demande-de-compte"])
def test_public_forms_are_rate_limited_too(app_ctx, client, url):
    statuses = [submit_form(client, url, {"email": "x"}).status_code for _ in range(11)]
    assert statuses[-1] == 429 and 429 not in statuses[:10]
