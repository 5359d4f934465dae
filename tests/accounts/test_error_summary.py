"""Every form error at once: a refused form opens on a summary (role="alert", a heading, a link to
each invalid field's id), and each message is also by its field (templates/macros/forms.html)."""

from __future__ import annotations

import re

from tests.accounts.conftest import page_text
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_user


def _summary(html: str) -> str:
    match = re.search(r'<div class="flash flash-error error-summary" role="alert" tabindex="-1" id="([\w-]*)resume-erreurs"'
                      r'.*?</div>', html, re.S)
    assert match, "pas de résumé des erreurs en haut du formulaire"
    return match.group(0)


def _links(summary: str) -> dict[str, str]:
    return {anchor: text for anchor, text in re.findall(r'<a href="#([\w-]+)">([^<]*)</a>', summary)}


def test_the_account_request_tells_every_mistake_at_once(client, request_form):
    data = request_form(siret="123", postcode="7500", phone="12", email="pas-une-adresse", city="",
                        contact_first_name="")
    response = submit_form(client, "/demande-de-compte", data)
    assert response.status_code == 422
    html = page_text(response)
    summary = _summary(html)
    links = _links(summary)
    assert set(links) == {"siret", "postcode", "city", "contact_first_name", "phone", "email"}
    assert links["siret"].startswith("SIRET de l'établissement : Le SIRET doit comporter 14 chiffres")
    assert links["city"] == "Ville : La ville est obligatoire."
    assert links["postcode"] == "Code postal : Le code postal doit comporter 5 chiffres."
    assert "corrigez ces 6 points" in summary and "<h2" in summary
    for field in links:  # each message also by its field, tied to it
        assert f'id="{field}-erreur"' in html and f'id="{field}"' in html


def test_an_empty_account_request_lists_every_required_field(client):
    response = submit_form(client, "/demande-de-compte", {})
    assert response.status_code == 422
    links = _links(_summary(page_text(response)))
    assert set(links) == {"siret", "establishment_name", "address", "postcode", "city", "contact_first_name",
                          "contact_last_name", "email", "phone"}


def test_the_login_summary_links_each_empty_field(client):
    response = submit_form(client, "/connexion", {"email": "", "password": ""})
    assert response.status_code == 422
    summary = _summary(page_text(response))
    assert _links(summary) == {"email": "Adresse email : Saisissez votre adresse email.",
                               "password": "Mot de passe : Saisissez votre mot de passe."}
    assert "corrigez ces 2 points" in summary


def test_a_wrong_password_is_a_message_of_the_whole_form(app_ctx, client):
    user = make_user("jury")
    summary = _summary(page_text(login(client, user.email, "mauvais mot de passe")))
    assert "Adresse email ou mot de passe incorrect." in summary and _links(summary) == {}
    assert "corrigez ce point" in summary


def test_the_password_change_summary_and_the_messages_by_the_fields(app_ctx, client, login_as):
    login_as(make_user("entreprise"))
    response = submit_form(client, "/mon-compte/mot-de-passe",
                           {"current_password": "", "password": "court", "confirm": "autre"}, form_url="/mon-compte")
    assert response.status_code == 422
    html = page_text(response)
    links = _links(_summary(html))
    assert set(links) == {"current_password", "password", "confirm"}
    assert links["password"].endswith("Le mot de passe doit contenir au moins 12 caractères.")
    assert 'id="password-erreur">Le mot de passe doit contenir au moins 12 caractères.' in html
    assert html.count('<h2 id="resume-erreurs-titre"') == 1  # only the posted form has one


def test_a_page_without_errors_has_no_summary(client):
    assert "error-summary" not in page_text(client.get("/connexion"))
    assert "error-summary" not in page_text(client.get("/demande-de-compte"))


def test_the_prefixed_colleague_form_links_to_its_own_ids(app_ctx, client, login_as):
    login_as(make_user("entreprise", password=PASSWORD))
    response = submit_form(client, "/mon-compte/collegues", {"collegue-email": "x"}, form_url="/mon-compte")
    links = _links(_summary(page_text(response)))
    assert set(links) == {"collegue-first_name", "collegue-last_name", "collegue-email"}
