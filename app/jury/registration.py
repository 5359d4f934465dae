"""Registration to a jury session (R7–R8): the sessions still open, the seat taken by one conditional
UPDATE, the next open session with a seat when the one asked is full or closed, unregistering and
withdrawing that give the seat back. Every function flushes, never commits: the request commits once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.core import audit
from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.files import workflow
from app.files.models import CandidateFile, FileStatus
from app.jury import seat_offers, seats_apart
from app.jury.models import JurySession

_sessions = JurySession.__table__


def _open_sessions(after: JurySession | None = None):
    query = select(JurySession).where(JurySession.is_open).order_by(JurySession.date, JurySession.id)
    return query.where(JurySession.date > after.date) if after is not None else query


def open_sessions() -> list[JurySession]:
    """Sessions open for registration today (R7), earliest first."""
    return list(db.session.scalars(_open_sessions()))


def _sessions_with_a_seat(after: JurySession | None = None) -> list[JurySession]:
    """The open sessions (dated after `after`) that had a seat when read (R8); the UPDATE of
    `take_seat` has the last word."""
    return list(db.session.scalars(_open_sessions(after).where(JurySession.seats_left > 0)))


def take_seat(jury_session: JurySession) -> bool:
    """One conditional UPDATE: the WHERE re-checked under the row lock means a seat is never sold twice
    (plus the CHECK constraint). On PostgreSQL it runs in its own autocommit transaction (seats_apart),
    so that the session's row is locked for that UPDATE only, not until the registering request
    commits: concurrent registrations to one session no longer queue behind each other's requests."""
    taking = (update(_sessions)
              .where(_sessions.c.id == jury_session.id, _sessions.c.seats_taken < _sessions.c.capacity,
                     _sessions.c.cancelled_at.is_(None))
              .values(seats_taken=_sessions.c.seats_taken + 1).returning(_sessions.c.seats_taken))
    taken = seats_apart.take(taking, jury_session.id)
    if taken == seats_apart.IN_TRANSACTION:
        taken = db.session.execute(taking).scalar()
    if taken is None:
        return False
    set_committed_value(jury_session, "seats_taken", taken)
    return True


def take_first_seat(jury_sessions: list[JurySession]) -> JurySession | None:
    for jury_session in jury_sessions:
        if take_seat(jury_session):
            return jury_session
    return None


def next_session_with_a_seat(after: JurySession) -> JurySession | None:
    """R8: a seat taken in the earliest open session dated after `after` that has one."""
    return take_first_seat(_sessions_with_a_seat(after=after))


def free_seat(jury_session: JurySession | None) -> None:
    if jury_session is None:
        return
    seats_apart.locked_here(jury_session.id)  # this transaction holds the row now: a later take_seat stays in it
    db.session.execute(
        update(_sessions).where(_sessions.c.id == jury_session.id, _sessions.c.seats_taken > 0)
        .values(seats_taken=_sessions.c.seats_taken - 1)
    )
    db.session.refresh(jury_session)
    seat_offers.offer_freed_seat(jury_session)  # offered first to the files rolled over from this session


def place(file: CandidateFile, jury_session: JurySession | None) -> None:
    """The file's session, set on the relationship and its column alike (read back at once)."""
    file.jury_session = jury_session
    file.jury_session_id = jury_session.id if jury_session is not None else None


@dataclass
class Registration:
    file: CandidateFile
    jury_session: JurySession
    requested: JurySession | None
    rolled_over: bool


def register_to_jury(file: CandidateFile, actor, requested: JurySession | None = None) -> Registration:
    """R7–R8: the requested session if it is open and has a seat, else the next one that does."""
    if "register_jury" not in workflow.allowed_events(file):
        raise Conflict(
            f"Inscription au jury impossible : le dossier est au statut « {file.status_label} » "
            f"(il doit être au statut « {FileStatus.VALIDATION_EVALUATION.label} »).",
            {"status": [file.status]},
        )
    # The session asked first; the later ones are read only when it has no seat (R8).
    jury_session = requested if requested is not None and requested.is_open and take_seat(requested) else None
    if jury_session is None:
        jury_session = take_first_seat([s for s in _sessions_with_a_seat(after=requested) if s is not requested])
    if jury_session is None:
        message = ("Aucune session de jury ouverte n'a de place disponible"
                   + (f" après celle du {requested.date.strftime('%d/%m/%Y')}" if requested else "")
                   + " : le dossier reste au statut « Validation de l'évaluation ». Contactez le secrétariat CQP.")
        raise Conflict(message, {"jury_session_id": [message]})
    rolled_over = requested is not None and jury_session.id != requested.id
    # Nothing is flushed before the end (the workflow's reads do not need the file's new row): one UPDATE
    # of the file, its history line and the audit entry, instead of an UPDATE before each read.
    with db.session.no_autoflush:
        # Set before the transition: the CHECK constraint ties inscription_jury to a session.
        previous = file.jury_session
        place(file, jury_session)
        try:
            workflow.fire(file, "register_jury", actor, session=jury_session,
                          comment=f"Session du {jury_session.date.strftime('%d/%m/%Y')}"
                          + (" (report)" if rolled_over else ""))
        except Exception:
            place(file, previous)
            raise
        file.requested_jury_session = requested or jury_session
        file.rolled_over = rolled_over
        audit.record("jury.register", actor, file, session=jury_session.id,
                     requested=requested.id if requested else None, rolled_over=rolled_over)
    db.session.flush()
    return Registration(file, jury_session, requested, rolled_over)


@dataclass
class Placement:
    """What became of one file of a registration of several: where it went, or why it could not."""

    file: CandidateFile
    registration: Registration | None = None
    error: DomainError | None = None


def files_to_register(user, file_ids: list[int]) -> list[CandidateFile]:
    """The files of those ids that the user sees (another tenant's file does not exist), in list order."""
    if not file_ids:
        return []
    found = {f.id: f for f in db.session.scalars(
        CandidateFile.visible_to(user).where(CandidateFile.id.in_(set(file_ids))))}
    return [found[i] for i in dict.fromkeys(file_ids) if i in found]


def register_many(files: list[CandidateFile], actor, requested: JurySession | None = None) -> list[Placement]:
    """Registers each file as `register_to_jury` does (R7–R8: the requested session, else the next one
    with a seat), each in its own savepoint: a file refused leaves nothing written for it, its seat
    included, and the others are registered."""
    placements = []
    for file in files:
        savepoint = db.session.begin_nested()
        try:
            if not file.can_register(actor):
                raise Conflict(
                    f"le dossier est au statut « {file.status_label} » (il doit être au statut "
                    f"« {FileStatus.VALIDATION_EVALUATION.label} »).")
            registered = register_to_jury(file, actor, requested)
        except DomainError as error:
            savepoint.rollback()
            placements.append(Placement(file, error=error))
        else:
            savepoint.commit()
            placements.append(Placement(file, registration=registered))
    return placements


def unregister_from_jury(file: CandidateFile, actor) -> CandidateFile:
    """Before the registration deadline only; frees the seat."""
    jury_session = file.jury_session
    workflow.fire(file, "unregister_jury", actor, session=jury_session)
    free_seat(jury_session)
    place(file, None)
    file.requested_jury_session = None
    file.rolled_over = False
    db.session.flush()
    audit.record("jury.unregister", actor, file, session=getattr(jury_session, "id", None))
    return file


@workflow.on("withdraw")
def _free_seat_on_withdraw(file: CandidateFile, event: str, from_status: str, actor, data: dict) -> None:
    """A registered file that is withdrawn gives its seat back."""
    if from_status == FileStatus.INSCRIPTION_JURY.value and file.jury_session is not None:
        free_seat(file.jury_session)
        place(file, None)
