"""The facts of a jury session, the same in Python and in SQL (R7 deadline and openness, seats, R10
lateness), its state, who may view and publish it; a decision's validated competences."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.files.models import FileStatus
from app.jury.models import JurySession
from tests.factories import make_session, make_user
from tests.jury.helpers import decide, make_file

JURY_DAY = date(2027, 6, 15)  # registration deadline: 2027-05-25


def _in_sql(condition) -> set[int]:
    return set(db.session.scalars(select(JurySession.id).where(condition)))


@pytest.mark.parametrize(("today", "open_"), [("2027-05-24", True), ("2027-05-25", True), ("2027-05-26", False)])
def test_a_session_is_open_until_its_deadline_in_python_and_sql(app_ctx, today_is, today, open_):
    jury_session = make_session(on=JURY_DAY)
    make_session(on=JURY_DAY, cancelled_at=datetime(2027, 5, 1))
    make_session(on=JURY_DAY, published_at=datetime(2027, 5, 1))
    today_is(today)
    assert jury_session.registration_deadline == date(2027, 5, 25)
    assert jury_session.is_open is open_
    assert _in_sql(JurySession.is_open) == ({jury_session.id} if open_ else set())


def test_the_deadline_and_the_seats_left_in_sql(app_ctx):
    roomy = make_session(on=JURY_DAY, capacity=3, seats_taken=1)
    full = make_session(on=date(2027, 7, 1), capacity=2, seats_taken=2)
    assert (roomy.seats_left, full.seats_left) == (2, 0)
    assert _in_sql(JurySession.seats_left > 0) == {roomy.id}
    assert _in_sql(JurySession.registration_deadline == date(2027, 5, 25)) == {roomy.id}
    assert _in_sql(JurySession.registration_deadline == date(2027, 6, 10)) == {full.id}


@pytest.mark.parametrize(("at", "late"), [
    (datetime(2027, 6, 16, 12, 0), False),
    (datetime(2027, 6, 17, 0, 0), False),
    (datetime(2027, 6, 17, 0, 0, 1), True),
    (datetime(2027, 7, 1, 9, 0), True),
])
def test_a_session_is_late_48_hours_after_its_date_in_python_and_sql(app_ctx, monkeypatch, today_is, at, late):
    jury_session = make_session(on=JURY_DAY)
    make_session(on=JURY_DAY, published_at=datetime(2027, 6, 16))
    make_session(on=JURY_DAY, cancelled_at=datetime(2027, 6, 1))
    today_is(at.date())
    monkeypatch.setattr("app.jury.models.app_now", lambda: at)
    assert jury_session.is_late is late
    assert _in_sql(JurySession.is_late) == ({jury_session.id} if late else set())


@pytest.mark.parametrize(("jury_session_fields", "today", "state", "label"), [
    ({}, "2027-05-25", "ouverte", "Ouverte"),
    ({}, "2027-05-26", "close", "Inscriptions closes"),
    ({}, "2027-06-15", "tenue", "Tenue"),
    ({"published_at": datetime(2027, 6, 16)}, "2027-06-20", "publiee", "Publiée"),
    ({"cancelled_at": datetime(2027, 5, 1), "published_at": datetime(2027, 6, 16)}, "2027-06-20", "annulee", "Annulée"),
])
def test_the_state_of_a_session(app_ctx, today_is, jury_session_fields, today, state, label):
    jury_session = make_session(on=JURY_DAY, **jury_session_fields)
    today_is(today)
    assert (jury_session.state, jury_session.state_label) == (state, label)


def test_the_secretariat_and_the_sessions_members_view_it(app_ctx):
    member, stranger = make_user("jury"), make_user("jury")
    jury_session = make_session(on=JURY_DAY)
    jury_session.members.append(member)
    db.session.commit()
    assert jury_session.can_view(make_user("secretariat")) and jury_session.can_view(member)
    assert not jury_session.can_view(stranger) and not jury_session.can_view(make_user("entreprise"))
    jury_session.cancelled_at = datetime(2027, 5, 1)
    assert not jury_session.can_view(member)


def test_the_secretariat_publishes_a_held_session_once(app_ctx, today_is):
    secretariat = make_user("secretariat")
    jury_session = make_session(on=JURY_DAY)
    today_is("2027-06-14")
    assert not jury_session.can_publish(secretariat)
    today_is(JURY_DAY)
    assert jury_session.can_publish(secretariat) and not jury_session.can_publish(make_user("jury"))
    jury_session.published_at = datetime(2027, 6, 16)
    assert not jury_session.can_publish(secretariat)


def test_a_decision_lists_its_validated_competences_in_the_cqps_order(secretariat, today_is):
    today_is("2027-05-01")
    file = make_file(FileStatus.INSCRIPTION_JURY, session=make_session(on=JURY_DAY))
    today_is(JURY_DAY)
    decision = decide(file, secretariat, [True, False, True])
    first, _, third = file.competences
    assert decision.validated_competences == [first, third]
