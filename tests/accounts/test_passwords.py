"""Emailed one-time links: set the password (7 days) and reset it (« mot de passe oublié », 2 hours).
Single use, stored hashed, a clear 410 page when used or expired; the reset kills the other sessions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.accounts import services
from app.accounts.auth import verify_password
from app.accounts.models import OneTimeToken
from app.core.errors import Gone
from app.extensions import db
from tests.accounts.conftest import count, page_text
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "une phrase de passe solide"


def _link_path(link: str) -> str:
    return link.replace("http://certifia.test", "")


def _reset_link_from_email(mailbox, address: str) -> str:
    message = mailbox.last_to(address)
    links = [link for link in mailbox.links_in(message) if "/mot-de-passe/" in link]
    assert len(links) == 1
    return _link_path(links[0])


def _choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return submit_form(client, path, {"password": password, "confirm": password if confirm is None else confirm})


@pytest.fixture
def invited(app_ctx):
    """A jury member created without a password, and the path of their set-password link."""
    user = services.create_user("nouveau@exemple.fr", "jury", first_name="Nina", last_name="Nouvelle")
    link = services.issue_password_link(user)
    db.session.commit()
    return user, _link_path(link)


def test_link_page_shows_the_account(client, invited):
    user, path = invited
    page = client.get(path)
    assert page.status_code == 200
    html = page_text(page)
    assert "Choisir votre mot de passe" in html and user.email in html and "12 caractères" in html


def test_setting_the_password_logs_in_and_hashes_with_argon2id(client, invited):
    user, path = invited
    response = _choose(client, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/accueil")
    db.session.refresh(user)
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user, NEW_PASSWORD)
    assert client.get("/jury").status_code == 200  # logged in


def test_link_is_single_use(client, invited):
    user, path = invited
    _choose(client, path)
    client.post("/deconnexion", data={"csrf_token": ""})
    other = client.application.test_client()
    again = other.get(path)
    assert again.status_code == 410
    html = page_text(again)
    assert "Lien expiré ou déjà utilisé" in html and 'href="/mot-de-passe-oublie"' in html


def test_a_second_submission_with_a_spent_link_is_410_and_changes_nothing(app, invited):
    user, path = invited
    first, second = app.test_client(), app.test_client()
    submit_form(first, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    token_page = second.get(path)
    assert token_page.status_code == 410
    with pytest.raises(Gone):
        services.set_password_from_link(path.rsplit("/", 1)[1], "un autre mot de passe long")
    db.session.rollback()
    db.session.refresh(user)
    assert verify_password(user, NEW_PASSWORD)


def test_set_password_link_expires_after_7_days(client, invited, today_is):
    _, path = invited
    today_is(date.today() + timedelta(days=6))
    assert client.get(path).status_code == 200
    today_is(date.today() + timedelta(days=8))
    response = client.get(path)
    assert response.status_code == 410 and "a expiré" in page_text(response)


def test_unknown_link_is_410(client, app_ctx):
    assert client.get("/mot-de-passe/nimporte-quoi").status_code == 410


def test_link_of_a_deactivated_user_is_410(client, invited):
    user, path = invited
    user.active = False
    db.session.commit()
    assert client.get(path).status_code == 410


@pytest.mark.parametrize("password,confirm,message", [
    ("court", "court", "au moins 12 caractères"),
    ("", "", "Saisissez un mot de passe."),
    (NEW_PASSWORD, "autre chose encore", "Les deux mots de passe ne sont pas identiques."),
])
def test_bad_password_is_refused_and_the_link_still_works(client, invited, password, confirm, message):
    user, path = invited
    response = _choose(client, path, password, confirm)
    assert response.status_code == 422
    assert message in page_text(response)
    db.session.refresh(user)
    assert user.password_hash is None
    assert db.session.scalar(select(OneTimeToken.used_at)) is None
    assert _choose(client, path).status_code == 302


def test_a_new_link_voids_the_previous_one(client, invited):
    user, old_path = invited
    new_path = _link_path(services.issue_password_link(user))
    db.session.commit()
    assert client.get(old_path).status_code == 410
    assert client.get(new_path).status_code == 200


def test_token_is_stored_hashed(invited):
    _, path = invited
    raw = path.rsplit("/", 1)[1]
    stored = db.session.scalar(select(OneTimeToken.token_hash))
    assert raw not in stored and len(stored) == 64 and len(raw) >= 43


# ---------------------------------------------------------------- mot de passe oublié


def test_forgot_password_page_is_public(client):
    page = client.get("/mot-de-passe-oublie")
    assert page.status_code == 200 and "Mot de passe oublié" in page_text(page)


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app_ctx, client, mailbox):
    make_user("entreprise", email="connu@exemple.fr")
    known = submit_form(client, "/mot-de-passe-oublie", {"email": "connu@exemple.fr"})
    unknown = submit_form(client, "/mot-de-passe-oublie", {"email": "inconnu@exemple.fr"})
    assert known.status_code == unknown.status_code == 200
    assert page_text(known).replace("connu@", "X@") == page_text(unknown).replace("inconnu@", "X@")
    assert len(mailbox.to("connu@exemple.fr")) == 1
    assert mailbox.to("inconnu@exemple.fr") == []
    assert count(OneTimeToken) == 1


def test_deactivated_account_gets_no_reset_email(app_ctx, client, mailbox):
    user = make_user("entreprise", email="parti@exemple.fr")
    user.active = False
    db.session.commit()
    assert submit_form(client, "/mot-de-passe-oublie", {"email": "parti@exemple.fr"}).status_code == 200
    assert mailbox.to("parti@exemple.fr") == [] and count(OneTimeToken) == 0


def test_forgot_password_with_an_invalid_address_says_so(client):
    response = submit_form(client, "/mot-de-passe-oublie", {"email": "pas une adresse"})
    assert response.status_code == 422
    assert "L'adresse email n'est pas valide." in page_text(response)


def test_reset_link_lasts_2_hours_and_is_a_reset(app_ctx, client, mailbox):
    user = make_user("entreprise", email="rh@exemple.fr")
    submit_form(client, "/mot-de-passe-oublie", {"email": "RH@exemple.fr"})
    token = db.session.scalar(select(OneTimeToken).where(OneTimeToken.user_id == user.id))
    assert token.purpose == "reset_password"
    assert token.expires_at - token.created_at == timedelta(hours=2)
    message = mailbox.last_to("rh@exemple.fr")
    assert "2 heures" in mailbox.text_of(message)
    path = _reset_link_from_email(mailbox, "rh@exemple.fr")
    assert "Choisir un nouveau mot de passe" in page_text(client.get(path))
    token.expires_at = token.created_at + timedelta(minutes=1) - timedelta(hours=3)
    db.session.commit()
    assert client.get(path).status_code == 410


def test_reset_changes_the_password_and_kills_the_other_sessions(app, app_ctx, mailbox):
    make_user("entreprise", email="rh@exemple.fr")
    elsewhere = app.test_client()
    assert login(elsewhere, "rh@exemple.fr", PASSWORD).status_code == 302
    assert elsewhere.get("/entreprise").status_code == 200

    browser = app.test_client()
    submit_form(browser, "/mot-de-passe-oublie", {"email": "rh@exemple.fr"})
    path = _reset_link_from_email(mailbox, "rh@exemple.fr")
    assert _choose(browser, path).status_code == 302
    assert browser.get("/entreprise").status_code == 200

    stale = elsewhere.get("/entreprise")
    assert stale.status_code == 302 and "/connexion" in stale.headers["Location"]
    third = app.test_client()
    assert login(third, "rh@exemple.fr", PASSWORD).status_code == 422
    assert login(third, "rh@exemple.fr", NEW_PASSWORD).status_code == 302


@pytest.mark.postgres_only
def test_concurrent_submissions_of_one_link_have_one_winner(app, invited):
    """The link is spent by one conditional UPDATE: of two simultaneous submissions, one wins."""
    import threading

    _, path = invited
    token = path.rsplit("/", 1)[1]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(password: str) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)  # a thread that never arrives breaks the barrier: no hang
                services.set_password_from_link(token, password)
                db.session.commit()
                outcome = "ok"
            except Gone:
                db.session.rollback()
                outcome = "gone"
            except Exception as exc:  # reported by the assertion below
                db.session.rollback()
                outcome = f"error {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=submit, args=(f"mot de passe numéro {n}",), daemon=True) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "une soumission est restée bloquée plus de 30 s"
    assert sorted(outcomes) == ["gone", "ok"]
