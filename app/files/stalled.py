"""Files that stall: an open file with no activity for STALLED_FILE_DAYS (config, 60 by default) is reminded to
whoever must act; at twice that, the company is offered « abandonner » or « relancer ». Nothing is closed
automatically. The reminders themselves are sent by the daily run (app.jury.stalled).

A file's last activity is the latest of: its creation, its history (transitions, correction requests and
answers, relaunches), its documents, its evaluation's draft, its job-assessor invitations and observations, its
thread's messages — one SQL expression, so that the daily run reads every stalled file in one statement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import DateTime, func, select

from app.core import audit
from app.core.clock import now, today
from app.core.errors import Conflict, NotFound
from app.extensions import db
from app.files import exchange_notifications as notify
from app.files.exchange_models import CorrectionRequest, FileMessage
from app.files.models import (
    FINAL_STATUSES,
    CandidateFile,
    Document,
    Evaluation,
    FileStatus,
    JobAssessorInvitation,
    StatusChange,
)

COMPANY, ASSESSOR, SECRETARIAT = "company", "assessor", "secretariat"
WHO_LABELS = {COMPANY: "l'entreprise", ASSESSOR: "l'évaluateur habilité", SECRETARIAT: "le secrétariat"}


def stalled_file_days() -> int:
    return int(current_app.config.get("STALLED_FILE_DAYS", 60))


def last_activity_expression():
    """The file's last activity, as a SQL expression on candidate_files (GREATEST on PostgreSQL, the
    multi-argument MAX on SQLite; each part defaults to the creation, since both treat NULL differently)."""
    f = CandidateFile
    latest = [
        f.status_changed_at,
        select(func.max(StatusChange.at)).where(StatusChange.file_id == f.id).scalar_subquery(),
        select(func.max(Document.uploaded_at)).where(Document.file_id == f.id).scalar_subquery(),
        select(Evaluation.updated_at).where(Evaluation.file_id == f.id).scalar_subquery(),
        select(func.max(func.coalesce(JobAssessorInvitation.used_at, JobAssessorInvitation.created_at)))
        .where(JobAssessorInvitation.file_id == f.id).scalar_subquery(),
        select(func.max(FileMessage.at)).where(FileMessage.file_id == f.id).scalar_subquery(),
        select(func.max(func.coalesce(CorrectionRequest.resolved_at, CorrectionRequest.requested_at)))
        .where(CorrectionRequest.file_id == f.id).scalar_subquery(),
    ]
    parts = [f.created_at, *(func.coalesce(part, f.created_at) for part in latest)]
    greatest = func.greatest if db.session.get_bind().dialect.name == "postgresql" else func.max
    return greatest(*parts, type_=DateTime())


def last_activity(file: CandidateFile) -> datetime:
    return db.session.scalar(select(last_activity_expression()).where(CandidateFile.id == file.id))


def idle_days(file: CandidateFile, on: date | None = None) -> int:
    """Whole days since the file's last activity (0 the same day)."""
    return ((on or today()) - last_activity(file).date()).days


def idle_since(on: date, days: int) -> datetime:
    """The moment before which a last activity is `days` days old or more on `on`."""
    return datetime.combine(on - timedelta(days=days - 1), time.min)


@dataclass
class WhoMustAct:
    who: str  # COMPANY, ASSESSOR or SECRETARIAT
    action: str
    emails: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return WHO_LABELS[self.who]


def who_must_act(file: CandidateFile, on: date | None = None) -> WhoMustAct | None:
    """Whoever the open file waits for, by its status (an open correction request: the company); None when it
    waits for nobody (a jury session still to come) or is closed."""
    on = on or today()
    if file.status_enum in FINAL_STATUSES:
        return None
    if file.open_correction_request is not None:
        return WhoMustAct(COMPANY, "répondre à la demande de correction", notify.company_recipients(file))
    status = file.status_enum
    if status == FileStatus.EN_COURS_INSCRIPTION:
        return WhoMustAct(COMPANY, "compléter la candidature et confirmer l'évaluateur", notify.company_recipients(file))
    if status == FileStatus.EN_ATTENTE_EVALUATION:
        emails = [file.assessor.user.email] if file.assessor is not None and file.assessor.user.active else []
        action = ("relancer l'évaluateur métier, puis saisir et transmettre l'évaluation"
                  if file.current_invitation is not None and file.current_invitation.used_at is None
                  else "saisir et transmettre l'évaluation")
        return WhoMustAct(ASSESSOR, action, emails)
    if status == FileStatus.VALIDATION_EVALUATION:
        return WhoMustAct(COMPANY, "inscrire le candidat à une session de jury", notify.company_recipients(file))
    if status == FileStatus.INSCRIPTION_JURY:
        session = file.jury_session
        if session is not None and session.date >= on:
            return None  # the file waits for its jury's date, not for someone
        return WhoMustAct(SECRETARIAT, "saisir la décision du jury", notify.secretariat_recipients())
    return None


def offers_abandon_or_relaunch(file: CandidateFile, user) -> bool:
    """The banner « abandonner / relancer »: for the company, on an open file idle for twice STALLED_FILE_DAYS."""
    if file.is_final or not (getattr(user, "is_company", False) and user.belongs_to(file.establishment_id)):
        return False
    return idle_days(file) >= 2 * stalled_file_days()


def relaunch(file: CandidateFile, actor) -> WhoMustAct | None:
    """« Relancer »: the company says the file goes on. The history keeps it (the idle time starts again) and
    whoever must act, when it is not the company itself, is emailed."""
    if not (getattr(actor, "is_company", False) and actor.belongs_to(file.establishment_id)):
        raise NotFound("Ce dossier n'existe pas, ou vous n'y avez pas accès.")
    if file.is_final:
        raise Conflict(f"Le dossier est au statut « {file.status_label} » : il n'y a rien à relancer.",
                       {"status": [file.status]})
    days = idle_days(file)
    if days < stalled_file_days():
        raise Conflict(f"Le dossier a eu de l'activité il y a {days} jour(s) : la relance est proposée après "
                       f"{stalled_file_days()} jours sans activité.", {"status": [file.status]})
    waiting = who_must_act(file)
    file.history.append(StatusChange(from_status=file.status, to_status=file.status, event="relaunch",
                                     actor_id=actor.id, at=now(),
                                     comment=f"Relance après {days} jours sans activité"
                                     + (f" ({waiting.label} : {waiting.action})" if waiting else "")))
    db.session.flush()
    audit.record("file.relaunch", actor, file, idle_days=days)
    if waiting is not None and waiting.who != COMPANY:
        notify.file_relaunched(file, actor, waiting, days)
    return waiting
