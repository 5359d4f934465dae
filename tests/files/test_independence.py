"""Assessor independence (issue 13): an assessor declares their organisation (SIRET, on their account or by the
secretariat); one from the candidate's establishment or from the file's training organisation cannot be
confirmed on the file (French message naming the assessor, web and API, nothing written)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.errors import RuleViolation, ValidationFailed
from app.core.models import OutboxEmail
from app.extensions import db
from app.files import progress, services
from app.files.models import FileStatus
from app.referential import independence
from tests import factories
from tests.conftest import login, submit_form
from tests.files.test_correction_requests import plain


def _file_and_company(**kwargs):
    file = factories.make_file(**kwargs)
    company = factories.make_user("entreprise", establishment=file.establishment)
    return file, company


def _declare(assessor, siret: str) -> None:
    independence.declare_organisation(assessor, None, organisation_siret=siret, organisation="Organisme déclaré")
    db.session.commit()


@pytest.mark.parametrize("where", ["establishment", "training_org"])
def test_an_assessor_of_the_establishment_or_the_training_org_is_not_confirmed(app_ctx, where):
    file, company = _file_and_company()
    if where == "establishment":
        _declare(file.assessor, file.establishment.siret)
        expected = "l'établissement du candidat"
    else:
        file.training_org_siret = factories.valid_siret()
        db.session.commit()
        _declare(file.assessor, file.training_org_siret)
        expected = "l'organisme de formation du dossier"
    with pytest.raises(RuleViolation) as refused:
        services.confirm_assessor(file, company)
    message = refused.value.errors["assessor_id"][0]
    assert expected in message and file.assessor.name in message and "indépendance" in message
    assert file.status == FileStatus.EN_COURS_INSCRIPTION
    # The file page lists it among what the company must settle.
    assert any("indépendance" in m.text for m in progress.missing_items(file, company))


@pytest.mark.parametrize("declared", [None, "other"])
def test_an_independent_or_undeclared_assessor_is_confirmed(app_ctx, declared):
    file, company = _file_and_company()
    if declared:
        _declare(file.assessor, factories.valid_siret())
    services.confirm_assessor(file, company)
    assert file.status == FileStatus.EN_ATTENTE_EVALUATION


def test_api_confirm_is_422_naming_the_assessor_and_nothing_is_written(app, api_as, mailbox):
    with app.app_context():
        file, company = _file_and_company()
        _declare(file.assessor, file.establishment.siret)
        file_id, company = file.id, plain(company)
    answer = api_as(company).post(f"/files/{file_id}/confirm-assessor", json={})
    assert answer.status_code == 422
    problem = answer.get_json()
    assert "indépendance" in problem["errors"]["assessor_id"][0] and "SIRET" in problem["detail"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
        assert api_as(company).get(f"/files/{file_id}").get_json()["status"] == "en_cours_inscription"


def test_api_confirm_with_another_assessor_chosen_at_once_is_refused_too(app, api_as):
    with app.app_context():
        file, company = _file_and_company()
        insider = factories.make_assessor()
        _declare(insider, file.establishment.siret)
        file_id, company, insider_id = file.id, plain(company), insider.id
    answer = api_as(company).post(f"/files/{file_id}/confirm-assessor", json={"assessor_id": insider_id})
    assert answer.status_code == 422 and "indépendance" in answer.get_json()["errors"]["assessor_id"][0]


def test_web_confirm_shows_the_refusal(app, client):
    with app.app_context():
        file, company = _file_and_company()
        _declare(file.assessor, file.establishment.siret)
        file_id, company = file.id, plain(company)
    login(client, company.email, factories.PASSWORD)
    page = f"/dossiers/{file_id}"
    refused = submit_form(client, f"{page}/confirmer-evaluateur", {}, form_url=page)
    assert refused.status_code == 422 and "indépendance de l" in refused.get_data(as_text=True)


def test_an_invalid_siret_is_refused_naming_the_field(app_ctx):
    assessor = factories.make_assessor()
    with pytest.raises(ValidationFailed) as refused:
        independence.declare_organisation(assessor, None, organisation_siret="12345678901234")
    assert "organisation_siret" in refused.value.errors
    assert assessor.organisation_siret is None


def test_the_assessor_declares_on_their_page_and_the_secretariat_sees_it(app, client):
    with app.app_context():
        assessor = factories.make_assessor()
        secretariat = plain(factories.make_user("secretariat"))
        assessor_id, email, siret = assessor.id, assessor.user.email, factories.valid_siret()
    login(client, email, factories.PASSWORD)
    assert "Déclarer mon organisme" in client.get("/mon-compte").get_data(as_text=True)
    page = "/referentiel/mon-organisme"
    bad = submit_form(client, f"{page}/enregistrer", {"organisation": "Chimie SA", "organisation_siret": "123"},
                      form_url=page)
    assert bad.status_code == 422 and "SIRET" in bad.get_data(as_text=True)
    good = submit_form(client, f"{page}/enregistrer", {"organisation": "Chimie SA", "organisation_siret": siret},
                       form_url=page)
    assert good.status_code == 303
    secretary = app.test_client()
    login(secretary, secretariat.email, factories.PASSWORD)
    html = secretary.get(f"/referentiel/evaluateurs/{assessor_id}").get_data(as_text=True)
    assert "Organisme déclaré (indépendance)" in html and siret in html and "Chimie SA" in html


def test_the_secretariat_records_it_for_the_assessor(app, client):
    with app.app_context():
        assessor = factories.make_assessor()
        secretariat = plain(factories.make_user("secretariat"))
        assessor_id, siret = assessor.id, factories.valid_siret()
    login(client, secretariat.email, factories.PASSWORD)
    page = f"/referentiel/evaluateurs/{assessor_id}"
    refused = submit_form(client, f"{page}/organisme", {"organisation_siret": "abc"}, form_url=page,
                          follow_redirects=True)
    assert "SIRET" in refused.get_data(as_text=True)
    done = submit_form(client, f"{page}/organisme", {"organisation": "Lab", "organisation_siret": siret},
                       form_url=page)
    assert done.status_code == 303
    with app.app_context():
        from app.referential.models import Assessor

        assert db.session.get(Assessor, assessor_id).organisation_siret == siret


def test_api_declaration_by_the_assessor_and_the_secretariat(app, api_as):
    with app.app_context():
        assessor, other = factories.make_assessor(), factories.make_assessor()
        secretariat = plain(factories.make_user("secretariat"))
        ids = assessor.id, plain(assessor.user), other.id, factories.valid_siret()
    assessor_id, assessor_user, other_id, siret = ids
    mine = api_as(assessor_user).put(f"/assessors/{assessor_id}/organisation",
                                     json={"organisation_siret": siret, "organisation": "Chimie SA"})
    assert mine.status_code == 200 and mine.get_json()["organisation_siret"] == siret
    assert api_as(assessor_user).put(f"/assessors/{other_id}/organisation",
                                     json={"organisation_siret": siret}).status_code == 404
    bad = api_as(secretariat).put(f"/assessors/{other_id}/organisation", json={"organisation_siret": "42"})
    assert bad.status_code == 422 and "organisation_siret" in bad.get_json()["errors"]
    cleared = api_as(secretariat).put(f"/assessors/{assessor_id}/organisation", json={"organisation_siret": ""})
    assert cleared.status_code == 200 and cleared.get_json()["organisation_siret"] is None
