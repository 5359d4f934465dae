"""The jury calendar: sessions listed, created, edited and cancelled (their files moved to the next
session with a seat, R8), and the files a session holds, loaded for the page that shows them in one
statement per relationship whatever their number. Every function flushes, never commits."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import Role, User
from app.core import audit
from app.core.clock import now, today
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.validation import as_id
from app.extensions import db
from app.files import workflow
from app.files.models import CandidateFile, Evaluation, FileStatus, JobAssessorInvitation
from app.jury import notifications
from app.jury.models import REGISTRATION_DAYS_BEFORE, JurySession
from app.jury.registration import next_session_with_a_seat, place
from app.referential.models import Assessor

_sessions = JurySession.__table__

# What the jury examines of each file (templates/jury/_file_exam.html: the page and the booklet).
EXAMINED = (
    joinedload(CandidateFile.candidate),
    joinedload(CandidateFile.establishment),
    joinedload(CandidateFile.cqp),
    joinedload(CandidateFile.assessor).joinedload(Assessor.user),
    selectinload(CandidateFile.competences),
    joinedload(CandidateFile.evaluation).selectinload(Evaluation.results),
    selectinload(CandidateFile.invitations).selectinload(JobAssessorInvitation.observations),
    selectinload(CandidateFile.documents),
    selectinload(CandidateFile.carried_competences),  # R13: shown as acquired (jury/_carried.html)
)


# ---------------------------------------------------------------- the calendar


def list_sessions(include_cancelled: bool = True) -> list[JurySession]:
    query = select(JurySession).order_by(JurySession.date, JurySession.id)
    if not include_cancelled:
        query = query.where(JurySession.cancelled_at.is_(None))
    return list(db.session.scalars(query))


def late_sessions() -> list[JurySession]:
    """R10: sessions not published 48 hours after their date (flagged to the secretariat)."""
    return list(db.session.scalars(select(JurySession).where(JurySession.is_late).order_by(JurySession.date)))


def get_session(session_id) -> JurySession:
    """The session of that id (as typed in a URL or a form); NotFound for anything else."""
    ident = as_id(session_id)
    jury_session = db.session.get(JurySession, ident) if ident is not None else None
    if jury_session is None:
        raise NotFound("Cette session de jury n'existe pas.", {"jury_session_id": ["Session de jury inconnue."]})
    return jury_session


def sessions_of_member(user: User) -> list[JurySession]:
    return list(db.session.scalars(JurySession.sat_by(user).order_by(JurySession.date, JurySession.id)))


def jury_users() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == Role.JURY.value, User.active.is_(True)).order_by(User.last_name, User.first_name)
    ))


def _jury_members(member_ids: list[int] | None) -> list[User]:
    if not member_ids:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(member_ids))))
    if len(users) != len(set(member_ids)) or not all(u.is_jury_member for u in users):
        raise ValidationFailed.for_field("member_ids", "Les membres du jury doivent être des utilisateurs au rôle « Membre du jury ».")
    return users


def _check_session_fields(on_date: date | None, capacity: int | None) -> None:
    problems: dict[str, list[str]] = {}
    if on_date is None:
        problems["date"] = ["La date de la session est obligatoire."]
    elif on_date < today():
        problems["date"] = [f"La date de la session ne peut pas être passée (aujourd'hui : {today().strftime('%d/%m/%Y')})."]
    if capacity is None:
        problems["capacity"] = ["Le nombre de places est obligatoire."]
    elif capacity < 1:
        problems["capacity"] = ["Le nombre de places doit être d'au moins 1."]
    if problems:
        raise ValidationFailed(" ".join(m for ms in problems.values() for m in ms), problems)


def create_session(*, date: date | None, capacity: int | None, location: str | None = None,
                   member_ids: list[int] | None = None, actor=None,
                   confirm_past_deadline: bool = False) -> JurySession:
    """A new session; one whose registration deadline (date − 21 days, R7) is already past is created
    only when confirmed: no company could register a file to it."""
    _check_session_fields(date, capacity)
    if JurySession.deadline_passed_for(date) and not confirm_past_deadline:
        deadline = date - timedelta(days=REGISTRATION_DAYS_BEFORE)
        raise ValidationFailed.for_field(
            "date",
            f"La date limite d'inscription de cette session ({deadline.strftime('%d/%m/%Y')}, 21 jours avant le "
            "jury) est déjà passée : aucune entreprise ne pourra y inscrire de dossier. Confirmez pour la créer "
            "quand même.")
    jury_session = JurySession(date=date, capacity=capacity, seats_taken=0, location=(location or "").strip() or None)
    jury_session.members = _jury_members(member_ids)
    db.session.add(jury_session)
    db.session.flush()
    audit.record("jury_session.create", actor, jury_session, date=date.isoformat(), capacity=capacity)
    return jury_session


def update_session(jury_session: JurySession, *, date: date | None, capacity: int | None,
                   location: str | None = None, member_ids: list[int] | None = None, actor=None) -> JurySession:
    if jury_session.cancelled_at is not None:
        raise Conflict("Cette session est annulée : elle ne peut plus être modifiée.")
    if jury_session.published_at is not None:
        raise Conflict("Cette session est publiée : elle ne peut plus être modifiée.")
    if date != jury_session.date:
        _check_session_fields(date, capacity)
    else:
        _check_session_fields(today(), capacity)
    # The capacity shrinks only if no registration took a seat meanwhile (same row, one UPDATE).
    result = db.session.execute(
        update(_sessions).where(_sessions.c.id == jury_session.id, _sessions.c.seats_taken <= capacity)
        .values(capacity=capacity)
    )
    if result.rowcount != 1:
        db.session.refresh(jury_session)
        raise ValidationFailed.for_field(
            "capacity",
            f"Le nombre de places ne peut pas être inférieur aux places déjà prises ({jury_session.seats_taken}).")
    db.session.refresh(jury_session)
    jury_session.date = date
    jury_session.location = (location or "").strip() or None
    jury_session.members = _jury_members(member_ids)
    db.session.flush()
    audit.record("jury_session.update", actor, jury_session, date=date.isoformat(), capacity=capacity)
    return jury_session


def cancel_session(jury_session: JurySession, actor=None, reason: str | None = None) -> dict[str, int]:
    """Cancels a session; its files go to the next session with a seat (R8) or, with none, back to
    `validation_evaluation`. Their companies are told by email."""
    if jury_session.cancelled_at is not None:
        raise Conflict("Cette session est déjà annulée.")
    files = _files_of(jury_session, joinedload(CandidateFile.candidate), joinedload(CandidateFile.cqp),
                      joinedload(CandidateFile.establishment))
    if jury_session.published_at is not None or any(f.is_decided for f in files):
        raise Conflict("Des décisions ont déjà été enregistrées pour cette session : elle ne peut plus être annulée.")
    jury_session.cancelled_at = now()
    db.session.flush()
    moved = unregistered = 0
    for file in files:
        if file.status != FileStatus.INSCRIPTION_JURY.value:
            continue
        target = next_session_with_a_seat(after=jury_session)
        if target is not None:
            place(file, target)
            file.rolled_over = True
            moved += 1
            audit.record("jury.move", actor, file, from_session=jury_session.id, to_session=target.id)
        else:
            workflow.fire(file, "unregister_jury", actor, session=None,
                          comment=f"Session du {jury_session.date.strftime('%d/%m/%Y')} annulée, aucune session ouverte.")
            place(file, None)
            file.rolled_over = False
            unregistered += 1
        notifications.session_cancelled(file, jury_session, target)
    db.session.execute(update(_sessions).where(_sessions.c.id == jury_session.id).values(seats_taken=0))
    db.session.refresh(jury_session)
    audit.record("jury_session.cancel", actor, jury_session, reason=reason, moved=moved, unregistered=unregistered)
    return {"moved": moved, "unregistered": unregistered}


# ---------------------------------------------------------------- a session's files, as its pages show them


def _files_of(jury_session: JurySession, *options, withdrawn: bool = True) -> list[CandidateFile]:
    query = select(CandidateFile).where(CandidateFile.jury_session_id == jury_session.id)
    if not withdrawn:
        query = query.where(CandidateFile.status != FileStatus.ABANDONNE.value)
    return list(db.session.scalars(query.options(*options).order_by(CandidateFile.id)))


def files_to_examine(jury_session: JurySession) -> list[CandidateFile]:
    """The session's files but the withdrawn ones, with what the jury reads of them (page and booklet)."""
    return _files_of(jury_session, *EXAMINED, withdrawn=False)
