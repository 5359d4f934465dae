"""The habilitation cycle: a renewal request filed with its documents, granted with a new end date or refused
with a reason (emails both ways); reminders 9 months and 3 months before the end and on the last day, each once."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.core.clock import today
from app.core.errors import Conflict, RuleViolation, ValidationFailed
from app.core.mail import send_pending
from app.core.models import SentReminder
from app.extensions import db
from app.referential import habilitation
from app.referential.habilitation_models import HabilitationRenewal
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_assessor, make_user

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def pdf(name="piece.pdf", data=PDF):
    return FileStorage(stream=BytesIO(data), filename=name, content_type="application/pdf")


def every_document():
    return {kind: pdf(f"{kind}.pdf") for kind in habilitation.RENEWAL_DOCUMENTS}


@pytest.fixture
def ending(app_ctx, today_is):
    """An assessor whose habilitation ends on 2027-10-10, today 2027-03-01 (within the 9 months)."""
    today_is("2027-03-01")
    return make_assessor(until=date(2027, 10, 10))


@pytest.fixture
def secretary(app_ctx):
    return make_user("secretariat")


def test_request_then_grant_gives_the_new_end_date(ending, secretary, mailbox):
    renewal = habilitation.submit_renewal(ending.user, every_document(), "Toujours en activité.")
    db.session.commit()
    send_pending()
    assert f"/referentiel/renouvellements/{renewal.id}" in mailbox.text_of(mailbox.last_to(secretary.email))
    assert len(renewal.documents) == 3 and renewal.previous_until == date(2027, 10, 10)
    assert habilitation.proposed_until(renewal) == date(2031, 10, 10)
    habilitation.grant_renewal(renewal, secretary, date(2031, 10, 10))
    db.session.commit()
    db.session.refresh(ending)
    assert ending.habilitation_until == date(2031, 10, 10)
    assert renewal.status == "accordee" and renewal.decided_by_id == secretary.id
    send_pending()
    message = mailbox.last_to(ending.user.email)
    assert "renouvelée jusqu'au 10/10/2031" in message["Subject"] and "10 octobre 2031" in mailbox.text_of(message)


def test_refusal_needs_a_reason_and_keeps_the_end_date(ending, secretary, mailbox):
    renewal = habilitation.submit_renewal(ending.user, every_document())
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        habilitation.refuse_renewal(renewal, secretary, "  ")
    assert refused.value.errors == {"reason": ["Le motif du refus est obligatoire."]}
    habilitation.refuse_renewal(renewal, secretary, "Bilan d'activité illisible : à renvoyer.")
    db.session.commit()
    db.session.refresh(ending)
    assert ending.habilitation_until == date(2027, 10, 10) and renewal.status == "refusee"
    send_pending()
    assert "Motif : Bilan d'activité illisible" in mailbox.text_of(mailbox.last_to(ending.user.email))
    with pytest.raises(Conflict, match="déjà été examinée"):
        habilitation.grant_renewal(renewal, secretary, date(2031, 10, 10))
    again = habilitation.submit_renewal(ending.user, every_document())  # a new, completed request
    assert again.is_pending


def test_a_missing_or_wrong_document_is_named_and_nothing_is_written(ending):
    documents = every_document()
    documents.pop("bilan_activite")
    documents["attestations_formation"] = FileStorage(stream=BytesIO(b"MZ\x90\x00"), filename="virus.exe")
    with pytest.raises(ValidationFailed) as refused:
        habilitation.submit_renewal(ending.user, documents)
    errors = refused.value.errors
    assert errors["bilan_activite"] == ["Pièce manquante."]
    assert "Bilan d'activité d'évaluateur : pièce manquante." in refused.value.message
    assert "ni un PDF" in errors["attestations_formation"][0] and "dossier_administratif" not in errors
    db.session.rollback()
    assert db.session.query(HabilitationRenewal).count() == 0


def test_one_request_at_a_time_and_not_before_the_9_months(ending, today_is):
    habilitation.submit_renewal(ending.user, every_document())
    with pytest.raises(Conflict, match="déjà en cours d'examen"):
        habilitation.submit_renewal(ending.user, every_document())
    db.session.rollback()
    early = make_assessor(until=date(2028, 6, 30))
    with pytest.raises(RuleViolation, match="à partir du 30/09/2027"):
        habilitation.submit_renewal(early.user, every_document())


@pytest.mark.parametrize("until, message", [
    (None, "obligatoire"),
    (date(2027, 10, 10), "postérieure au 10/10/2027"),
    (date(2040, 1, 1), "plus de 10 ans"),
])
def test_the_new_end_date_is_checked(ending, secretary, until, message):
    renewal = habilitation.submit_renewal(ending.user, every_document())
    with pytest.raises(ValidationFailed) as refused:
        habilitation.grant_renewal(renewal, secretary, until)
    assert message in refused.value.errors["habilitation_until"][0]


# ---------------------------------------------------------------- reminders


def reminders(runner, mailbox, address):
    """What `flask reminders send` does for the habilitations: queue what is due today, commit, deliver."""
    mailbox.clear()
    habilitation.remind_habilitations(today())
    db.session.commit()
    send_pending()
    return mailbox.to(address)


def test_reminders_at_9_months_3_months_and_the_end_each_once(app_ctx, runner, mailbox, today_is):
    today_is("2027-01-09")
    assessor = make_assessor(until=date(2027, 10, 10))
    address = assessor.user.email
    assert reminders(runner, mailbox, address) == []
    for day, subject in (("2027-01-10", "pensez à la renouveler"), ("2027-07-10", "Rappel"),
                         ("2027-10-10", "arrive à échéance le 10/10/2027")):
        today_is(day)
        [message] = reminders(runner, mailbox, address)
        assert subject in message["Subject"]
        assert "/evaluateur/habilitation" in mailbox.text_of(message)
        assert reminders(runner, mailbox, address) == []  # once
    today_is("2027-10-11")
    assert reminders(runner, mailbox, address) == []
    assert db.session.query(SentReminder).filter_by(kind="habilitation_end").count() == 3


def test_a_pending_request_holds_the_3_month_reminder_and_a_grant_restarts_the_cycle(app_ctx, runner, mailbox,
                                                                                     today_is):
    today_is("2027-07-10")
    assessor = make_assessor(until=date(2027, 10, 10))
    secretary = make_user("secretariat")
    renewal = habilitation.submit_renewal(assessor.user, every_document())
    db.session.commit()
    assert reminders(runner, mailbox, assessor.user.email) == []
    habilitation.grant_renewal(db.session.get(HabilitationRenewal, renewal.id), secretary, date(2028, 1, 31))
    db.session.commit()
    send_pending()  # the decision's email
    today_is("2027-11-01")  # 3 months before the new end
    [message] = reminders(runner, mailbox, assessor.user.email)
    assert "31/01/2028" in message["Subject"]


def test_an_old_expiry_is_not_reminded_years_later(app_ctx, runner, mailbox, today_is):
    today_is("2027-03-01")
    assessor = make_assessor(until=date(2026, 1, 1))
    assert reminders(runner, mailbox, assessor.user.email) == []


# ---------------------------------------------------------------- pages


def signed_in(app, user):
    client = app.test_client()
    assert login(client, user.email, PASSWORD).status_code == 302
    return client


def test_the_assessor_files_a_request_and_the_secretariat_grants_it_on_the_pages(app, ending, secretary, mailbox):
    client = signed_in(app, ending.user)
    page = client.get("/evaluateur/habilitation")
    assert "Demander le renouvellement" in page.get_data(as_text=True)
    refused = submit_form(client, "/evaluateur/habilitation", {"message": "x"}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Pièce manquante." in refused.get_data(as_text=True)
    data = {kind: (BytesIO(PDF), f"{kind}.pdf") for kind in habilitation.RENEWAL_DOCUMENTS}
    sent = submit_form(client, "/evaluateur/habilitation", {**data, "message": "Merci"},
                       content_type="multipart/form-data")
    assert sent.status_code == 303
    html = client.get("/evaluateur/habilitation").get_data(as_text=True)
    assert "en cours d'examen" in html
    renewal = db.session.scalar(select(HabilitationRenewal))
    document = renewal.documents[0]
    assert client.get(f"/renouvellements/{renewal.id}/pieces/{document.id}").data == PDF
    other = make_assessor(until=date(2027, 10, 10))
    assert signed_in(app, other.user).get(f"/renouvellements/{renewal.id}/pieces/{document.id}").status_code == 404
    client = signed_in(app, secretary)
    listing = client.get("/referentiel/renouvellements").get_data(as_text=True)
    assert "1 demande à examiner" in listing and ending.name in listing
    url = f"/referentiel/renouvellements/{renewal.id}"
    assert 'value="2031-10-10"' in client.get(url).get_data(as_text=True)
    bad = submit_form(client, url, {"decision": "refuser", "refuser-reason": ""})
    assert bad.status_code == 422 and "Le motif du refus est obligatoire." in bad.get_data(as_text=True)
    granted = submit_form(client, url, {"decision": "accorder", "accorder-habilitation_until": "30/06/2031"})
    assert granted.status_code == 303
    db.session.refresh(ending)
    assert ending.habilitation_until == date(2031, 6, 30)


@pytest.mark.postgres_only
def test_two_simultaneous_requests_make_one_and_a_409(app, today_is):
    """The partial unique index decides between two requests filed at the same moment (each its own connection)."""
    import threading

    today_is("2027-03-01")
    with app.app_context():
        user_id = make_assessor(until=date(2027, 10, 10)).user.id
        db.session.remove()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def submit():
        start.wait(timeout=30)
        with app.app_context():
            from app.accounts.models import User

            try:
                habilitation.submit_renewal(db.session.get(User, user_id), every_document())
                db.session.commit()
                outcomes.append("created")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "created"]
    with app.app_context():
        assert db.session.query(HabilitationRenewal).count() == 1
