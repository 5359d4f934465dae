"""Builders of the R13 tests (tests/files/test_carry_over.py, tests/jury/test_carry_over_decisions.py): a
candidate partially validated at a published jury, and their next file taken to the next jury."""

from __future__ import annotations

from datetime import date, timedelta

from app.extensions import db
from app.files import services
from app.files.models import FileStatus
from app.jury import decisions
from tests import factories
from tests.jury.helpers import decide, make_file

FIRST_JURY = date(2027, 6, 15)
SECOND_JURY = date(2028, 3, 14)
CQP = "FAB-OPF"  # C1 … C7


def first_attempt(secretariat, today_is, validated=("C1", "C2", "C3"), *, jury_date: date = FIRST_JURY,
                  cqp_code: str = CQP, publish: bool = True, location: str = "Paris, Maison de la Chimie"):
    """A file on every competence of the CQP, decided at `jury_date` with `validated` (published)."""
    today_is(jury_date - timedelta(days=45))
    session = factories.make_session(on=jury_date, location=location)
    cqp = factories.get_cqp(cqp_code)
    file = make_file(FileStatus.INSCRIPTION_JURY, session=session, cqp_code=cqp_code,
                     competences=len(cqp.active_competences))
    today_is(jury_date)
    decide(file, secretariat, [c.code in validated for c in file.competences])
    if publish:
        decisions.publish_session(session, secretariat)
    db.session.commit()
    return file


def company_user(file):
    return factories.make_user("entreprise", establishment=file.establishment)


FILE_FIELDS = {"training_path": "evaluation_directe", "training_scheme": "plan_developpement_competences"}


def next_file(first, codes, *, actor=None):
    """The candidate's new file on `codes`, created as the company does (services.create_file)."""
    actor = actor or company_user(first)
    file = services.create_file(first.candidate, actor, cqp_code=first.cqp.code, competence_codes=list(codes),
                                **FILE_FIELDS)
    db.session.commit()
    return file


def to_jury(file, jury_date: date):
    """Takes a new file to a jury on `jury_date` as tests/factories.make_file does (evaluation complete)."""
    session = factories.make_session(on=jury_date, location="Lyon, CCI")
    assessor = factories.make_assessor()
    with db.session.no_autoflush:
        file.assessor = assessor
        file.planned_interview_date = jury_date - timedelta(days=60)
        file.assessor_confirmed_on = jury_date - timedelta(days=70)
        factories._complete_evaluation(file)
    file.jury_session_id = session.id
    session.seats_taken += 1
    file.status = FileStatus.INSCRIPTION_JURY.value
    db.session.commit()
    return session
