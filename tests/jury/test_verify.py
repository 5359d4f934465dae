"""Public verification of a parchment number: page and API, no login, only once published,
holder shown as « Prénom N. », unknown numbers said so plainly, rate-limited."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.files.models import FileStatus
from app.jury import services
from tests.factories import make_session
from tests.jury.helpers import decide, make_file


@pytest.fixture
def parchment(secretariat, today_is):
    today_is("2027-05-01")
    session = make_session(on=date(2027, 6, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=session)
    today_is("2027-06-15")
    decide(file, secretariat, [True, False, True])
    db.session.commit()
    return file.parchment, session


def _publish(session, secretariat):
    services.publish_session(session, secretariat)
    db.session.commit()


def test_unpublished_number_is_unknown(parchment, client, api_as):
    number = parchment[0].number
    page = client.get(f"/verify/{number}")
    assert page.status_code == 404 and "Numéro inconnu" in page.get_data(as_text=True)
    assert api_as(None).get(f"/verify/{number}").status_code == 404


def test_published_number_is_confirmed_by_the_api(parchment, secretariat, api_as):
    record, session = parchment
    _publish(session, secretariat)
    response = api_as(None).get(f"/verify/{record.number}")
    assert response.status_code == 200
    file = record.file
    first, _, third = file.competences
    assert response.json == {
        "number": record.number, "kind": "attestation", "cqp_code": file.cqp.code, "cqp_title": file.cqp.title,
        "holder": f"{file.candidate.first_name} {file.candidate.last_name[0]}.", "decision": "partiel",
        "jury_date": "2027-06-15", "competences_validated": [first.code, third.code],
    }


def test_published_number_is_confirmed_by_the_page_without_login(parchment, secretariat, client):
    record, session = parchment
    _publish(session, secretariat)
    page = client.get(f"/verify/{record.number.lower()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Numéro authentique" in html
    assert record.file.candidate.public_name in html and record.file.candidate.last_name not in html


def test_the_search_form_leads_to_the_number(client):
    response = client.get("/verify?numero=+cqp-abcd-efgh+")
    assert response.status_code == 302 and response.headers["Location"].endswith("/verify/CQP-ABCD-EFGH")
    assert client.get("/verify").status_code == 200


@pytest.mark.parametrize("number", ["CQP-0000-0000", "n'importe quoi", "x" * 300])
def test_unknown_numbers_say_so_without_error(client, api_as, number):
    page = client.get(f"/verify/{number}")
    assert page.status_code == 404 and "Numéro inconnu" in page.get_data(as_text=True)
    response = api_as(None).get(f"/verify/{number}")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert "inconnu" in response.json["detail"]


def test_verification_is_rate_limited(app, client):
    limit = int(app.config["VERIFY_RATE_LIMIT"].split()[0])
    statuses = [client.get("/verify/CQP-AAAA-AAAA").status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [404] * limit and statuses[-1] == 429
