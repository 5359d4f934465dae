"""Secretariat pages of the referential: CQP list and edit, assessors list (habilitation end, CQPs,
9-month warning), create and edit an assessor."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts.models import OneTimeToken, User
from app.extensions import db
from app.referential.models import Assessor
from tests.accounts.conftest import page_text
from tests.conftest import submit_form
from tests.factories import get_cqp, make_assessor, make_user


@pytest.fixture
def secretary(app_ctx, login_as):
    user = make_user("secretariat")
    login_as(user)
    return user


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "jury", "partenaire", "candidat"])
def test_referential_pages_are_secretariat_only(app_ctx, client, login_as, role):
    assessor = make_assessor()
    login_as(make_user(role))
    for url in ("/referentiel/cqp", "/referentiel/cqp/FAB-OPF", "/referentiel/evaluateurs",
                "/referentiel/evaluateurs/nouveau", f"/referentiel/evaluateurs/{assessor.id}"):
        assert client.get(url).status_code == 403, url
    response = submit_form(client, "/referentiel/cqp/FAB-OPF", {"title": "Pirate", "domain": "X"}, form_url=f"/{role}")
    assert response.status_code == 403
    db.session.expire_all()
    assert get_cqp("FAB-OPF").title != "Pirate"


def test_nav_links_for_the_secretariat(client, secretary):
    html = page_text(client.get("/secretariat"))
    for href in ("/referentiel/cqp", "/referentiel/evaluateurs", "/secretariat/demandes-de-compte",
                 "/secretariat/utilisateurs", "/secretariat/emails-en-echec"):
        assert f'href="{href}"' in html


def test_cqp_list_links_to_each_cqp(client, secretary):
    html = page_text(client.get("/referentiel/cqp"))
    assert len(re.findall(r'href="/referentiel/cqp/[A-Z]+-[A-Z]+"', html)) == 13
    assert "Opérateur(trice) de fabrication des Industries Chimiques" in html


def _cqp_form(cqp, **changes) -> dict:
    data = {"title": cqp.title, "domain": cqp.domain, "active": "y"}
    for i, competence in enumerate(cqp.competences):
        data[f"competences-{i}-code"] = competence.code
        data[f"competences-{i}-title"] = competence.title
        if competence.active:
            data[f"competences-{i}-active"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_edit_a_cqp_and_its_competences(client, secretary):
    cqp = get_cqp("FAB-OPF")
    page = page_text(client.get("/referentiel/cqp/FAB-OPF"))
    assert cqp.competences[0].title in page and 'name="competences-0-title"' in page
    data = _cqp_form(cqp, title="Opérateur(trice) de fabrication (révisé)",
                     **{"competences-1-title": "Préparer les matières (révisé)", "competences-2-active": None})
    url = "/referentiel/cqp/FAB-OPF"
    response = submit_form(client, url, data)
    assert response.status_code == 302
    db.session.expire_all()
    cqp = get_cqp("FAB-OPF")
    assert cqp.title == "Opérateur(trice) de fabrication (révisé)"
    assert cqp.competences[1].title == "Préparer les matières (révisé)"
    assert cqp.competences[2].active is False and cqp.competences[0].active is True


def test_deactivate_a_cqp(client, secretary):
    cqp = get_cqp("COM-TCO")
    assert submit_form(client, "/referentiel/cqp/COM-TCO", _cqp_form(cqp, active=None)).status_code == 302
    db.session.expire_all()
    assert get_cqp("COM-TCO").active is False
    assert "Inactif" in page_text(client.get("/referentiel/cqp"))


def test_empty_competence_title_is_refused_on_its_row(client, secretary):
    cqp = get_cqp("FAB-OPF")
    before = cqp.competences[3].title
    response = submit_form(client, "/referentiel/cqp/FAB-OPF",
                           _cqp_form(cqp, title="Titre changé", **{"competences-3-title": "  "}))
    assert response.status_code == 422
    html = page_text(response)
    assert "L'intitulé de la compétence est obligatoire." in html and 'id="competences-3-title-erreur"' in html
    assert 'value="Titre changé"' in html
    db.session.expire_all()
    cqp = get_cqp("FAB-OPF")
    assert cqp.competences[3].title == before and cqp.title != "Titre changé"


def test_empty_cqp_title_is_refused(client, secretary):
    cqp = get_cqp("FAB-OPF")
    response = submit_form(client, "/referentiel/cqp/FAB-OPF", _cqp_form(cqp, title=""))
    assert response.status_code == 422
    assert "L'intitulé du CQP est obligatoire." in page_text(response)


def test_all_competences_off_on_an_active_cqp_is_refused(client, secretary):
    cqp = get_cqp("LOG-AGL")
    data = _cqp_form(cqp, **{f"competences-{i}-active": None for i in range(len(cqp.competences))})
    response = submit_form(client, "/referentiel/cqp/LOG-AGL", data)
    assert response.status_code == 422
    assert "au moins une compétence active" in page_text(response)
    db.session.expire_all()
    assert get_cqp("LOG-AGL").active_competences


def test_a_forged_competence_code_is_refused(client, secretary):
    cqp = get_cqp("FAB-OPF")
    response = submit_form(client, "/referentiel/cqp/FAB-OPF", _cqp_form(cqp, **{"competences-0-code": "C99"}))
    assert response.status_code == 422
    assert "n'appartient pas à ce CQP" in page_text(response)


def test_unknown_cqp_is_404(client, secretary):
    assert client.get("/referentiel/cqp/NOPE").status_code == 404


# ---------------------------------------------------------------- assessors


def test_assessor_list_shows_habilitation_cqps_and_the_9_month_warning(client, secretary, today_is):
    today_is("2027-03-12")
    make_assessor(email="bientot@exemple.fr", until=date(2027, 11, 30))
    make_assessor(email="tranquille@exemple.fr", until=date(2029, 1, 1), cqps=[get_cqp("FAB-OPF")])
    make_assessor(email="expire@exemple.fr", until=date(2027, 3, 1))
    html = page_text(client.get("/referentiel/evaluateurs"))
    rows = {m: html[html.index(m):html.index("</tr>", html.index(m))]
            for m in ("bientot@exemple.fr", "tranquille@exemple.fr", "expire@exemple.fr")}
    assert "30 novembre 2027" in rows["bientot@exemple.fr"] and "Fin dans moins de 9 mois" in rows["bientot@exemple.fr"]
    assert "Tous les CQP" in rows["bientot@exemple.fr"]
    assert "FAB-OPF" in rows["tranquille@exemple.fr"] and "moins de 9 mois" not in rows["tranquille@exemple.fr"]
    assert "Expirée" in rows["expire@exemple.fr"]
    assert "1 habilitation prend fin d'ici le 12 décembre 2027" in html


def test_create_an_assessor_emails_a_set_password_link(client, secretary, mailbox):
    response = submit_form(client, "/referentiel/evaluateurs/nouveau", {
        "email": "marc.lefevre@exemple.fr", "first_name": "Marc", "last_name": "Lefèvre",
        "organisation": "AFPI", "phone": "", "habilitation_until": "2029-06-30",
        "cqp_codes": ["FAB-OPF", "MNT-TMI"]})
    assert response.status_code == 302
    assessor = db.session.scalar(select(Assessor))
    assert assessor.user.role == "evaluateur" and assessor.habilitation_until == date(2029, 6, 30)
    assert sorted(c.code for c in assessor.cqps) == ["FAB-OPF", "MNT-TMI"]
    assert assessor.organisation == "AFPI" and assessor.phone is None
    message = mailbox.last_to("marc.lefevre@exemple.fr")
    assert any("/mot-de-passe/" in link for link in mailbox.links_in(message))


def test_assessor_form_accepts_a_french_date(client, secretary):
    response = submit_form(client, "/referentiel/evaluateurs/nouveau", {
        "email": "a@exemple.fr", "first_name": "A", "last_name": "B", "habilitation_until": "30/06/2029"})
    assert response.status_code == 302
    assert db.session.scalar(select(Assessor.habilitation_until)) == date(2029, 6, 30)


@pytest.mark.parametrize("field,value,message", [
    ("habilitation_until", "", "La date de fin d'habilitation est obligatoire"),
    ("habilitation_until", "31/02/2029", "date"),
    ("email", "pas-une-adresse", "L'adresse email n'est pas valide."),
    ("first_name", "", "Le prénom est obligatoire."),
    ("cqp_codes", ["NOPE"], "Le CQP « NOPE » n'existe pas dans le référentiel."),
])
def test_bad_assessor_input_is_named_and_nothing_is_written(client, secretary, mailbox, field, value, message):
    data = {"email": "a@exemple.fr", "first_name": "A", "last_name": "B", "habilitation_until": "2029-06-30",
            field: value}
    response = submit_form(client, "/referentiel/evaluateurs/nouveau", data)
    assert response.status_code == 422
    html = page_text(response)
    assert message in html and f'id="{field}-erreur"' in html
    assert db.session.scalar(select(func.count(Assessor.id))) == 0
    assert db.session.scalar(select(func.count(User.id))) == 1
    assert db.session.scalar(select(func.count(OneTimeToken.id))) == 0
    assert mailbox.messages == []


def test_duplicate_assessor_email_is_409(client, secretary):
    make_user("jury", email="a@exemple.fr")
    response = submit_form(client, "/referentiel/evaluateurs/nouveau", {
        "email": "a@exemple.fr", "first_name": "A", "last_name": "B", "habilitation_until": "2029-06-30"})
    assert response.status_code == 409
    assert "Un compte existe déjà pour l'adresse a@exemple.fr" in page_text(response)
    assert db.session.scalar(select(func.count(Assessor.id))) == 0


def test_edit_an_assessor(client, secretary):
    assessor = make_assessor(email="e@exemple.fr", cqps=[get_cqp("FAB-OPF")])
    url = f"/referentiel/evaluateurs/{assessor.id}"
    page = page_text(client.get(url))
    assert "e@exemple.fr" in page and 'value="FAB-OPF" checked' in page.replace('checked id', 'checked')\
        or 'checked' in page
    response = submit_form(client, url, {"first_name": "Éva", "last_name": "Renouvelée",
                                         "habilitation_until": "2031-12-31", "cqp_codes": ["LOG-AGL"], "active": "y"})
    assert response.status_code == 302
    db.session.refresh(assessor)
    assert assessor.habilitation_until == date(2031, 12, 31)
    assert [c.code for c in assessor.cqps] == ["LOG-AGL"]
    assert assessor.user.last_name == "Renouvelée" and assessor.user.email == "e@exemple.fr"


def test_edit_cannot_change_the_login_email(client, secretary):
    assessor = make_assessor(email="e@exemple.fr")
    url = f"/referentiel/evaluateurs/{assessor.id}"
    submit_form(client, url, {"email": "pirate@exemple.fr", "first_name": "A", "last_name": "B",
                              "habilitation_until": "2031-12-31", "active": "y"})
    db.session.refresh(assessor)
    assert assessor.user.email == "e@exemple.fr"


def test_edit_with_a_bad_date_keeps_the_old_one(client, secretary):
    assessor = make_assessor(until=date(2030, 1, 1))
    url = f"/referentiel/evaluateurs/{assessor.id}"
    response = submit_form(client, url, {"first_name": "A", "last_name": "B", "habilitation_until": "bientôt",
                                         "active": "y"})
    assert response.status_code == 422
    assert 'value="bientôt"' in page_text(response)
    db.session.refresh(assessor)
    assert assessor.habilitation_until == date(2030, 1, 1)


def test_unknown_assessor_is_404(client, secretary):
    assert client.get("/referentiel/evaluateurs/9999").status_code == 404
