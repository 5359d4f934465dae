"""The jury calendar: create, edit, cancel (files moved to the next session with a seat)."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import Conflict, ValidationFailed
from app.core.mail import send_pending
from app.extensions import db
from app.files.models import FileStatus
from app.jury import services
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import make_file


@pytest.fixture(autouse=True)
def _today(today_is):
    today_is("2027-03-12")


def test_create_session_with_its_members(secretariat):
    member = make_user("jury")
    session = services.create_session(date=date(2027, 6, 15), capacity=30, location="Paris",
                                      member_ids=[member.id], actor=secretariat)
    assert (session.capacity, session.seats_taken, session.location) == (30, 0, "Paris")
    assert session.members == [member] and session.registration_deadline == date(2027, 5, 25)
    assert services.session_state(session) == "ouverte"


def test_a_session_cannot_be_created_in_the_past(secretariat):
    with pytest.raises(ValidationFailed) as refused:
        services.create_session(date=date(2027, 3, 11), capacity=10, actor=secretariat)
    assert "date" in refused.value.errors and "passée" in refused.value.message


@pytest.mark.parametrize("capacity", [0, -3, None])
def test_a_session_needs_at_least_one_seat(secretariat, capacity):
    with pytest.raises(ValidationFailed) as refused:
        services.create_session(date=date(2027, 6, 15), capacity=capacity, actor=secretariat)
    assert "capacity" in refused.value.errors


def test_members_must_have_the_jury_role(secretariat):
    company = make_user("entreprise")
    with pytest.raises(ValidationFailed) as refused:
        services.create_session(date=date(2027, 6, 15), capacity=5, member_ids=[company.id], actor=secretariat)
    assert "member_ids" in refused.value.errors


def test_capacity_cannot_drop_below_the_seats_taken(secretariat):
    session = make_session(on=date(2027, 6, 15), capacity=10, seats_taken=4)
    with pytest.raises(ValidationFailed) as refused:
        services.update_session(session, date=session.date, capacity=3, actor=secretariat)
    assert "(4)" in refused.value.message
    db.session.refresh(session)
    assert session.capacity == 10
    services.update_session(session, date=date(2027, 6, 22), capacity=4, location="Lyon", actor=secretariat)
    assert (session.capacity, session.date, session.location) == (4, date(2027, 6, 22), "Lyon")


@pytest.mark.parametrize(("today", "state"), [
    ("2027-05-25", "ouverte"), ("2027-05-26", "close"), ("2027-06-15", "tenue"),
])
def test_session_state_follows_the_calendar(app_ctx, today_is, today, state):
    session = make_session(on=date(2027, 6, 15))
    today_is(today)
    assert services.session_state(session) == state


def test_cancelling_moves_files_to_the_next_session_and_tells_companies(secretariat, mailbox):
    establishment = make_establishment(contact_email="rh@exemple.fr")
    cancelled = make_session(on=date(2027, 6, 15), capacity=5)
    next_one = make_session(on=date(2027, 9, 15), capacity=1)
    moved = make_file(FileStatus.INSCRIPTION_JURY, session=cancelled, establishment=establishment)
    stranded = make_file(FileStatus.INSCRIPTION_JURY, session=cancelled, establishment=establishment)
    counts = services.cancel_session(cancelled, secretariat, reason="Salle indisponible")
    db.session.commit()
    send_pending()
    assert counts == {"moved": 1, "unregistered": 1}
    assert moved.jury_session_id == next_one.id and moved.status == "inscription_jury" and moved.rolled_over
    assert stranded.status == "validation_evaluation" and stranded.jury_session_id is None
    assert (cancelled.seats_taken, next_one.seats_taken) == (0, 1)
    assert services.session_state(cancelled) == "annulee"
    texts = [mailbox.text_of(m) for m in mailbox.to("rh@exemple.fr")]
    assert any("reporté à la session du 15 septembre 2027" in t for t in texts)
    assert any("revient au statut « Validation de l'évaluation »" in t for t in texts)


def test_a_session_with_decisions_cannot_be_cancelled(secretariat, today_is):
    session = make_session(on=date(2027, 6, 15))
    make_file(FileStatus.VALIDE, session=session)
    with pytest.raises(Conflict):
        services.cancel_session(session, secretariat)
    assert session.cancelled_at is None
