"""R7 (registration until 21 days before the jury) and R8 (full or closed session → the next one
open with a seat; none → refusal, never more seats than capacity, even under concurrent
registrations), unregistering and withdrawing give the seat back."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.clock import today
from app.core.errors import Conflict, RuleViolation
from app.extensions import db
from app.files import workflow
from app.files.models import CandidateFile, FileStatus
from app.jury import registration
from app.jury.models import JurySession
from tests.factories import make_establishment, make_session, make_user
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
    jury_session = make_session(on=JURY_DAY, capacity=2)
    today_is("2027-05-25")
    placed = registration.register_to_jury(file, user, jury_session)
    assert file.status == "inscription_jury"
    assert (file.jury_session_id, file.rolled_over, placed.rolled_over) == (jury_session.id, False, False)
    assert jury_session.seats_taken == 1


def test_day_after_the_deadline_goes_to_the_next_open_session(company_file, today_is):
    file, user = company_file
    closed = make_session(on=JURY_DAY)
    later = make_session(on=date(2027, 9, 20))
    today_is("2027-05-26")
    placed = registration.register_to_jury(file, user, closed)
    assert placed.jury_session.id == later.id and file.rolled_over is True
    assert file.requested_jury_session_id == closed.id
    assert closed.seats_taken == 0 and later.seats_taken == 1


def test_day_after_the_deadline_without_a_later_session_is_refused(company_file, today_is):
    file, user = company_file
    closed = make_session(on=JURY_DAY)
    today_is("2027-05-26")
    with pytest.raises(Conflict) as refused:
        registration.register_to_jury(file, user, closed)
    assert "Aucune session de jury ouverte" in refused.value.message
    assert file.status == "validation_evaluation" and file.jury_session_id is None
    assert closed.seats_taken == 0


def test_full_session_sends_the_file_to_the_next_session_with_a_seat(company_file):
    file, user = company_file
    full = make_session(on=JURY_DAY, capacity=1, seats_taken=1)
    also_full = make_session(on=date(2027, 7, 1), capacity=1, seats_taken=1)
    free = make_session(on=date(2027, 9, 1), capacity=3)
    placed = registration.register_to_jury(file, user, full)
    assert placed.jury_session.id == free.id and placed.rolled_over
    assert (full.seats_taken, also_full.seats_taken, free.seats_taken) == (1, 1, 1)


def test_next_session_is_dated_after_the_one_asked(company_file):
    file, user = company_file
    earlier = make_session(on=date(2027, 6, 1), capacity=5)
    asked = make_session(on=JURY_DAY, capacity=1, seats_taken=1)
    later = make_session(on=date(2027, 10, 1), capacity=5)
    assert registration.register_to_jury(file, user, asked).jury_session.id == later.id
    assert earlier.seats_taken == 0


def test_without_a_session_asked_the_earliest_open_one_with_a_seat(company_file):
    file, user = company_file
    make_session(on=date(2027, 5, 20))  # deadline passed
    make_session(on=date(2027, 6, 1), capacity=1, seats_taken=1)  # full
    cancelled = make_session(on=date(2027, 6, 5))
    cancelled.cancelled_at = cancelled.created_at
    wanted = make_session(on=JURY_DAY)
    make_session(on=date(2027, 7, 1))
    placed = registration.register_to_jury(file, user)
    assert placed.jury_session.id == wanted.id and placed.rolled_over is False


def test_no_open_session_with_a_seat_is_refused_and_file_unchanged(company_file):
    file, user = company_file
    full = make_session(on=JURY_DAY, capacity=1, seats_taken=1)
    with pytest.raises(Conflict) as refused:
        registration.register_to_jury(file, user)
    assert "Aucune session" in refused.value.message and "jury_session_id" in refused.value.errors
    assert file.status == "validation_evaluation" and file.jury_session_id is None
    assert full.seats_taken == 1


@pytest.mark.parametrize("status", [s for s in FileStatus if s != FileStatus.VALIDATION_EVALUATION])
def test_registration_needs_a_validated_evaluation(app_ctx, status):
    jury_session = make_session(on=JURY_DAY)
    file = make_file(status, session=jury_session if status != FileStatus.ABANDONNE else None)
    taken = jury_session.seats_taken
    with pytest.raises(Conflict) as refused:
        registration.register_to_jury(file, make_user("secretariat"), jury_session)
    assert refused.value.errors["status"] == [status.value]
    assert file.status_label in refused.value.message
    db.session.refresh(jury_session)
    assert jury_session.seats_taken == taken


def test_unregistering_before_the_deadline_frees_the_seat(company_file, today_is):
    file, user = company_file
    jury_session = make_session(on=JURY_DAY, capacity=1)
    registration.register_to_jury(file, user, jury_session)
    assert jury_session.seats_left == 0
    today_is("2027-05-25")
    registration.unregister_from_jury(file, user)
    assert file.status == "validation_evaluation" and file.jury_session_id is None
    assert jury_session.seats_taken == 0


def test_unregistering_after_the_deadline_is_refused(company_file, today_is):
    file, user = company_file
    jury_session = make_session(on=JURY_DAY)
    registration.register_to_jury(file, user, jury_session)
    today_is("2027-05-26")
    with pytest.raises(RuleViolation) as refused:
        registration.unregister_from_jury(file, user)
    assert "25/05/2027" in refused.value.message
    assert file.status == "inscription_jury" and jury_session.seats_taken == 1


def test_withdrawing_a_registered_file_frees_its_seat(company_file):
    file, user = company_file
    jury_session = make_session(on=JURY_DAY, capacity=1)
    registration.register_to_jury(file, user, jury_session)
    workflow.fire(file, "withdraw", user, reason="Départ du salarié")
    db.session.refresh(jury_session)
    assert file.status == "abandonne" and file.jury_session_id is None
    assert jury_session.seats_taken == 0


def test_the_database_refuses_more_seats_than_capacity(app_ctx):
    from sqlalchemy.exc import IntegrityError

    jury_session = make_session(capacity=1, seats_taken=1)
    jury_session.seats_taken = 2
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_open_sessions_are_those_a_company_may_still_register_to(app_ctx, today_is):
    today_is("2027-05-01")
    make_session(on=date(2027, 5, 20))  # deadline passed
    full = make_session(on=date(2027, 6, 1), capacity=1, seats_taken=1)  # open, shown full
    cancelled = make_session(on=date(2027, 6, 5))
    cancelled.cancelled_at = cancelled.created_at
    wanted = make_session(on=JURY_DAY)
    db.session.commit()
    assert registration.open_sessions() == [full, wanted]


def test_a_failed_transition_leaves_the_file_without_its_new_session(company_file, monkeypatch):
    file, user = company_file
    jury_session = make_session(on=JURY_DAY)

    def refuse(*args, **kwargs):
        raise Conflict("Refus du workflow.")

    monkeypatch.setattr(workflow, "fire", refuse)
    with pytest.raises(Conflict):
        registration.register_to_jury(file, user, jury_session)
    assert file.jury_session is None and file.jury_session_id is None


# ---------------------------------------------------------------- R8 under load


THREADS = 20
CAPACITY = 5


@pytest.mark.postgres_only
def test_twenty_simultaneous_registrations_fill_five_seats_and_roll_the_rest_over(app):
    """Many companies register at the same instant; seats are never oversold. PostgreSQL only (row
    locks), from separate threads, each with its own connection."""
    with app.app_context():
        asked = make_session(on=today() + timedelta(days=40), capacity=CAPACITY)
        next_one = make_session(on=today() + timedelta(days=80), capacity=100)
        jobs = []
        for _ in range(THREADS):
            establishment = make_establishment()
            file = make_file("validation_evaluation", establishment=establishment)
            jobs.append((file.id, make_user("entreprise", establishment=establishment).id))
        asked_id, next_id = asked.id, next_one.id
        db.session.remove()

    start = threading.Barrier(THREADS)
    outcomes: list[tuple[int, int, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def register(file_id: int, user_id: int) -> None:
        try:
            start.wait(timeout=30)
            with app.app_context():  # its own scoped session, hence its own connection
                try:
                    file = db.session.get(CandidateFile, file_id)
                    user = db.session.get(User, user_id)
                    requested = db.session.get(JurySession, asked_id)
                    placed = registration.register_to_jury(file, user, requested)
                    db.session.commit()
                    with lock:
                        outcomes.append((file_id, placed.jury_session.id, placed.rolled_over))
                finally:
                    db.session.remove()
        except BaseException as exc:  # reported below, with the thread's own traceback
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=register, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(outcomes) == THREADS
    placed = [o for o in outcomes if o[1] == asked_id]
    rolled = [o for o in outcomes if o[1] == next_id]
    assert len(placed) == CAPACITY and not any(o[2] for o in placed)
    assert len(rolled) == THREADS - CAPACITY and all(o[2] for o in rolled)
    with app.app_context():
        asked = db.session.get(JurySession, asked_id)
        assert asked.seats_taken == CAPACITY <= asked.capacity
        counted = db.session.scalar(select(func.count()).select_from(CandidateFile)
                                    .where(CandidateFile.jury_session_id == asked_id))
        assert counted == CAPACITY
        assert db.session.get(JurySession, next_id).seats_taken == THREADS - CAPACITY
        db.session.remove()


# ---------------------------------------------------------------- several files at once


def test_several_files_are_each_placed_by_r8_and_a_refused_one_keeps_nothing(app_ctx, today_is):
    today_is("2027-05-01")
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    files = [make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment) for _ in range(3)]
    not_ready = make_file(FileStatus.EN_ATTENTE_EVALUATION, establishment=establishment)
    asked = make_session(on=JURY_DAY, capacity=2)
    later = make_session(on=date(2027, 9, 15), capacity=1)
    placements = registration.register_many([*files, not_ready], company, asked)
    sessions_of = [p.registration.jury_session.id if p.registration else None for p in placements]
    assert sessions_of == [asked.id, asked.id, later.id, None]
    assert placements[2].registration.rolled_over
    assert "Validation de l'évaluation" in placements[3].error.message
    assert not_ready.status == "en_attente_evaluation" and not_ready.jury_session_id is None
    assert (asked.seats_taken, later.seats_taken) == (2, 1)


def test_when_no_seat_is_left_the_file_stays_as_it_was(app_ctx, today_is):
    today_is("2027-05-01")
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    first, second = (make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment) for _ in range(2))
    only = make_session(on=JURY_DAY, capacity=1)
    placed, refused = registration.register_many([first, second], company)
    assert placed.registration.jury_session.id == only.id and "Aucune session" in refused.error.message
    assert second.status == "validation_evaluation" and second.jury_session_id is None
    assert only.seats_taken == 1


def test_files_to_register_are_those_the_user_sees(app_ctx, today_is):
    today_is("2027-05-01")
    mine, other = make_file(FileStatus.VALIDATION_EVALUATION), make_file(FileStatus.VALIDATION_EVALUATION)
    company = make_user("entreprise", establishment=mine.establishment)
    assert registration.files_to_register(company, [other.id, mine.id, mine.id]) == [mine]


def test_the_api_registers_several_files_and_says_who_went_where(app_ctx, today_is, api_as):
    today_is("2027-05-01")
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    first, second = (make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment) for _ in range(2))
    waiting = make_file(FileStatus.EN_ATTENTE_EVALUATION, establishment=establishment)
    other = make_file(FileStatus.VALIDATION_EVALUATION)
    asked = make_session(on=JURY_DAY, capacity=1)
    later = make_session(on=date(2027, 9, 15), capacity=3)
    api = api_as(company)
    response = api.post("/jury-registrations", json={
        "file_ids": [first.id, second.id, waiting.id, other.id], "jury_session_id": asked.id})
    assert response.status_code == 200, response.json
    assert response.json["registered"] == [
        {"file_id": first.id, "jury_session_id": asked.id, "jury_date": "2027-06-15", "rolled_over": False},
        {"file_id": second.id, "jury_session_id": later.id, "jury_date": "2027-09-15", "rolled_over": True}]
    refused = {r["file_id"]: r["status"] for r in response.json["refused"]}
    assert refused == {other.id: 404, waiting.id: 409}
    again = api.post("/jury-registrations", json={"file_ids": [waiting.id]})
    assert again.status_code == 409 and f"file_ids.{waiting.id}" in again.json["errors"]
    for bad in ([], ["x"], [2**40]):
        answer = api.post("/jury-registrations", json={"file_ids": bad})
        assert answer.status_code == 422 and "file_ids" in answer.json["errors"]
