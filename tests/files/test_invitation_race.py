"""R3: the job assessor's link is spent by ONE conditional UPDATE, so two simultaneous submissions
give exactly one success (PostgreSQL: the second UPDATE waits for the first and then matches nothing)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.core.errors import Gone
from app.extensions import db
from app.files import evaluation
from app.files.models import JobAssessorObservation
from tests.files.conftest import confirmed_file, invite


@pytest.mark.postgres_only
def test_r3_two_simultaneous_submissions_of_one_link_give_exactly_one_success(app, company, assessor):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    codes = [c.code for c in file.competences]
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(name: str) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                evaluation.submit_job_assessor_observations(token, {code: f"vu par {name}" for code in codes})
                db.session.commit()
                outcome = "ok"
            except Gone:
                db.session.rollback()
                outcome = "gone"
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                db.session.rollback()
                outcome = f"error {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=submit, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["gone", "ok"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(JobAssessorObservation.id))) == len(codes)
