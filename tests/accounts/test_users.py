"""The secretariat's users page: create jury members and partners (they get a set-password link),
deactivate and reactivate accounts, send a new link."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import OneTimeToken, User
from app.core.models import OutboxEmail
from app.extensions import db
from tests.accounts.conftest import count, page_text
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_user

URL = "/secretariat/utilisateurs"


@pytest.fixture
def secretary(app_ctx, login_as):
    user = make_user("secretariat", email="secretariat@branche.fr")
    login_as(user)
    return user


@pytest.mark.parametrize("role", ["jury", "partenaire"])
def test_create_a_jury_member_or_partner_emails_a_set_password_link(client, secretary, mailbox, role):
    response = submit_form(client, URL, {"role": role, "first_name": "Paul", "last_name": "Jurés",
                                         "email": "Paul.Jures@Syndicat.fr"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "paul.jures@syndicat.fr"))
    assert (user.role, user.first_name, user.password_hash) == (role, "Paul", None)
    message = mailbox.last_to("paul.jures@syndicat.fr")
    assert "choisissez votre mot de passe" in message["Subject"]
    links = [link for link in mailbox.links_in(message) if "/mot-de-passe/" in link]
    assert len(links) == 1
    token = db.session.scalar(select(OneTimeToken).where(OneTimeToken.user_id == user.id))
    assert token.purpose == "set_password" and (token.expires_at - token.created_at).days == 7
    assert "paul.jures@syndicat.fr" in page_text(client.get(URL))


@pytest.mark.parametrize("role", ["secretariat", "entreprise", "evaluateur", "candidat", "pirate"])
def test_other_roles_cannot_be_created_here(client, secretary, role):
    response = submit_form(client, URL, {"role": role, "first_name": "A", "last_name": "B", "email": "x@exemple.fr"})
    assert response.status_code == 422
    assert count(User) == 1


@pytest.mark.parametrize("field,value,message", [
    ("email", "pas-une-adresse", "L'adresse email n'est pas valide."),
    ("email", "", "L'adresse email est obligatoire."),
    ("first_name", "", "Le prénom est obligatoire."),
    ("last_name", "  ", "Le nom est obligatoire."),
])
def test_bad_input_is_named_and_kept(client, secretary, field, value, message):
    data = {"role": "jury", "first_name": "Paul", "last_name": "Jurés", "email": "paul@exemple.fr", field: value}
    response = submit_form(client, URL, data)
    assert response.status_code == 422
    html = page_text(response)
    assert message in html and f'id="{field}-erreur"' in html
    assert 'value="Jurés"' in html or field == "last_name"
    assert count(User) == 1 and count(OutboxEmail) == 0


def test_duplicate_email_is_409_on_the_field(client, secretary):
    make_user("jury", email="deja@exemple.fr")
    response = submit_form(client, URL, {"role": "partenaire", "first_name": "A", "last_name": "B",
                                         "email": "DEJA@exemple.fr"})
    assert response.status_code == 409
    html = page_text(response)
    assert "Un compte existe déjà pour l'adresse deja@exemple.fr" in html and 'id="email-erreur"' in html
    assert count(User) == 2 and count(OneTimeToken) == 0


def test_deactivation_blocks_login_and_kills_sessions_and_api_tokens(app, client, secretary, api_as):
    member = make_user("jury", email="jure@exemple.fr")
    api = api_as(member)
    elsewhere = app.test_client()
    assert login(elsewhere, "jure@exemple.fr", PASSWORD).status_code == 302
    response = submit_form(client, f"{URL}/{member.id}/desactiver", {}, form_url=URL)
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.active is False
    assert elsewhere.get("/jury").status_code == 302
    assert login(app.test_client(), "jure@exemple.fr", PASSWORD).status_code == 422
    assert api.get("/cqps").status_code == 401
    assert "Désactivé" in page_text(client.get(URL))


def test_reactivation(app, client, secretary):
    member = make_user("jury", email="jure@exemple.fr")
    member.active = False
    db.session.commit()
    assert submit_form(client, f"{URL}/{member.id}/reactiver", {}, form_url=URL).status_code == 302
    assert login(app.test_client(), "jure@exemple.fr", PASSWORD).status_code == 302


def test_the_secretariat_cannot_deactivate_itself(client, secretary):
    response = submit_form(client, f"{URL}/{secretary.id}/desactiver", {}, form_url=URL)
    assert response.status_code == 422
    assert "votre propre compte" in page_text(response)
    db.session.refresh(secretary)
    assert secretary.active


def test_deactivate_forms_ask_for_confirmation(client, secretary):
    make_user("jury")
    html = page_text(client.get(URL))
    assert "/desactiver" in html and 'data-confirm="Désactiver le compte' in html


def test_unknown_user_is_404(client, secretary):
    assert submit_form(client, f"{URL}/9999/desactiver", {}, form_url=URL).status_code == 404


def test_send_a_new_link(client, secretary, mailbox):
    member = make_user("partenaire", email="opco@exemple.fr")
    assert submit_form(client, f"{URL}/{member.id}/renvoyer-lien", {}, form_url=URL).status_code == 302
    assert len(mailbox.to("opco@exemple.fr")) == 1


def test_no_link_for_a_deactivated_account(client, secretary, mailbox):
    member = make_user("partenaire", email="opco@exemple.fr")
    member.active = False
    db.session.commit()
    response = submit_form(client, f"{URL}/{member.id}/renvoyer-lien", {}, form_url=URL)
    assert response.status_code == 409
    assert mailbox.to("opco@exemple.fr") == [] and count(OneTimeToken) == 0


def test_role_filter(client, secretary):
    make_user("jury", email="jure@exemple.fr")
    make_user("partenaire", email="opco@exemple.fr")
    html = page_text(client.get(f"{URL}?role=jury"))
    assert "jure@exemple.fr" in html and "opco@exemple.fr" not in html
    assert client.get(f"{URL}?role=nimporte").status_code == 200


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "jury", "partenaire", "candidat"])
def test_users_page_is_secretariat_only(app_ctx, client, login_as, role):
    user = login_as(make_user(role)) and db.session.scalar(select(User).where(User.role == role))
    assert client.get(URL).status_code == 403
    response = submit_form(client, f"{URL}/{user.id}/desactiver", {}, form_url=f"/{role}")
    assert response.status_code == 403
    db.session.refresh(user)
    assert user.active
