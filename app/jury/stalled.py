"""The daily run's reminders of files that stall (app.files.stalled): an open file idle for STALLED_FILE_DAYS is
reminded to whoever must act (by status: the company, the assessor, the secretariat once the jury has sat; an
open correction request: the company); at twice that, the company is offered « abandonner » or « relancer ».
Each is sent once per idle period (a SentReminder keyed by the file and the day of its last activity: a file
that moves again and stalls again is reminded again). Nothing is closed automatically."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from app.core.clock import today
from app.core.mail import queue_email
from app.core.models import SentReminder
from app.extensions import db
from app.files.models import FINAL_STATUSES, CandidateFile
from app.files.notifications import company_recipients
from app.files.stalled import idle_since, last_activity_expression, stalled_file_days, who_must_act


def _link(file: CandidateFile) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/dossiers/{file.id}"


def stalled_files(on: date, days: int) -> list[tuple[CandidateFile, object]]:
    """(file, last activity) of the open files idle for `days` days or more on `on`, in one statement."""
    activity = last_activity_expression()
    return list(db.session.execute(
        select(CandidateFile, activity).where(CandidateFile.status.not_in([s.value for s in FINAL_STATUSES]),
                                              activity < idle_since(on, days))
        .order_by(CandidateFile.id)))


def remind_stalled_files(on: date | None = None) -> int:
    on = on or today()
    days = stalled_file_days()
    sent = 0
    for file, last in stalled_files(on, days):
        idle = (on - last.date()).days
        key = f"file:{file.id}:{last.date().isoformat()}"
        waiting = who_must_act(file, on)
        if waiting is not None and waiting.emails and SentReminder.first_time("stalled_file", key):
            queue_email("reminder_stalled_file", waiting.emails,
                        f"Rappel : le dossier de {file.candidate.full_name} ({file.cqp.code}) est sans activité depuis "
                        f"{idle} jours", "jury_reminder_stalled_file", file=file, f=file, waiting=waiting, idle=idle,
                        link=_link(file))
            sent += 1
        if idle >= 2 * days and SentReminder.first_time("stalled_file_offer", key):
            queue_email("reminder_stalled_offer", company_recipients(file),
                        f"Dossier de {file.candidate.full_name} ({file.cqp.code}) sans activité depuis {idle} jours : "
                        "abandonner ou relancer ?", "jury_reminder_stalled_offer", file=file, f=file,
                        waiting=waiting, idle=idle, link=_link(file))
            sent += 1
    return sent
