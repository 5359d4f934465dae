"""R7 (registration until 21 days before the jury) and R8 (full or closed session → the next one
open with a seat; none → refusal), unregistering and withdrawing give the seat back."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import Conflict, RuleViolation
from app.extensions import db
from app.files import workflow
from app.files.models import FileStatus
from app.jury import services
from tests.factories import make_session, make_user
from tests.jury.helpers import make_file

JURY_DAY = date(2027, 6, 15)  # registration deadline: 2027-05-25


@pytest.fixture
def company_file(app_ctx, today_is):
    today_is("2027-05-01")
    file = make_file(FileStatus.VALIDATION_EVALUATION)
    return file, make_user("entreprise", establishment=file.establishment)


def test_deadline_is_jury_date_minus_21_days(app_ctx):
    assert make_session(on=JURY_DAY).registration_deadline == date(2027, 5, 25)


def test_registration_is_open_on_the_deadline_day(company_file, today_is):
    file, user = company_file
    session = make_session(on=JURY_DAY, capacity=2)
    today_is("2027-05-25")
    registration = services.register_to_jury(file, user, session)
    assert file.status == "inscription_jury"
    assert (file.jury_session_id, file.rolled_over, registration.rolled_over) == (session.id, False, False)
    assert session.seats_taken == 1


def test_day_after_the_deadline_goes_to_the_next_open_session(company_file, today_is):
    file, user = company_file
    closed = make_session(on=JURY_DAY)
    later = make_session(on=date(2027, 9, 20))
    today_is("2027-05-26")
    registration = services.register_to_jury(file, user, closed)
    assert registration.session.id == later.id and file.rolled_over is True
    assert file.requested_jury_session_id == closed.id
    assert closed.seats_taken == 0 and later.seats_taken == 1


def test_day_after_the_deadline_without_a_later_session_is_refused(company_file, today_is):
    file, user = company_file
    closed = make_session(on=JURY_DAY)
    today_is("2027-05-26")
    with pytest.raises(Conflict) as refused:
        services.register_to_jury(file, user, closed)
    assert "Aucune session de jury ouverte" in refused.value.message
    assert file.status == "validation_evaluation" and file.jury_session_id is None
    assert closed.seats_taken == 0


def test_full_session_sends_the_file_to_the_next_session_with_a_seat(company_file):
    file, user = company_file
    full = make_session(on=JURY_DAY, capacity=1, seats_taken=1)
    also_full = make_session(on=date(2027, 7, 1), capacity=1, seats_taken=1)
    free = make_session(on=date(2027, 9, 1), capacity=3)
    registration = services.register_to_jury(file, user, full)
    assert registration.session.id == free.id and registration.rolled_over
    assert (full.seats_taken, also_full.seats_taken, free.seats_taken) == (1, 1, 1)


def test_next_session_is_dated_after_the_one_asked(company_file):
    file, user = company_file
    earlier = make_session(on=date(2027, 6, 1), capacity=5)
    asked = make_session(on=JURY_DAY, capacity=1, seats_taken=1)
    later = make_session(on=date(2027, 10, 1), capacity=5)
    assert services.register_to_jury(file, user, asked).session.id == later.id
    assert earlier.seats_taken == 0


def test_without_a_session_asked_the_earliest_open_one_with_a_seat(company_file):
    file, user = company_file
    make_session(on=date(2027, 5, 20))  # deadline passed
    make_session(on=date(2027, 6, 1), capacity=1, seats_taken=1)  # full
    cancelled = make_session(on=date(2027, 6, 5))
    cancelled.cancelled_at = cancelled.created_at
    wanted = make_session(on=JURY_DAY)
    make_session(on=date(2027, 7, 1))
    registration = services.register_to_jury(file, user)
    assert registration.session.id == wanted.id and registration.rolled_over is False


def test_no_open_session_with_a_seat_is_refused_and_file_unchanged(company_file):
    file, user = company_file
    full = make_session(on=JURY_DAY, capacity=1, seats_taken=1)
    with pytest.raises(Conflict) as refused:
        services.register_to_jury(file, user)
    assert "Aucune session" in refused.value.message and "jury_session_id" in refused.value.errors
    assert file.status == "validation_evaluation" and file.jury_session_id is None
    assert full.seats_taken == 1


@pytest.mark.parametrize("status", [s for s in FileStatus if s != FileStatus.VALIDATION_EVALUATION])
def test_registration_needs_a_validated_evaluation(app_ctx, status):
    session = make_session(on=JURY_DAY)
    file = make_file(status, session=session if status != FileStatus.ABANDONNE else None)
    taken = session.seats_taken
    with pytest.raises(Conflict) as refused:
        services.register_to_jury(file, make_user("secretariat"), session)
    assert refused.value.errors["status"] == [status.value]
    assert file.status_label in refused.value.message
    db.session.refresh(session)
    assert session.seats_taken == taken


def test_unregistering_before_the_deadline_frees_the_seat(company_file, today_is):
    file, user = company_file
    session = make_session(on=JURY_DAY, capacity=1)
    services.register_to_jury(file, user, session)
    assert session.seats_left == 0
    today_is("2027-05-25")
    services.unregister_from_jury(file, user)
    assert file.status == "validation_evaluation" and file.jury_session_id is None
    assert session.seats_taken == 0


def test_unregistering_after_the_deadline_is_refused(company_file, today_is):
    file, user = company_file
    session = make_session(on=JURY_DAY)
    services.register_to_jury(file, user, session)
    today_is("2027-05-26")
    with pytest.raises(RuleViolation) as refused:
        services.unregister_from_jury(file, user)
    assert "25/05/2027" in refused.value.message
    assert file.status == "inscription_jury" and session.seats_taken == 1


def test_withdrawing_a_registered_file_frees_its_seat(company_file):
    file, user = company_file
    session = make_session(on=JURY_DAY, capacity=1)
    services.register_to_jury(file, user, session)
    workflow.fire(file, "withdraw", user, reason="Départ du salarié")
    db.session.refresh(session)
    assert file.status == "abandonne" and file.jury_session_id is None
    assert session.seats_taken == 0


def test_the_database_refuses_more_seats_than_capacity(app_ctx):
    from sqlalchemy.exc import IntegrityError

    session = make_session(capacity=1, seats_taken=1)
    session.seats_taken = 2
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
