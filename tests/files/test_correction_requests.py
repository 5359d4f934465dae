"""Correction requests (issue 13, API « Exchanges on a file »): the secretariat or the file's assessor asks the
company to correct something; every workflow event but `withdraw` is refused (409 naming the request) until the
company answers; both sides are emailed; the history keeps request and answer; bad input changes nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.models import OutboxEmail
from app.extensions import db
from app.files import exchanges, workflow
from app.files.exchange_models import CorrectionRequest
from app.files.models import FileStatus, StatusChange
from tests import factories
from tests.conftest import login, submit_form

# Every event of the machine but withdraw: a new event is covered as soon as it exists.
BLOCKED_EVENTS = sorted(set(workflow.machine.events) - {"withdraw"})


def _source_status(event: str) -> FileStatus:
    return FileStatus(next(iter(workflow.machine.events[event].transitions)))


def _people(file):
    company = factories.make_user("entreprise", establishment=file.establishment)
    secretariat = factories.make_user("secretariat")
    return company, secretariat


def plain(user) -> SimpleNamespace:
    """What the tests read of a user once its session is gone."""
    return SimpleNamespace(id=user.id, email=user.email, full_name=user.full_name)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("event", BLOCKED_EVENTS)
def test_an_open_request_refuses_every_event_but_withdraw_naming_the_request(app_ctx, event):
    file = factories.make_file(_source_status(event))
    company, secretariat = _people(file)
    request = exchanges.request_correction(file, secretariat, message="Le diplôme scanné est illisible.")
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        workflow.fire(file, event, company, reason="x", results={}, session=file.jury_session)
    assert f"demande de correction n° {request.id}" in refused.value.message
    assert "Le diplôme scanné est illisible." in refused.value.message
    assert refused.value.errors["correction_request"]
    assert file.status == _source_status(event).value


@pytest.mark.parametrize("status", [s for s in FileStatus if not s.is_final])
def test_withdraw_stays_possible_while_a_request_is_open(app_ctx, status):
    file = factories.make_file(status)
    company, secretariat = _people(file)
    exchanges.request_correction(file, secretariat, message="Merci de vérifier la date de naissance.")
    workflow.fire(file, "withdraw", company, reason="Départ de l'entreprise")
    assert file.status == FileStatus.ABANDONNE


def test_once_answered_the_file_moves_on(app_ctx):
    file = factories.make_file()
    company, secretariat = _people(file)
    request = exchanges.request_correction(file, secretariat, message="Le SIRET de l'organisme est faux.",
                                           fields=["training_org_siret"])
    exchanges.resolve_correction(file, company, request.id, message="Corrigé : le bon SIRET est saisi.")
    workflow.fire(file, "confirm_assessor", company)
    assert file.status == FileStatus.EN_ATTENTE_EVALUATION
    events = [h.event for h in file.history]
    assert events == ["correction_request", "correction_answer", "confirm_assessor"]
    assert [h.comment for h in file.history[:2]] == ["Le SIRET de l'organisme est faux.",
                                                      "Corrigé : le bon SIRET est saisi."]
    assert all(h.from_status == h.to_status == "en_cours_inscription" and h.stay_seconds is None
               for h in file.history[:2])


# ---------------------------------------------------------------- the API


def test_api_request_answers_201_and_the_file_shows_it_and_the_company_is_emailed(app, api_as, mailbox):
    with app.app_context():
        file = factories.make_file()
        company, secretariat = map(plain, _people(file))
        file_id = file.id
    answer = api_as(secretariat).post(f"/files/{file_id}/correction-requests",
                                      json={"message": "Le nom de naissance est mal orthographié.",
                                            "fields": ["last_name"]})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert set(body) >= {"id", "message", "by", "at"} and body["message"] == "Le nom de naissance est mal orthographié."
    assert body["by"] == secretariat.full_name and body["fields"] == ["last_name"] and body["open"] is True
    shown = api_as(company).get(f"/files/{file_id}").get_json()["correction_request"]
    assert shown["id"] == body["id"] and shown["message"] == body["message"]
    email = mailbox.last_to(company.email)
    assert "correction demandée" in email["Subject"].lower()
    assert "Le nom de naissance est mal orthographié." in mailbox.text_of(email)
    assert "Nom de naissance du candidat" in mailbox.text_of(email)

    refused = api_as(company).post(f"/files/{file_id}/confirm-assessor", json={})
    assert refused.status_code == 409
    assert f"demande de correction n° {body['id']}" in refused.get_json()["detail"]

    resolved = api_as(company).post(f"/files/{file_id}/correction-requests/{body['id']}/resolve",
                                    json={"message": "Nom corrigé."})
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["answer"] == "Nom corrigé." and resolved.get_json()["open"] is False
    assert api_as(company).get(f"/files/{file_id}").get_json()["correction_request"] is None
    reply = mailbox.last_to(secretariat.email)
    assert "Nom corrigé." in mailbox.text_of(reply)
    assert api_as(company).post(f"/files/{file_id}/confirm-assessor", json={}).status_code == 200
    history = api_as(company).get(f"/files/{file_id}").get_json()["history"]
    assert [h["event"] for h in history] == ["correction_request", "correction_answer", "confirm_assessor"]


@pytest.mark.parametrize("payload", [{}, {"message": ""}, {"message": "   "}, {"message": None}])
def test_api_request_without_message_is_422_naming_it_and_writes_nothing(app, api_as, mailbox, payload):
    with app.app_context():
        file = factories.make_file()
        _company, secretariat = map(plain, _people(file))
        file_id = file.id
    answer = api_as(secretariat).post(f"/files/{file_id}/correction-requests", json=payload)
    assert answer.status_code == 422
    problem = answer.get_json()
    assert "message" in problem["errors"] and "obligatoire" in problem["detail"]
    with app.app_context():
        assert _count(CorrectionRequest) == 0 and _count(StatusChange) == 0 and _count(OutboxEmail) == 0


def test_api_unknown_field_is_422_naming_it(app, api_as):
    with app.app_context():
        file = factories.make_file()
        _company, secretariat = map(plain, _people(file))
        file_id = file.id
    answer = api_as(secretariat).post(f"/files/{file_id}/correction-requests",
                                      json={"message": "À revoir.", "fields": ["pointure"]})
    assert answer.status_code == 422 and "pointure" in answer.get_json()["errors"]["fields"][0]
    with app.app_context():
        assert _count(CorrectionRequest) == 0


def test_api_answer_without_message_is_422_and_the_request_stays_open(app, api_as):
    with app.app_context():
        file = factories.make_file()
        company, secretariat = _people(file)
        request = exchanges.request_correction(file, secretariat, message="Scan illisible.")
        db.session.commit()
        file_id, request_id, company = file.id, request.id, plain(company)
    answer = api_as(company).post(f"/files/{file_id}/correction-requests/{request_id}/resolve", json={"message": ""})
    assert answer.status_code == 422 and "message" in answer.get_json()["errors"]
    with app.app_context():
        assert db.session.get(CorrectionRequest, request_id).is_open


def test_a_second_request_while_one_is_open_is_409_naming_the_first(app_ctx):
    file = factories.make_file()
    _company, secretariat = _people(file)
    first = exchanges.request_correction(file, secretariat, message="Premier point.")
    with pytest.raises(Conflict, match=f"n° {first.id}"):
        exchanges.request_correction(file, secretariat, message="Second point.")


def test_an_answered_request_cannot_be_answered_again(app_ctx):
    file = factories.make_file()
    company, secretariat = _people(file)
    request = exchanges.request_correction(file, secretariat, message="Point.")
    exchanges.resolve_correction(file, company, request.id, message="Fait.")
    with pytest.raises(Conflict, match="déjà reçu sa réponse"):
        exchanges.resolve_correction(file, company, request.id, message="Encore.")


def test_the_files_assessor_may_ask_and_gets_the_answer(app, api_as, mailbox):
    with app.app_context():
        file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION)
        company = plain(factories.make_user("entreprise", establishment=file.establishment))
        assessor_user, file_id = plain(file.assessor.user), file.id
    created = api_as(assessor_user).post(f"/files/{file_id}/correction-requests",
                                         json={"message": "Le dossier de candidature n'est pas signé."})
    assert created.status_code == 201
    api_as(company).post(f"/files/{file_id}/correction-requests/{created.get_json()['id']}/resolve",
                         json={"message": "Version signée déposée dans les échanges."})
    assert "Version signée" in mailbox.text_of(mailbox.last_to(assessor_user.email))


def test_who_may_not_ask(app, api_as):
    with app.app_context():
        file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION)
        company = plain(factories.make_user("entreprise", establishment=file.establishment))
        other_assessor = plain(factories.make_assessor().user)
        other_company = plain(factories.make_user("entreprise"))
        file_id = file.id
    payload = {"message": "Point."}
    assert api_as(company).post(f"/files/{file_id}/correction-requests", json=payload).status_code == 403
    assert api_as(other_company).post(f"/files/{file_id}/correction-requests", json=payload).status_code == 403
    assert api_as(other_assessor).post(f"/files/{file_id}/correction-requests", json=payload).status_code == 404
    with app.app_context():
        assert _count(CorrectionRequest) == 0


def test_only_the_files_company_answers(app_ctx):
    file = factories.make_file()
    _company, secretariat = _people(file)
    other_company = factories.make_user("entreprise")
    request = exchanges.request_correction(file, secretariat, message="Point.")
    with pytest.raises(NotFound):
        exchanges.resolve_correction(file, other_company, request.id, message="Réponse.")
    with pytest.raises(Conflict):
        exchanges.resolve_correction(file, secretariat, request.id, message="Réponse.")


def test_no_request_on_an_abandoned_file(app_ctx):
    file = factories.make_file(FileStatus.ABANDONNE)
    _company, secretariat = _people(file)
    with pytest.raises(Conflict, match="abandonné"):
        exchanges.request_correction(file, secretariat, message="Point.")


def test_service_refuses_an_empty_message_naming_the_field(app_ctx):
    file = factories.make_file()
    _company, secretariat = _people(file)
    with pytest.raises(ValidationFailed) as refused:
        exchanges.request_correction(file, secretariat, message="  ")
    assert "message" in refused.value.errors


# ---------------------------------------------------------------- the pages


def test_web_banner_answer_and_refused_step(app, client, login_as, mailbox):
    with app.app_context():
        file = factories.make_file()
        company, secretariat = map(plain, _people(file))
        file_id = file.id
    login_as(secretariat)
    page = f"/dossiers/{file_id}"
    empty = submit_form(client, f"{page}/corrections", {"message": ""}, form_url=page)
    assert empty.status_code == 422 and "Le message de la demande de correction est obligatoire" in empty.get_data(
        as_text=True)
    sent = submit_form(client, f"{page}/corrections", {"message": "Le diplôme est illisible.", "fields": "diplome"},
                       form_url=page)
    assert sent.status_code == 303
    client = app.test_client()
    login(client, company.email, factories.PASSWORD)
    html = client.get(page).get_data(as_text=True)
    assert "Correction demandée" in html and "Le diplôme est illisible." in html and "Diplôme" in html
    assert "À vous : répondre à la demande de correction" in html
    refused = submit_form(client, f"{page}/confirmer-evaluateur", {}, form_url=page)
    assert refused.status_code == 409 and "demande de correction n°" in refused.get_data(as_text=True)
    with app.app_context():
        request_id = db.session.scalar(select(CorrectionRequest.id))
    answered = submit_form(client, f"{page}/corrections/{request_id}/reponse", {"message": "Diplôme rescanné."},
                           form_url=page)
    assert answered.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "Correction demandée" not in html and "Réponse à la demande de correction" in html
    assert "Diplôme rescanné." in mailbox.text_of(mailbox.last_to(secretariat.email))


def test_api_registration_and_decision_are_409_and_no_seat_is_taken(app, api_as):
    """Through the jury's endpoints: the seat taken before the refused transition is given back (rolled back)."""
    from app.jury.models import JurySession

    with app.app_context():
        session = factories.make_session(capacity=3)
        ready = factories.make_file(FileStatus.VALIDATION_EVALUATION)
        registered = factories.make_file(FileStatus.INSCRIPTION_JURY, session=session)
        secretariat = factories.make_user("secretariat")
        company = plain(factories.make_user("entreprise", establishment=ready.establishment))
        for file in (ready, registered):
            exchanges.request_correction(file, secretariat, message="Pièce manquante.")
        db.session.commit()
        ids = ready.id, registered.id, session.id, db.session.get(JurySession, session.id).seats_taken
        codes = [c.code for c in registered.competences]
        secretariat = plain(secretariat)
    ready_id, registered_id, session_id, seats = ids
    refused = api_as(company).post(f"/files/{ready_id}/register-jury", json={"jury_session_id": session_id})
    assert refused.status_code == 409 and "demande de correction n°" in refused.get_json()["detail"]
    with app.app_context():
        assert db.session.get(JurySession, session_id).seats_taken == seats
    decided = api_as(secretariat).post(f"/files/{registered_id}/decision", json={
        "results": [{"competence_code": code, "validated": True} for code in codes]})
    assert decided.status_code == 409 and "demande de correction n°" in decided.get_json()["detail"]
    unregistered = api_as(secretariat).post(f"/files/{registered_id}/unregister-jury")
    assert unregistered.status_code == 409 and "demande de correction n°" in unregistered.get_json()["detail"]
    with app.app_context():
        assert db.session.get(JurySession, session_id).seats_taken == seats
