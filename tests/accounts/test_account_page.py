"""« Mon compte » for every logged-in user: name and email (unique, a French message on the field),
the password change (the current password asked, 12 characters at least; the other devices logged
out, this one kept), the open sessions."""

from __future__ import annotations

import pytest

from app.accounts.auth import verify_password
from app.extensions import db
from tests.accounts.conftest import page_text
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "une nouvelle phrase de passe"


@pytest.mark.parametrize("role", ["entreprise", "candidat", "evaluateur", "jury", "secretariat", "partenaire"])
def test_every_logged_in_role_has_the_page_and_the_link(app_ctx, client, login_as, role):
    user = make_user(role)
    login_as(user)
    response = client.get("/mon-compte")
    assert response.status_code == 200
    html = page_text(response)
    assert "<h1>Mon compte</h1>" in html and f'value="{user.email}"' in html
    assert 'href="/mon-compte"' in page_text(client.get("/mon-compte"))  # the header's link


def test_an_anonymous_visitor_is_sent_to_the_login(client):
    response = client.get("/mon-compte")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_the_name_and_email_are_changed(app_ctx, client, login_as):
    user = make_user("entreprise")
    login_as(user)
    response = submit_form(client, "/mon-compte/profil",
                           {"first_name": " Léa ", "last_name": "Martin", "email": " Lea.Martin@Exemple.fr "},
                           form_url="/mon-compte")
    assert response.status_code == 302
    db.session.expire_all()
    assert (user.first_name, user.last_name, user.email) == ("Léa", "Martin", "lea.martin@exemple.fr")
    assert "Vos nom et adresse email sont enregistrés." in page_text(client.get("/mon-compte"))
    client2 = client.application.test_client()
    assert login(client2, "lea.martin@exemple.fr", PASSWORD).status_code == 302


def test_an_address_taken_by_another_account_is_refused_on_the_field(app_ctx, client, login_as):
    user = make_user("entreprise")
    make_user("jury", email="pris@exemple.fr")
    login_as(user)
    response = submit_form(client, "/mon-compte/profil",
                           {"first_name": "Léa", "last_name": "Martin", "email": "PRIS@exemple.fr"},
                           form_url="/mon-compte")
    assert response.status_code == 409
    html = page_text(response)
    assert 'id="email-erreur">L\'adresse pris@exemple.fr est déjà celle d\'un autre compte.' in html
    assert 'value="PRIS@exemple.fr"' in html  # what was typed is kept
    db.session.expire_all()
    assert user.last_name != "Martin"  # nothing written


def test_empty_name_and_bad_email_are_all_told_at_once(app_ctx, client, login_as):
    user = make_user("entreprise")
    login_as(user)
    response = submit_form(client, "/mon-compte/profil", {"first_name": "", "last_name": "", "email": "pas-une-adresse"},
                           form_url="/mon-compte")
    assert response.status_code == 422
    html = page_text(response)
    for message in ("Le prénom est obligatoire.", "Le nom est obligatoire.", "L'adresse email n'est pas valide."):
        assert message in html


def test_the_password_change_asks_the_current_one(app_ctx, client, login_as):
    user = make_user("jury")
    login_as(user)
    response = submit_form(client, "/mon-compte/mot-de-passe",
                           {"current_password": "pas le bon", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                           form_url="/mon-compte")
    assert response.status_code == 422
    assert 'id="current_password-erreur">Le mot de passe actuel est incorrect.' in page_text(response)
    db.session.expire_all()
    assert verify_password(user, PASSWORD)


@pytest.mark.parametrize(("data", "message"), [
    ({"current_password": PASSWORD, "password": "trop court", "confirm": "trop court"},
     "Le mot de passe doit contenir au moins 12 caractères."),
    ({"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": "autre chose encore"},
     "Les deux mots de passe ne sont pas identiques."),
    ({"current_password": "", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
     "Saisissez votre mot de passe actuel."),
])
def test_a_refused_password_change_says_why(app_ctx, client, login_as, data, message):
    user = make_user("jury")
    login_as(user)
    response = submit_form(client, "/mon-compte/mot-de-passe", data, form_url="/mon-compte")
    assert response.status_code == 422
    html = page_text(response)
    assert message in html and NEW_PASSWORD not in html
    db.session.expire_all()
    assert verify_password(user, PASSWORD)


def test_a_password_change_logs_the_other_devices_out_and_keeps_this_one(app, app_ctx):
    user = make_user("entreprise")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user.email, PASSWORD)
    login(phone, user.email, PASSWORD)
    response = submit_form(phone, "/mon-compte/mot-de-passe",
                           {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                           form_url="/mon-compte")
    assert response.status_code == 302
    assert phone.get("/mon-compte").status_code == 200
    assert laptop.get("/mon-compte").status_code == 302
    db.session.expire_all()
    assert verify_password(user, NEW_PASSWORD) and not verify_password(user, PASSWORD)
