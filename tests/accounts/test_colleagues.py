"""Several users per establishment: a company user invites a colleague (email, name), who gets the
`entreprise` role for the same establishment and a single-use link to choose a password; the
colleagues are listed on « Mon compte ». R12 (one establishment per SIRET) is unchanged."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Establishment, OneTimeToken, User
from app.extensions import db
from tests.accounts.conftest import count, page_text
from tests.conftest import login, submit_form
from tests.factories import make_user

NEW_PASSWORD = "la phrase de passe du collègue"
INVITE = "/mon-compte/collegues"


def _invite(client, **changes):
    data = {"collegue-first_name": "Karim", "collegue-last_name": "Benali", "collegue-email": "karim@chimie.fr"}
    data.update(changes)
    return submit_form(client, INVITE, data, form_url="/mon-compte")


def _link_path(mailbox, address: str) -> str:
    links = [x for x in mailbox.links_in(mailbox.last_to(address)) if "/mot-de-passe/" in x]
    assert len(links) == 1
    return links[0].replace("http://certifia.test", "")


def test_a_company_user_invites_a_colleague_who_chooses_a_password(app, app_ctx, client, login_as, mailbox):
    founder = make_user("entreprise")
    login_as(founder)
    establishments = count(Establishment)
    response = _invite(client)
    assert response.status_code == 302
    colleague = db.session.scalar(select(User).where(User.email == "karim@chimie.fr"))
    assert colleague.role == "entreprise" and colleague.establishment_id == founder.establishment_id
    assert colleague.password_hash is None and (colleague.first_name, colleague.last_name) == ("Karim", "Benali")
    assert count(Establishment) == establishments  # R12: no new establishment
    html = page_text(client.get("/mon-compte"))
    assert "Compte créé pour Karim Benali" in html
    assert "Karim Benali" in html and "invitation envoyée, mot de passe pas encore choisi" in html

    browser = app.test_client()
    path = _link_path(mailbox, "karim@chimie.fr")
    assert submit_form(browser, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert browser.get("/entreprise").status_code == 200  # the same rights on the establishment's files
    assert app.test_client().get(path).status_code == 410  # single use
    assert login(app.test_client(), "karim@chimie.fr", NEW_PASSWORD).status_code == 302


def test_an_address_already_used_is_refused_on_the_field(app_ctx, client, login_as):
    founder = make_user("entreprise")
    make_user("jury", email="deja@exemple.fr")
    login_as(founder)
    users = count(User)
    response = _invite(client, **{"collegue-email": "Deja@Exemple.fr"})
    assert response.status_code == 409
    html = page_text(response)
    assert 'id="collegue-email-erreur">Un compte existe déjà pour l\'adresse deja@exemple.fr.' in html
    assert 'value="Karim"' in html  # what was typed is kept
    assert count(User) == users and count(OneTimeToken) == 0


def test_missing_fields_are_all_told_on_their_fields(app_ctx, client, login_as):
    login_as(make_user("entreprise"))
    response = _invite(client, **{"collegue-first_name": "", "collegue-last_name": "", "collegue-email": "x"})
    assert response.status_code == 422
    html = page_text(response)
    assert 'id="collegue-first_name-erreur">Le prénom est obligatoire.' in html
    assert 'id="collegue-last_name-erreur">Le nom est obligatoire.' in html
    assert 'id="collegue-email-erreur">L\'adresse email n\'est pas valide.' in html


def test_colleagues_are_listed_only_within_the_establishment(app_ctx, client, login_as):
    founder = make_user("entreprise", last_name="Fondateur")
    make_user("entreprise", establishment=founder.establishment, last_name="Collègue")
    make_user("entreprise", last_name="Ailleurs")
    login_as(founder)
    html = page_text(client.get("/mon-compte"))
    assert "Collègue" in html and "Fondateur" in html and "Ailleurs" not in html


def test_other_roles_cannot_invite_colleagues(app_ctx, client, login_as):
    login_as(make_user("jury"))
    assert "Inviter un collègue" not in page_text(client.get("/mon-compte"))
    assert _invite(client).status_code == 403
    assert db.session.scalar(select(User).where(User.email == "karim@chimie.fr")) is None


def test_the_invitation_is_sent_again_with_a_new_link(app, app_ctx, client, login_as, mailbox):
    founder = make_user("entreprise")
    login_as(founder)
    _invite(client)
    first = _link_path(mailbox, "karim@chimie.fr")
    colleague = db.session.scalar(select(User).where(User.email == "karim@chimie.fr"))
    response = submit_form(client, f"/mon-compte/collegues/{colleague.id}/renvoyer-lien", {}, form_url="/mon-compte")
    assert response.status_code == 302
    second = _link_path(mailbox, "karim@chimie.fr")
    assert first != second
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200


def test_a_colleague_of_another_establishment_cannot_be_sent_a_link(app_ctx, client, login_as):
    stranger = make_user("entreprise")
    stranger.password_hash = None
    db.session.commit()
    login_as(make_user("entreprise"))
    response = submit_form(client, f"/mon-compte/collegues/{stranger.id}/renvoyer-lien", {}, form_url="/mon-compte")
    assert response.status_code == 303
    assert "Ce collègue n'existe pas dans votre établissement." in page_text(client.get("/mon-compte"))
    assert count(OneTimeToken) == 0


def test_an_account_request_for_the_siret_is_still_refused(app_ctx, client, login_as, request_form):
    """R12 unchanged: colleagues are invited from inside, a second account request is still refused."""
    founder = make_user("entreprise")
    login_as(founder)
    _invite(client)
    other = client.application.test_client()
    response = submit_form(other, "/demande-de-compte", request_form(siret=founder.establishment.siret,
                                                                      email="nouveau@chimie.fr"))
    assert response.status_code == 422
    assert "un seul compte par établissement" in page_text(response)
