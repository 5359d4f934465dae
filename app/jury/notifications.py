"""Emails of the jury area and the daily reminders (`flask reminders send`).

Each reminder is sent once: a SentReminder row (kind, target_key) is written with the email, in the
same transaction, and a target already recorded is skipped."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from app.accounts.models import Establishment, Role, User
from app.core.clock import today
from app.core.mail import queue_email
from app.core.models import SentReminder
from app.extensions import db
from app.files import workflow
from app.files.models import CandidateFile, FileStatus, JobAssessorInvitation
from app.files.workflow import results_window
from app.jury.carry_over import remind_expiring
from app.jury.models import JurySession
from app.jury.stalled import remind_stalled_files
from app.referential.habilitation import remind_habilitations

ASSESSOR_DAYS_BEFORE_WINDOW_CLOSES = 2
JOB_ASSESSOR_DAYS_AFTER_INVITATION = 7
COMPANY_DAYS_BEFORE_DEADLINE = 7


def company_recipients(establishment: Establishment) -> list[str]:
    """docs/api.md: every `entreprise` user of the establishment, plus its contact_email."""
    users = db.session.scalars(select(User).where(User.establishment_id == establishment.id,
                                                  User.role == Role.ENTREPRISE.value, User.active.is_(True)))
    return [u.email for u in users] + ([establishment.contact_email] if establishment.contact_email else [])


def secretariat_recipients() -> list[str]:
    return list(db.session.scalars(select(User.email).where(User.role == Role.SECRETARIAT.value,
                                                            User.active.is_(True))))


def session_cancelled(file: CandidateFile, jury_session: JurySession, target: JurySession | None) -> None:
    queue_email("jury_session_cancelled", company_recipients(file.establishment),
                f"Session de jury du {jury_session.date.strftime('%d/%m/%Y')} annulée", "jury_session_cancelled",
                file=file, jury_session=jury_session, target=target, candidate_file=file)


def results_published(jury_session: JurySession, files: list[CandidateFile]) -> None:
    establishment = files[0].establishment
    queue_email("jury_results", company_recipients(establishment),
                f"Résultats du jury du {jury_session.date.strftime('%d/%m/%Y')}", "jury_results",
                jury_session=jury_session, files=files, establishment=establishment)


NEXT_SESSIONS_IN_EMAIL = 3


def next_open_sessions(limit: int = NEXT_SESSIONS_IN_EMAIL) -> list[JurySession]:
    """The sessions a file can be registered to today (R7) that still have a seat (R8), earliest first."""
    return list(db.session.scalars(select(JurySession).where(JurySession.is_open, JurySession.seats_left > 0)
                                   .order_by(JurySession.date, JurySession.id).limit(limit)))


@workflow.on("submit_evaluation")
def ready_for_jury(file: CandidateFile, event: str, from_status: str, actor, data: dict) -> None:
    """The evaluation is transmitted: the company may now register the file to a jury. The email names
    the next open sessions, their registration deadlines, and links to the registration page."""
    base = current_app.config["BASE_URL"].rstrip("/")
    queue_email("ready_for_jury", company_recipients(file.establishment),
                f"Certifia : {file.candidate.full_name} ({file.cqp.code}) est prêt pour l'inscription au jury",
                "jury_ready_for_registration", file=file, f=file, jury_sessions=next_open_sessions(),
                link=f"{base}/entreprise/dossiers/{file.id}/jury", file_link=f"{base}/dossiers/{file.id}",
                calendar_link=f"{base}/entreprise/jurys")


# ---------------------------------------------------------------- reminders


def _results_missing(file: CandidateFile) -> bool:
    evaluation = file.evaluation
    results = {r.competence_id: r for r in evaluation.results} if evaluation else {}
    return any(
        results.get(c.id) is None or results[c.id].acquired is None or not (results[c.id].comment or "").strip()
        for c in file.competences
    )


def remind_assessors_window(on: date) -> int:
    """R5: 2 days (or less) before the results window closes, results still missing."""
    sent = 0
    files = db.session.scalars(select(CandidateFile).where(
        CandidateFile.status == FileStatus.EN_ATTENTE_EVALUATION.value, CandidateFile.assessor_id.is_not(None)))
    for file in files:
        interview = file.interview_date
        if interview is None:
            continue
        opens, closes = results_window(interview)
        if not (opens <= on and 0 <= (closes - on).days <= ASSESSOR_DAYS_BEFORE_WINDOW_CLOSES):
            continue
        key = f"file:{file.id}:{closes.isoformat()}"
        if not _results_missing(file) or not SentReminder.first_time("assessor_window", key):
            continue
        queue_email("reminder_assessor_window", file.assessor.user.email,
                    f"Rappel : saisie des résultats à terminer avant le {closes.strftime('%d/%m/%Y')}",
                    "jury_reminder_assessor_window", file=file, candidate_file=file, closes=closes)
        sent += 1
    return sent


def remind_job_assessors(on: date) -> int:
    sent = 0
    invitations = db.session.scalars(select(JobAssessorInvitation).where(
        JobAssessorInvitation.used_at.is_(None), JobAssessorInvitation.replaced_at.is_(None)))
    for invitation in invitations:
        if invitation.created_at.date() > on - timedelta(days=JOB_ASSESSOR_DAYS_AFTER_INVITATION):
            continue
        if invitation.expires_at.date() < on:
            continue  # the link is dead: the assessor has to invite again
        if invitation.file.status != FileStatus.EN_ATTENTE_EVALUATION.value:
            continue
        if not SentReminder.first_time("job_assessor_invitation", f"invitation:{invitation.id}"):
            continue
        queue_email("reminder_job_assessor", invitation.email,
                    "Rappel : vos observations d'évaluateur métier sont attendues", "jury_reminder_job_assessor",
                    file=invitation.file, candidate_file=invitation.file, invitation=invitation)
        sent += 1
    return sent


def remind_companies_deadline(on: date) -> int:
    """7 days (or less) before a session's registration deadline, for files in validation_evaluation."""
    jury_sessions = list(db.session.scalars(
        select(JurySession).where(JurySession.cancelled_at.is_(None), JurySession.seats_left > 0,
                                  JurySession.registration_deadline.between(
                                      on, on + timedelta(days=COMPANY_DAYS_BEFORE_DEADLINE)))
        .order_by(JurySession.date)))
    if not jury_sessions:
        return 0
    waiting: dict[int, list[CandidateFile]] = defaultdict(list)
    for file in db.session.scalars(select(CandidateFile).where(
            CandidateFile.status == FileStatus.VALIDATION_EVALUATION.value).order_by(CandidateFile.id)):
        waiting[file.establishment_id].append(file)
    sent = 0
    for jury_session in jury_sessions:
        for establishment_id, files in waiting.items():
            key = f"session:{jury_session.id}:establishment:{establishment_id}"
            if not SentReminder.first_time("company_deadline", key):
                continue
            establishment = db.session.get(Establishment, establishment_id)
            queue_email("reminder_company_deadline", company_recipients(establishment),
                        f"Rappel : inscriptions au jury du {jury_session.date.strftime('%d/%m/%Y')} jusqu'au "
                        f"{jury_session.registration_deadline.strftime('%d/%m/%Y')}", "jury_reminder_company_deadline",
                        jury_session=jury_session, files=files, establishment=establishment)
            sent += 1
    return sent


def remind_secretariat_late(on: date) -> int:
    """R10: the secretariat is told of a session still unpublished 48 hours after its date."""
    sent = 0
    recipients = secretariat_recipients()
    late = list(db.session.scalars(select(JurySession).where(JurySession.is_late).order_by(JurySession.date)))
    for jury_session in late:
        if not SentReminder.first_time("session_unpublished", f"session:{jury_session.id}"):
            continue
        queue_email("reminder_session_unpublished", recipients,
                    f"Résultats du jury du {jury_session.date.strftime('%d/%m/%Y')} non publiés",
                    "jury_reminder_session_unpublished", jury_session=jury_session)
        sent += 1
    return sent


def remind_carry_over(on: date) -> int:
    """R13: the company is told 6 months before competences acquired by a partial decision expire."""
    return remind_expiring(on, once=SentReminder.first_time, recipients=company_recipients)


REMINDERS = {
    "assessor_window": remind_assessors_window,
    "job_assessor_invitation": remind_job_assessors,
    "company_deadline": remind_companies_deadline,
    "session_unpublished": remind_secretariat_late,
    "habilitation_end": remind_habilitations,
    "carry_over_expiry": remind_carry_over,
    "stalled_file": remind_stalled_files,  # files idle for STALLED_FILE_DAYS, and the offer at twice that
}


def send_reminders(on: date | None = None) -> dict[str, int]:
    """Queues every reminder due today (each once). The caller commits, then delivers the outbox."""
    on = on or today()
    return {kind: remind(on) for kind, remind in REMINDERS.items()}
