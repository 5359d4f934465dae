"""R11: parchment numbers (unambiguous, unique, drawn again when taken), the one download for web and
API, the session's printing in batches and their dispatch; the public verification of a number
(page and API, no login, only once published, holder shown as « Prénom N. », unknown numbers said
so plainly, rate-limited)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from app.core.errors import Conflict, NotFound
from app.extensions import db
from app.files.models import FileStatus
from app.jury import decisions, parchments
from app.jury.models import Parchment, PrintRecord
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import decide, make_file

JURY_DAY = date(2027, 6, 15)


@pytest.fixture
def jury_session(secretariat, today_is):
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY)
    today_is(JURY_DAY)
    return jury_session


# ---------------------------------------------------------------- numbers


def test_parchment_numbers_are_unambiguous_and_unique(app_ctx):
    numbers = {parchments.new_parchment_number() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        assert re.fullmatch(r"CQP-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", number), number
        assert not set(number[4:]) & set("0O1IL")


def test_a_number_already_taken_is_drawn_again(jury_session, secretariat, monkeypatch):
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    other = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(other, secretariat, True)
    taken = other.parchment.number
    draws = iter([taken, taken, "CQP-ABCD-EFGH"])
    monkeypatch.setattr(parchments, "new_parchment_number", lambda: next(draws))
    decide(file, secretariat, True)
    assert file.parchment.number == "CQP-ABCD-EFGH"
    assert db.session.query(Parchment).count() == 2


# ---------------------------------------------------------------- download and printing


@pytest.fixture
def company_parchment(jury_session, secretariat):
    establishment = make_establishment()
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, establishment=establishment)
    decide(file, secretariat, [True, False, True])
    db.session.commit()
    return file, make_user("entreprise", establishment=establishment)


def test_the_secretariat_downloads_at_once_and_its_download_is_a_print(company_parchment, secretariat):
    file, _ = company_parchment
    data, filename = parchments.download_parchment(file, secretariat)
    assert data.startswith(b"%PDF") and filename == f"attestation-{file.parchment.number}.pdf"
    [record] = db.session.query(PrintRecord).all()
    assert (record.parchment_id, record.session_id, record.printed_by_id) == (
        file.parchment.id, file.jury_session_id, secretariat.id)


def test_the_company_downloads_once_published_and_prints_nothing(company_parchment, secretariat):
    file, company = company_parchment
    with pytest.raises(Conflict) as refused:
        parchments.download_parchment(file, company)
    assert "dont les résultats sont publiés" in refused.value.message and refused.value.errors == {
        "status": ["partiel"]}
    decisions.publish_session(file.jury_session, secretariat)
    data, _ = parchments.download_parchment(file, company)
    assert data.startswith(b"%PDF") and db.session.query(PrintRecord).count() == 0


def test_a_file_without_a_parchment_has_nothing_to_download(jury_session, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, False)
    with pytest.raises(Conflict):
        parchments.download_parchment(file, secretariat)


def test_a_session_is_printed_in_one_batch_then_marked_sent(jury_session, secretariat):
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(3)]
    decide(files[0], secretariat, True)
    decide(files[1], secretariat, [True, False, False])
    decide(files[2], secretariat, False)
    data, filename = parchments.print_session(jury_session, secretariat)
    assert data.startswith(b"%PDF") and filename == "parchemins-jury-2027-06-15.pdf"
    [batch] = parchments.print_batches(jury_session)
    assert (batch.count, batch.sent_at) == (2, None) and batch.batch
    assert parchments.mark_sent(jury_session, batch.batch, secretariat) == 2
    [batch] = parchments.print_batches(jury_session)
    assert batch.sent_at is not None
    with pytest.raises(NotFound):
        parchments.mark_sent(jury_session, "inconnu", secretariat)


def test_a_session_without_parchments_prints_nothing(jury_session, secretariat):
    decide(make_file(FileStatus.INSCRIPTION_JURY, session=jury_session), secretariat, False)
    assert parchments.print_session(jury_session, secretariat) is None
    assert parchments.print_batches(jury_session) == []


# ---------------------------------------------------------------- public verification


@pytest.fixture
def parchment(jury_session, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, [True, False, True])
    db.session.commit()
    return file.parchment, jury_session


def _publish(jury_session, secretariat):
    decisions.publish_session(jury_session, secretariat)
    db.session.commit()


def test_unpublished_number_is_unknown(parchment, client, api_as):
    number = parchment[0].number
    page = client.get(f"/verifier/{number}")
    assert page.status_code == 404 and "Numéro inconnu" in page.get_data(as_text=True)
    assert api_as(None).get(f"/verify/{number}").status_code == 404
    assert parchments.verify_number(number) is None


def test_published_number_is_confirmed_by_the_api(parchment, secretariat, api_as):
    record, jury_session = parchment
    _publish(jury_session, secretariat)
    response = api_as(None).get(f"/verify/{record.number}")
    assert response.status_code == 200
    file = record.file
    first, _, third = file.competences
    answer = dict(response.json)
    issued_at = answer.pop("issued_at")  # RFC 3339 with the offset of Paris (R15: the version's issue)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", issued_at), issued_at
    assert datetime.fromisoformat(issued_at).astimezone(UTC).replace(tzinfo=None) == \
        record.current_version.issued_at.replace(microsecond=0)
    assert answer == {
        "number": record.number, "kind": "attestation", "cqp_code": file.cqp.code, "cqp_title": file.cqp.title,
        "holder": f"{file.candidate.first_name} {file.candidate.last_name[0]}.", "decision": "partiel",
        "jury_date": "2027-06-15", "competences_validated": [first.code, third.code], "version": 1,
    }


def test_published_number_is_confirmed_by_the_page_without_login(parchment, secretariat, client):
    record, jury_session = parchment
    _publish(jury_session, secretariat)
    page = client.get(f"/verifier/{record.number.lower()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Numéro authentique" in html
    assert record.file.candidate.public_name in html and record.file.candidate.last_name not in html


def test_the_verification_says_what_anyone_may_know(parchment, secretariat):
    record, jury_session = parchment
    _publish(jury_session, secretariat)
    file = record.file
    verification = parchments.verify_number(f"  {record.number.lower()} ")
    assert (verification.number, verification.kind, verification.decision, verification.jury_date) == (
        record.number, "attestation", "partiel", JURY_DAY)
    assert verification.holder == file.candidate.public_name
    assert [(c.code, c.label) for c in verification.competences_validated] == [
        (c.code, c.title) for c in (file.competences[0], file.competences[2])]
    assert (verification.version, verification.issued_at) == (1, record.current_version.issued_at)


@pytest.mark.parametrize("typed", ["CQP-7K4M-QX2D", "cqp-7k4m-qx2d", "  CQP 7K4M QX2D ", "7K4MQX2D", "7k4m-qx2d",
                                   "cqp7k4mqx2d", "CQP-7K4M QX2D", "cqp.7k4m.qx2d"])
def test_a_number_is_normalised_however_it_is_typed(typed):
    assert parchments.normalize_number(typed) == "CQP-7K4M-QX2D"


@pytest.mark.parametrize("typed, kept", [("", ""), (None, ""), ("  abc ", "ABC"), ("CQP-0000-0000", "CQP-0000-0000"),
                                         ("7K4MQX2", "7K4MQX2"), ("XYZ7K4MQX2D", "XYZ7K4MQX2D")])
def test_what_is_no_number_is_only_trimmed(typed, kept):
    assert parchments.normalize_number(typed) == kept


def test_the_search_form_leads_to_the_canonical_number(client):
    response = client.get("/verifier?numero=+cqp+abcd+efgh+")
    assert response.status_code == 302 and response.headers["Location"].endswith("/verifier/CQP-ABCD-EFGH")
    response = client.get("/verifier?numero=abcdefgh")
    assert response.headers["Location"].endswith("/verifier/CQP-ABCD-EFGH")
    page = client.get("/verifier")
    assert page.status_code == 200 and 'action="/verifier"' in page.get_data(as_text=True)
    assert "field-error" not in page.get_data(as_text=True)


@pytest.mark.parametrize("query", ["?numero=", "?numero=+++"])
def test_an_empty_search_says_so_on_the_field(client, query):
    page = client.get(f"/verifier{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="numero-erreur"' in html and "Saisissez le numéro imprimé sur le parchemin" in html
    assert 'aria-invalid="true"' in html and 'href="#numero"' in html


def test_a_number_typed_in_the_address_is_normalised(parchment, secretariat, client):
    record, jury_session = parchment
    _publish(jury_session, secretariat)
    body = record.number[4:].replace("-", "").lower()
    page = client.get(f"/verifier/{body}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Numéro authentique : {record.number}" in html
    assert f'value="{record.number}"' in html


@pytest.mark.parametrize("old, new", [
    ("/verify/CQP-ABCD-EFGH", "/verifier/CQP-ABCD-EFGH"),
    ("/verify/cqp-abcd-efgh", "/verifier/CQP-ABCD-EFGH"),
    ("/verify?numero=+cqp-abcd-efgh+", "/verifier/CQP-ABCD-EFGH"),
    ("/verify", "/verifier"),
    ("/verify?numero=", "/verifier?numero="),
])
def test_the_old_addresses_redirect_permanently(client, old, new):
    response = client.get(old)
    assert response.status_code in (301, 308) and "/verifier" in response.headers["Location"]
    landed = client.get(old, follow_redirects=True)
    assert landed.status_code in (200, 404, 422)
    assert landed.request.full_path.rstrip("?") == new


def test_a_qr_code_printed_with_the_old_address_still_verifies(parchment, secretariat, client):
    record, jury_session = parchment
    _publish(jury_session, secretariat)
    page = client.get(f"http://certifia.test/verify/{record.number}", follow_redirects=True)
    assert page.status_code == 200 and f"Numéro authentique : {record.number}" in page.get_data(as_text=True)
    assert page.request.path == f"/verifier/{record.number}"


def test_the_api_normalises_the_number_the_same_way(parchment, secretariat, api_as):
    record, jury_session = parchment
    _publish(jury_session, secretariat)
    body = record.number[4:].replace("-", " ").lower()
    response = api_as(None).get(f"/verify/{body}")
    assert response.status_code == 200 and response.json["number"] == record.number


def test_verification_is_rate_limited(app, client):
    limit = int(app.config["VERIFY_RATE_LIMIT"].split()[0])
    statuses = [client.get("/verifier/CQP-AAAA-AAAA").status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [404] * limit and statuses[-1] == 429


# ---------------------------------------------------------------- printing again, reprint


def test_printing_again_records_only_what_was_never_printed_and_a_reprint_is_explicit(jury_session, secretariat):
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(2)]
    decide(files[0], secretariat, True)
    assert parchments.print_session(jury_session, secretariat) is not None
    assert parchments.print_session(jury_session, secretariat) is None
    assert db.session.query(PrintRecord).count() == 1
    decide(files[1], secretariat, [True, False, False])
    assert parchments.print_session(jury_session, secretariat) is not None
    assert db.session.query(PrintRecord).count() == 2
    data, filename = parchments.reprint_session(jury_session, secretariat)
    assert data.startswith(b"%PDF") and filename.endswith("-reimpression.pdf")
    prints = parchments.session_prints(jury_session)
    assert [(b.count, b.reprint) for b in prints.batches] == [(1, False), (1, False), (2, True)]
    assert prints.printed == {files[0].parchment.id, files[1].parchment.id} and prints.sent == set()
