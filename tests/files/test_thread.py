"""A thread per file (issue 13): messages between the company, the file's assessor and the secretariat; every
other role (the candidate, a jury member, another company, another assessor) gets a 404, and nothing is
written; each message emails the other parties; an attachment goes through the documents' checks."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from app.core.models import OutboxEmail
from app.extensions import db
from app.files.exchange_models import FileMessage
from app.files.models import FileStatus
from tests import factories
from tests.conftest import login, submit_form
from tests.files.conftest import EXE, PDF
from tests.files.test_correction_requests import plain

PARTIES = ("company", "assessor", "secretariat")
OUTSIDERS = ("candidate", "jury", "other_company", "other_assessor")


@pytest.fixture
def cast(app):
    """Everyone around one file registered to a jury: its parties and the outsiders."""
    with app.app_context():
        session = factories.make_session()
        file = factories.make_file(FileStatus.INSCRIPTION_JURY, session=session)
        jury = factories.make_user("jury")
        factories.sit_on(session, jury)
        candidate_user = factories.make_user("candidat")
        file.candidate.user_id = candidate_user.id
        db.session.commit()
        people = {
            "company": factories.make_user("entreprise", establishment=file.establishment),
            "assessor": file.assessor.user,
            "secretariat": factories.make_user("secretariat"),
            "candidate": candidate_user,
            "jury": jury,
            "other_company": factories.make_user("entreprise"),
            "other_assessor": factories.make_assessor().user,
        }
        return file.id, {role: plain(user) for role, user in people.items()}


def _messages() -> int:
    return db.session.scalar(select(func.count()).select_from(FileMessage))


@pytest.mark.parametrize("role", PARTIES)
def test_each_party_writes_and_the_others_are_emailed(app, api_as, mailbox, cast, role):
    file_id, people = cast
    author = people[role]
    answer = api_as(author).post(f"/files/{file_id}/messages", json={"body": f"Bonjour, ici {role}."})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["by"] == author.full_name and answer.get_json()["body"] == f"Bonjour, ici {role}."
    for other in PARTIES:
        received = mailbox.to(people[other].email)
        if other == role:
            assert received == []
        else:
            assert f"Bonjour, ici {role}." in mailbox.text_of(received[-1])
    for outsider in OUTSIDERS:
        assert mailbox.to(people[outsider].email) == []
    for reader in PARTIES:
        listed = api_as(people[reader]).get(f"/files/{file_id}/messages")
        assert listed.status_code == 200 and [m["body"] for m in listed.get_json()] == [f"Bonjour, ici {role}."]


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_get_404_both_ways_and_nothing_is_written(app, api_as, mailbox, cast, role):
    file_id, people = cast
    with app.app_context():
        factories.make_user("secretariat")  # someone who would be emailed
    api = api_as(people[role])
    assert api.get(f"/files/{file_id}/messages").status_code == 404
    posted = api.post(f"/files/{file_id}/messages", json={"body": "Je m'invite."})
    assert posted.status_code == 404 and "n'existe pas" in posted.get_json()["detail"]
    with app.app_context():
        assert _messages() == 0 and db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_the_job_assessor_has_no_account_and_no_access(app, client, cast):
    file_id, _people = cast
    assert client.get(f"/api/v1/files/{file_id}/messages").status_code == 401


def test_an_empty_message_is_422_naming_the_field(app, api_as, cast):
    file_id, people = cast
    for payload in ({}, {"body": ""}, {"body": "  "}, {"body": 12}):
        answer = api_as(people["company"]).post(f"/files/{file_id}/messages", json=payload)
        assert answer.status_code == 422 and "body" in answer.get_json()["errors"], payload
    with app.app_context():
        assert _messages() == 0


def test_an_attachment_is_checked_like_a_document_and_served_to_the_parties(app, api_as, cast):
    file_id, people = cast
    company = api_as(people["company"])
    refused = company.post(f"/files/{file_id}/messages", data={"body": "Le programme.",
                                                                "file": (BytesIO(EXE), "programme.pdf")},
                           content_type="multipart/form-data")
    assert refused.status_code == 422 and "file" in refused.get_json()["errors"]
    with app.app_context():
        assert _messages() == 0
    sent = company.post(f"/files/{file_id}/messages", data={"body": "Le diplôme rescanné.",
                                                             "file": (BytesIO(PDF), "diplome.pdf")},
                        content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    attachment = sent.get_json()["attachment"]
    assert attachment["filename"] == "diplome.pdf" and attachment["content_type"] == "application/pdf"
    url = attachment["url"].removeprefix("/api/v1")
    got = api_as(people["assessor"]).get(url)
    assert got.status_code == 200 and got.data == PDF
    assert api_as(people["other_company"]).get(url).status_code == 404
    assert api_as(people["candidate"]).get(url).status_code == 404


def test_the_thread_on_the_file_page(app, client, cast, mailbox):
    file_id, people = cast
    login(client, people["assessor"].email, factories.PASSWORD)
    page = f"/dossiers/{file_id}"
    empty = submit_form(client, f"{page}/messages", {"body": ""}, form_url=page)
    assert empty.status_code == 422 and "Le message est vide" in empty.get_data(as_text=True)
    sent = submit_form(client, f"{page}/messages", {"body": "Entretien déplacé au 12.",
                                                     "attachment": (BytesIO(PDF), "convocation.pdf")},
                       form_url=page, content_type="multipart/form-data")
    assert sent.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "Échanges sur le dossier" in html and "Entretien déplacé au 12." in html and "convocation.pdf" in html
    refused = submit_form(client, f"{page}/messages", {"body": "Un exécutable.",
                                                        "attachment": (BytesIO(EXE), "x.pdf")},
                          form_url=page, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Un exécutable." not in client.get(page).get_data(as_text=True)
    candidate = app.test_client()
    login(candidate, people["candidate"].email, factories.PASSWORD)
    seen = candidate.get(f"/candidat/dossiers/{file_id}").get_data(as_text=True)
    assert "Entretien déplacé au 12." not in seen and "Échanges sur le dossier" not in seen
