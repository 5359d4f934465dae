"""Seats taken apart from the request's transaction (app.jury.seats_apart, PostgreSQL): the session's row is
locked for the conditional UPDATE only; a seat taken by a transaction that then rolls back (or a savepoint
that does, or one that ends without a commit) is given back; a seat freed then taken again by the same
transaction does not wait on itself."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from app.core.clock import today
from app.extensions import db
from app.jury import registration
from app.jury.models import JurySession
from tests.factories import make_session

pytestmark = pytest.mark.usefixtures("app_ctx")


@pytest.fixture(autouse=True)
def _postgresql_only(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("verrous de ligne et transactions à part : PostgreSQL (TEST_DATABASE_URL)")


def _seats(session_id: int) -> int:
    """The committed count, read by a connection of its own."""
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT seats_taken FROM jury_sessions WHERE id = :id"),
                                      {"id": session_id}).scalar()
    finally:
        engine.dispose()


@pytest.fixture
def jury_session():
    return make_session(on=today() + timedelta(days=40), capacity=3)


def test_a_seat_is_committed_at_once_and_kept_by_the_commit(jury_session):
    assert registration.take_seat(jury_session)
    assert jury_session.seats_taken == 1 and _seats(jury_session.id) == 1  # visible before our commit
    db.session.commit()
    assert _seats(jury_session.id) == 1


def test_a_rolled_back_request_gives_its_seat_back(jury_session):
    assert registration.take_seat(jury_session) and registration.take_seat(jury_session)
    assert _seats(jury_session.id) == 2
    db.session.rollback()
    assert _seats(jury_session.id) == 0


def test_a_savepoint_rolled_back_gives_back_its_seat_only(jury_session):
    sid = jury_session.id
    assert registration.take_seat(jury_session)
    savepoint = db.session.begin_nested()
    assert registration.take_seat(db.session.get(JurySession, sid))
    savepoint.rollback()
    assert _seats(sid) == 1
    kept = db.session.begin_nested()
    assert registration.take_seat(db.session.get(JurySession, sid))
    kept.commit()
    db.session.commit()
    assert _seats(sid) == 2


def test_a_released_savepoint_then_a_rollback_gives_everything_back(jury_session):
    sid = jury_session.id
    savepoint = db.session.begin_nested()
    assert registration.take_seat(jury_session)
    savepoint.commit()
    db.session.rollback()
    assert _seats(sid) == 0


def test_a_session_closed_without_commit_gives_its_seat_back(jury_session):
    sid = jury_session.id
    assert registration.take_seat(jury_session)
    db.session.close()
    assert _seats(sid) == 0


def test_no_seat_left_is_refused_and_never_oversold(jury_session):
    sid = jury_session.id
    assert all(registration.take_seat(db.session.get(JurySession, sid)) for _ in range(3))
    assert not registration.take_seat(db.session.get(JurySession, sid))
    assert _seats(sid) == 3
    db.session.commit()


def test_a_seat_freed_then_taken_in_the_same_transaction_does_not_wait_on_itself(jury_session):
    sid = jury_session.id
    assert registration.take_seat(jury_session)
    db.session.commit()
    started = time.monotonic()
    registration.free_seat(db.session.get(JurySession, sid))  # this transaction now holds the row
    assert registration.take_seat(db.session.get(JurySession, sid))
    assert time.monotonic() - started < 1.5
    db.session.commit()
    assert _seats(sid) == 1


def test_a_registration_does_not_wait_for_another_one_to_commit(app, jury_session):
    """The row is locked for the UPDATE only: while a first request has taken its seat and not yet
    committed, a second one takes another at once (it used to wait for the first commit)."""
    sid = jury_session.id
    db.session.commit()
    taken, release = threading.Event(), threading.Event()

    def first() -> None:
        with app.app_context():
            assert registration.take_seat(db.session.get(JurySession, sid))
            taken.set()
            release.wait(timeout=30)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert taken.wait(timeout=30)
        started = time.monotonic()
        assert registration.take_seat(db.session.get(JurySession, sid))
        assert time.monotonic() - started < 1
        db.session.commit()
    finally:
        release.set()
        thread.join(timeout=30)
    assert _seats(sid) == 2
