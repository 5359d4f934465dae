"""Object builders for tests. They flush and commit like a request would.

make_file(status=...) builds a file already in that status with everything the earlier steps
require (a shortcut for tests of later steps; the steps themselves are tested through the workflow)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select
from stdnum import luhn
from stdnum.fr import siret as siret_checker

from app.accounts import services as accounts
from app.accounts.models import Establishment, Role, User
from app.core.clock import today, utcnow
from app.extensions import db
from app.files.models import (
    Candidate,
    CandidateFile,
    Document,
    Evaluation,
    EvaluationResult,
    FileStatus,
    JobAssessorInvitation,
    JobAssessorObservation,
)
from app.jury.models import JurySession
from app.referential.models import Assessor, Cqp

PASSWORD = "mot-de-passe-de-test-42"
_seq = itertools.count(1)


def valid_siret(n: int | None = None) -> str:
    """A valid SIRET built from a counter (SIREN with its Luhn key, then NIC 00012 + key)."""
    n = n if n is not None else next(_seq)
    base = f"{40000000 + n:08d}"
    siren = base + luhn.calc_check_digit(base)

    for nic in range(10, 100):
        candidate = siren + f"000{nic:02d}"
        if siret_checker.is_valid(candidate):
            return candidate
    raise AssertionError("no SIRET")


def make_establishment(name: str | None = None, siret: str | None = None, **kwargs) -> Establishment:
    n = next(_seq)
    establishment = accounts.create_establishment(siret or valid_siret(n), name or f"Chimie {n}", **kwargs)
    db.session.commit()
    return establishment


def make_user(role: str = Role.ENTREPRISE, *, email: str | None = None, establishment=None, password: str = PASSWORD,
              first_name: str = "Prénom", last_name: str | None = None) -> User:
    n = next(_seq)
    if role == Role.ENTREPRISE and establishment is None:
        establishment = make_establishment()
    if role == Role.EVALUATEUR:
        return make_assessor(email=email).user
    user = accounts.create_user(email or f"{role}{n}@exemple.fr", role, password=password, first_name=first_name,
                                last_name=last_name or f"Nom{n}", establishment=establishment)
    db.session.commit()
    return user


def make_assessor(*, email: str | None = None, until: date | None = None, cqps: list[Cqp] | None = None) -> Assessor:
    from app.referential.services import create_assessor

    n = next(_seq)
    assessor = create_assessor(email or f"evaluateur{n}@exemple.fr", "Éva", f"Luateur{n}",
                               until or today() + timedelta(days=365), [c.code for c in cqps or []])
    accounts.set_password(assessor.user, PASSWORD)
    db.session.commit()
    return assessor


def get_cqp(code: str = "FAB-OPF") -> Cqp:
    return db.session.scalar(select(Cqp).where(Cqp.code == code))


def make_candidate(establishment: Establishment | None = None, **kwargs) -> Candidate:
    n = next(_seq)
    establishment = establishment or make_establishment()
    candidate = Candidate(establishment=establishment, birth_date=kwargs.pop("birth_date", date(1990, 5, 17)),
                          birth_place=kwargs.pop("birth_place", "Lyon"), **kwargs)
    candidate.set_names(kwargs.pop("first_name", None) or "Camille", f"Candidat{n}")
    db.session.add(candidate)
    db.session.commit()
    return candidate


def make_session(*, on: date | None = None, capacity: int = 10, attendance: bool = True, **kwargs) -> JurySession:
    """A session; with `attendance` (the default) a paritaire attendance is recorded (R14), so that tests
    may publish it: pass attendance=False for a session without members."""
    closed = {k: kwargs.pop(k) for k in ("published_at", "cancelled_at") if k in kwargs}
    session = JurySession(date=on or today() + timedelta(days=60), capacity=capacity, **kwargs)
    db.session.add(session)
    db.session.commit()
    if attendance:
        record_attendance(session)
    if closed:  # recorded before: a published or cancelled session's attendance is not changed
        for key, value in closed.items():
            setattr(session, key, value)
        db.session.commit()
    return session


def record_attendance(session: JurySession, *, per_college: int | None = None, president: bool = True,
                      members: list[tuple[User, str, bool]] | None = None) -> JurySession:
    """Records the session's attendance (R14): `members` as (user, college, present), the first present one
    presiding; without them, `per_college` new jury members present in each college (JURY_MIN_PER_COLLEGE
    by default). The members replace the session's."""
    from flask import current_app

    from app.jury.attendance import Attendee
    from app.jury.attendance import record_attendance as record

    if members is None:
        count = current_app.config["JURY_MIN_PER_COLLEGE"] if per_college is None else per_college
        members = []
        for college in ("salaries", "employeurs"):
            for _ in range(count):
                n = next(_seq)
                user = User(email=f"jury{n}@exemple.fr", role=Role.JURY.value, first_name="Juré",
                            last_name=f"{college.capitalize()}{n}")
                db.session.add(user)
                members.append((user, college, True))
        db.session.flush()
    chair = next((u for u, _, present in members if present), None) if president else None
    record(session, [Attendee(u.email, college, present, u is chair) for u, college, present in members])
    db.session.commit()
    return session


def make_file(status: FileStatus | str = FileStatus.EN_COURS_INSCRIPTION, *, establishment=None, candidate=None,
              cqp_code: str = "FAB-OPF", competences: int = 3, assessor: Assessor | None = None,
              session: JurySession | None = None, interview_date: date | None = None) -> CandidateFile:
    status = FileStatus(status)
    establishment = establishment or (candidate.establishment if candidate else make_establishment())
    candidate = candidate or make_candidate(establishment)
    cqp = get_cqp(cqp_code)
    assessor = assessor or make_assessor()
    file = CandidateFile(
        candidate=candidate, establishment=establishment, cqp=cqp, competences=cqp.active_competences[:competences],
        training_path="formation", training_scheme="plan_developpement_competences",
        planned_interview_date=interview_date or today() + timedelta(days=7), status=FileStatus.EN_COURS_INSCRIPTION,
    )
    file.assessor = assessor
    db.session.add(file)
    db.session.flush()
    order = list(FileStatus)
    if status == FileStatus.ABANDONNE:
        file.status = status.value
        file.withdraw_reason = "Départ de l'entreprise"
    elif order.index(status) >= order.index(FileStatus.EN_ATTENTE_EVALUATION):
        file.assessor_confirmed_on = today() - timedelta(days=10)
        file.status = FileStatus.EN_ATTENTE_EVALUATION.value
        if order.index(status) >= order.index(FileStatus.VALIDATION_EVALUATION):
            _complete_evaluation(file)
            file.status = FileStatus.VALIDATION_EVALUATION.value
        if order.index(status) >= order.index(FileStatus.INSCRIPTION_JURY):
            session = session or make_session()
            file.jury_session_id = session.id
            session.seats_taken += 1
            file.status = FileStatus.INSCRIPTION_JURY.value
        if status in (FileStatus.VALIDE, FileStatus.PARTIEL, FileStatus.NON_VALIDE):
            file.status = status.value
            file.decided_at = utcnow()
    db.session.commit()
    return file


def _complete_evaluation(file: CandidateFile) -> None:
    interview = today() - timedelta(days=5)
    invitation = JobAssessorInvitation(file=file, email="metier@exemple.fr", first_name="Jo", last_name="Métier",
                                       token_hash=f"h{next(_seq):063d}", expires_at=utcnow() + timedelta(days=30),
                                       used_at=utcnow())
    for competence in file.competences:
        invitation.observations.append(JobAssessorObservation(competence=competence, comment="Maîtrisé au poste."))
    evaluation = Evaluation(file=file, interview_date=interview, candidate_observations="Entretien constructif.",
                            submitted_at=utcnow())
    for competence in file.competences:
        evaluation.results.append(EvaluationResult(competence=competence, acquired=True, comment="Acquis."))
    db.session.add_all([invitation, evaluation, Document(
        file=file, candidate=file.candidate, kind="guide_evaluation", filename="guide.pdf",
        stored_name=f"test-{next(_seq)}.pdf", content_type="application/pdf", size=10)])


def make_invitation(file: CandidateFile, *, used: bool = False) -> JobAssessorInvitation:
    """A job assessor's link on the file (its token is not known: the link is not meant to be opened);
    `used`: the observations are in, one per competence."""
    competences = list(file.competences)  # loaded before the invitation exists (no autoflush of half of it)
    invitation = JobAssessorInvitation(file=file, email="metier@exemple.fr", first_name="Jo", last_name="Métier",
                                       token_hash=f"i{next(_seq):063d}", expires_at=utcnow() + timedelta(days=30),
                                       used_at=utcnow() if used else None)
    if used:
        for competence in competences:
            invitation.observations.append(JobAssessorObservation(competence=competence, comment="Vu au poste."))
    db.session.add(invitation)
    db.session.commit()
    return invitation


def sit_on(session: JurySession, *users: User) -> JurySession:
    """The users (role jury) become members of the session."""
    session.members.extend(users)
    db.session.commit()
    return session


def make_parchment(file: CandidateFile):
    """The parchment (valide) or attestation (partiel) of a decided file, as the jury area writes it."""
    from app.jury.models import Parchment

    parchment = Parchment(file=file, number=f"T{next(_seq):08d}",
                          kind="parchemin" if file.status == FileStatus.VALIDE else "attestation")
    db.session.add(parchment)
    db.session.commit()
    return parchment
