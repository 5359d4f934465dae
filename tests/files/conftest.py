"""Builders of the files tests: objects made through the services, as the pages and the API make them."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.accounts.models import Role
from app.core.models import OutboxEmail
from app.extensions import db
from app.files import candidates, evaluation, services
from tests import conftest as harness
from tests import factories

TODAY = date(2027, 3, 1)
INTERVIEW = date(2027, 3, 10)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def login(client, email: str, password: str = factories.PASSWORD):
    return harness.login(client, email, password)


def upload(data: bytes = PDF, name: str = "scan.pdf", content_type: str = "application/pdf") -> FileStorage:
    return FileStorage(stream=BytesIO(data), filename=name, content_type=content_type)


@pytest.fixture
def on_registration_day(today_is):
    today_is(TODAY.isoformat())
    return TODAY


@pytest.fixture
def company(app_ctx, on_registration_day):
    """An entreprise user; its establishment has a contact email too."""
    establishment = factories.make_establishment(contact_email="contact@chimie-test.fr")
    return factories.make_user(Role.ENTREPRISE, establishment=establishment)


@pytest.fixture
def assessor(app_ctx, on_registration_day):
    return factories.make_assessor(until=date(2028, 1, 1))


def new_candidate(company, **overrides):
    data = {"first_name": "Élodie", "last_name": "Martin", "birth_date": date(1990, 4, 2), "email": None}
    data.update(overrides)
    candidate = candidates.create_candidate(company.establishment, company, **data)
    db.session.commit()
    return candidate


def new_file(company, assessor, candidate=None, **overrides):
    """A complete candidature, still `en_cours_inscription`."""
    candidate = candidate or new_candidate(company)
    data = {"cqp_code": "FAB-OPF", "competence_codes": ["C1", "C2", "C3"], "training_path": "formation",
            "training_scheme": "plan_developpement_competences", "assessor_id": assessor.id if assessor else None,
            "interview_date": INTERVIEW}
    data.update(overrides)
    file = services.create_file(candidate, company, **data)
    db.session.commit()
    return file


def confirmed_file(company, assessor, **overrides):
    file = new_file(company, assessor, **overrides)
    services.confirm_assessor(file, company)
    db.session.commit()
    return file


def invite(file, assessor, email: str = "metier@chimie-test.fr") -> str:
    _invitation, token = evaluation.invite_job_assessor(file, assessor.user, email=email, first_name="Jules",
                                                      last_name="Métier")
    db.session.commit()
    return token


def observe(file, token: str) -> None:
    evaluation.submit_job_assessor_observations(token, {c.code: f"Vu au poste ({c.code})." for c in file.competences},
                                              "Bon collègue.")
    db.session.commit()


def full_results(file, acquired: bool = True) -> list[dict]:
    return [{"competence_code": c.code, "acquired": acquired, "comment": f"Commentaire {c.code}"}
            for c in file.competences]


def draft(file, assessor, interview: date = INTERVIEW, results=None, observations="Le candidat est satisfait."):
    saved = evaluation.save_evaluation(file, assessor.user, interview_date=interview,
                                       results=full_results(file) if results is None else results,
                                       candidate_observations=observations)
    db.session.commit()
    return saved


def add_guide(file, assessor):
    document = services.upload_document(assessor.user, kind="guide_evaluation", upload=upload(),
                                        candidate=file.candidate, file=file)
    db.session.commit()
    return document


def ready_to_submit(company, assessor, today_is):
    """A confirmed file with everything R6 asks for, on the interview day."""
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    observe(file, token)
    draft(file, assessor)
    add_guide(file, assessor)
    return file


def day(offset: int, base: date = INTERVIEW) -> str:
    return (base + timedelta(days=offset)).isoformat()


def outbox(kind: str) -> list[OutboxEmail]:
    """The emails of one kind queued so far (sent or not)."""
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind)))
