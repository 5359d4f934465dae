"""`flask reminders send`: each reminder is sent once, over real SMTP, and recorded."""

from __future__ import annotations

from datetime import date, datetime

from app.core.models import SentReminder
from app.extensions import db
from app.files.models import Evaluation, FileStatus, JobAssessorInvitation
from tests.factories import make_assessor, make_establishment, make_session, make_user
from tests.jury.helpers import make_file


def send(runner, mailbox):
    mailbox.clear()
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    return result


def twice(runner, mailbox, address):
    """Runs the command twice: the reminder reaches `address` once."""
    send(runner, mailbox)
    first = mailbox.to(address)
    send(runner, mailbox)
    assert len(first) == 1 and mailbox.to(address) == []
    return first[0]


def test_assessor_is_reminded_two_days_before_the_results_window_closes(app_ctx, runner, mailbox, today_is):
    today_is("2027-03-01")
    assessor = make_assessor()
    file = make_file(FileStatus.EN_ATTENTE_EVALUATION, assessor=assessor, interview_date=date(2027, 3, 2))
    db.session.add(Evaluation(file=file, interview_date=date(2027, 3, 2)))
    db.session.commit()
    today_is("2027-03-07")  # window closes 2027-03-10: too early
    send(runner, mailbox)
    assert mailbox.to(assessor.user.email) == []
    today_is("2027-03-08")
    message = twice(runner, mailbox, assessor.user.email)
    assert "10 mars 2027" in mailbox.text_of(message) and file.candidate.full_name in mailbox.text_of(message)


def test_assessor_with_every_result_in_is_not_reminded(app_ctx, runner, mailbox, today_is):
    today_is("2027-03-01")
    file = make_file(FileStatus.VALIDATION_EVALUATION)
    file.status = FileStatus.EN_ATTENTE_EVALUATION.value  # results all in, not yet submitted
    file.evaluation.interview_date = date(2027, 3, 1)
    db.session.commit()
    today_is("2027-03-08")
    send(runner, mailbox)
    assert mailbox.to(file.assessor.user.email) == []


def test_job_assessor_is_reminded_seven_days_after_an_unanswered_invitation(app_ctx, runner, mailbox, today_is):
    today_is("2027-03-01")
    file = make_file(FileStatus.EN_ATTENTE_EVALUATION)
    db.session.add(JobAssessorInvitation(file=file, email="metier@usine.fr", first_name="Jo", last_name="Métier",
                                         token_hash="a" * 64, created_at=datetime(2027, 3, 1, 9),
                                         expires_at=datetime(2027, 4, 1)))
    db.session.commit()
    today_is("2027-03-07")
    send(runner, mailbox)
    assert mailbox.to("metier@usine.fr") == []
    today_is("2027-03-08")
    message = twice(runner, mailbox, "metier@usine.fr")
    assert "observations" in mailbox.text_of(message)


def test_company_is_reminded_seven_days_before_a_registration_deadline(app_ctx, runner, mailbox, today_is):
    today_is("2027-05-01")
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    file = make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment)
    make_session(on=date(2027, 6, 15))  # deadline 2027-05-25
    today_is("2027-05-17")
    send(runner, mailbox)
    assert mailbox.to(company.email) == []
    today_is("2027-05-18")
    message = twice(runner, mailbox, company.email)
    text = mailbox.text_of(message)
    assert "25 mai 2027" in text and f"http://certifia.test/entreprise/dossiers/{file.id}/jury" in text


def test_secretariat_is_reminded_of_an_unpublished_session_after_48_hours(app_ctx, runner, mailbox, today_is):
    secretariat = make_user("secretariat")
    jury_session = make_session(on=date(2027, 6, 15))
    today_is("2027-06-16")
    send(runner, mailbox)
    assert mailbox.to(secretariat.email) == []
    today_is("2027-06-18")
    message = twice(runner, mailbox, secretariat.email)
    assert f"/secretariat/jurys/{jury_session.id}" in mailbox.text_of(message)


def test_assessor_is_reminded_nine_months_before_the_habilitation_ends(app_ctx, runner, mailbox, today_is):
    today_is("2027-01-10")
    soon = make_assessor(until=date(2027, 10, 10))
    later = make_assessor(until=date(2027, 10, 11))
    message = twice(runner, mailbox, soon.user.email)
    assert "10 octobre 2027" in mailbox.text_of(message)
    assert mailbox.to(later.user.email) == []
    assert db.session.query(SentReminder).filter_by(kind="habilitation_end").count() == 1


def test_company_is_not_reminded_of_a_full_cancelled_or_closed_session(app_ctx, runner, mailbox, today_is):
    today_is("2027-05-01")
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment)
    make_session(on=date(2027, 6, 15), capacity=1, seats_taken=1)  # full
    make_session(on=date(2027, 6, 16), cancelled_at=datetime(2027, 5, 1))
    make_session(on=date(2027, 6, 1))  # deadline 2027-05-11, passed by then
    today_is("2027-05-20")
    send(runner, mailbox)
    assert mailbox.to(company.email) == []
    today_is("2027-05-25")  # the deadline day of a session with seats
    make_session(on=date(2027, 6, 15))
    assert "25 mai 2027" in mailbox.text_of(twice(runner, mailbox, company.email))


# ---------------------------------------------------------------- the evaluation transmitted: ready for the jury


def test_the_company_is_told_when_the_evaluation_is_transmitted_with_the_next_open_sessions(
        app_ctx, runner, mailbox, today_is):
    from app.accounts.models import Role
    from app.files import evaluation
    from tests.files.conftest import TODAY, ready_to_submit

    today_is(TODAY.isoformat())
    establishment = make_establishment(contact_email="contact@chimie-pret.fr")
    company = make_user(Role.ENTREPRISE, establishment=establishment)
    assessor = make_assessor(until=date(2028, 1, 1))
    closed = make_session(on=date(2027, 3, 25))            # deadline 2027-03-04: past on the transmission day
    full = make_session(on=date(2027, 4, 20), capacity=1)
    full.seats_taken = 1
    first = make_session(on=date(2027, 4, 29), capacity=12, location="Lyon")
    second = make_session(on=date(2027, 6, 10), capacity=20, location="Paris")
    db.session.commit()
    file = ready_to_submit(company, assessor, today_is)      # the interview day, 2027-03-10
    send(runner, mailbox)
    mailbox.clear()
    evaluation.submit_evaluation(file, assessor.user)
    db.session.commit()
    send(runner, mailbox)
    for address in (company.email, "contact@chimie-pret.fr"):
        [message] = [m for m in mailbox.to(address) if "prêt pour l'inscription au jury" in str(m["Subject"])]
    body = mailbox.text_of(message)
    assert file.candidate.full_name in str(message["Subject"]) and "FAB-OPF" in str(message["Subject"])
    assert "29 avril 2027 (Lyon) : inscriptions jusqu'au 8 avril 2027, 12 places restantes" in body
    assert "10 juin 2027 (Paris) : inscriptions jusqu'au 20 mai 2027, 20 places restantes" in body
    assert "25 mars 2027" not in body and "20 avril 2027" not in body  # closed, full
    assert f"http://certifia.test/entreprise/dossiers/{file.id}/jury" in mailbox.links_in(message)
    assert closed.id and full.id and first.id and second.id
    assert mailbox.to(assessor.user.email) == [] or all(
        "prêt pour l'inscription" not in str(m["Subject"]) for m in mailbox.to(assessor.user.email))


def test_without_an_open_session_the_email_points_to_the_calendar(app_ctx, runner, mailbox, today_is):
    from app.accounts.models import Role
    from app.files import evaluation
    from tests.files.conftest import TODAY, ready_to_submit

    today_is(TODAY.isoformat())
    company = make_user(Role.ENTREPRISE)
    assessor = make_assessor(until=date(2028, 1, 1))
    file = ready_to_submit(company, assessor, today_is)
    evaluation.submit_evaluation(file, assessor.user)
    db.session.commit()
    send(runner, mailbox)
    [message] = [m for m in mailbox.to(company.email) if "prêt pour l'inscription au jury" in str(m["Subject"])]
    body = mailbox.text_of(message)
    assert "Aucune session n'est ouverte aux inscriptions" in body and "http://certifia.test/entreprise/jurys" in body
