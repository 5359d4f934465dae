"""Jury operations: calendar, registration (R7–R8), decisions (R9), publication (R10), parchments
and their public verification (R11). Every function flushes, never commits: the request commits once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.core import audit
from app.core.clock import now, today
from app.core.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from app.extensions import db
from app.files import workflow
from app.files.models import DECISION_STATUSES, CandidateFile, FileStatus
from app.jury import notifications
from app.jury.models import (
    Decision,
    DecisionRectification,
    DecisionResult,
    JurySession,
    Parchment,
    PrintRecord,
)

_sessions = JurySession.__table__

# ---------------------------------------------------------------- sessions (calendar)

SESSION_STATES = {
    "ouverte": "Ouverte",
    "close": "Inscriptions closes",
    "tenue": "Tenue",
    "publiee": "Publiée",
    "annulee": "Annulée",
}


def session_state(session: JurySession, on: date | None = None) -> str:
    """ouverte (registrations open), close (deadline passed), tenue (date reached), publiee, annulee."""
    on = on or today()
    if session.cancelled_at is not None:
        return "annulee"
    if session.published_at is not None:
        return "publiee"
    if on >= session.date:
        return "tenue"
    if on > session.registration_deadline:
        return "close"
    return "ouverte"


def session_state_label(session: JurySession) -> str:
    return SESSION_STATES[session_state(session)]


def is_open(session: JurySession, on: date | None = None) -> bool:
    return session_state(session, on) == "ouverte"


def list_sessions(include_cancelled: bool = True) -> list[JurySession]:
    query = select(JurySession).order_by(JurySession.date, JurySession.id)
    if not include_cancelled:
        query = query.where(JurySession.cancelled_at.is_(None))
    return list(db.session.scalars(query))


def open_sessions(on: date | None = None) -> list[JurySession]:
    """Sessions a company may still register to (R7), earliest first."""
    on = on or today()
    return [s for s in list_sessions(include_cancelled=False) if is_open(s, on)]


def get_session(session_id) -> JurySession:
    session = db.session.get(JurySession, session_id) if str(session_id).isdigit() else None
    if session is None:
        raise NotFound("Cette session de jury n'existe pas.", {"jury_session_id": ["Session de jury inconnue."]})
    return session


def sessions_of_member(user: User) -> list[JurySession]:
    return [s for s in list_sessions(include_cancelled=False) if user in s.members]


def _jury_members(member_ids: list[int] | None) -> list[User]:
    if not member_ids:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(member_ids))))
    if len(users) != len(set(member_ids)) or any(u.role != Role.JURY for u in users):
        raise ValidationFailed.for_field("member_ids", "Les membres du jury doivent être des utilisateurs au rôle « Membre du jury ».")
    return users


def jury_users() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == Role.JURY.value, User.active.is_(True)).order_by(User.last_name, User.first_name)
    ))


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
                   member_ids: list[int] | None = None, actor=None) -> JurySession:
    _check_session_fields(date, capacity)
    session = JurySession(date=date, capacity=capacity, seats_taken=0, location=(location or "").strip() or None)
    session.members = _jury_members(member_ids)
    db.session.add(session)
    db.session.flush()
    audit.record("jury_session.create", actor, session, date=date.isoformat(), capacity=capacity)
    return session


def update_session(session: JurySession, *, date: date | None, capacity: int | None, location: str | None = None,
                   member_ids: list[int] | None = None, actor=None) -> JurySession:
    if session.cancelled_at is not None:
        raise Conflict("Cette session est annulée : elle ne peut plus être modifiée.")
    if session.published_at is not None:
        raise Conflict("Cette session est publiée : elle ne peut plus être modifiée.")
    if date != session.date:
        _check_session_fields(date, capacity)
    else:
        _check_session_fields(today(), capacity)
    # The capacity shrinks only if no registration took a seat meanwhile (same row, one UPDATE).
    result = db.session.execute(
        update(_sessions).where(_sessions.c.id == session.id, _sessions.c.seats_taken <= capacity)
        .values(capacity=capacity)
    )
    if result.rowcount != 1:
        db.session.refresh(session)
        raise ValidationFailed.for_field(
            "capacity", f"Le nombre de places ne peut pas être inférieur aux places déjà prises ({session.seats_taken}).")
    db.session.refresh(session)
    session.date = date
    session.location = (location or "").strip() or None
    session.members = _jury_members(member_ids)
    db.session.flush()
    audit.record("jury_session.update", actor, session, date=date.isoformat(), capacity=capacity)
    return session


def files_of_session(session: JurySession) -> list[CandidateFile]:
    return list(db.session.scalars(
        select(CandidateFile).where(CandidateFile.jury_session_id == session.id).order_by(CandidateFile.id)
    ))


def cancel_session(session: JurySession, actor=None, reason: str | None = None) -> dict[str, int]:
    """Cancels a session; its files go to the next session with a seat (R8) or, with none, back to
    `validation_evaluation`. Their companies are told by email."""
    if session.cancelled_at is not None:
        raise Conflict("Cette session est déjà annulée.")
    if session.published_at is not None or any(f.status_enum in DECISION_STATUSES for f in files_of_session(session)):
        raise Conflict("Des décisions ont déjà été enregistrées pour cette session : elle ne peut plus être annulée.")
    session.cancelled_at = now()
    db.session.flush()
    moved = unregistered = 0
    for file in files_of_session(session):
        if file.status != FileStatus.INSCRIPTION_JURY.value:
            continue
        target = _take_first_seat(_candidate_sessions(after=session))
        if target is not None:
            file.jury_session_id = target.id
            file.rolled_over = True
            moved += 1
            audit.record("jury.move", actor, file, from_session=session.id, to_session=target.id)
        else:
            workflow.fire(file, "unregister_jury", actor, session=None,
                          comment=f"Session du {session.date.strftime('%d/%m/%Y')} annulée, aucune session ouverte.")
            file.jury_session_id = None
            file.rolled_over = False
            unregistered += 1
        notifications.session_cancelled(file, session, target)
    db.session.execute(update(_sessions).where(_sessions.c.id == session.id).values(seats_taken=0))
    db.session.refresh(session)
    audit.record("jury_session.cancel", actor, session, reason=reason, moved=moved, unregistered=unregistered)
    return {"moved": moved, "unregistered": unregistered}


# ---------------------------------------------------------------- registration (R7, R8)


def _take_seat(session: JurySession) -> bool:
    """One conditional UPDATE: the row lock it takes serialises concurrent registrations, and the
    WHERE re-checked after the lock means a seat is never sold twice (plus the CHECK constraint)."""
    result = db.session.execute(
        update(_sessions)
        .where(_sessions.c.id == session.id, _sessions.c.seats_taken < _sessions.c.capacity,
               _sessions.c.cancelled_at.is_(None))
        .values(seats_taken=_sessions.c.seats_taken + 1)
    )
    if result.rowcount == 1:
        db.session.refresh(session)
        return True
    return False


def _free_seat(session_id: int | None) -> None:
    if session_id is None:
        return
    db.session.execute(
        update(_sessions).where(_sessions.c.id == session_id, _sessions.c.seats_taken > 0)
        .values(seats_taken=_sessions.c.seats_taken - 1)
    )
    session = db.session.get(JurySession, session_id)
    if session is not None:
        db.session.refresh(session)


def _candidate_sessions(after: JurySession | None = None, on: date | None = None) -> list[JurySession]:
    """Open sessions (today ≤ deadline, not cancelled), earliest first; those dated after `after` only."""
    query = select(JurySession).where(JurySession.cancelled_at.is_(None))
    if after is not None:
        query = query.where(JurySession.date > after.date)
    query = query.order_by(JurySession.date, JurySession.id)
    on = on or today()
    return [s for s in db.session.scalars(query) if on <= s.registration_deadline and s.published_at is None]


def _take_first_seat(sessions: list[JurySession]) -> JurySession | None:
    for session in sessions:
        if _take_seat(session):
            return session
    return None


@dataclass
class Registration:
    file: CandidateFile
    session: JurySession
    requested: JurySession | None
    rolled_over: bool


def register_to_jury(file: CandidateFile, actor, requested_session: JurySession | None = None) -> Registration:
    """R7–R8: the requested session if it is open and has a seat, else the next one that does."""
    if "register_jury" not in workflow.allowed_events(file):
        raise Conflict(
            f"Inscription au jury impossible : le dossier est au statut « {file.status_label} » "
            f"(il doit être au statut « {FileStatus.VALIDATION_EVALUATION.label} »).",
            {"status": [file.status]},
        )
    candidates: list[JurySession] = []
    if requested_session is not None and is_open(requested_session):
        candidates.append(requested_session)
    candidates += [s for s in _candidate_sessions(after=requested_session) if s is not requested_session]
    session = _take_first_seat(candidates)
    if session is None:
        message = ("Aucune session de jury ouverte n'a de place disponible"
                   + (f" après celle du {requested_session.date.strftime('%d/%m/%Y')}" if requested_session else "")
                   + " : le dossier reste au statut « Validation de l'évaluation ». Contactez le secrétariat CQP.")
        raise Conflict(message, {"jury_session_id": [message]})
    rolled_over = requested_session is not None and session.id != requested_session.id
    # Set before the transition: the CHECK constraint ties inscription_jury to a session.
    previous_session_id = file.jury_session_id
    file.jury_session_id = session.id
    try:
        workflow.fire(file, "register_jury", actor, session=session,
                      comment=f"Session du {session.date.strftime('%d/%m/%Y')}" + (" (report)" if rolled_over else ""))
    except Exception:
        file.jury_session_id = previous_session_id
        raise
    file.requested_jury_session_id = requested_session.id if requested_session else session.id
    file.rolled_over = rolled_over
    db.session.flush()
    audit.record("jury.register", actor, file, session=session.id,
                 requested=requested_session.id if requested_session else None, rolled_over=rolled_over)
    return Registration(file, session, requested_session, rolled_over)


def unregister_from_jury(file: CandidateFile, actor) -> CandidateFile:
    """Before the registration deadline only; frees the seat."""
    session = db.session.get(JurySession, file.jury_session_id) if file.jury_session_id else None
    workflow.fire(file, "unregister_jury", actor, session=session)
    _free_seat(file.jury_session_id)
    file.jury_session_id = None
    file.requested_jury_session_id = None
    file.rolled_over = False
    db.session.flush()
    audit.record("jury.unregister", actor, file, session=getattr(session, "id", None))
    return file


@workflow.on("withdraw")
def _free_seat_on_withdraw(file: CandidateFile, event: str, from_status: str, actor, data: dict) -> None:
    """A registered file that is withdrawn gives its seat back."""
    if from_status == FileStatus.INSCRIPTION_JURY.value and file.jury_session_id is not None:
        _free_seat(file.jury_session_id)
        file.jury_session_id = None


# ---------------------------------------------------------------- decisions (R9)


def results_from_codes(file: CandidateFile, results: list[dict]) -> dict[int, bool]:
    """[{competence_code, validated}] → {competence_id: validated}; a code not of the file is refused."""
    by_code = {c.code: c for c in file.competences}
    out: dict[int, bool] = {}
    unknown = []
    for item in results:
        code = str(item.get("competence_code", ""))
        competence = by_code.get(code)
        if competence is None:
            unknown.append(code)
            continue
        out[competence.id] = bool(item.get("validated"))
    if unknown:
        message = (f"Compétence(s) {', '.join(unknown)} : elles ne font pas partie du dossier "
                   f"(compétences du dossier : {', '.join(by_code)}).")
        raise RuleViolation(message, {"results": [message]})
    return out


def record_decision(file: CandidateFile, actor, results: dict[int, bool], comment: str | None = None,
                    reason: str | None = None) -> Decision:
    """Records the jury's decision (R9), corrects it before publication, or rectifies it after
    publication with a reason (the old decision kept). The status is derived, never typed."""
    session = db.session.get(JurySession, file.jury_session_id) if file.jury_session_id else None
    published = session is not None and session.published_at is not None
    if file.status == FileStatus.INSCRIPTION_JURY.value:
        event = "record_decision"
    elif published:
        event = "rectify_decision"
    else:
        event = "correct_decision"
    decision = file.decision
    previous = None
    if decision is not None:
        previous = (decision.status, [{"competence_code": r.competence.code, "validated": r.validated}
                                      for r in sorted(decision.results, key=lambda r: r.competence.position)])
    workflow.fire(file, event, actor, session=session, results=results, published=published,
                  reason=reason, comment=(reason if event == "rectify_decision" else comment))
    status = file.status
    if decision is None:
        decision = Decision(file=file, session_id=session.id, status=status)
        db.session.add(decision)
    if event == "rectify_decision" and previous is not None:
        decision.rectifications.append(DecisionRectification(
            previous_status=previous[0], previous_results=previous[1], new_status=status,
            reason=reason.strip(), by_id=getattr(actor, "id", None), at=now()))
    decision.status = status
    decision.session_id = session.id
    decision.comment = (comment or "").strip() or None
    decision.decided_at = now()
    decision.decided_by_id = getattr(actor, "id", None)
    existing = {r.competence_id: r for r in decision.results}
    for competence_id, validated in results.items():
        if competence_id in existing:
            existing[competence_id].validated = validated
        else:
            decision.results.append(DecisionResult(competence_id=competence_id, validated=validated))
    for competence_id, row in existing.items():
        if competence_id not in results:
            decision.results.remove(row)
    db.session.flush()
    if status in (FileStatus.VALIDE.value, FileStatus.PARTIEL.value):
        assign_parchment(file, "parchemin" if status == FileStatus.VALIDE.value else "attestation")
    audit.record(f"jury.{event}", actor, file, status=status, reason=reason)
    return decision


PARCHMENT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed by hand


def new_parchment_number() -> str:
    groups = ["".join(secrets.choice(PARCHMENT_ALPHABET) for _ in range(4)) for _ in range(2)]
    return "CQP-" + "-".join(groups)


def assign_parchment(file: CandidateFile, kind: str) -> Parchment:
    parchment = file.parchment
    if parchment is not None:
        parchment.kind = kind
        return parchment
    for _ in range(10):
        number = new_parchment_number()
        savepoint = db.session.begin_nested()
        try:
            parchment = Parchment(file_id=file.id, number=number, kind=kind)
            db.session.add(parchment)
            db.session.flush()
        except IntegrityError:  # an existing number (≈ 1 in 850 billion): draw again
            savepoint.rollback()
            continue
        savepoint.commit()
        file.parchment = parchment
        return parchment
    raise RuntimeError("Impossible d'attribuer un numéro de parchemin unique.")


def decision_summary(session: JurySession) -> dict:
    files = [f for f in files_of_session(session) if f.status != FileStatus.ABANDONNE.value]
    undecided = [f for f in files if f.status == FileStatus.INSCRIPTION_JURY.value]
    counts = {s.value: sum(1 for f in files if f.status == s.value) for s in DECISION_STATUSES}
    return {"total": len(files), "decided": len(files) - len(undecided), "undecided": undecided, "counts": counts}


# ---------------------------------------------------------------- publication (R10)


def publish_session(session: JurySession, actor) -> JurySession:
    if session.cancelled_at is not None:
        raise Conflict("Cette session est annulée : elle ne peut pas être publiée.")
    if session.published_at is not None:
        raise Conflict(f"Cette session est déjà publiée (le {session.published_at.strftime('%d/%m/%Y')}).")
    if today() < session.date:
        raise RuleViolation.for_field(
            "date", f"La session ne peut être publiée qu'à partir de sa date ({session.date.strftime('%d/%m/%Y')}).")
    summary = decision_summary(session)
    if summary["undecided"]:
        raise Conflict(
            f"{len(summary['undecided'])} dossier(s) de la session n'ont pas encore de décision : "
            "enregistrez toutes les décisions avant de publier.",
            {"files": [str(f.id) for f in summary["undecided"]]},
        )
    session.published_at = now()
    db.session.flush()
    decided = [f for f in files_of_session(session) if f.status_enum in DECISION_STATUSES]
    by_establishment: dict[int, list[CandidateFile]] = {}
    for file in decided:
        by_establishment.setdefault(file.establishment_id, []).append(file)
    for files in by_establishment.values():
        notifications.results_published(session, files)
    audit.record("jury_session.publish", actor, session, files=len(decided))
    return session


def late_sessions(at: datetime | None = None) -> list[JurySession]:
    """R10: sessions not published 48 hours after their date (for the secretariat's home page)."""
    at = at or now()
    query = (select(JurySession).where(JurySession.cancelled_at.is_(None), JurySession.published_at.is_(None),
                                       JurySession.date <= at.date()).order_by(JurySession.date))
    return [s for s in db.session.scalars(query) if s.publication_due_at < at]


# ---------------------------------------------------------------- parchments (R11) and verification


def printable_files(session: JurySession) -> list[CandidateFile]:
    return [f for f in files_of_session(session)
            if f.status in (FileStatus.VALIDE.value, FileStatus.PARTIEL.value) and f.parchment is not None]


def may_download_parchment(file: CandidateFile, viewer) -> bool:
    """The secretariat always; the owning company once the session is published."""
    if viewer.role == Role.SECRETARIAT:
        return True
    return viewer.role == Role.ENTREPRISE and viewer.establishment_id == file.establishment_id and file.is_published


def parchment_for_download(file: CandidateFile, viewer) -> Parchment:
    parchment = file.parchment
    visible = file.status in (FileStatus.VALIDE.value, FileStatus.PARTIEL.value) and (
        viewer.role == Role.SECRETARIAT or file.is_published)
    if parchment is None or not visible:
        raise Conflict(
            "Aucun parchemin pour ce dossier : il n'existe que pour un dossier « Validé » (parchemin) ou "
            "« Partiel » (attestation) dont les résultats sont publiés.",
            {"status": [file.status]},
        )
    return parchment


def record_prints(parchments: list[Parchment], actor, session: JurySession | None = None) -> str:
    batch = secrets.token_hex(8)
    for parchment in parchments:
        db.session.add(PrintRecord(parchment_id=parchment.id, session_id=getattr(session, "id", None), batch=batch,
                                   printed_at=now(), printed_by_id=getattr(actor, "id", None)))
    db.session.flush()
    audit.record("parchment.print", actor, session, batch=batch, count=len(parchments))
    return batch


def print_batches(session: JurySession) -> list[dict]:
    rows = db.session.scalars(select(PrintRecord).where(PrintRecord.session_id == session.id)
                              .order_by(PrintRecord.id)).all()
    batches: dict[str, dict] = {}
    for row in rows:
        entry = batches.setdefault(row.batch or str(row.id), {
            "batch": row.batch, "printed_at": row.printed_at, "count": 0, "sent_at": row.sent_at})
        entry["count"] += 1
        if row.sent_at is None:
            entry["sent_at"] = None
    return list(batches.values())


def mark_sent(session: JurySession, batch: str, actor) -> int:
    rows = db.session.scalars(select(PrintRecord).where(PrintRecord.session_id == session.id,
                                                        PrintRecord.batch == batch)).all()
    if not rows:
        raise NotFound("Ce lot d'impression n'existe pas.")
    at = now()
    for row in rows:
        if row.sent_at is None:
            row.sent_at = at
    db.session.flush()
    audit.record("parchment.sent", actor, session, batch=batch, count=len(rows))
    return len(rows)


NUMBER_CHARS = set(PARCHMENT_ALPHABET) | {"-"}


def normalize_number(number: str) -> str:
    return (number or "").strip().upper()


def verify_number(number: str) -> dict | None:
    """What anyone may know of a parchment number: None when unknown or not yet published."""
    number = normalize_number(number)
    if not number or len(number) > 32 or not set(number) <= NUMBER_CHARS | set("CQ"):
        return None
    parchment = db.session.scalar(select(Parchment).where(Parchment.number == number))
    if parchment is None:
        return None
    file = parchment.file
    if file.status not in (FileStatus.VALIDE.value, FileStatus.PARTIEL.value) or not file.is_published:
        return None
    session = db.session.get(JurySession, file.jury_session_id)
    decision = file.decision
    validated = [r.competence for r in sorted(decision.results, key=lambda r: r.competence.position) if r.validated]
    return {
        "number": parchment.number,
        "kind": parchment.kind,
        "cqp_code": file.cqp.code,
        "cqp_title": file.cqp.title,
        "holder": file.candidate.public_name,
        "decision": file.status,
        "jury_date": session.date,
        "competences_validated": [{"code": c.code, "title": c.title} for c in validated],
    }
