"""Files that stall (issue 13): an open file idle for STALLED_FILE_DAYS (60) is reminded to whoever must act, once;
at 120 days the company is offered « abandonner » or « relancer » (email once, banner with two buttons); nothing
is closed automatically; any activity starts the count again. A freed jury seat is offered first to the files
rolled over from that session, by email to their company, while its registration is open.

Run through `flask reminders send` over real SMTP, moving APP_TODAY."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.errors import Conflict
from app.extensions import db
from app.files import exchanges, stalled
from app.files.models import FileStatus
from app.jury import registration, seat_moves
from tests import factories
from tests.conftest import login, submit_form

START = date(2027, 4, 1)
STALLED = "sans activité depuis"


def send(runner, mailbox):
    mailbox.clear()
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    return result


def day(n: int) -> str:
    return (START + timedelta(days=n)).isoformat()


def subject(message) -> str:
    """The subject as written (the header may be folded on an accented word)."""
    return " ".join(message["Subject"].split())


def _stalled_emails(mailbox, address):
    return [m for m in mailbox.to(address) if STALLED in subject(m)]


def test_a_stalled_file_is_reminded_once_at_60_days_then_offered_once_at_120(app_ctx, runner, mailbox, today_is):
    today_is(day(0))
    file = factories.make_file(interview_date=START + timedelta(days=200))
    company = factories.make_user("entreprise", establishment=file.establishment)
    today_is(day(59))
    send(runner, mailbox)
    assert _stalled_emails(mailbox, company.email) == []
    today_is(day(60))
    send(runner, mailbox)
    [reminder] = _stalled_emails(mailbox, company.email)
    assert "60 jours" in subject(reminder) and "compléter la candidature" in mailbox.text_of(reminder)
    for later in (60, 61, 119):
        today_is(day(later))
        send(runner, mailbox)
        assert _stalled_emails(mailbox, company.email) == [], later
    today_is(day(120))
    send(runner, mailbox)
    [offer] = _stalled_emails(mailbox, company.email)
    assert "abandonner ou relancer" in subject(offer) and "relancer" in mailbox.text_of(offer)
    today_is(day(1000))
    send(runner, mailbox)
    assert _stalled_emails(mailbox, company.email) == []
    db.session.refresh(file)
    assert file.status == FileStatus.EN_COURS_INSCRIPTION  # nothing closed automatically


@pytest.mark.parametrize("status,who", [
    (FileStatus.EN_ATTENTE_EVALUATION, "assessor"),
    (FileStatus.VALIDATION_EVALUATION, "company"),
    (FileStatus.INSCRIPTION_JURY, "secretariat"),
])
def test_the_reminder_goes_to_whoever_must_act(app_ctx, runner, mailbox, today_is, status, who):
    today_is(day(0))
    session = factories.make_session(on=START + timedelta(days=30))
    file = factories.make_file(status, session=session)
    people = {"company": factories.make_user("entreprise", establishment=file.establishment),
              "assessor": file.assessor.user, "secretariat": factories.make_user("secretariat")}
    today_is(day(60))
    send(runner, mailbox)
    for role, user in people.items():
        assert len(_stalled_emails(mailbox, user.email)) == (1 if role == who else 0), role


def test_a_file_waiting_for_its_jury_date_is_not_stalled(app_ctx, runner, mailbox, today_is):
    today_is(day(0))
    session = factories.make_session(on=START + timedelta(days=90))
    file = factories.make_file(FileStatus.INSCRIPTION_JURY, session=session)
    secretariat = factories.make_user("secretariat")
    company = factories.make_user("entreprise", establishment=file.establishment)
    today_is(day(60))
    send(runner, mailbox)
    assert _stalled_emails(mailbox, secretariat.email) == [] and _stalled_emails(mailbox, company.email) == []


def test_an_open_correction_request_makes_it_the_companys_turn(app_ctx, runner, mailbox, today_is):
    today_is(day(0))
    file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION)
    company = factories.make_user("entreprise", establishment=file.establishment)
    exchanges.request_correction(file, factories.make_user("secretariat"), message="Le diplôme manque.")
    db.session.commit()
    today_is(day(60))
    send(runner, mailbox)
    [reminder] = _stalled_emails(mailbox, company.email)
    assert "répondre à la demande de correction" in mailbox.text_of(reminder)
    assert _stalled_emails(mailbox, file.assessor.user.email) == []


def test_activity_starts_the_count_again(app_ctx, runner, mailbox, today_is):
    today_is(day(0))
    file = factories.make_file(interview_date=START + timedelta(days=200))
    company = factories.make_user("entreprise", establishment=file.establishment)
    today_is(day(30))
    exchanges.post_message(file, factories.make_user("secretariat"), body="Où en est la candidature ?")
    db.session.commit()
    today_is(day(60))
    send(runner, mailbox)
    assert _stalled_emails(mailbox, company.email) == []
    assert stalled.idle_days(file) == 30
    today_is(day(90))
    send(runner, mailbox)
    assert len(_stalled_emails(mailbox, company.email)) == 1


def test_the_configured_delay_is_read(app, app_ctx, runner, mailbox, today_is, monkeypatch):
    monkeypatch.setitem(app.config, "STALLED_FILE_DAYS", 10)
    today_is(day(0))
    file = factories.make_file(interview_date=START + timedelta(days=200))
    company = factories.make_user("entreprise", establishment=file.establishment)
    today_is(day(10))
    send(runner, mailbox)
    assert len(_stalled_emails(mailbox, company.email)) == 1


def test_the_banner_relaunch_and_abandon(app, client, mailbox, today_is):
    today_is(day(0))
    with app.app_context():
        file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION)
        company = factories.make_user("entreprise", establishment=file.establishment)
        file_id, email, assessor_email = file.id, company.email, file.assessor.user.email
    login(client, email, factories.PASSWORD)
    page = f"/dossiers/{file_id}"
    today_is(day(119))
    assert "Relancer le dossier" not in client.get(page).get_data(as_text=True)
    today_is(day(120))
    html = client.get(page).get_data(as_text=True)
    assert "Dossier sans activité depuis 120 jours" in html and "Relancer le dossier" in html
    assert "Abandonner le dossier" in html
    mailbox.clear()
    relaunched = submit_form(client, f"{page}/relancer", {}, form_url=page)
    assert relaunched.status_code == 303
    assert "relance" in subject(mailbox.last_to(assessor_email)).lower()
    html = client.get(page).get_data(as_text=True)
    assert "Dossier sans activité" not in html and "Relance du dossier" in html
    with app.app_context():
        assert stalled.idle_days(db.session.get(type(file), file_id)) == 0


def test_relaunch_is_refused_on_an_active_file(app_ctx, today_is):
    today_is(day(0))
    file = factories.make_file()
    company = factories.make_user("entreprise", establishment=file.establishment)
    with pytest.raises(Conflict, match="60 jours"):
        stalled.relaunch(file, company)


# ---------------------------------------------------------------- a freed seat


def _full_session_and_rolled_over(today_is):
    today_is(day(0))
    wanted = factories.make_session(on=START + timedelta(days=60), capacity=1)
    later = factories.make_session(on=START + timedelta(days=120), capacity=5)
    seated = factories.make_file(FileStatus.VALIDATION_EVALUATION)
    waiting = factories.make_file(FileStatus.VALIDATION_EVALUATION)
    seated_company = factories.make_user("entreprise", establishment=seated.establishment)
    waiting_company = factories.make_user("entreprise", establishment=waiting.establishment)
    registration.register_to_jury(seated, seated_company, wanted)
    placed = registration.register_to_jury(waiting, waiting_company, wanted)
    db.session.commit()
    assert placed.rolled_over and waiting.jury_session_id == later.id
    return wanted, later, seated, waiting, seated_company, waiting_company


def test_a_freed_seat_is_offered_to_the_rolled_over_files_and_taken(app_ctx, mailbox, today_is):
    wanted, later, seated, waiting, seated_company, waiting_company = _full_session_and_rolled_over(today_is)
    mailbox.clear()
    from app.files import services

    services.withdraw(seated, seated_company, "Départ de l'entreprise")
    db.session.commit()
    from app.core.mail import send_pending

    send_pending()
    offer = mailbox.last_to(waiting_company.email)
    assert "place s'est libérée" in subject(offer) and waiting.candidate.full_name in mailbox.text_of(offer)
    assert mailbox.to(seated_company.email) == []
    seat_moves.take_freed_seat(waiting, waiting_company)
    db.session.commit()
    db.session.refresh(wanted)
    db.session.refresh(later)
    assert waiting.jury_session_id == wanted.id and not waiting.rolled_over
    assert wanted.seats_taken == 1 and later.seats_taken == 0
    assert waiting.history[-1].event == "take_freed_seat"
    with pytest.raises(Conflict):
        seat_moves.take_freed_seat(waiting, waiting_company)


def test_no_offer_once_the_registration_is_closed(app_ctx, mailbox, today_is):
    wanted, _later, seated, waiting, seated_company, waiting_company = _full_session_and_rolled_over(today_is)
    today_is((wanted.registration_deadline + timedelta(days=1)).isoformat())
    mailbox.clear()
    from app.files import services

    services.withdraw(seated, seated_company, "Départ de l'entreprise")
    db.session.commit()
    from app.core.mail import send_pending

    send_pending()
    assert mailbox.to(waiting_company.email) == []
    with pytest.raises(Conflict):
        seat_moves.take_freed_seat(waiting, waiting_company)


def test_the_seat_offer_banner_on_the_file_page(app, client, today_is):
    with app.app_context():
        wanted, _later, seated, waiting, seated_company, waiting_company = _full_session_and_rolled_over(today_is)
        from app.files import services

        services.withdraw(seated, seated_company, "Départ de l'entreprise")
        db.session.commit()
        file_id, email = waiting.id, waiting_company.email
    login(client, email, factories.PASSWORD)
    page = f"/dossiers/{file_id}"
    html = client.get(page).get_data(as_text=True)
    assert "Une place s'est libérée dans la session" in html
    taken = submit_form(client, f"/entreprise/dossiers/{file_id}/prendre-la-place", {}, form_url=page,
                        follow_redirects=True)
    assert "Le dossier est inscrit à la session du" in taken.get_data(as_text=True)
    assert "Une place s'est libérée" not in client.get(page).get_data(as_text=True)
