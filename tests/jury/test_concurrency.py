"""R8 under load: many companies register at the same instant; seats are never oversold.
Runs on PostgreSQL only (row locks), from separate threads, each with its own connection."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.clock import today
from app.extensions import db
from app.files.models import CandidateFile
from app.jury import services
from app.jury.models import JurySession
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import make_file

THREADS = 20
CAPACITY = 5


@pytest.mark.postgres_only
def test_twenty_simultaneous_registrations_fill_five_seats_and_roll_the_rest_over(app):
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
                    registration = services.register_to_jury(file, user, requested)
                    db.session.commit()
                    with lock:
                        outcomes.append((file_id, registration.session.id, registration.rolled_over))
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
