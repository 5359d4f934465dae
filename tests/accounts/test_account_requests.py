"""The company account request (« demande de création de compte ») and its handling by the secretariat:
R12, one establishment account per SIRET; emails to the secretariat, the requester, and the link."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts.models import AccountRequest, Establishment, OneTimeToken, User
from app.accounts.services import AccountRequestData, approve_account_request, request_account
from app.core.errors import Conflict
from app.core.mail import send_pending
from app.core.models import OutboxEmail
from app.extensions import db
from tests.accounts.conftest import count, page_text
from tests.conftest import submit_form
from tests.factories import make_establishment, make_user

URL = "/demande-de-compte"


def test_login_page_links_to_the_account_request(client):
    html = page_text(client.get("/connexion"))
    assert 'href="/demande-de-compte"' in html and "demande de création de compte" in html
    assert 'href="/mot-de-passe-oublie"' in html


def test_account_request_form_is_public(client):
    page = client.get(URL)
    assert page.status_code == 200
    html = page_text(page)
    for label in ("SIRET", "Raison sociale", "Adresse", "Code postal", "Ville", "Prénom du contact",
                  "Nom du contact", "Adresse email du contact", "Téléphone"):
        assert label in html


def test_request_is_recorded_and_emails_secretariat_and_requester(app_ctx, client, mailbox, request_form):
    make_user("secretariat", email="sec1@branche.fr")
    make_user("secretariat", email="sec2@branche.fr")
    inactive = make_user("secretariat", email="ancien@branche.fr")
    inactive.active = False
    db.session.commit()
    data = request_form(siret=" 732 829 320 00074 ".replace("732 829 320 00074", "73282932000074"))
    response = submit_form(client, URL, data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/demande-de-compte/envoyee")
    assert "bien été envoyée" in page_text(client.get(response.headers["Location"]))
    req = db.session.scalar(select(AccountRequest))
    assert (req.siret, req.status, req.email, req.phone) == ("73282932000074", "pending",
                                                             "claire.dubois@chimie-rhone.fr", "04 72 00 00 00")
    for secretary in ("sec1@branche.fr", "sec2@branche.fr"):
        message = mailbox.last_to(secretary)
        assert "Chimie du Rhône SAS" in message["Subject"]
        assert f"http://certifia.test/secretariat/demandes-de-compte/{req.id}" in mailbox.links_in(message)
    assert mailbox.to("ancien@branche.fr") == []
    ack = mailbox.last_to("claire.dubois@chimie-rhone.fr")
    assert "bien été reçue" in ack["Subject"] and "73282932000074" in mailbox.text_of(ack)


def test_siret_with_spaces_is_accepted(app_ctx, client, request_form):
    response = submit_form(client, URL, request_form(siret="732 829 320 00074"))
    assert response.status_code == 302
    assert db.session.scalar(select(AccountRequest.siret)) == "73282932000074"


@pytest.mark.parametrize("siret", ["12345678901234", "7328293200007", "732829320000745", "ABCDEFGHIJKLMN"])
def test_invalid_siret_is_refused_with_a_french_message(app_ctx, client, mailbox, request_form, siret):
    response = submit_form(client, URL, request_form(siret=siret))
    assert response.status_code == 422
    html = page_text(response)
    assert "Le SIRET doit comporter 14 chiffres et une clé de contrôle valide." in html
    assert 'id="siret-erreur"' in html and re.search(r'aria-describedby="[^"]*siret-erreur"', html)
    assert f'value="{siret}"' in html  # what was typed is kept
    assert 'value="Chimie du Rhône SAS"' in html
    assert count(AccountRequest) == 0 and count(OutboxEmail) == 0


def test_la_poste_siret_follows_its_own_rule(app_ctx, client, request_form):
    """La Poste (SIREN 356000000): the digits' sum is a multiple of 5, not a Luhn key."""
    assert submit_form(client, URL, request_form(siret="35600000000048")).status_code == 302


@pytest.mark.parametrize("field,message", [
    ("siret", "Le SIRET est obligatoire."),
    ("establishment_name", "La raison sociale de l'établissement est obligatoire."),
    ("address", "L'adresse est obligatoire."),
    ("postcode", "Le code postal est obligatoire."),
    ("city", "La ville est obligatoire."),
    ("contact_first_name", "Le prénom est obligatoire."),
    ("contact_last_name", "Le nom est obligatoire."),
    ("email", "L'adresse email est obligatoire."),
    ("phone", "Le téléphone est obligatoire."),
])
def test_missing_field_is_named(app_ctx, client, request_form, field, message):
    response = submit_form(client, URL, request_form(**{field: "  " if field != "email" else ""}))
    assert response.status_code == 422
    html = page_text(response)
    assert message in html and f'id="{field}-erreur"' in html
    assert count(AccountRequest) == 0


@pytest.mark.parametrize("field,value,message", [
    ("email", "pas-une-adresse", "L'adresse email n'est pas valide."),
    ("postcode", "6900", "Le code postal doit comporter 5 chiffres."),
    ("phone", "12", "Le numéro de téléphone doit comporter au moins 10 chiffres."),
    ("phone", "appelez-moi", "Le numéro de téléphone doit comporter au moins 10 chiffres."),
])
def test_invalid_values_are_named(app_ctx, client, request_form, field, value, message):
    response = submit_form(client, URL, request_form(**{field: value}))
    assert response.status_code == 422
    html = page_text(response)
    assert message in html and f'id="{field}-erreur"' in html
    assert count(AccountRequest) == 0


def test_r12_refused_when_the_establishment_already_has_an_account(app_ctx, client, mailbox, request_form):
    establishment = make_establishment("Déjà Là SA")
    response = submit_form(client, URL, request_form(siret=establishment.siret))
    assert response.status_code == 422
    html = page_text(response)
    assert f"Un compte existe déjà pour l'établissement de SIRET {establishment.siret}" in html
    assert "un seul compte par établissement" in html
    assert count(AccountRequest) == 0 and count(OutboxEmail) == 0


def test_r12_refused_while_a_request_for_that_siret_is_pending(app_ctx, client, request_form):
    first = request_form()
    assert submit_form(client, URL, first).status_code == 302
    response = submit_form(client, URL, request_form(siret=first["siret"], email="autre@chimie-rhone.fr"))
    assert response.status_code == 422
    assert "Une demande de création de compte est déjà en cours d'examen" in page_text(response)
    assert count(AccountRequest) == 1


def test_a_refused_request_does_not_block_a_new_one(app_ctx, request_form):
    secretary = make_user("secretariat")
    data = request_form()
    from app.accounts.services import refuse_account_request

    refuse_account_request(request_account(AccountRequestData(**data)), "Pièces manquantes", secretary)
    db.session.commit()
    request_account(AccountRequestData(**data))
    assert count(AccountRequest) == 2


def test_an_email_that_already_has_an_account_is_refused(app_ctx, client, request_form):
    make_user("jury", email="deja@exemple.fr")
    response = submit_form(client, URL, request_form(email="DEJA@exemple.fr"))
    assert response.status_code == 422
    assert "Un compte existe déjà pour l'adresse deja@exemple.fr" in page_text(response)


def test_request_without_csrf_token_is_refused(app_ctx, client, request_form):
    response = client.post(URL, data=request_form())
    assert response.status_code == 400
    assert "jeton CSRF" in page_text(response)
    assert count(AccountRequest) == 0


# ---------------------------------------------------------------- secretariat


@pytest.fixture
def secretary(app_ctx, login_as):
    user = make_user("secretariat", email="secretariat@branche.fr")
    login_as(user)
    return user


def _pending(request_form, **changes) -> AccountRequest:
    req = request_account(AccountRequestData(**request_form(**changes)))
    db.session.commit()
    send_pending()  # what the request would have done after its commit
    return req


def test_request_list_shows_pending_first(client, secretary, request_form):
    from app.accounts.services import refuse_account_request

    old = _pending(request_form, establishment_name="Ancienne Chimie")
    refuse_account_request(old, "Doublon", secretary)
    db.session.commit()
    _pending(request_form, establishment_name="Chimie Nouvelle", email="n@exemple.fr")
    html = page_text(client.get("/secretariat/demandes-de-compte"))
    assert html.index("Chimie Nouvelle") < html.index("Ancienne Chimie")
    assert "1 demande en attente" in html and "Refusée" in html


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "jury", "partenaire", "candidat"])
def test_request_pages_are_secretariat_only(app_ctx, client, login_as, request_form, role):
    req = _pending(request_form)
    login_as(make_user(role))
    assert client.get("/secretariat/demandes-de-compte").status_code == 403
    assert client.get(f"/secretariat/demandes-de-compte/{req.id}").status_code == 403
    before = count(Establishment)
    response = submit_form(client, f"/secretariat/demandes-de-compte/{req.id}/approuver", {}, form_url=f"/{role}")
    assert response.status_code == 403
    assert count(Establishment) == before
    db.session.refresh(req)
    assert req.status == "pending"


def test_detail_page_has_confirmed_approve_and_refuse_forms(client, secretary, request_form):
    req = _pending(request_form)
    html = page_text(client.get(f"/secretariat/demandes-de-compte/{req.id}"))
    assert f'action="/secretariat/demandes-de-compte/{req.id}/approuver"' in html
    assert f'action="/secretariat/demandes-de-compte/{req.id}/refuser"' in html
    assert html.count("data-confirm=") == 2


def test_unknown_request_is_404(client, secretary):
    assert client.get("/secretariat/demandes-de-compte/999").status_code == 404


def test_approval_creates_establishment_and_user_and_emails_the_link(client, secretary, mailbox, request_form):
    req = _pending(request_form)
    url = f"/secretariat/demandes-de-compte/{req.id}"
    response = submit_form(client, f"{url}/approuver", {}, form_url=url)
    assert response.status_code == 302
    db.session.refresh(req)
    assert req.status == "approved" and req.decided_by_id == secretary.id and req.decided_at
    establishment = db.session.scalar(select(Establishment).where(Establishment.siret == req.siret))
    assert (establishment.name, establishment.postcode, establishment.city, establishment.contact_email) == (
        "Chimie du Rhône SAS", "69007", "Lyon", "claire.dubois@chimie-rhone.fr")
    user = db.session.scalar(select(User).where(User.email == req.email))
    assert (user.role, user.establishment_id, user.first_name, user.last_name) == (
        "entreprise", establishment.id, "Claire", "Dubois")
    assert user.password_hash is None
    token = db.session.scalar(select(OneTimeToken).where(OneTimeToken.user_id == user.id))
    assert token.purpose == "set_password" and token.used_at is None
    assert (token.expires_at - token.created_at).days == 7
    message = mailbox.last_to(req.email)
    links = [link for link in mailbox.links_in(message) if "/mot-de-passe/" in link]
    assert len(links) == 1 and links[0].startswith("http://certifia.test/mot-de-passe/")
    raw = links[0].rsplit("/", 1)[1]
    assert len(raw) >= 43 and token.token_hash != raw and len(token.token_hash) == 64  # 32 bytes, stored hashed


def test_approving_twice_is_409_and_creates_nothing_more(client, secretary, request_form):
    req = _pending(request_form)
    url = f"/secretariat/demandes-de-compte/{req.id}"
    submit_form(client, f"{url}/approuver", {}, form_url=url)
    response = submit_form(client, f"{url}/approuver", {}, form_url=url)
    assert response.status_code == 409
    assert "déjà été traitée" in page_text(response)
    assert count(Establishment) == 1 and count(User) == 2


def test_approval_when_the_siret_got_an_establishment_meanwhile_is_refused(client, secretary, request_form):
    req = _pending(request_form)
    make_establishment("Créé par l'API", siret=req.siret)
    url = f"/secretariat/demandes-de-compte/{req.id}"
    assert "Un établissement existe déjà pour ce SIRET" in page_text(client.get(url))
    response = submit_form(client, f"{url}/approuver", {}, form_url=url)
    assert response.status_code == 409
    assert f"Un établissement existe déjà pour le SIRET {req.siret}" in page_text(response)
    db.session.refresh(req)
    assert req.status == "pending"  # nothing half-written: the decision was rolled back too
    assert count(User) == 1 and count(OneTimeToken) == 0


def test_concurrent_approval_loses_cleanly(app_ctx, request_form):
    secretary = make_user("secretariat")
    req = _pending(request_form)
    approve_account_request(req, secretary)
    db.session.commit()
    with pytest.raises(Conflict):
        approve_account_request(req, secretary)
    db.session.rollback()


def test_refusal_needs_a_reason(client, secretary, mailbox, request_form):
    req = _pending(request_form)
    mailbox.clear()
    url = f"/secretariat/demandes-de-compte/{req.id}"
    response = submit_form(client, f"{url}/refuser", {"reason": "   "}, form_url=url)
    assert response.status_code == 422
    html = page_text(response)
    assert "Indiquez le motif du refus" in html and 'id="reason-erreur"' in html
    db.session.refresh(req)
    assert req.status == "pending" and mailbox.messages == []


def test_refusal_emails_the_reason(client, secretary, mailbox, request_form):
    req = _pending(request_form)
    url = f"/secretariat/demandes-de-compte/{req.id}"
    response = submit_form(client, f"{url}/refuser", {"reason": "SIRET d'un établissement fermé."}, form_url=url)
    assert response.status_code == 302
    db.session.refresh(req)
    assert (req.status, req.refusal_reason) == ("refused", "SIRET d'un établissement fermé.")
    message = mailbox.last_to(req.email)
    assert "n'a pas été acceptée" in message["Subject"]
    assert "Motif : SIRET d'un établissement fermé." in mailbox.text_of(message)
    assert count(Establishment) == 0 + 0 and count(User) == 1
    # Decided: no more actions on the page.
    assert "/approuver" not in page_text(client.get(url))
    assert submit_form(client, f"{url}/approuver", {}, form_url=url).status_code == 409
